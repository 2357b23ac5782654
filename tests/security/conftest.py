"""Security fixtures: one in-process emulator (asynchronous LROs) reset per test, and a generated
project in a real git repository (so deployment records become annotated tags) whose ``sec``
overlay reads the token and one parameter value from environment variables."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from emulator_project import Cli, git
from fake_time import FakeTime
from security_support import SECRET, SECRET_ENV, TOKEN, TOKEN_ENV, WS, overlay

from dataflow_gitops.fabric import timing
from fabric_emulator.server import EmulatorServer

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.generate import write_project  # noqa: E402


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(port=0, workspaces=[(WS, "Security")])
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def url(emulator: EmulatorServer) -> str:
    control = f"{emulator.url}/_emulator"
    httpx.post(f"{control}/reset", timeout=10).raise_for_status()
    baseline = {"lro": "always", "latencyMs": 0, "retryAfterS": 0, "lroPolls": 1, "pageSize": 4}
    httpx.post(f"{control}/config", json=baseline, timeout=10).raise_for_status()
    return emulator.url


@pytest.fixture
def project(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    write_project(root, 3, api=url, workspace_id=WS, target_bytes=700)
    (root / "environments" / "bench.yaml").unlink()
    (root / "environments" / "sec.yaml").write_text(overlay(url), encoding="utf-8")
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "security fixture")
    return root


@pytest.fixture(scope="session")
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def dfg(project: Path, capsys: pytest.CaptureFixture[str], fake_time: FakeTime) -> Iterator[Cli]:
    # Backoff and Retry-After on the fake clock (the client layer's timing seam).
    with timing.using(sleep=fake_time.sleep, clock=fake_time.clock):
        yield Cli(project, capsys)
