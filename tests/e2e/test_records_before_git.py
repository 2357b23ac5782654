"""Deployment records made before the project was a git repository are not lost silently when
records become git tags: history lists them, and an apply warns that it cannot see them."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulator_project import git
from example_repo import copy_example

from dataflow_gitops.cli.main import run


def test_records_from_before_git_are_listed_and_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_example(tmp_path / "project")
    base = ["-C", str(root), "--no-color"]
    assert run([*base, "apply", "-e", "local", "--auto-approve", "--target", "Hello Dataflow"]) == 0
    capsys.readouterr()
    records = root / ".dataflow-gitops" / "records" / "local.jsonl"
    assert records.is_file()  # not a git repository yet: the file holds the record

    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "now in git")

    assert run([*base, "history", "-e", "local"]) == 0
    out = capsys.readouterr().out
    assert "No deployments recorded" not in out
    assert "Recorded before this was a git repository (in .dataflow-gitops/records/local.jsonl):" in out
    assert "no commit" in out

    assert run([*base, "apply", "-e", "local", "--auto-approve", "--target", "Hello Dataflow"]) == 0
    err = capsys.readouterr().err
    assert "warning: .dataflow-gitops/records/local.jsonl holds 1 deployment recorded before" in err
    assert git(root, "tag", "--list", "dfg/local/*")  # from now on, tags
