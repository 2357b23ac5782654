"""Project settings (dataflow-gitops.yaml): folders, promotion order, defaults merged beneath
every overlay; errors at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataflow_gitops.config import environment_names, load_environment, load_project
from dataflow_gitops.errors import ConfigError

WS = "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13"


def _write(root: Path, relative: str, text: str) -> None:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def test_without_project_file(tmp_path: Path) -> None:
    project = load_project(tmp_path)
    assert project.root == tmp_path.resolve()
    assert project.dataflows_dir == "dataflows"
    assert project.environments_dir == "environments"
    assert project.promotion_order == ()
    assert environment_names(project) == ()


def test_folders_order_and_defaults(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "dataflow-gitops.yaml",
        """\
dataflows_dir: flows
environments_dir: envs
promotion_order: [dev, prod]
defaults:
  api: http://127.0.0.1:9/
  auth:
    method: token
    token_env: ORG_TOKEN
  prune:
    enabled: true
""",
    )
    for name in ("prod", "dev", "adhoc"):
        _write(tmp_path, f"envs/{name}.yaml", f"workspace_id: {WS}\n")
    _write(tmp_path, "envs/dev.yaml", f"workspace_id: {WS}\nauth:\n  token_env: DEV_TOKEN\n")
    _write(tmp_path, "envs/notes.txt", "not an overlay")
    project = load_project(tmp_path)
    assert project.dataflows_path == tmp_path.resolve() / "flows"
    assert environment_names(project) == ("dev", "prod", "adhoc")
    dev = load_environment(project, "dev")
    assert dev.path == "envs/dev.yaml"
    assert dev.api == "http://127.0.0.1:9"
    assert dev.auth.token_env == "DEV_TOKEN"  # the overlay wins, key by key
    assert dev.auth.method == "token"
    assert dev.prune.enabled
    prod = load_environment(project, "prod")
    assert prod.auth.token_env == "ORG_TOKEN"
    # the defaults take part in the overlay hash: changing them invalidates saved plans
    _write(
        tmp_path,
        "dataflow-gitops.yaml",
        "environments_dir: envs\ndefaults:\n  api: http://127.0.0.1:10/\n",
    )
    assert load_environment(load_project(tmp_path), "prod").overlay_hash != prod.overlay_hash


def test_error_in_defaults_names_the_project_file(tmp_path: Path) -> None:
    _write(tmp_path, "dataflow-gitops.yaml", "defaults:\n  auth:\n    methd: token\n")
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    assert str(caught.value).startswith("dataflow-gitops.yaml:3: unknown key 'methd'")


def test_merged_default_error_is_located_in_the_project_file(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "dataflow-gitops.yaml",
        "defaults:\n  auth:\n    method: client_secret\n    tenant_id: t\n",
    )
    _write(tmp_path, "environments/x.yaml", f"workspace_id: {WS}\nauth:\n  client_id: c\n")
    with pytest.raises(ConfigError) as caught:
        load_environment(load_project(tmp_path), "x")
    assert "'client_secret' is a required property" in caught.value.message
    assert caught.value.path == "environments/x.yaml"
    assert caught.value.line == 3


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("promotion_order: dev\n", 1, "expected a list"),
        ("dataflows_dir: ../elsewhere\n", 1, "inside the project"),
        ("promotion_order: [dev, dev]\n", 1, "non-unique"),
        ("- a\n", 1, "must be a mapping"),
        ("folders: x\n", 1, "unknown key 'folders'"),
    ],
)
def test_bad_project_files(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    _write(tmp_path, "dataflow-gitops.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    assert caught.value.line == line
    assert fragment in caught.value.message
    assert caught.value.path == "dataflow-gitops.yaml"


def test_unknown_environment_suggests_the_closest(tmp_path: Path) -> None:
    _write(tmp_path, "environments/prod.yaml", f"workspace_id: {WS}\n")
    with pytest.raises(ConfigError) as caught:
        load_environment(load_project(tmp_path), "prd")
    assert caught.value.hint == "did you mean 'prod'?"


def test_promote_from_must_follow_the_promotion_order(tmp_path: Path) -> None:
    _write(tmp_path, "dataflow-gitops.yaml", "promotion_order: [dev, test, prod]\n")
    _write(tmp_path, "environments/dev.yaml", f"workspace_id: {WS}\npromote_from: prod\n")
    _write(tmp_path, "environments/prod.yaml", f"workspace_id: {WS}\npromote_from: dev\n")
    project = load_project(tmp_path)
    assert load_environment(project, "prod").promote_from == "dev"
    with pytest.raises(ConfigError) as caught:
        load_environment(project, "dev")
    assert caught.value.line == 2
    assert "comes after 'dev'" in caught.value.message
