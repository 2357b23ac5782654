"""Release-flow fixtures: the session's emulator made fresh before every test, with the test and
prod workspaces and their lakehouse and warehouse; a temp copy of the example repository (a real
git repo) whose `test` and `prod` overlays point at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_project import Live, init_repo
from example_repo import copy_example
from release_support import BASELINE, PROD_WS, TEST_WS, TOKEN, point_at
from shared_emulator import fresh

from dataflow_gitops.fabric.auth import StaticTokenProvider
from dataflow_gitops.fabric.client import FabricClient
from fabric_emulator.server import EmulatorServer


@pytest.fixture
def live(emulator: EmulatorServer) -> Iterator[Live]:
    url = fresh(emulator.url, BASELINE, [(TEST_WS, "Sales TEST"), (PROD_WS, "Sales PROD")])
    with FabricClient(url, StaticTokenProvider(TOKEN)) as client:
        probe = Live(url, client)
        items = [
            {"workspaceId": ws, "displayName": name, "type": kind}
            for ws in (TEST_WS, PROD_WS)
            for name, kind in (("SalesLakehouse", "Lakehouse"), ("SalesWarehouse", "Warehouse"))
        ]
        probe.control("POST", "seed", {"items": items})
        yield probe


@pytest.fixture
def project(tmp_path: Path, live: Live, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    copy_example(root)
    point_at(root, live.url)
    monkeypatch.setenv("FABRIC_TOKEN", TOKEN)
    init_repo(root)
    return root
