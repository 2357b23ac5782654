"""② render's bad-input cases: one RenderError line naming the overlay file:line (or the
dataflow) and what to do; secret values never shown."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Mapping

import pytest
from example_repo import REPO_ROOT

from dataflow_gitops.config import Environment, parse_environment
from dataflow_gitops.errors import RenderError
from dataflow_gitops.pipeline.definition.render import OfflineLookup, render_all
from dataflow_gitops.pipeline.definition.source import read_working_tree
from dataflow_gitops.pipeline.model import Snapshot

WS = "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13"
DEV_LH = "7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b27"


class DictLookup:
    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)

    def resolve(self, expression: str) -> str | None:
        return self.values.get(expression)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    root = tmp_path_factory.mktemp("example")
    shutil.copytree(REPO_ROOT / "dataflows", root / "dataflows")
    return read_working_tree(root)


def overlay(text: str) -> Environment:
    return parse_environment("t", textwrap.dedent(text).lstrip().encode(), path="environments/t.yaml")


def render_error(snapshot: Snapshot, text: str, lookup: object = None) -> RenderError:
    env = overlay(text)
    with pytest.raises(RenderError) as caught:
        render_all(snapshot, env, lookup or OfflineLookup(env))  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)
    return caught.value


def test_parameter_no_dataflow_declares(snapshot: Snapshot) -> None:
    err = render_error(snapshot, f"workspace_id: {WS}\nparameters:\n  ServerName: x\n  Servername: y\n")
    assert err.where == "environments/t.yaml:4"
    assert "parameter 'Servername' is declared by no dataflow" in err.message
    assert err.hint == "did you mean 'ServerName'?"


def test_per_dataflow_parameter_the_dataflow_does_not_declare(snapshot: Snapshot) -> None:
    err = render_error(
        snapshot,
        f"""
        workspace_id: {WS}
        dataflows:
          Products:
            parameters:
              DaysBack: 3
    """,
    )
    assert err.where == "environments/t.yaml:5"
    assert "Products declares no parameter 'DaysBack'" in err.message
    assert err.hint == "its parameters: IncludeDiscontinued"
    assert err.dataflow == "Products"


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("DaysBack: many", "Sales Orders: parameter DaysBack is of type number"),
        ("IncludeDiscontinued: 3", "Products: parameter IncludeDiscontinued is of type logical"),
        ("StartDate: 31/01/2024", "Exchange Rates: parameter StartDate is of type date"),
        ("ServerName: null", "parameter ServerName is of type text"),
    ],
)
def test_wrong_parameter_type(snapshot: Snapshot, line: str, fragment: str) -> None:
    err = render_error(snapshot, f"workspace_id: {WS}\nparameters:\n  {line}\n")
    assert err.where == "environments/t.yaml:3"
    assert fragment in err.message
    assert err.hint is not None
    assert err.hint.startswith("give a ")


def test_overlay_names_an_unknown_dataflow(snapshot: Snapshot) -> None:
    err = render_error(
        snapshot, f"workspace_id: {WS}\ndataflows:\n  Sales Order:\n    parameters: {{}}\n"
    )
    assert err.where == "environments/t.yaml:3"
    assert err.hint == "did you mean 'Sales Orders'?"


def test_online_lookup_of_a_missing_item_names_the_binding(snapshot: Snapshot) -> None:
    err = render_error(
        snapshot,
        f"""
        workspace_id: {WS}
        bindings:
          lakehouses:
            {DEV_LH}: ${{items.Lakehouse.SalesLakehose.id}}
    """,
        DictLookup({"workspace.id": WS}),
    )
    assert err.where == "environments/t.yaml:4"
    assert "${items.Lakehouse.SalesLakehose.id} does not exist in the target workspace" in err.message
    assert "lakehouseId" in err.message


def test_replace_that_breaks_the_mashup(snapshot: Snapshot) -> None:
    err = render_error(
        snapshot,
        f"""
        workspace_id: {WS}
        replace:
          - find: "section Section1;"
            with: ""
            dataflows: [Products]
    """,
    )
    assert err.dataflow == "Products"
    assert "broke mashup.pq" in err.message


def test_regex_replace_with_a_bad_group(snapshot: Snapshot) -> None:
    err = render_error(
        snapshot,
        f"""
        workspace_id: {WS}
        replace:
          - find: "Sales(DB)"
            with: "\\\\2"
            regex: true
    """,
    )
    assert err.where == "environments/t.yaml:3"


def test_secret_values_stay_out_of_render_errors(
    monkeypatch: pytest.MonkeyPatch, snapshot: Snapshot
) -> None:
    monkeypatch.setenv("DFG_DAYS", "top-secret-days")
    err = render_error(snapshot, f"workspace_id: {WS}\nparameters:\n  DaysBack: ${{env:DFG_DAYS}}\n")
    assert "top-secret-days" not in str(err)
    assert err.where == "environments/t.yaml:3"


def test_two_dataflows_with_one_display_name(snapshot: Snapshot) -> None:
    err = render_error(
        snapshot,
        f"""
        workspace_id: {WS}
        dataflows:
          Products:
            display_name: Customers
    """,
    )
    assert "would both be named 'Customers'" in err.message
    assert err.where == "environments/t.yaml"


def test_overlay_warnings_name_entries_that_change_nothing(snapshot: Snapshot) -> None:
    from dataflow_gitops.pipeline.definition.overlay_warnings import overlay_warnings

    env = overlay(f"""
        workspace_id: {WS}
        bindings:
          lakehouses:
            {DEV_LH}: {WS}
            00000000-1111-4222-8333-444444444444: {WS}
        dataflows:
          Customers:
            bindings:
              lakehouses:
                {DEV_LH}: {WS}
        replace:
          - find: contoso
            with: fabrikam
          - find: no-such-text
            with: x
          - find: "contoso"
            with: x
            parts: [nothing.json]
        set:
          - path: $.computeEngineSettings
            value: {{}}
          - path: $.noSuchKey
            value: 1
    """)
    warnings = overlay_warnings(snapshot, env)
    assert warnings == (
        "environments/t.yaml:5: lakehouses binding for 00000000-1111-4222-8333-444444444444 "
        "matches no dataflow in scope",
        "environments/t.yaml:10: lakehouses binding for 7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b27 "
        "matches no dataflow in scope",
        "environments/t.yaml:14: replace rule 'no-such-text' matches nothing",
        "environments/t.yaml:16: replace rule 'contoso' matches nothing",
        "environments/t.yaml:22: set rule $.noSuchKey selects nothing",
    )


def test_overlay_warnings_find_ids_in_any_case_and_only_in_scope(snapshot: Snapshot) -> None:
    from dataflow_gitops.pipeline.definition.overlay_warnings import overlay_warnings

    scoped_out = overlay(f"""
        workspace_id: {WS}
        scope:
          exclude: [Products]
        bindings:
          lakehouses:
            {DEV_LH.upper()}: {WS}
        dataflows:
          Products:
            bindings:
              lakehouses:
                {DEV_LH}: {WS}
    """)
    # Written in upper case, the id still matches the lower-case literal of in-scope dataflows;
    # the one scoped to Products (which spells it) finds nothing: Products is out of scope.
    assert overlay_warnings(snapshot, scoped_out) == (
        f"environments/t.yaml:11: lakehouses binding for {DEV_LH} matches no dataflow in scope",
    )
    in_scope = overlay(f"""
        workspace_id: {WS}
        dataflows:
          Products:
            bindings:
              lakehouses:
                {DEV_LH}: {WS}
    """)
    assert overlay_warnings(snapshot, in_scope) == ()
    assert overlay_warnings(snapshot, overlay(f"workspace_id: {WS}\n")) == ()
