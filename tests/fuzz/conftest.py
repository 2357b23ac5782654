"""Fuzz fixtures: the session's emulator with the generated project deployed once (and again only
after another test has reset the emulator), a project folder that every generated case rewrites and
restores, ``dfg`` in-process, and a recorder of how many generated cases each property ran (for
docs/reliability.md)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fuzz_support import ENV, TOKEN, TOKEN_ENV, WS, Harness
from shared_emulator import fresh, generated_project

from dataflow_gitops.cli.main import run
from fabric_emulator.server import EmulatorServer

KNOBS = {"lro": "always", "retryAfterS": 0}


@dataclass
class Deployment:
    """The pristine project and the live items its deployment made (empty: not deployed)."""

    root: Path
    url: str
    items: frozenset[tuple[str, str, str]] = field(default=frozenset())

    def live_items(self) -> frozenset[tuple[str, str, str]]:
        state = httpx.get(f"{self.url}/_emulator/state", timeout=10)
        state.raise_for_status()
        return frozenset((i["workspaceId"], i["id"], i["displayName"]) for i in state.json()["items"])

    def ensure(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Deploy the project afresh unless the emulator still holds exactly its deployment (fuzz
        cases never write; any other test resets the emulator first, and new items get new ids)."""
        if self.items and self.live_items() == self.items:
            return
        fresh(self.url, KNOBS, [(WS, "Fuzz")])
        shutil.rmtree(self.root, ignore_errors=True)
        generated_project(
            self.root, 3, url=self.url, workspace=WS, env=ENV, token_env=TOKEN_ENV, target_bytes=700
        )
        with monkeypatch.context() as env:
            env.setenv(TOKEN_ENV, TOKEN)
            assert run(["-C", str(self.root), "apply", "-e", ENV, "--auto-approve"]) == 0
        self.items = self.live_items()


@pytest.fixture(scope="session")
def deployment(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    return Deployment(tmp_path_factory.mktemp("fuzz") / "pristine", emulator.url)


@pytest.fixture
def harness(
    deployment: Deployment,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Harness]:
    deployment.ensure(monkeypatch)
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    root = tmp_path / "project"
    shutil.copytree(deployment.root, root)
    h = Harness(root, deployment.url, deployment.root, capsys)
    try:
        yield h
    finally:
        h.close()
        _record(request.node.name, h.cases)


def _record(name: str, cases: int) -> None:
    target = os.environ.get("DFG_FUZZ_STATS")
    if target and cases:
        with open(target, "a", encoding="utf-8") as stats:
            stats.write(json.dumps({"property": name, "cases": cases}) + "\n")
