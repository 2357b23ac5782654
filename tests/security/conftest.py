"""Security fixtures: the session's emulator (asynchronous LROs) made fresh before every test, and a
generated project in a real git repository (so deployment records become annotated tags) whose
``sec`` overlay reads the token and one parameter value from environment variables; ``dfg`` runs
with its clients on a fake clock (``fast_clients``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.generate import write_project
from emulator_project import Cli, init_repo
from fake_time import FakeTime
from security_support import SECRET, SECRET_ENV, TOKEN, TOKEN_ENV, WS, overlay
from shared_emulator import ASYNC, fresh

from fabric_emulator.server import EmulatorServer


@pytest.fixture
def url(emulator: EmulatorServer) -> str:
    return fresh(emulator.url, ASYNC, [(WS, "Security")])


@pytest.fixture
def project(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    write_project(root, 3, api=url, workspace_id=WS, target_bytes=700)
    (root / "environments" / "bench.yaml").unlink()
    (root / "environments" / "sec.yaml").write_text(overlay(url), encoding="utf-8")
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    init_repo(root)
    return root


@pytest.fixture
def dfg(project: Path, capsys: pytest.CaptureFixture[str], fast_clients: FakeTime) -> Cli:
    return Cli(project, capsys)
