"""`dfg demo` end to end (its own embedded emulator process), and the packaged example template."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from emulator_project import git
from example_repo import REPO_ROOT

from dataflow_gitops.cli.main import run
from dataflow_gitops.demo import example_files, repository_path, template_path


def test_demo_runs_the_whole_tour(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "demo"
    code = run(["--no-color", "demo", "--dir", str(project)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "Plan: 7 to create, 0 to update, 0 to delete." in out
    assert "Plan: 0 to create, 1 to update, 0 to delete." in out
    assert "+shared DaysBack = 14" in out
    assert 'Apply to environment "local-test"' in out
    # step 8 promotes the commit last applied to local (what ships is what was tested)
    assert "$ dfg promote --from local --to local-test --auto-approve" in out
    promoted = git(project, "rev-list", "-n", "1", "HEAD")
    assert f"Promoting local → local-test: commit {promoted[:12]}" in out
    assert "live local matches it" in out
    assert "Applying: 1 dataflow\n" in err  # the reviewed plan changes one dataflow: one step
    tags = git(project, "tag", "--list", "dfg/*").split()
    assert len([t for t in tags if t.startswith("dfg/local/")]) == 2
    test_tags = [t for t in tags if t.startswith("dfg/local-test/")]
    assert len(test_tags) == 1
    assert git(project, "rev-list", "-n", "1", test_tags[0]) == promoted
    assert git(project, "status", "--porcelain", "--untracked-files=no") == ""
    # Short: the creates are listed once as a plan and once as results, not three times.
    assert out.count('+ create "Customers"') == 2
    assert len(out.splitlines()) < 110
    assert f"The demo project is in {project}" in out
    assert "environments/<env>.yaml" not in out


@pytest.mark.slow
def test_demo_says_that_it_deletes_its_temporary_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert run(["--no-color", "demo"]) == 0
    out = capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
    assert "Deleted the demo project (" in out
    assert "`dfg demo --keep` keeps it" in out


def test_demo_refuses_a_non_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    assert run(["demo", "--dir", str(tmp_path)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def _example_on_disk() -> dict[str, bytes]:
    files = {}
    for name in ("dataflows", "environments", "dataflow-gitops.yaml"):
        path = REPO_ROOT / name
        found = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        files.update({p.relative_to(REPO_ROOT).as_posix(): p.read_bytes() for p in found})
    return files


def test_packaged_example_is_identical_to_the_repository_example() -> None:
    assert example_files() == _example_on_disk(), "run: python scripts/sync_example.py"


def test_sync_script_check_agrees() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "sync_example.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(
    ("repository", "template"),
    [
        ("dataflows/A.Dataflow/.platform", "dataflows/A.Dataflow/dot-platform"),
        ("environments/dev.yaml", "environments/dev.yaml"),
        (".github/workflows/x.yml", "dot-github/workflows/x.yml"),
    ],
)
def test_template_names_round_trip(repository: str, template: str) -> None:
    assert template_path(repository) == template
    assert repository_path(template) == repository


def test_embedded_environment_needs_no_setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`api: embedded` in a fresh copy of the example: the emulator starts, the workspace and the
    Lakehouse/Warehouse the overlay binds to are provisioned, and state survives between runs."""
    from dataflow_gitops.demo import copy_example

    copy_example(tmp_path)
    git_dir = tmp_path
    subprocess.run(["git", "init", "-q"], cwd=git_dir, check=True)
    subprocess.run(["git", "add", "."], cwd=git_dir, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "example"], cwd=git_dir, check=True)
    base = ["-C", str(tmp_path), "--no-color"]
    assert run([*base, "plan", "-e", "local", "--detailed-exitcode"]) == 2
    assert "Plan: 7 to create" in capsys.readouterr().out
    assert run([*base, "apply", "-e", "local", "--auto-approve"]) == 0
    capsys.readouterr()
    assert run([*base, "plan", "-e", "local", "--detailed-exitcode"]) == 0
    assert (tmp_path / ".dataflow-gitops" / "emulator.db").is_file()
    assert git(tmp_path, "status", "--porcelain") == ""  # emulator state stays out of git
