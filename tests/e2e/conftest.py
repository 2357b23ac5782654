"""End-to-end fixtures: one real emulator per session over loopback (asynchronous LROs, a little
latency), reset before every test; a temp copy of the example repository in a real git repo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import BASELINE, TOKEN, WS, WS_OTHER, Live, overlay
from emulator_project import Cli, init_repo
from example_repo import copy_example

from dataflow_gitops.fabric.auth import StaticTokenProvider
from dataflow_gitops.fabric.client import FabricClient
from fabric_emulator.server import EmulatorServer


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(port=0, workspaces=[(WS, "E2E"), (WS_OTHER, "E2E other")]) as server:
        yield server


@pytest.fixture
def live(emulator: EmulatorServer) -> Iterator[Live]:
    with FabricClient(emulator.url, StaticTokenProvider(TOKEN)) as client:
        probe = Live(emulator.url, client)
        probe.reset(BASELINE)
        for workspace in (WS, WS_OTHER):
            client.create_item(workspace, display_name="SalesLakehouse", type="Lakehouse")
            client.create_item(workspace, display_name="SalesWarehouse", type="Warehouse")
        yield probe


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


@pytest.fixture
def dfg(project: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(project, capsys)
