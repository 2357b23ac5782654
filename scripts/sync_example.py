"""Copy the example repository (top-level dataflows/, environments/, dataflow-gitops.yaml) into
the packaged template src/dataflow_gitops/templates/example, which `dfg demo` and `dfg init`
use. Dot-files are stored as ``dot-X`` (see dataflow_gitops.demo). Run after editing the example:

    python scripts/sync_example.py            # rewrite the template
    python scripts/sync_example.py --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "src" / "dataflow_gitops" / "templates" / "example"
TOP_LEVEL = ("dataflows", "environments", "dataflow-gitops.yaml")


def template_path(relative: str) -> str:
    # Same rule as dataflow_gitops.demo.template_path (kept here so the script needs no install).
    return "/".join("dot-" + p[1:] if p.startswith(".") else p for p in relative.split("/"))


def source_files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name in TOP_LEVEL:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in candidates:
            files[template_path(file.relative_to(ROOT).as_posix())] = file.read_bytes()
    return files


def template_files() -> dict[str, bytes]:
    if not TEMPLATE.is_dir():
        return {}
    return {
        p.relative_to(TEMPLATE).as_posix(): p.read_bytes()
        for p in sorted(TEMPLATE.rglob("*"))
        if p.is_file()
    }


def main(argv: list[str]) -> int:
    wanted = source_files()
    if "--check" in argv:
        if template_files() != wanted:
            print("templates/example is out of date: run python scripts/sync_example.py")
            return 1
        return 0
    if TEMPLATE.exists():
        shutil.rmtree(TEMPLATE)
    for name, data in wanted.items():
        target = TEMPLATE / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(f"wrote {len(wanted)} files to {TEMPLATE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
