"""② render over the example repository: every environment renders, and each overlay capability
(parameters, bindings, references, replace, set, display names, scope) does what it says."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest
from example_repo import REPO_ROOT, copy_example

from dataflow_gitops.config import Environment, environment_names, load_environment, load_project
from dataflow_gitops.config import parse_environment as _parse
from dataflow_gitops.pipeline.definition.bindings import bind_pending
from dataflow_gitops.pipeline.definition.mlang import parameters, parse_section
from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.definition.render import OfflineLookup, render_all
from dataflow_gitops.pipeline.definition.source import read_working_tree
from dataflow_gitops.pipeline.model import KNOWN_AFTER_APPLY, DesiredDataflow, Snapshot

DEV_WS = "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10"
DEV_LH = "7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b27"
DEV_WH = "c4a81f3e-6b2d-4e95-8a7c-1f3b5d9e2c68"
SQL_CONN = "e3d5a7c9-1b2f-4d6e-8a0c-3f5b7d9e1a24"
# the repository's Lakehouse connection, written with other key order, spacing and case
LH_CONN_KEY = (
    '{"DatasourceId": "9A2C4E6F-8B1D-4F3A-B5C7-E9D1F3A5B7C2", '
    '"ClusterId": "5d8e2a1c-7f3b-4c9e-a6d4-2b8f1e5c9a73"}'
)
WS = "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13"
LH = "11111111-2222-4333-8444-555555555555"
WH = "99999999-8888-4777-8666-555555555555"


class DictLookup:
    """The Lookup port over a fixed table, as the live workspace would answer it."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.asked: list[str] = []

    def resolve(self, expression: str) -> str | None:
        self.asked.append(expression)
        return self.values.get(expression)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(tmp_path_factory.mktemp("example"))


@pytest.fixture(scope="module")
def snapshot(example: Path) -> Snapshot:
    return read_working_tree(example)


def overlay(text: str) -> Environment:
    return _parse("t", textwrap.dedent(text).lstrip().encode(), path="environments/t.yaml")


def by_name(desired: tuple[DesiredDataflow, ...]) -> dict[str, DesiredDataflow]:
    return {d.name: d for d in desired}


def mashup(d: DesiredDataflow) -> str:
    part = d.part("mashup.pq")
    assert part is not None
    return part.text()


def metadata(d: DesiredDataflow) -> dict[str, object]:
    part = d.part("queryMetadata.json")
    assert part is not None
    loaded: dict[str, object] = json.loads(part.text())
    return loaded


def param_values(d: DesiredDataflow) -> dict[str, object]:
    return {p.name: p.value for p in parameters(parse_section(mashup(d)))}


# --- the example, every environment ----------------------------------------------------------


def test_every_example_environment_renders(example: Path, snapshot: Snapshot) -> None:
    project = load_project(example)
    for name in environment_names(project):
        env = load_environment(project, name)
        desired = render_all(snapshot, env, OfflineLookup(env))
        names = [d.name for d in desired]
        assert names, name
        order = {n: i for i, n in enumerate(names)}
        for d in desired:
            for dep in d.depends_on:
                assert order[dep] < order[d.name]
            parse_section(mashup(d))  # still valid M
            assert d.fingerprint == fingerprint(
                d.parts, display_name=d.display_name, description=d.description
            )
            platform = d.part(".platform")
            assert platform is not None
            meta = json.loads(platform.text())
            assert meta["metadata"]["displayName"] == d.display_name
            assert meta["config"]["logicalId"] == d.logical_id
            source = snapshot.by_name(d.name)
            assert source is not None
            assert d.logical_id == source.platform.logical_id
            assert [p.path for p in d.parts] == sorted(p.path for p in d.parts)
        summary = by_name(desired)["Sales Summary"]
        assert set(summary.depends_on) == {"Sales Orders", "Customers"}


def test_prod_example(example: Path, snapshot: Snapshot) -> None:
    project = load_project(example)
    env = load_environment(project, "prod")
    desired = by_name(render_all(snapshot, env, OfflineLookup(env)))
    assert "Hello Dataflow" not in desired  # scope.exclude
    orders = desired["Sales Orders"]
    assert param_values(orders) == {
        "ServerName": "prod-sql.contoso.net",
        "DatabaseName": "SalesDB",
        "DaysBack": 365,
    }
    text = mashup(orders)
    assert DEV_WS not in text
    assert env.workspace_id is not None
    assert f'workspaceId = "{env.workspace_id}"' in text
    assert 'lakehouseId = "${items.Lakehouse.SalesLakehouse.id}"' in text
    assert orders.pending == ("items.Lakehouse.SalesLakehouse.id",)
    conns = metadata(orders)["connections"]
    assert isinstance(conns, list)
    assert [c["connectionId"] for c in conns] == [
        "7d9f1b3c-5e7a-4c9d-b1f3-a5c7e9d1b3f8",
        '{"ClusterId":"5d8e2a1c-7f3b-4c9e-a6d4-2b8f1e5c9a73",'
        '"DatasourceId":"b3d5f7a9-1c3e-4a5b-9d7f-c1e3a5b7d9f2"}',
    ]
    # the replace rule, scoped to queryMetadata.json
    assert conns[0]["path"] == "prod-sql.contoso.net;SalesDB"
    rates = desired["Exchange Rates"]
    assert "StartDate = #date(2020, 1, 1) meta" in mashup(rates)  # per-dataflow parameter
    summary = desired["Sales Summary"]
    assert summary.pending[:2] == ("items.Dataflow.Sales Orders.id", "items.Dataflow.Customers.id")
    assert f'dataflowId = "{KNOWN_AFTER_APPLY % "items.Dataflow.Sales Orders.id"}"' in mashup(summary)
    assert "00000000-0000-0000-0000-000000000000" not in mashup(summary)
    assert 'warehouseId = "${items.Warehouse.SalesWarehouse.id}"' in mashup(summary)


def test_dev_changes_nothing_but_references(example: Path, snapshot: Snapshot) -> None:
    env = load_environment(load_project(example), "dev")
    for d in render_all(snapshot, env, OfflineLookup(env)):
        source = snapshot.by_name(d.name)
        assert source is not None
        if d.name == "Sales Summary":
            continue
        for part in source.parts:
            rendered = d.part(part.path)
            assert rendered is not None
            assert rendered.data == part.data, (d.name, part.path)


def test_online_lookup_fills_every_id(snapshot: Snapshot) -> None:
    env = load_environment(load_project(REPO_ROOT), "test")
    lookup = DictLookup(
        {
            "workspace.id": WS,
            "items.Lakehouse.SalesLakehouse.id": LH,
            "items.Warehouse.SalesWarehouse.id": WH,
            "items.Dataflow.Customers.id": "c0c0c0c0-0000-4000-8000-000000000001",
        }
    )
    desired = by_name(render_all(snapshot, env, lookup))
    summary = mashup(desired["Sales Summary"])
    assert 'dataflowId = "c0c0c0c0-0000-4000-8000-000000000001"' in summary
    assert f'warehouseId = "{WH}"' in summary
    assert desired["Sales Summary"].pending == ("items.Dataflow.Sales Orders.id",)
    for d in desired.values():
        text = mashup(d)
        assert DEV_WS not in text
        assert DEV_LH not in text
        assert DEV_WH not in text
        assert "${items." not in text
    assert f'lakehouseId = "{LH}"' in mashup(desired["Products"])
    assert param_values(desired["Products"])["IncludeDiscontinued"] is True


def test_bind_pending_replaces_tokens_and_refingerprints(snapshot: Snapshot) -> None:
    env = load_environment(load_project(REPO_ROOT), "dev")
    summary = by_name(render_all(snapshot, env, OfflineLookup(env)))["Sales Summary"]
    ids = {"items.Dataflow.Sales Orders.id": "aaaaaaaa-0000-4000-8000-000000000001"}
    bound = bind_pending(summary, ids)
    assert bound.pending == ("items.Dataflow.Customers.id",)
    assert 'dataflowId = "aaaaaaaa-0000-4000-8000-000000000001"' in mashup(bound)
    assert KNOWN_AFTER_APPLY % "items.Dataflow.Customers.id" in mashup(bound)
    assert bound.fingerprint != summary.fingerprint
    assert bound.fingerprint == fingerprint(
        bound.parts, display_name=bound.display_name, description=bound.description
    )
    assert bind_pending(summary, {}) is summary


# --- single capabilities ---------------------------------------------------------------------


def test_typed_parameters(snapshot: Snapshot) -> None:
    env = overlay(f"""
        workspace_id: {WS}
        parameters:
          ServerName: 'say "hi"'
          DaysBack: 7.5
          IncludeDiscontinued: true
          StartDate: "2023-02-28"
          ApiBaseUrl: https://x/
    """)
    desired = by_name(render_all(snapshot, env, OfflineLookup(env)))
    assert 'ServerName = "say ""hi""" meta' in mashup(desired["Sales Orders"])
    assert param_values(desired["Sales Orders"])["DaysBack"] == 7.5
    assert param_values(desired["Customers"])["ServerName"] == 'say "hi"'
    assert "IncludeDiscontinued = true meta" in mashup(desired["Products"])
    assert "StartDate = #date(2023, 2, 28) meta" in mashup(desired["Exchange Rates"])
    # only the literal changed: the rest of the document is byte-identical
    source = snapshot.by_name("Products")
    assert source is not None
    before = source.part("mashup.pq")
    assert before is not None
    assert mashup(desired["Products"]) == before.text().replace(
        "IncludeDiscontinued = false", "IncludeDiscontinued = true"
    )


def test_per_dataflow_parameters_override_global(snapshot: Snapshot) -> None:
    env = overlay(f"""
        workspace_id: {WS}
        parameters:
          ServerName: global-sql
        dataflows:
          Customers:
            parameters:
              ServerName: customers-sql
    """)
    desired = by_name(render_all(snapshot, env, OfflineLookup(env)))
    assert param_values(desired["Customers"])["ServerName"] == "customers-sql"
    assert param_values(desired["Sales Orders"])["ServerName"] == "global-sql"


def test_dynamic_parameter_value(snapshot: Snapshot) -> None:
    env = overlay(f"""
        workspace_id: {WS}
        parameters:
          ServerName: "${{items.SQLEndpoint.SalesWarehouse.id}}.datawarehouse.fabric.microsoft.com"
    """)
    lookup = DictLookup({"workspace.id": WS, "items.SQLEndpoint.SalesWarehouse.id": "abc123"})
    desired = by_name(render_all(snapshot, env, lookup))
    assert param_values(desired["Customers"])["ServerName"] == (
        "abc123.datawarehouse.fabric.microsoft.com"
    )


def test_static_bindings_and_gateway(snapshot: Snapshot) -> None:
    env = overlay(f"""
        workspace_id: {WS}
        bindings:
          workspaces: {{{DEV_WS}: {WS}}}
          lakehouses: {{{DEV_LH}: {LH}}}
          connections:
            {SQL_CONN.upper()}: 22222222-3333-4444-8555-666666666666
            '{LH_CONN_KEY}': 33333333-3333-4444-8555-666666666666
          gateway: 44444444-3333-4444-8555-666666666666
    """)
    desired = by_name(render_all(snapshot, env, OfflineLookup(env)))
    orders = desired["Sales Orders"]
    assert f'lakehouseId = "{LH}"' in mashup(orders)
    assert orders.pending == ()
    meta = metadata(orders)
    assert meta["gatewayObjectId"] == "44444444-3333-4444-8555-666666666666"
    conns = meta["connections"]
    assert isinstance(conns, list)
    assert [c["connectionId"] for c in conns] == [
        "22222222-3333-4444-8555-666666666666",
        "33333333-3333-4444-8555-666666666666",
    ]


def test_gateway_null_removes_it(snapshot: Snapshot) -> None:
    with_gateway = overlay(f"workspace_id: {WS}\nbindings:\n  gateway: {LH}\n")
    removed = overlay(f"workspace_id: {WS}\nbindings:\n  gateway: null\n")
    first = by_name(render_all(snapshot, with_gateway, OfflineLookup(with_gateway)))["Products"]
    assert metadata(first)["gatewayObjectId"] == LH
    second = by_name(render_all(snapshot, removed, OfflineLookup(removed)))["Products"]
    assert "gatewayObjectId" not in metadata(second)


def test_per_dataflow_bindings_win(snapshot: Snapshot) -> None:
    env = overlay(f"""
        workspace_id: {WS}
        bindings:
          lakehouses: {{{DEV_LH}: {LH}}}
        dataflows:
          Products:
            bindings:
              lakehouses: {{{DEV_LH}: {WH}}}
    """)
    desired = by_name(render_all(snapshot, env, OfflineLookup(env)))
    assert f'lakehouseId = "{WH}"' in mashup(desired["Products"])
    assert f'lakehouseId = "{LH}"' in mashup(desired["Sales Orders"])


def test_replace_rules_literal_and_regex(snapshot: Snapshot) -> None:
    env = overlay(f"""
        workspace_id: {WS}
        replace:
          - find: '"sales"'
            with: '"sales_test"'
            dataflows: [Sales Orders]
            parts: [mashup.pq]
          - find: '(\\w+)\\.contoso\\.net'
            with: '\\1.test.contoso.net'
            regex: true
            parts: ["*.json"]
          - find: Recent sales orders
            with: ignored because .platform is never replaced
    """)
    desired = by_name(render_all(snapshot, env, OfflineLookup(env)))
    assert 'Schema = "sales_test"' in mashup(desired["Sales Orders"])
    assert '"sales_test"' not in mashup(desired["Customers"])  # scoped to Sales Orders
    conns = metadata(desired["Sales Orders"])["connections"]
    assert isinstance(conns, list)
    assert conns[0]["path"] == "dev-sql.test.contoso.net;SalesDB"
    assert desired["Sales Orders"].description.startswith("Recent sales orders")


def test_set_rules(snapshot: Snapshot) -> None:
    env = overlay(f"""
        workspace_id: {WS}
        set:
          - path: $.computeEngineSettings
            value: {{allowFastCopy: false, maxConcurrency: 2}}
            dataflows: ["Sales *"]
          - path: $.connections[*].connectionId
            value: ${{workspace.id}}
            dataflows: [Customers]
    """)
    desired = by_name(render_all(snapshot, env, OfflineLookup(env)))
    assert metadata(desired["Sales Orders"])["computeEngineSettings"] == {
        "allowFastCopy": False,
        "maxConcurrency": 2,
    }
    assert metadata(desired["Products"])["computeEngineSettings"] != {
        "allowFastCopy": False,
        "maxConcurrency": 2,
    }
    conns = metadata(desired["Customers"])["connections"]
    assert isinstance(conns, list)
    assert {c["connectionId"] for c in conns} == {WS}


def test_display_name_template_reaches_platform_and_references(snapshot: Snapshot) -> None:
    env = overlay(f'workspace_id: {WS}\ndisplay_name: "{{name}} [TEST]"\n')
    lookup = DictLookup({"workspace.id": WS})
    desired = by_name(render_all(snapshot, env, lookup))
    orders = desired["Sales Orders"]
    assert orders.display_name == "Sales Orders [TEST]"
    platform = orders.part(".platform")
    assert platform is not None
    assert json.loads(platform.text())["metadata"]["displayName"] == "Sales Orders [TEST]"
    assert "items.Dataflow.Sales Orders [TEST].id" in desired["Sales Summary"].pending
    assert "items.Dataflow.Sales Orders [TEST].id" in lookup.asked


def test_scope_include_and_exclude(snapshot: Snapshot) -> None:
    env = overlay(f"""
        workspace_id: {WS}
        scope:
          include: ["Sales *", "Customers"]
          exclude: ["Sales Summary"]
    """)
    assert [d.name for d in render_all(snapshot, env, OfflineLookup(env))] == sorted(
        ["Sales Orders", "Customers"], key=[d.name for d in snapshot.dataflows].index
    )


def test_git_sync_reference_resolved_through_id_map(snapshot: Snapshot) -> None:
    summary = snapshot.by_name("Sales Summary")
    customers = snapshot.by_name("Customers")
    assert summary is not None
    assert customers is not None
    part = summary.part("mashup.pq")
    assert part is not None
    item_id = "d1d1d1d1-0000-4000-8000-00000000c057"
    synced = part.text().replace(
        f'workspaceId = "00000000-0000-0000-0000-000000000000"]}}[Data],\n'
        f'  #"Navigation 3" = #"Navigation 2"{{[dataflowId = "{customers.platform.logical_id}"',
        f'workspaceId = "{DEV_WS}"]}}[Data],\n'
        f'  #"Navigation 3" = #"Navigation 2"{{[dataflowId = "{item_id}"',
    )
    assert synced != part.text()
    from dataclasses import replace as dc_replace

    from dataflow_gitops.pipeline.model import Part

    changed = dc_replace(
        summary,
        parts=tuple(
            Part(p.path, synced.encode()) if p.path == "mashup.pq" else p for p in summary.parts
        ),
    )
    snap = Snapshot(
        tuple(changed if d.name == "Sales Summary" else d for d in snapshot.dataflows), commit=None
    )
    env = overlay(f"workspace_id: {WS}\n")
    lookup = DictLookup({"workspace.id": WS, "items.Dataflow.Customers.id": LH})
    desired = by_name(render_all(snap, env, lookup, id_map={item_id: "Customers"}))
    text = mashup(desired["Sales Summary"])
    assert text.count(f'workspaceId = "{WS}"') == 2  # both references, not the destination
    assert text.count(f'workspaceId = "{DEV_WS}"') == 1
    assert item_id not in text
    assert f'dataflowId = "{LH}"' in text
    assert "Customers" in desired["Sales Summary"].depends_on


def test_secret_env_names_travel_with_desired(
    monkeypatch: pytest.MonkeyPatch, snapshot: Snapshot
) -> None:
    monkeypatch.setenv("DFG_SQL", "secret-sql.contoso.net")
    env = overlay(f"workspace_id: {WS}\nparameters:\n  ServerName: ${{env:DFG_SQL}}\n")
    desired = by_name(render_all(snapshot, env, OfflineLookup(env)))
    assert desired["Customers"].secret_env == ("DFG_SQL",)
    assert "secret-sql.contoso.net" not in repr(env)


# --- one text rule for every part: UTF-8, a leading BOM is not content -------------------------


def test_a_bom_changes_nothing_that_is_rendered_or_referenced(example: Path, tmp_path: Path) -> None:
    bommed = tmp_path / "bom"
    shutil.copytree(example, bommed)
    for path in (bommed / "dataflows").glob("*.Dataflow/*"):
        if path.name in ("mashup.pq", "queryMetadata.json"):
            path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    project = load_project(example)
    env = load_environment(project, "prod")
    plain = by_name(render_all(read_working_tree(example), env, OfflineLookup(env)))
    with_bom = by_name(render_all(read_working_tree(bommed), env, OfflineLookup(env)))
    assert plain.keys() == with_bom.keys()
    for name, desired in with_bom.items():
        assert desired.depends_on == plain[name].depends_on
        assert desired.fingerprint == plain[name].fingerprint
        for part in desired.parts:
            # What we send never starts with a BOM.
            assert not part.data.startswith(b"\xef\xbb\xbf"), (name, part.path)
        assert mashup(desired) == mashup(plain[name])
