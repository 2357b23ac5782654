"""Build the wheel (or take one), check what it holds, install it in a fresh virtual environment and
run `dfg demo` and `dfg init` from it, outside the checkout.

A file missing from the package data (a template, a schema) passes every test run from the source
tree and breaks only the installed tool; this catches it. Used by .ci/run and the release workflow:

    python scripts/wheel_smoke.py                      # build from this checkout, then check
    python scripts/wheel_smoke.py --wheel dist/X.whl   # check a wheel built elsewhere
    python scripts/wheel_smoke.py --contents-only --wheel dist/X.whl
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SRC = REPO_ROOT / "src"
# Package data the tool reads at run time: every such file in the source tree must ship.
DATA_DIRS = ("dataflow_gitops/templates", "dataflow_gitops/schemas")
REQUIRED = (
    "dataflow_gitops/py.typed",
    "fabric_emulator/py.typed",
    "dataflow_gitops/cli/main.py",
    "fabric_emulator/__main__.py",
    "fabric_time_zones/__init__.py",
    "fabric_time_zones/py.typed",
)
SCRIPTS = ("dfg", "dataflow-gitops", "fabric-emulator")


def build_wheel(out_dir: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(out_dir),
            str(REPO_ROOT),
        ],
        check=True,
    )
    (wheel,) = out_dir.glob("dataflow_gitops-*.whl")
    return wheel


def contents_problems(wheel: Path) -> list[str]:
    """What the wheel lacks: package data of the source tree, required modules, console scripts."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), None)
        scripts = archive.read(entry_points).decode() if entry_points else ""
    problems = [f"missing {name}" for name in REQUIRED if name not in names]
    for folder in DATA_DIRS:
        for path in sorted((SRC / folder).rglob("*")):
            relative = path.relative_to(SRC).as_posix()
            if path.is_file() and "__pycache__" not in relative and relative not in names:
                problems.append(f"missing package data {relative}")
    problems += [f"no console script {s}" for s in SCRIPTS if f"\n{s} = " not in f"\n{scripts}"]
    stray = sorted(n for n in names if n.startswith(("tests/", "benchmarks/", ".")))
    problems += [f"does not belong in the wheel: {n}" for n in stray]
    return problems


def _bin(venv: Path, name: str) -> Path:
    return (
        venv / ("Scripts" if os.name == "nt" else "bin") / (name + (".exe" if os.name == "nt" else ""))
    )


def install_and_run(wheel: Path, work: Path) -> None:
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = _bin(venv, "python")
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"{wheel}[emulator]",
        ],
        check=True,
    )
    dfg = str(_bin(venv, "dfg"))
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": ""}
    # Outside the checkout, so nothing can come from src/ by accident.
    for argv in (
        [dfg, "--version"],
        [dfg, "demo"],
        [dfg, "init", "smoke-project"],
        [dfg, "-C", "smoke-project", "validate"],
    ):
        print("$", " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv)), flush=True)
        subprocess.run(argv, cwd=work, env=env, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a built wheel (default: build one now)")
    parser.add_argument("--contents-only", action="store_true", help="check the contents, no install")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dfg-wheel-") as tmp:
        work = Path(tmp)
        wheel = args.wheel.resolve() if args.wheel else build_wheel(work / "dist")
        problems = contents_problems(wheel)
        for problem in problems:
            print(f"{wheel.name}: {problem}", file=sys.stderr)
        if problems:
            return 1
        print(f"{wheel.name}: contents complete")
        if not args.contents_only:
            install_and_run(wheel, work)
            print(f"{wheel.name}: installed in a fresh venv; dfg demo and dfg init ran from it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
