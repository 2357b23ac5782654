"""Fuzz fixtures: one in-process emulator (module scope) with the project's dataflows already
deployed, a project folder that every generated case rewrites and restores, ``dfg`` in-process,
and a recorder of how many generated cases each property ran (for docs/reliability.md)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataflow_gitops.cli.main import run
from fabric_emulator.server import EmulatorServer

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.generate import write_project  # noqa: E402
from fuzz_support import ENV, TOKEN, TOKEN_ENV, WS, Harness  # noqa: E402


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(port=0, workspaces=[(WS, "Fuzz")], lro="always")
    server.emulator.config.retry_after_s = 0
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pristine(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, deployed once: every case starts from a workspace that matches it."""
    root = tmp_path_factory.mktemp("fuzz") / "pristine"
    write_project(root, 3, api=emulator.url, workspace_id=WS, target_bytes=700)
    overlay = root / "environments" / "bench.yaml"
    text = overlay.read_text(encoding="utf-8").replace("DFG_BENCH_TOKEN", TOKEN_ENV)
    (root / "environments" / f"{ENV}.yaml").write_text(text, encoding="utf-8")
    overlay.unlink()
    previous = os.environ.get(TOKEN_ENV)
    os.environ[TOKEN_ENV] = TOKEN
    try:
        code = run(["-C", str(root), "apply", "-e", ENV, "--auto-approve"])
    finally:
        if previous is None:
            os.environ.pop(TOKEN_ENV, None)
        else:
            os.environ[TOKEN_ENV] = previous
    assert code == 0
    return root


@pytest.fixture
def harness(
    pristine: Path,
    emulator: EmulatorServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Harness]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    root = tmp_path / "project"
    shutil.copytree(pristine, root)
    h = Harness(root, emulator.url, pristine, capsys)
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
