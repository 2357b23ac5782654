"""Reliability fixtures: one in-process emulator for the session (asynchronous LROs), reset before
every test; a generated project whose ``rel`` overlay points at it; ``dfg`` run in-process with the
client's sleep and clock injected (a fake clock that advances by what is slept), so backoff and
``Retry-After`` cost no wall time."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_project import Cli
from fake_time import FakeTime
from reliability_support import TOKEN, TOKEN_ENV, WS, Probe

from dataflow_gitops.fabric import timing
from fabric_emulator.server import EmulatorServer

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # the benchmark package generates the projects

from benchmarks.generate import write_project  # noqa: E402

COUNT = 6
BASELINE = {"lro": "always", "latencyMs": 0, "retryAfterS": 0, "lroPolls": 1, "pageSize": 4}


@pytest.fixture(scope="session")
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(port=0, workspaces=[(WS, "Reliability")])
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def probe(emulator: EmulatorServer) -> Iterator[Probe]:
    with Probe(emulator.url) as p:
        p.control("POST", "reset")
        p.control("POST", "config", BASELINE)
        yield p


@pytest.fixture
def fast_clients(fake_time: FakeTime) -> Iterator[FakeTime]:
    """dfg's clients sleep on the fake clock (the client layer's timing seam)."""
    with timing.using(sleep=fake_time.sleep, clock=fake_time.clock):
        yield fake_time


@pytest.fixture
def project(tmp_path: Path, probe: Probe, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    write_project(root, COUNT, api=probe.url, workspace_id=WS, target_bytes=900)
    overlay = root / "environments" / "bench.yaml"
    overlay.rename(root / "environments" / "rel.yaml")
    text = overlay.with_name("rel.yaml").read_text(encoding="utf-8")
    overlay.with_name("rel.yaml").write_text(
        text.replace("DFG_BENCH_TOKEN", TOKEN_ENV), encoding="utf-8"
    )
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return root


@pytest.fixture
def dfg(project: Path, capsys: pytest.CaptureFixture[str], fast_clients: FakeTime) -> Cli:
    return Cli(project, capsys)
