"""`dfg init`: a starter repository that validates at once, never clobbers, and deploys."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import git
import pytest

from dataflow_gitops.cli.main import run
from dataflow_gitops.scaffold import scaffold, template_files

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def _dfg(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["--no-color", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_init_then_validate_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "repo"
    code, out, _ = _dfg(capsys, "init", str(dest))
    assert code == 0
    assert "created environments/prod.yaml" in out
    for path in (
        "dataflows/Sample Orders.Dataflow/.platform",
        "dataflows/Sample Orders.Dataflow/mashup.pq",
        "dataflows/Sample Orders.Dataflow/queryMetadata.json",
        "environments/dev.yaml",
        "environments/test.yaml",
        "environments/prod.yaml",
        "dataflow-gitops.yaml",
        ".github/workflows/dfg-plan.yml",
        ".github/workflows/dfg-deploy.yml",
        ".github/workflows/dfg-promote.yml",
        ".github/workflows/dfg-drift.yml",
    ):
        assert (dest / path).is_file(), path
    assert ".dataflow-gitops/" in (dest / ".gitignore").read_text().splitlines()
    code, out, err = _dfg(capsys, "-C", str(dest), "validate")
    assert (code, err) == (0, "")
    assert "1 dataflow, 4 environments valid" in out


def test_every_overlay_names_a_schema_that_exists(tmp_path: Path) -> None:
    scaffold(tmp_path)
    files = [tmp_path / "dataflow-gitops.yaml", *sorted((tmp_path / "environments").glob("*.yaml"))]
    assert len(files) == 5
    for file in files:
        first = file.read_text().splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, f"{file.name}: {first}"
        schema = (file.parent / match.group(1)).resolve()
        assert schema.is_file(), schema
        assert json.loads(schema.read_text())["$schema"].startswith("https://json-schema.org/")


def test_each_scaffold_gets_its_own_logical_id(tmp_path: Path) -> None:
    scaffold(tmp_path / "a")
    scaffold(tmp_path / "b")
    ids = [
        json.loads((tmp_path / d / "dataflows/Sample Orders.Dataflow/.platform").read_text())["config"][
            "logicalId"
        ]
        for d in ("a", "b")
    ]
    assert ids[0] != ids[1]
    assert all(re.fullmatch(r"[0-9a-f-]{36}", i) for i in ids)
    assert not any(
        b"{{logical_id}}" in data or b"{{query_id" in data for data in template_files().values()
    )


def test_refuses_to_overwrite_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.yaml").write_text("workspace_id: mine\n")
    code, out, err = _dfg(capsys, "init", str(tmp_path))
    assert code == 1
    assert "would overwrite environments/dev.yaml" in err
    assert "--force" in err
    assert err.count("\n") == 1
    assert (tmp_path / "environments" / "dev.yaml").read_text() == "workspace_id: mine\n"
    assert not (tmp_path / "dataflows").exists()
    assert not (tmp_path / ".gitignore").exists()
    code, _, _ = _dfg(capsys, "init", str(tmp_path), "--force")
    assert code == 0
    assert "workspace_id: 11111111" in (tmp_path / "environments" / "dev.yaml").read_text()


def test_gitignore_line_is_added_once(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc")
    assert scaffold(tmp_path).gitignore == "appended"
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n.dataflow-gitops/\n"
    assert scaffold(tmp_path, force=True).gitignore == "present"
    assert (tmp_path / ".gitignore").read_text().count(".dataflow-gitops") == 1


@pytest.mark.parametrize(
    ("ci", "present", "absent"),
    [
        ("azure", ".azure-pipelines/azure-pipelines.yml", ".github"),
        ("none", "dataflows", ".github"),
        ("github", ".github/workflows/dfg-plan.yml", ".azure-pipelines"),
    ],
)
def test_ci_choice(tmp_path: Path, ci: str, present: str, absent: str, capsys) -> None:
    assert _dfg(capsys, "init", str(tmp_path), "--ci", ci)[0] == 0
    assert (tmp_path / present).exists()
    assert not (tmp_path / absent).exists()


def test_init_defaults_to_the_project_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _dfg(capsys, "-C", str(tmp_path), "init")[0] == 0
    assert (tmp_path / "dataflow-gitops.yaml").is_file()


def test_a_file_in_the_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    code, _, err = _dfg(capsys, "init", str(tmp_path / "file"))
    assert code == 1
    assert "is a file" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_scaffold_plans_and_applies_on_the_embedded_emulator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first hour: init, commit, plan on `local`, apply, and the next plan is clean."""
    dest = tmp_path / "repo"
    scaffold(dest)
    repo = git.Repo.init(dest, initial_branch="main")
    repo.git.add("-A")
    repo.index.commit("dfg init")
    repo.close()
    code, out, _ = _dfg(capsys, "-C", str(dest), "plan", "-e", "local", "--detailed-exitcode")
    assert code == 2, out
    assert "Plan: 1 to create, 0 to update, 0 to delete." in out
    code, out, _ = _dfg(capsys, "-C", str(dest), "apply", "-e", "local", "--auto-approve")
    assert code == 0, out
    code, out, _ = _dfg(capsys, "-C", str(dest), "plan", "-e", "local", "--detailed-exitcode")
    assert code == 0, out
    assert git.Repo(dest).git.status("--porcelain") == ""  # the emulator's state is ignored


def test_no_sample_in_a_repository_with_dataflows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Adopting dfg where Fabric Git sync already put dataflows: no sample, no sample parameter."""
    shutil.copytree(REPO_ROOT / "dataflows", tmp_path / "dataflows")
    code, out, err = _dfg(capsys, "init", str(tmp_path), "--no-sample")
    assert code == 0, err
    assert "Sample Orders" not in out
    assert not (tmp_path / "dataflows" / "Sample Orders.Dataflow").exists()
    for overlay in (tmp_path / "environments").glob("*.yaml"):
        assert "MinimumAmount" not in overlay.read_text()
        assert "workspace_id:" in overlay.read_text()
    code, out, err = _dfg(capsys, "-C", str(tmp_path), "validate")
    assert (code, err) == (0, "")
    assert "7 dataflows, 4 environments valid" in out


@pytest.mark.parametrize(("shape", "where"), [("subfolder", "workspace"), ("mixed", ".")])
def test_init_adopts_the_items_fabric_git_sync_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str, where: str
) -> None:
    from fabric_repos import write_shape

    dest = tmp_path / "repo"
    expected = write_shape(dest, shape)
    code, out, _ = _dfg(capsys, "init", str(dest))
    assert code == 0
    assert f'dataflows_dir: "{where}", no sample written.' in out
    assert f'dataflows_dir: "{where}"\n' in (dest / "dataflow-gitops.yaml").read_text()
    assert not (dest / "dataflows").exists()
    code, out, err = _dfg(capsys, "-C", str(dest), "validate")
    assert (code, err) == (0, "")
    assert f"{len(expected.dataflows)} dataflows, 4 environments valid" in out
