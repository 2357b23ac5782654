"""Benchmark scenarios: a matrix (sizes × quota settings) → one :class:`Measurement` per timed run.

Each tool gets its own emulator subprocess with the same settings and runs its chain of
scenarios (first deploy, redeploy with 0 and with 5 changed, and for us a no-change plan); the two
chains run side by side so the whole matrix fits in about 20 minutes. Every timed run uses a fresh
token, hence a fresh quota identity: it starts with a full quota window and pays only for its own
calls. The request log is cleared before and read after each run to count API calls.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.emulator import Emulator, Settings, running
from benchmarks.generate import ENV, TOKEN_ENV, GeneratedProject, change_dataflows, write_project
from dataflow_gitops.adapters.read_ahead import CACHE_DIR

REPO_ROOT = Path(__file__).resolve().parents[1]
WS_OURS = "3f6a1c2e-9b4d-4e7a-8c1f-2d5b7e9a1c30"
WS_PEER = "5c8e2a4f-1d3b-4f6a-9e2c-7b1d3f5a8e42"
DATAFLOW_BYTES = 3_000
CHANGED = 5

FIRST = "first deploy"
REDEPLOY_0 = "redeploy, 0 changed"
REDEPLOY_5 = "redeploy, 5 changed"
PLAN_0 = "no-change plan"
FIRST_C8 = "first deploy, --concurrency 8"
SCENARIOS = (FIRST, FIRST_C8, REDEPLOY_0, REDEPLOY_5, PLAN_0)
_NEEDS_DEPLOYED = {REDEPLOY_0, REDEPLOY_5, PLAN_0}

OURS = "dfg"
PEER = "fabric-cicd 1.4.0"


@dataclass(frozen=True, slots=True)
class Measurement:
    tool: str
    scenario: str
    n: int
    quota: int | None
    seconds: float
    exit: int
    calls: int
    writes: int
    throttled: int
    detail: str = ""

    @property
    def calls_per_dataflow(self) -> float:
        return self.calls / self.n

    @property
    def quota_bound_s(self) -> float | None:
        """The least time ``calls`` can take at ``quota`` calls per minute (calls ÷ quota)."""
        return None if self.quota is None else self.calls * 60 / self.quota


@dataclass(frozen=True, slots=True)
class Cell:
    """One size at one quota setting, and which scenarios each tool runs there."""

    n: int
    quota: int | None
    ours: tuple[str, ...] = (FIRST, REDEPLOY_0, REDEPLOY_5, PLAN_0)
    peer: tuple[str, ...] = (FIRST, REDEPLOY_0, REDEPLOY_5)
    setup_unthrottled: bool = False
    """Deploy once without quota first (not timed), so only the listed scenarios are throttled."""


@dataclass(frozen=True, slots=True)
class Matrix:
    cells: tuple[Cell, ...]
    offline_count: int = 1_000
    offline_bytes: int = 50_000
    settings: Settings = field(default_factory=Settings)


FULL = Matrix(
    cells=(
        Cell(10, None),
        Cell(50, None),
        # The same first deploy with twice the default write concurrency: what bounds it.
        Cell(50, None, ours=(FIRST_C8,), peer=()),
        Cell(200, None, peer=(FIRST,)),
        Cell(50, 200, peer=(FIRST,)),
        Cell(200, 200, ours=(PLAN_0, REDEPLOY_0), peer=(), setup_unthrottled=True),
    ),
    # Two fresh processes (nothing cached, then the read cache): about 8 s and 2 s at 1,000 × 50 KB.
    offline_count=1_000,
)
QUICK = Matrix(
    cells=(Cell(10, None), Cell(10, 200, ours=(FIRST, PLAN_0), peer=(FIRST,))),
    offline_count=20,
)
OFFLINE_TARGET_COUNT = 1_000


def worker(op: str, args: Sequence[str], *, token: str, workdir: Path) -> dict[str, object]:
    """Run one operation in a fresh process (see ``benchmarks.worker``) and return its result."""
    out = workdir / f"result-{uuid.uuid4().hex}.json"
    path = os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT)])
    env = {**os.environ, TOKEN_ENV: token, "PYTHONPATH": path, "NO_COLOR": "1"}
    env.pop("FABRIC_CICD_RETRY_DELAY_OVERRIDE_SECONDS", None)  # its default delays: a fair run
    subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", op, "--out", str(out), *args],
        cwd=workdir,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if not out.exists():
        return {"seconds": float("nan"), "exit": -1, "stderr": f"worker {op} produced no result"}
    result: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return result


class Chain:
    """One tool's scenarios against its own emulator."""

    def __init__(self, tool: str, emulator: Emulator, workdir: Path, log: Callable[[str], None]) -> None:
        self.tool = tool
        self.emulator = emulator
        self.workdir = workdir
        self.log = log
        self.results: list[Measurement] = []
        self.revision = 0
        self.workspace = WS_OURS if tool == OURS else WS_PEER

    def run_cell(self, cell: Cell) -> None:
        scenarios = cell.ours if self.tool == OURS else cell.peer
        if not scenarios:
            return
        self.emulator.reset()
        self.emulator.configure(quotaPerMinute=None)
        root = Path(tempfile.mkdtemp(prefix=f"n{cell.n}-", dir=self.workdir))
        project = write_project(
            root, cell.n, api=self.emulator.url, workspace_id=self.workspace, target_bytes=DATAFLOW_BYTES
        )
        if cell.setup_unthrottled or (FIRST not in scenarios and _NEEDS_DEPLOYED & set(scenarios)):
            self._run(project, FIRST, cell, timed=False)
        self.emulator.configure(quotaPerMinute=cell.quota)
        for scenario in (FIRST, FIRST_C8, REDEPLOY_0, PLAN_0, REDEPLOY_5):
            if scenario in scenarios:
                self._run(project, scenario, cell, timed=True)

    def _run(self, project: GeneratedProject, scenario: str, cell: Cell, *, timed: bool) -> None:
        if scenario == REDEPLOY_5:
            self.revision += 1
            change_dataflows(
                project, range(CHANGED), target_bytes=DATAFLOW_BYTES, revision=self.revision
            )
        token = f"bench-{uuid.uuid4().hex}"
        self.emulator.clear_log()
        if self.tool == OURS:
            command = (
                ["plan", "-e", ENV] if scenario == PLAN_0 else ["apply", "-e", ENV, "--auto-approve"]
            )
            if scenario == FIRST_C8:
                command += ["--concurrency", "8"]
            result = worker(
                "dfg",
                ["--", "-C", str(project.root), "--no-color", *command],
                token=token,
                workdir=self.workdir,
            )
        else:
            result = worker(
                "fabric-cicd",
                [
                    "--url",
                    self.emulator.url,
                    "--workspace",
                    self.workspace,
                    "--repo",
                    str(project.dataflows_dir),
                ],
                token=token,
                workdir=self.workdir,
            )
        calls = self.emulator.calls()
        if not timed:
            return
        measurement = Measurement(
            tool=self.tool,
            scenario=scenario,
            n=cell.n,
            quota=cell.quota,
            seconds=float(str(result.get("seconds"))),
            exit=int(str(result.get("exit"))),
            calls=calls.total,
            writes=calls.writes,
            throttled=calls.throttled,
            detail=str(result.get("stderr", ""))[-300:] if result.get("exit") not in (0, 2) else "",
        )
        self.results.append(measurement)
        self.log(
            f"{self.tool:>18} N={cell.n:<4} quota={cell.quota or 'off':<4} {scenario:<20} "
            f"{measurement.seconds:8.2f} s  {calls.total:5d} calls  exit {measurement.exit}"
        )


def run_chain(tool: str, matrix: Matrix, workdir: Path, log: Callable[[str], None]) -> list[Measurement]:
    settings = dataclasses.replace(
        matrix.settings, workspaces=((WS_OURS if tool == OURS else WS_PEER, "Bench"),)
    )
    chain_dir = workdir / ("ours" if tool == OURS else "peer")
    chain_dir.mkdir(parents=True, exist_ok=True)
    with running(settings, chain_dir / "emulator.log") as emulator:
        chain = Chain(tool, emulator, chain_dir, log)
        for cell in matrix.cells:
            chain.run_cell(cell)
    return chain.results


def run_offline(matrix: Matrix, workdir: Path) -> dict[str, object]:
    """(e): validate + render + diff of ``offline_count`` generated dataflows: a first run in a fresh
    process with nothing cached (``cold``), then a repeat run in another fresh process, with the
    read cache the first one left (``warm``); beside them a first run with ``--no-names``."""
    root = workdir / "offline"
    write_project(
        root,
        matrix.offline_count,
        api="http://127.0.0.1:9",
        workspace_id=WS_OURS,
        target_bytes=matrix.offline_bytes,
    )
    # A per-environment parameter value: every dataflow renders with one changed query to diff.
    overlay = root / "environments" / f"{ENV}.yaml"
    overlay.write_text(
        overlay.read_text(encoding="utf-8") + "parameters:\n  DatabaseName: BenchProd\n",
        encoding="utf-8",
    )
    runs: dict[str, object] = {"count": matrix.offline_count}
    args = ["--repo", str(root), "--env", ENV]
    # What the default unknown-names check costs: a first run without it, beside the same with it.
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    runs["cold_no_names"] = worker("offline", [*args, "--no-names"], token="offline", workdir=workdir)
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    for phase in ("cold", "warm"):
        runs[phase] = worker("offline", args, token="offline", workdir=workdir)
    return runs
