"""The benchmark command: ``python -m benchmarks [--quick] [--head] [--offline-only N]`` →
``docs/benchmarks.md`` and ``docs/reliability.md``.

Runs both tools' scenario chains side by side (see ``scenarios``), the offline measurement, then
the reliability, security and fuzz suites, and writes both documents from that one run.
``--head`` measures a clean export of the committed HEAD (``git archive``) instead of the working
tree, so work in progress in a shared checkout cannot leak into the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import suites
from benchmarks.report import render
from benchmarks.scenarios import FULL, OURS, PEER, QUICK, REPO_ROOT, Matrix, run_chain, run_offline


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def benchmark(matrix: Matrix, workdir: Path, *, command: str) -> str:
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.monotonic()
    _log(f"offline: {matrix.offline_count} dataflows …")
    offline = run_offline(matrix, workdir)
    for phase, run in offline.items():
        if isinstance(run, dict):
            _log(f"offline, {phase}: {run.get('seconds')} s, peak {run.get('tree_peak_rss_mb')} MB")
    with ThreadPoolExecutor(max_workers=2) as pool:
        chains = [pool.submit(run_chain, tool, matrix, workdir, _log) for tool in (OURS, PEER)]
        results = [m for chain in chains for m in chain.result()]
    return render(
        results, offline, matrix, command=command, started=started, elapsed_s=time.monotonic() - t0
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a small matrix (N=10) and 100 offline dataflows"
    )
    parser.add_argument(
        "--docs", type=Path, default=REPO_ROOT / "docs", help="where the two documents go"
    )
    parser.add_argument(
        "--skip-suites", action="store_true", help="benchmarks only; leave reliability.md"
    )
    parser.add_argument(
        "--skip-benchmarks", action="store_true", help="suites only; leave benchmarks.md"
    )
    parser.add_argument("--head", action="store_true", help="measure the committed HEAD, not the tree")
    parser.add_argument(
        "--offline-only",
        type=int,
        metavar="N",
        help="only scenario (e) at N dataflows: print its result as JSON, write no document",
    )
    args = parser.parse_args(argv)
    if args.head:
        return _run_from_head(
            [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--head"], args.docs
        )
    commit = os.environ.get("DFG_BENCH_COMMIT")
    command = "python -m benchmarks" + (" --quick" if args.quick else "")
    if commit:
        command = f"{command} --head` at commit `{commit[:12]}"
    if args.offline_only:
        with tempfile.TemporaryDirectory(prefix="dfg-bench-") as tmp:
            matrix = dataclasses.replace(QUICK, offline_count=args.offline_only)
            print(json.dumps(run_offline(matrix, Path(tmp)), indent=1))
        return 0
    args.docs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dfg-bench-") as tmp:
        if not args.skip_benchmarks:
            text = benchmark(QUICK if args.quick else FULL, Path(tmp), command=command)
            (args.docs / "benchmarks.md").write_text(text, encoding="utf-8")
            _log(f"wrote {args.docs / 'benchmarks.md'}")
        if not args.skip_suites:
            target = args.docs / "reliability.md"
            text = suites.run(Path(tmp), command=command)
            old = target.read_text(encoding="utf-8") if target.exists() else ""
            target.write_text(suites.keep_written_part(old, text), encoding="utf-8")
            _log(f"wrote {args.docs / 'reliability.md'}")
    return 0


def _run_from_head(argv: list[str], docs: Path) -> int:
    def git(*args: str) -> bytes:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, check=True).stdout

    commit = git("rev-parse", "HEAD").decode().strip()
    with tempfile.TemporaryDirectory(prefix="dfg-head-") as snap:
        with tarfile.open(fileobj=io.BytesIO(git("archive", "--format=tar", "HEAD"))) as tar:
            tar.extractall(snap, filter="data")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(Path(snap) / "src"), snap]),
            "DFG_BENCH_COMMIT": commit,
        }
        rest = [*argv, "--docs", str(docs.resolve())]
        return subprocess.run([sys.executable, "-m", "benchmarks", *rest], cwd=snap, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
