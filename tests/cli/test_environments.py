"""`dfg environments`: the environments in promotion order, as text or as a CI matrix."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dataflow_gitops.integrations.matrix import environment_matrix


def test_text_lists_promotion_order_first(dfg: Callable[..., Any]) -> None:
    result = dfg("environments")
    assert result.code == 0
    lines = result.out.splitlines()
    assert [line.split()[0] for line in lines] == ["dev", "test", "prod", "local"]
    assert "(from test, protected)" in lines[2]
    assert "embedded emulator" in lines[3]


def test_json_is_a_github_matrix(dfg: Callable[..., Any]) -> None:
    result = dfg("environments", "--json")
    assert result.code == 0
    assert result.out.count("\n") == 1  # one line, for $GITHUB_OUTPUT
    matrix = json.loads(result.out)
    include = matrix["include"]
    assert [e["environment"] for e in include] == ["dev", "test", "prod", "local"]
    assert include[0] == {
        "environment": "dev",
        "workspace_id": "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10",
        "workspace_name": None,
        "protected": False,
        "promote_from": None,
        "embedded": False,
    }
    assert include[2]["protected"] is True
    assert include[2]["promote_from"] == "test"


def test_skip_embedded_and_azure_dialect(dfg: Callable[..., Any]) -> None:
    result = dfg("environments", "--json", "--skip-embedded", "--matrix", "azure")
    matrix = json.loads(result.out)
    assert list(matrix) == ["dev", "test", "prod"]
    assert matrix["prod"]["protected"] == "true"
    assert matrix["dev"]["promote_from"] == ""


def test_secrets_are_not_needed_and_never_shown(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    overlay = project / "environments" / "sandbox.yaml"
    overlay.write_text(
        "workspace_id: ${env:SANDBOX_WS}\n"
        "auth:\n  method: client_secret\n  tenant_id: t\n  client_id: c\n"
        "  client_secret: ${env:SANDBOX_SECRET}\n"
    )
    unset = {e.environment: e for e in environment_matrix(project, {})}
    assert unset["sandbox"].workspace_id is None
    environ = {"SANDBOX_WS": "8C2E4A6D-5F7B-4C9E-A1D3-7E9F1B3D5A24", "SANDBOX_SECRET": "s3cr3t-value"}
    shown = {e.environment: e for e in environment_matrix(project, environ)}
    assert shown["sandbox"].workspace_id == "***"
    assert "s3cr3t" not in repr(shown)


def test_broken_overlay_is_a_one_line_error(dfg: Callable[..., Any], project: Path) -> None:
    (project / "environments" / "test.yaml").write_text("workspace_id: [1, 2\n")
    result = dfg("environments", "--json")
    assert result.code == 1
    assert result.out == ""
    assert "environments/test.yaml" in result.err
    assert result.err.count("\n") == 1


def test_no_environments(dfg: Callable[..., Any], project: Path) -> None:
    for path in (project / "environments").iterdir():
        path.unlink()
    (project / "dataflow-gitops.yaml").unlink()
    assert dfg("environments").out.startswith("No environments")
    assert json.loads(dfg("environments", "--json").out) == {"include": []}


def test_match_selects_a_wave(dfg: Callable[..., Any]) -> None:
    result = dfg("environments", "--json", "--match", "t*", "--match", "prod")
    assert [e["environment"] for e in json.loads(result.out)["include"]] == ["test", "prod"]
    assert json.loads(dfg("environments", "--json", "--match", "nothing").out) == {"include": []}
