"""End-to-end fixtures: the session's emulator (asynchronous LROs, a little latency) made fresh
before every test, with the e2e workspaces and their lakehouse and warehouse; a temp copy of the
example repository in a real git repo whose `e2e*` overlays point at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import BASELINE, TOKEN, WS, WS_OTHER, Live, overlay
from emulator_project import init_repo
from example_repo import copy_example
from shared_emulator import fresh

from dataflow_gitops.fabric.auth import StaticTokenProvider
from dataflow_gitops.fabric.client import FabricClient
from fabric_emulator.server import EmulatorServer


@pytest.fixture
def live(emulator: EmulatorServer) -> Iterator[Live]:
    url = fresh(emulator.url, BASELINE, [(WS, "E2E"), (WS_OTHER, "E2E other")])
    with FabricClient(url, StaticTokenProvider(TOKEN)) as client:
        for workspace in (WS, WS_OTHER):
            client.create_item(workspace, display_name="SalesLakehouse", type="Lakehouse")
            client.create_item(workspace, display_name="SalesWarehouse", type="Warehouse")
        yield Live(url, client)


@pytest.fixture
def project(tmp_path: Path, live: Live, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    copy_example(root)
    envs = root / "environments"
    (envs / "e2e.yaml").write_text(overlay(live.url, extra="prune:\n  enabled: true\n"))
    (envs / "e2e-keep.yaml").write_text(overlay(live.url))
    (envs / "e2e-other.yaml").write_text(overlay(live.url, WS_OTHER))
    (envs / "e2e-prot.yaml").write_text(overlay(live.url, WS_OTHER, extra="protected: true\n"))
    monkeypatch.setenv("FABRIC_TOKEN", TOKEN)
    init_repo(root)
    return root
