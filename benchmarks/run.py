"""The benchmark command: ``python -m benchmarks [--quick]`` → ``docs/benchmarks.md`` and
``docs/reliability.md``.

Runs both tools' scenario chains side by side (see ``scenarios``), the offline measurement, then
the reliability, security and fuzz suites, and writes both documents from that one run.
"""

from __future__ import annotations

import argparse
import sys
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
    _log(f"offline: {offline.get('seconds')} s, peak {offline.get('peak_rss_mb')} MB")
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
    args = parser.parse_args(argv)
    command = "python -m benchmarks" + (" --quick" if args.quick else "")
    args.docs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dfg-bench-") as tmp:
        if not args.skip_benchmarks:
            text = benchmark(QUICK if args.quick else FULL, Path(tmp), command=command)
            (args.docs / "benchmarks.md").write_text(text, encoding="utf-8")
            _log(f"wrote {args.docs / 'benchmarks.md'}")
        if not args.skip_suites:
            text = suites.run(Path(tmp), command=command)
            (args.docs / "reliability.md").write_text(text, encoding="utf-8")
            _log(f"wrote {args.docs / 'reliability.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
