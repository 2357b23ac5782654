"""A Windows checkout (core.autocrlf=true: CRLF in the working tree) plans no change against what
the same commit deployed from an LF checkout; dfg reads files as git stores them, not blindly."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import WS, Live
from emulator_project import Cli, git

from dataflow_gitops.pipeline.definition.eol import as_committed, converted_on_commit

MASHUP = "dataflows/Sales Orders.Dataflow/mashup.pq"


def _clone(project: Path, dest: Path, *config: str) -> Path:
    git(project.parent, "clone", "-q", *config, str(project), str(dest))
    return dest


def _change_days_back(checkout: Path) -> None:
    overlay = checkout / "environments" / "e2e.yaml"
    text = overlay.read_bytes().replace(b"DaysBack: 7", b"DaysBack: 14")
    overlay.write_bytes(text)
    git(checkout, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qam", "14")


def test_an_autocrlf_checkout_plans_no_change_and_deploys_what_linux_would(
    project: Path, dfg: Cli, live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = dfg("apply", "-e", "e2e", "--auto-approve")
    assert code == 0, out + err
    windows = _clone(project, tmp_path / "windows", "-c", "core.autocrlf=true")
    assert b"\r\n" in (windows / MASHUP).read_bytes()  # really a CRLF working tree
    assert b"\r\n" not in (project / MASHUP).read_bytes()
    assert git(windows, "status", "--porcelain") == ""  # git sees no change either
    on_windows = Cli(windows, capsys)
    code, out, err = on_windows("plan", "-e", "e2e", "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes." in out
    # A change applied from the Windows checkout sends the bytes the commit holds: LF.
    _change_days_back(windows)
    code, out, err = on_windows("apply", "-e", "e2e", "--auto-approve")
    assert code == 0, out + err
    mashup = live.mashup(live.dataflows()["Sales Orders"])
    assert "DaysBack = 14" in mashup
    assert "\r" not in mashup


def test_crlf_that_git_would_commit_is_sent_as_it_is(
    project: Path, dfg: Cli, live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = dfg("apply", "-e", "e2e", "--auto-approve")
    assert code == 0, out + err
    windows = _clone(project, tmp_path / "windows", "-c", "core.autocrlf=true")
    # Without autocrlf, the CRLF working tree is what a commit would store: dfg does not hide it.
    git(windows, "config", "core.autocrlf", "false")
    assert MASHUP in git(windows, "status", "--porcelain")
    _change_days_back(windows)
    code, out, err = Cli(windows, capsys)("apply", "-e", "e2e", "--auto-approve")
    assert code == 0, out + err
    assert "\r\n" in live.mashup(live.dataflows()["Sales Orders"])


def test_files_stored_with_crlf_keep_it(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "dataflows" / "A.Dataflow").mkdir(parents=True)
    stored = root / "dataflows" / "A.Dataflow" / "mashup.pq"
    stored.write_bytes(b"section Section1;\r\nshared A = 1;\r\n")
    git(root.parent, "init", "-q", str(root))
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "crlf")
    git(root, "config", "core.autocrlf", "true")
    assert converted_on_commit(root, "dataflows") == frozenset()  # i/crlf: stored that way
    folders = {"dataflows/A.Dataflow": {"mashup.pq": stored.read_bytes()}}
    assert as_committed(root, folders)["dataflows/A.Dataflow"]["mashup.pq"] == stored.read_bytes()


def test_untracked_files_follow_autocrlf(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "dataflows" / "A.Dataflow").mkdir(parents=True)
    git(root.parent, "init", "-q", str(root))
    new = root / "dataflows" / "A.Dataflow" / "mashup.pq"
    new.write_bytes(b"section Section1;\r\n")
    folders = {"dataflows/A.Dataflow": {"mashup.pq": new.read_bytes()}}
    assert as_committed(root, folders)["dataflows/A.Dataflow"]["mashup.pq"] == b"section Section1;\r\n"
    git(root, "config", "core.autocrlf", "true")
    assert as_committed(root, folders)["dataflows/A.Dataflow"]["mashup.pq"] == b"section Section1;\n"


def test_outside_git_nothing_is_converted(tmp_path: Path) -> None:
    folders = {"dataflows/A.Dataflow": {"mashup.pq": b"a\r\nb\r\n"}}
    assert as_committed(tmp_path, folders)["dataflows/A.Dataflow"]["mashup.pq"] == b"a\r\nb\r\n"


def test_export_writes_the_checkouts_line_endings(
    project: Path, dfg: Cli, live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = dfg("apply", "-e", "e2e", "--auto-approve")
    assert code == 0, out + err
    windows = _clone(project, tmp_path / "windows", "-c", "core.autocrlf=true")
    live.hotfix(WS, "Sales Orders", "Table.SelectRows", "Table.SelectRows ")
    code, out, err = Cli(windows, capsys)("export", "-e", "e2e")
    assert code == 0, out + err
    assert "1 file changed" in out  # the other files already matched: not rewritten
    written = (windows / MASHUP).read_bytes()
    assert written.count(b"\n") == written.count(b"\r\n")  # CRLF throughout, as checked out
    assert b"Table.SelectRows " in written
    numstat = git(windows, "diff", "--numstat").split("\t")
    assert numstat[:2] == ["1", "1"]  # one line changed, not every line's ending
