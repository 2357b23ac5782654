"""The overlay bad-input cases of issue 2 through `dfg validate -e ENV`: exit 1, one line naming
environments/<env>.yaml:<line>, no traceback, no network."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from example_repo import REPO_ROOT, copy_example

from dataflow_gitops.cli.main import run

WS = "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(REPO_ROOT / "dataflows", tmp_path / "dataflows")
    (tmp_path / "environments").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("overlay", "expected"),
    [
        ("workspace_id: [\n", "environments/bad.yaml:2: invalid YAML"),
        (
            f"workspace_id: {WS}\nparamters: {{}}\n",
            "environments/bad.yaml:2: unknown key 'paramters' (did you mean 'parameters'?)",
        ),
        ("- workspace_id\n", "environments/bad.yaml:1: an overlay must be a mapping"),
        ("workspace_id: 1234\n", "environments/bad.yaml:1: workspace_id: 1234 is not a GUID"),
        (
            f"workspace_id: {WS}\nparameters:\n  Nope: 1\n",
            "environments/bad.yaml:3: parameter 'Nope' is declared by no dataflow",
        ),
        (
            f"workspace_id: {WS}\nparameters:\n  X: ${{env:DFG_NOT_SET}}\n",
            "environments/bad.yaml:3: environment variable DFG_NOT_SET is not set",
        ),
        (
            f"workspace_id: {WS}\nparameters:\n  DaysBack: lots\n",
            "environments/bad.yaml:3: Sales Orders: parameter DaysBack is of type number",
        ),
    ],
)
def test_validate_reports_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], overlay: str, expected: str
) -> None:
    (project / "environments" / "bad.yaml").write_text(overlay, encoding="utf-8")
    code = run(["-C", str(project), "--no-color", "validate", "-e", "bad"])
    captured = capsys.readouterr()
    output = captured.err + captured.out
    assert code == 1
    assert expected in output
    assert "Traceback" not in output
    error_lines = [line for line in output.splitlines() if "bad.yaml" in line]
    assert len(error_lines) == 1


def test_example_validates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    copy_example(tmp_path)
    assert run(["-C", str(tmp_path), "--no-color", "validate"]) == 0
