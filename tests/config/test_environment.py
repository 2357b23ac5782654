"""Environment overlays: every key of the schema loads into typed values; every mistake is one
ConfigError naming environments/<env>.yaml:<line>."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dataflow_gitops.config import (
    PUBLIC_API,
    Environment,
    environment_names,
    load_environment,
    load_project,
    parse_environment,
)
from dataflow_gitops.errors import ConfigError
from dataflow_gitops.pipeline.model import IgnoreRule, PlanPolicy

LoadOverlay = Callable[..., Environment]
WS = "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13"
SRC_WS = "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10"
LH = "7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b27"


def test_minimal_overlay_gets_the_defaults(load_overlay: LoadOverlay) -> None:
    env = load_overlay(f"workspace_id: {WS}\n")
    assert env.name == "test"
    assert env.path == "environments/test.yaml"
    assert env.workspace_id == WS
    assert env.api == PUBLIC_API
    assert env.auth.method == "token"
    assert env.auth.token_env == "FABRIC_TOKEN"
    assert env.policy() == PlanPolicy()
    assert env.display_name_for("Sales") == "Sales"
    assert env.in_scope("anything")
    assert not env.protected
    assert env.promote_from is None


def test_every_capability_loads(load_overlay: LoadOverlay, project_dir: Path) -> None:
    (project_dir / "environments" / "dev.yaml").write_text(f"workspace_id: {SRC_WS}\n")
    env = load_overlay(f"""
        workspace_id: {WS.upper()}
        api: http://127.0.0.1:8765/
        auth:
          method: client_secret
          tenant_id: t
          client_id: c
          client_secret: s3cret-literal
        promote_from: dev
        protected: true
        scope:
          include: ["Sales *", Customers]
          exclude: ["Sales Summary"]
        display_name: "{{name}} [TEST]"
        parameters:
          ServerName: test-sql
          DaysBack: 90
          IncludeDiscontinued: true
        dataflows:
          Customers:
            parameters:
              ServerName: other-sql
            bindings:
              lakehouses:
                {LH}: 11111111-2222-4333-8444-555555555555
            display_name: "Clients"
        bindings:
          workspaces:
            {SRC_WS}: ${{workspace.id}}
          lakehouses:
            {LH}: ${{items.Lakehouse.SalesLakehouse.id}}
          connections:
            e3d5a7c9-1b2f-4d6e-8a0c-3f5b7d9e1a24: 4b6d8f0a-2c4e-4a6b-8d0f-1a3c5e7b9d42
            '{{"ClusterId":"5d8e2a1c-7f3b-4c9e-a6d4-2b8f1e5c9a73","DatasourceId":"x"}}': >-
              {{"ClusterId":"a","DatasourceId":"b"}}
          gateway: null
        replace:
          - find: dev-
            with: test-
            regex: false
            dataflows: ["Sales *"]
            parts: [mashup.pq]
        set:
          - path: $.computeEngineSettings.maxConcurrency
            value: 4
        ignore:
          - parts: [queryMetadata.json]
            json_paths: [$.computeEngineSettings]
          - queries: ["*_DataDestination"]
        prune:
          enabled: true
          exclude: ["Manual *"]
          unrecorded: true
    """)
    assert env.workspace_id == WS  # normalised to lower case
    assert env.api == "http://127.0.0.1:8765"
    assert env.auth.method == "client_secret"
    assert env.auth.client_secret == "s3cret-literal"
    assert env.promote_from == "dev"
    assert env.protected
    assert env.in_scope("Sales Orders")
    assert env.in_scope("Customers")
    assert not env.in_scope("Sales Summary")
    assert not env.in_scope("Products")
    assert env.display_name_for("Sales Orders") == "Sales Orders [TEST]"
    assert env.display_name_for("Customers") == "Clients"
    assert {k: p.value for k, p in env.parameters_for("Customers").items()} == {
        "ServerName": "other-sql",
        "DaysBack": 90,
        "IncludeDiscontinued": True,
    }
    assert env.parameters_for("Sales Orders")["ServerName"].value == "test-sql"
    assert env.parameters_for("Sales Orders")["DaysBack"].where == "environments/test.yaml:16"
    assert [b.target for b in env.bindings_for("Customers").lakehouses] == [
        "11111111-2222-4333-8444-555555555555"
    ]
    assert [b.target for b in env.bindings_for("Products").lakehouses] == [
        "${items.Lakehouse.SalesLakehouse.id}"
    ]
    assert env.bindings.gateway is not None
    assert env.bindings.gateway.target is None
    assert len(env.bindings.connections) == 2
    assert env.replace[0].find == "dev-"
    assert env.replace[0].parts == ("mashup.pq",)
    assert env.set_rules[0].value == 4
    assert env.set_rules[0].part == "queryMetadata.json"
    assert env.policy(targets=["Customers"]) == PlanPolicy(
        prune=True,
        prune_exclude=("Manual *",),
        prune_unrecorded=True,
        ignore=(
            IgnoreRule(parts=("queryMetadata.json",), json_paths=("$.computeEngineSettings",)),
            IgnoreRule(queries=("*_DataDestination",)),
        ),
        targets=("Customers",),
    )
    assert len(env.overlay_hash) == 64


def test_overlay_hash_follows_the_bytes(load_overlay: LoadOverlay) -> None:
    a = load_overlay(f"workspace_id: {WS}\n")
    b = load_overlay(f"workspace_id: {WS}\n# a comment changes the file\n")
    assert a.overlay_hash != b.overlay_hash
    assert a.overlay_hash == load_overlay(f"workspace_id: {WS}\n").overlay_hash


def test_workspace_name_instead_of_id(load_overlay: LoadOverlay) -> None:
    env = load_overlay("workspace_name: Sales (test)\napi: embedded\n")
    assert env.workspace_id is None
    assert env.workspace_name == "Sales (test)"
    assert env.embedded


# --- bad input: one line, file:line, a hint -------------------------------------------------


def _error(load_overlay: LoadOverlay, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_overlay(text)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"environments/test.yaml:{caught.value.line}: ")
    return caught.value


def test_invalid_yaml(load_overlay: LoadOverlay) -> None:
    err = _error(load_overlay, f"workspace_id: {WS}\nparameters:\n  A: [1, 2\n")
    assert err.line == 4
    assert "invalid YAML" in err.message


def test_unknown_key_suggests_the_closest(load_overlay: LoadOverlay) -> None:
    err = _error(load_overlay, f"workspace_id: {WS}\nparamters:\n  A: 1\n")
    assert err.line == 2
    assert "unknown key 'paramters'" in err.message
    assert err.hint == "did you mean 'parameters'?"


def test_unknown_nested_key(load_overlay: LoadOverlay) -> None:
    err = _error(load_overlay, f"workspace_id: {WS}\nprune:\n  enabled: true\n  exlude: [a]\n")
    assert err.line == 4
    assert "'exlude' in prune" in err.message
    assert err.hint == "did you mean 'exclude'?"


def test_unknown_key_far_from_any_lists_the_known_ones(load_overlay: LoadOverlay) -> None:
    err = _error(load_overlay, f"workspace_id: {WS}\nauth:\n  zzz: 1\n")
    assert err.line == 3
    assert err.hint is not None
    assert "token_env" in err.hint


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "", "42\n"])
def test_overlay_that_is_not_a_mapping(load_overlay: LoadOverlay, text: str) -> None:
    err = _error(load_overlay, text)
    assert err.line == 1
    assert "must be a mapping" in err.message


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("workspace_id: not-a-guid\n", 1, "workspace_id: 'not-a-guid' is not a GUID"),
        (f"workspace_id: {WS}\nbindings:\n  lakehouses:\n    {LH}: 12345\n", 4, "is not a GUID"),
        (
            f"workspace_id: {WS}\nbindings:\n  lakehouses:\n    {LH}: ${{items.Lakehouse}}\n",
            4,
            "is not a GUID or ${workspace.id}",
        ),
        (f"workspace_id: {WS}\nbindings:\n  warehouses:\n    abc: {LH}\n", 4, "key 'abc' is not a GUID"),
        (f"workspace_id: {WS}\nbindings:\n  connections:\n    x: {LH}\n", 4, "key 'x' is not a GUID"),
    ],
)
def test_non_guid_ids(load_overlay: LoadOverlay, text: str, line: int, fragment: str) -> None:
    err = _error(load_overlay, text)
    assert err.line == line
    assert fragment in err.message


def test_unset_env_variable_names_variable_and_line(load_overlay: LoadOverlay) -> None:
    err = _error(load_overlay, f"workspace_id: {WS}\nparameters:\n  Pwd: ${{env:DFG_UNSET_VAR}}\n")
    assert err.line == 3
    assert "DFG_UNSET_VAR is not set" in err.message
    assert "parameters.Pwd" in err.message


def test_malformed_env_reference(load_overlay: LoadOverlay) -> None:
    err = _error(load_overlay, f"workspace_id: {WS}\nparameters:\n  A: ${{env:1BAD}}\n")
    assert err.line == 3
    assert "malformed" in err.message


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (f"workspace_id: {WS}\napi: ftp://x\n", 2, "neither 'embedded' nor an http(s) URL"),
        (f"workspace_id: {WS}\nprotected: yes please\n", 2, "expected true/false, got text"),
        (f"workspace_id: {WS}\nauth:\n  method: password\n", 3, "is not one of"),
        (
            f"workspace_id: {WS}\nauth:\n  method: client_secret\n  tenant_id: t\n",
            3,
            "'client_id' is a required property",
        ),
        (f"workspace_id: {WS}\ndisplay_name: Sales\n", 2, "must contain {name}"),
        (f"workspace_id: {WS}\nparameters:\n  A: [1]\n", 3, "expected text or a number"),
        (f"workspace_id: {WS}\nreplace:\n  - find: a\n", 3, "'with' is a required property"),
        (
            f"workspace_id: {WS}\nreplace:\n  - find: '('\n    with: x\n    regex: true\n",
            3,
            "not a valid regular expression",
        ),
        (f"workspace_id: {WS}\nset:\n  - path: $.a[x]\n    value: 1\n", 3, "neither an index"),
        (f"workspace_id: {WS}\nignore:\n  - json_paths: [$.ok, '$.bad[']\n", 3, "missing ']'"),
        ("api: embedded\n", 1, "names no target workspace"),
        (f"workspace_id: {WS}\nworkspace_name: x\n", 2, "either workspace_id or workspace_name"),
        (f"workspace_id: {WS}\npromote_from: test\n", 2, "promoted from itself"),
        (f"workspace_id: {WS}\npromote_from: nowhere\n", 2, "promote_from names no environment"),
    ],
)
def test_other_mistakes(load_overlay: LoadOverlay, text: str, line: int, fragment: str) -> None:
    err = _error(load_overlay, text)
    assert err.line == line, err
    assert fragment in err.message


def test_first_error_by_line_wins(load_overlay: LoadOverlay) -> None:
    err = _error(load_overlay, "workspace_id: bad\nprotected: 3\nzzz: 1\n")
    assert err.line == 1


# --- secrets -----------------------------------------------------------------------------------


def test_env_values_are_substituted_and_kept_secret(
    monkeypatch: pytest.MonkeyPatch, load_overlay: LoadOverlay
) -> None:
    monkeypatch.setenv("DFG_SECRET", "hunter2-very-secret")
    monkeypatch.setenv("DFG_WS", WS)
    env = load_overlay("""
        workspace_id: ${env:DFG_WS}
        auth:
          method: client_secret
          tenant_id: t
          client_id: c
          client_secret: ${env:DFG_SECRET}
        parameters:
          Password: "pre-${env:DFG_SECRET}-post"
    """)
    assert env.workspace_id == WS
    assert env.auth.client_secret == "hunter2-very-secret"
    assert env.parameters[0].value == "pre-hunter2-very-secret-post"
    assert env.secret_env == ("DFG_WS", "DFG_SECRET")
    assert "hunter2" not in repr(env)
    assert "hunter2" not in repr(env.auth)
    assert "hunter2" not in str(env)
    assert env.redact("x hunter2-very-secret y") == "x ${env:DFG_SECRET} y"


def test_secret_values_never_in_errors(
    monkeypatch: pytest.MonkeyPatch, load_overlay: LoadOverlay
) -> None:
    monkeypatch.setenv("DFG_SECRET", "hunter2-very-secret")
    err = _error(load_overlay, "workspace_id: ${env:DFG_SECRET}\n")
    assert "hunter2" not in str(err)
    assert "is not a GUID" in err.message


def test_parse_environment_takes_an_explicit_environ() -> None:
    env = parse_environment("x", b"workspace_id: ${env:W}\n", path="x.yaml", environ={"W": WS})
    assert env.workspace_id == WS
    assert env.secret_env == ("W",)


# --- the project's example overlays ------------------------------------------------------------


def test_example_overlays_load(example_copy: Path) -> None:
    project = load_project(example_copy)
    assert environment_names(project) == ("dev", "test", "prod", "local")
    envs = {n: load_environment(project, n) for n in environment_names(project)}
    assert envs["local"].embedded
    assert envs["local"].workspace_id == "0e5c1a9b-3d7f-4e2a-8b6c-9f1d3e5a7c02"
    assert envs["dev"].workspace_id == SRC_WS
    assert envs["test"].promote_from == "dev"
    assert envs["prod"].promote_from == "test"
    assert envs["prod"].protected
    assert envs["prod"].policy().prune
    assert envs["prod"].policy().ignore
    assert all(e.auth.method == "token" for e in envs.values())
    for env in envs.values():
        first = (example_copy / env.path).read_text(encoding="utf-8").splitlines()[0]
        assert first == (
            "# yaml-language-server: $schema=../src/dataflow_gitops/schemas/environment.schema.json"
        )
        repo = Path(__file__).resolve().parents[2]
        schema = (repo / "environments" / first.split("=", 1)[1]).resolve()
        assert schema == repo / "src/dataflow_gitops/schemas/environment.schema.json"
        assert schema.is_file()


def test_item_references_lists_what_must_exist(load_overlay: LoadOverlay) -> None:
    env = load_overlay(f"""
        workspace_id: {WS}
        parameters:
          Endpoint: "${{items.SQLEndpoint.Sales WH.id}}.fabric"
        bindings:
          lakehouses:
            {LH}: ${{items.Lakehouse.SalesLakehouse.id}}
        dataflows:
          Products:
            bindings:
              warehouses:
                {SRC_WS}: ${{items.Warehouse.SalesWarehouse.id}}
        set:
          - path: $.x
            value: ${{items.Dataflow.Other.id}}
    """)
    assert env.item_references() == (
        ("Lakehouse", "SalesLakehouse"),
        ("SQLEndpoint", "Sales WH"),
        ("Warehouse", "SalesWarehouse"),
    )
