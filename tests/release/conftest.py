"""Release-flow fixtures: one loopback emulator per session, reset before every test; a temp copy
of the example repository (a real git repo) whose `test` and `prod` overlays point at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_project import Cli, Live, init_repo
from example_repo import copy_example
from release_support import BASELINE, PROD_WS, TEST_WS, TOKEN, point_at

from dataflow_gitops.fabric.auth import StaticTokenProvider
from dataflow_gitops.fabric.client import FabricClient
from fabric_emulator.server import EmulatorServer


@pytest.fixture(scope="session")
def release_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(port=0) as server:
        yield server


@pytest.fixture
def live(release_emulator: EmulatorServer) -> Iterator[Live]:
    with FabricClient(release_emulator.url, StaticTokenProvider(TOKEN)) as client:
        probe = Live(release_emulator.url, client)
        probe.reset(BASELINE)
        workspaces = [
            {"id": TEST_WS, "displayName": "Sales TEST"},
            {"id": PROD_WS, "displayName": "Sales PROD"},
        ]
        items = [
            {"workspaceId": ws, "displayName": name, "type": kind}
            for ws in (TEST_WS, PROD_WS)
            for name, kind in (("SalesLakehouse", "Lakehouse"), ("SalesWarehouse", "Warehouse"))
        ]
        probe.control("POST", "seed", {"workspaces": workspaces, "items": items})
        yield probe


@pytest.fixture
def project(tmp_path: Path, live: Live, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    copy_example(root)
    point_at(root, live.url)
    monkeypatch.setenv("FABRIC_TOKEN", TOKEN)
    init_repo(root)
    return root


@pytest.fixture
def dfg(project: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(project, capsys)
