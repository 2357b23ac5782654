"""② render's bad-input cases: one RenderError line naming the overlay file:line (or the
dataflow) and what to do; secret values never shown."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Case:
    """One bad overlay and the RenderError it must raise: where, what (``message`` holds each
    fragment) and what to do (``hint``, exactly)."""

    id: str
    overlay: str
    where: str
    message: tuple[str, ...]
    hint: str
    dataflow: str | None = None  # checked when given
    lookup: Mapping[str, str] | None = None  # an online lookup's answers; None: offline
    env: Mapping[str, str] = field(default_factory=dict)
    never_shown: tuple[str, ...] = ()


TYPE_HINT = {
    "number": "give a number value, e.g. 42 or 3.5",
    "logical": "give a logical value, true or false",
    "date": 'give a date value, e.g. "2024-01-31"',
    "text": 'give a text value, e.g. "value"',
}

CASES = [
    Case(
        "parameter no dataflow declares",
        f"workspace_id: {WS}\nparameters:\n  ServerName: x\n  Servername: y\n",
        "environments/t.yaml:4",
        ("parameter 'Servername' is declared by no dataflow",),
        "did you mean 'ServerName'?",
    ),
    Case(
        "per-dataflow parameter the dataflow does not declare",
        f"""
        workspace_id: {WS}
        dataflows:
          Products:
            parameters:
              DaysBack: 3
        """,
        "environments/t.yaml:5",
        ("Products declares no parameter 'DaysBack'",),
        "its parameters: IncludeDiscontinued",
        dataflow="Products",
    ),
    *(
        Case(
            f"wrong parameter type: {line}",
            f"workspace_id: {WS}\nparameters:\n  {line}\n",
            "environments/t.yaml:3",
            (fragment,),
            TYPE_HINT[kind],
        )
        for line, fragment, kind in [
            ("DaysBack: many", "Sales Orders: parameter DaysBack is of type number", "number"),
            (
                "IncludeDiscontinued: 3",
                "Products: parameter IncludeDiscontinued is of type logical",
                "logical",
            ),
            ("StartDate: 31/01/2024", "Exchange Rates: parameter StartDate is of type date", "date"),
            ("ServerName: null", "parameter ServerName is of type text", "text"),
        ]
    ),
    Case(
        "overlay names an unknown dataflow",
        f"workspace_id: {WS}\ndataflows:\n  Sales Order:\n    parameters: {{}}\n",
        "environments/t.yaml:3",
        ("no dataflow named 'Sales Order'",),
        "did you mean 'Sales Orders'?",
    ),
    Case(
        "online lookup of a missing item names the binding",
        f"""
        workspace_id: {WS}
        bindings:
          lakehouses:
            {DEV_LH}: ${{items.Lakehouse.SalesLakehose.id}}
        """,
        "environments/t.yaml:4",
        ("${items.Lakehouse.SalesLakehose.id} does not exist in the target workspace", "lakehouseId"),
        "create the item first, or fix the name in the overlay",
        lookup={"workspace.id": WS},
    ),
    Case(
        "replace that breaks the mashup",
        f"""
        workspace_id: {WS}
        replace:
          - find: "section Section1;"
            with: ""
            dataflows: [Products]
        """,
        "Products",
        ("broke mashup.pq",),
        "check the replace rules for this dataflow",
        dataflow="Products",
    ),
    Case(
        "regex replace with a bad group",
        f"""
        workspace_id: {WS}
        replace:
          - find: "Sales(DB)"
            with: "\\\\2"
            regex: true
        """,
        "environments/t.yaml:3",
        ("invalid group reference 2",),
        "check the pattern and its groups",
    ),
    Case(
        "secret values stay out of render errors",
        f"workspace_id: {WS}\nparameters:\n  DaysBack: ${{env:DFG_DAYS}}\n",
        "environments/t.yaml:3",
        ("parameter DaysBack is of type number",),
        TYPE_HINT["number"],
        env={"DFG_DAYS": "top-secret-days"},
        never_shown=("top-secret-days",),
    ),
    Case(
        "two dataflows with one display name",
        f"""
        workspace_id: {WS}
        dataflows:
          Products:
            display_name: Customers
        """,
        "environments/t.yaml",
        ("would both be named 'Customers'",),
        "display names must be unique per workspace; fix display_name",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_overlay_is_one_render_error_line(
    case: Case, snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    env = overlay(case.overlay)
    lookup = OfflineLookup(env) if case.lookup is None else DictLookup(case.lookup)
    with pytest.raises(RenderError) as caught:  # the CLI's boundary: one `Error:` line, exit 1
        render_all(snapshot, env, lookup)
    err = caught.value
    assert "\n" not in str(err)
    assert err.where == case.where
    for fragment in case.message:
        assert fragment in err.message
    assert err.hint == case.hint
    if case.dataflow is not None:
        assert err.dataflow == case.dataflow
    for secret in case.never_shown:
        assert secret not in str(err)


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
