"""Benchmark worker: one measured operation in a fresh process → a JSON result file.

``python -m benchmarks.worker <op> --out FILE …``. Each tool runs in its own process so neither
shares an interpreter, a connection pool or a throttle with the other, and a crash of one run
cannot end the whole benchmark. The clock starts after imports: only the operation is timed.
Operations: ``dfg`` (our CLI in-process, any arguments after ``--``), ``fabric-cicd``
(``publish_all_items`` with its default retry delays) and ``offline`` (validate + render + diff).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TreeMemory:
    """Samples the resident memory of this process plus its children (the M-reading workers).

    A child's own ``ru_maxrss`` cannot be used: Linux carries the parent's high-water mark into
    a child across fork/vfork + exec. Sampling ``VmRSS`` every few milliseconds can miss a short
    peak, so the report also takes this process's exact ``ru_maxrss``.
    """

    def __init__(self, interval_s: float = 0.01) -> None:
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self.child_peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            children = [_vm_rss_mb(pid) for pid in _children()]
            self.child_peak_mb = max([self.child_peak_mb, *children])
            self.peak_mb = max(self.peak_mb, _vm_rss_mb("self") + sum(children))


def _children() -> list[str]:
    pids: list[str] = []
    for task in Path("/proc/self/task").glob("*"):
        with contextlib.suppress(OSError):
            pids += (task / "children").read_text().split()
    return pids


def _vm_rss_mb(pid: str) -> float:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_dfg(args: list[str]) -> dict[str, Any]:
    from dataflow_gitops.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(args)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "exit": code,
        "stdout": out.getvalue()[-4000:],
        "stderr": err.getvalue()[-4000:],
    }


class _Credential:
    """fabric-cicd needs only ``get_token``; the emulator accepts any non-empty bearer token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, 4_102_444_800)


def run_fabric_cicd(url: str, workspace_id: str, repo: str, token: str) -> dict[str, Any]:
    import logging

    import fabric_cicd
    from fabric_cicd import constants

    constants.DEFAULT_API_ROOT_URL = url
    err = io.StringIO()
    _silence_terminal()  # its console logger holds the original stream: close it at the fd level
    start = time.perf_counter()
    code = 0
    with contextlib.redirect_stdout(err), contextlib.redirect_stderr(err):
        try:
            workspace = fabric_cicd.FabricWorkspace(
                workspace_id=workspace_id,
                repository_directory=repo,
                item_type_in_scope=["Dataflow"],
                token_credential=_Credential(token),
            )
            fabric_cicd.publish_all_items(workspace)
        except Exception as exc:  # a failed peer run is a result to report, not a crash
            code = 1
            print(f"fabric-cicd failed: {type(exc).__name__}: {exc}", file=err)
    seconds = time.perf_counter() - start
    logging.shutdown()
    return {"seconds": seconds, "exit": code, "stdout": "", "stderr": err.getvalue()[-4000:]}


def _silence_terminal() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _count_parses() -> dict[str, float]:
    """Wrap the M parser everywhere it was imported: how often it runs, on how much, how long."""
    from dataflow_gitops.pipeline.definition.mlang import document

    # Every whole-text parse goes through document._parse.
    original = document._parse
    stats = {"calls": 0.0, "bytes": 0.0, "seconds": 0.0}

    def counting(text: str, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(text, *args, **kwargs)
        finally:
            stats["calls"] += 1
            stats["bytes"] += len(text)
            stats["seconds"] += time.perf_counter() - start

    document._parse = counting
    return stats


def _count_preloads() -> list[Any]:
    """Every read-ahead's statistics (texts from the read cache, parsed, worker processes)."""
    from dataflow_gitops.adapters import read_ahead as preload

    original = preload.preload
    seen: list[Any] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        found = original(*args, **kwargs)
        seen.append(found.stats)
        return found

    preload.preload = recording
    return seen


def run_offline(root: str, env: str, *, names: bool = True) -> dict[str, Any]:
    """``dfg validate`` + render + plan against a live state built from the source files.

    Whether the project's read cache (``.dataflow-gitops/cache``) holds the texts is the caller's
    choice: the benchmark runs this once without it and once more with what the first run left.
    """
    from dataflow_gitops import api
    from dataflow_gitops.config import load_environment, load_project
    from dataflow_gitops.pipeline.definition.parts import fingerprint
    from dataflow_gitops.pipeline.definition.source import read_working_tree
    from dataflow_gitops.pipeline.model import DATAFLOW_TYPE, LiveDataflow, LiveItem, LiveWorkspace
    from dataflow_gitops.pipeline.plan.planner import build_plan

    base_rss = _rss_mb()
    parses = _count_parses()
    preloads = _count_preloads()
    memory = TreeMemory().__enter__()
    start = time.perf_counter()
    report = api.validate(Path(root), env, names=names)
    validated = time.perf_counter()
    desired = api.render(Path(root), env)
    rendered = time.perf_counter()
    project = load_project(Path(root))
    environment = load_environment(project, env)
    snapshot = read_working_tree(project.root, project.dataflows_dir)
    live: list[LiveDataflow] = []
    for n, source in enumerate(snapshot.dataflows):
        parts = tuple(sorted((p for p in source.parts if p.path != ".platform"), key=lambda p: p.path))
        item = LiveItem(
            id=f"00000000-0000-4000-8000-{n:012d}",
            type=DATAFLOW_TYPE,
            display_name=source.platform.display_name,
        )
        live.append(
            LiveDataflow(
                item,
                source.platform.logical_id,
                parts,
                fingerprint(parts, display_name=item.display_name, description=""),
            )
        )
    workspace = LiveWorkspace("ws", tuple(d.item for d in live), tuple(live))
    plan = build_plan(desired, workspace, environment=env, policy=environment.policy(()))
    end = time.perf_counter()
    memory.__exit__()
    return {
        "seconds": end - start,
        "validate_s": validated - start,
        "render_s": rendered - validated,
        "diff_s": end - rendered,
        "exit": 0 if report.ok else 1,
        "errors": [str(e) for e in report.errors][:5],
        "dataflows": len(desired),
        "updates": sum(1 for a in plan.actions if a.kind.value == "update"),
        "mashup_bytes": sum(
            len(p.data) for d in snapshot.dataflows for p in d.parts if p.path == "mashup.pq"
        ),
        "parse_calls": parses["calls"],
        "parse_bytes": parses["bytes"],
        "parse_s": parses["seconds"],
        "from_cache": sum(p.from_store for p in preloads),
        "parsed_ahead": sum(p.parsed for p in preloads),
        "workers": max((p.workers for p in preloads), default=1),
        "base_rss_mb": base_rss,
        "peak_rss_mb": _rss_mb(),
        "worker_peak_rss_mb": memory.child_peak_mb,
        "tree_peak_rss_mb": max(memory.peak_mb, _rss_mb()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    parser.add_argument("op", choices=("dfg", "fabric-cicd", "offline"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--url", default="")
    parser.add_argument("--workspace", default="")
    parser.add_argument("--repo", default="")
    parser.add_argument("--env", default="bench")
    parser.add_argument("--no-names", action="store_true", help="offline: validate --no-names")
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    if args.op == "dfg":
        result = run_dfg(argv[split + 1 :])
    elif args.op == "fabric-cicd":
        result = run_fabric_cicd(args.url, args.workspace, args.repo, os.environ["DFG_BENCH_TOKEN"])
    else:
        result = run_offline(args.repo, args.env, names=not args.no_names)
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")
    sys.exit(0)


if __name__ == "__main__":
    main()
