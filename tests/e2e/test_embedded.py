"""The embedded emulator: one process per project state, shared within a process, and a second
process waits for the first (two writers on one state file would overwrite each other)."""

from __future__ import annotations

from pathlib import Path

import filelock
import httpx
import pytest

from dataflow_gitops import embedded
from dataflow_gitops.errors import DataflowGitopsError


def test_nested_users_share_one_emulator(tmp_path: Path) -> None:
    with embedded.embedded_emulator(tmp_path) as outer, embedded.embedded_emulator(tmp_path) as inner:
        assert inner == outer
        answer = httpx.get(f"{outer}/v1/workspaces", headers={"Authorization": "Bearer x"})
        assert answer.status_code == 200
    assert embedded._running == {}


def test_a_second_process_waits_then_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / embedded.STATE_DIR
    state.mkdir()
    monkeypatch.setattr(embedded, "LOCK_WAIT_S", 0.3)
    # another dfg command holds the project's emulator
    with (
        filelock.FileLock(state / embedded.LOCK_NAME),
        pytest.raises(DataflowGitopsError, match="another dfg command"),
        embedded.embedded_emulator(tmp_path),
    ):
        pass
    with embedded.embedded_emulator(tmp_path) as url:  # free again
        assert url.startswith("http://127.0.0.1:")
