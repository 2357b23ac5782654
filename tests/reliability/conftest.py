"""Reliability fixtures: the session's emulator (asynchronous LROs) made fresh before every test; a
generated project whose ``rel`` overlay points at it; ``dfg`` run in-process with the client's sleep
and clock on a fake clock (``fast_clients``), so backoff and ``Retry-After`` cost no wall time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_project import Cli
from fake_time import FakeTime
from reliability_support import TOKEN, TOKEN_ENV, WS, Probe
from shared_emulator import ASYNC, fresh, generated_project

from fabric_emulator.server import EmulatorServer

COUNT = 6


@pytest.fixture
def probe(emulator: EmulatorServer) -> Iterator[Probe]:
    with Probe(fresh(emulator.url, ASYNC, [(WS, "Reliability")])) as p:
        yield p


@pytest.fixture
def project(tmp_path: Path, probe: Probe, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return generated_project(
        tmp_path / "repo",
        COUNT,
        url=probe.url,
        workspace=WS,
        env="rel",
        token_env=TOKEN_ENV,
        target_bytes=900,
    )


@pytest.fixture
def dfg(project: Path, capsys: pytest.CaptureFixture[str], fast_clients: FakeTime) -> Cli:
    return Cli(project, capsys)
