"""Release-flow fixtures: one loopback emulator per session, reset before every test; a temp copy
of the example repository (a real git repo) whose `test` and `prod` overlays point at it."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from release_support import (  # noqa: E402
    BASELINE,
    EXAMPLE,
    PROD_WS,
    REPO_ROOT,
    TEST_WS,
    TOKEN,
    Cli,
    Live,
    commit_all,
    git,
    point_at,
)

from dataflow_gitops.fabric.auth import StaticTokenProvider  # noqa: E402
from dataflow_gitops.fabric.client import FabricClient  # noqa: E402
from fabric_emulator.server import EmulatorServer  # noqa: E402


@pytest.fixture(scope="session")
def release_emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(port=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live(release_emulator: EmulatorServer) -> Iterator[Live]:
    with FabricClient(release_emulator.url, StaticTokenProvider(TOKEN)) as client:
        probe = Live(release_emulator.url, client)
        probe.control("POST", "reset")
        probe.control("POST", "config", BASELINE)
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
    root.mkdir()
    for name in EXAMPLE:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy2(source, root / name)
    point_at(root, live.url)
    monkeypatch.setenv("FABRIC_TOKEN", TOKEN)
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "example")
    return root


@pytest.fixture
def dfg(project: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(project, capsys)
