from __future__ import annotations

from pathlib import Path

import pytest

from dataflow_gitops.errors import DependencyError, MSyntaxError
from dataflow_gitops.pipeline.definition.references import (
    dependency_edges,
    dependency_order,
    find_references,
)
from dataflow_gitops.pipeline.definition.source import read_working_tree
from dataflow_gitops.pipeline.model import (
    ZERO_GUID,
    DataflowReference,
    Part,
    Platform,
    Snapshot,
    SourceDataflow,
)

SALES_ORDERS_ID = "018b9992-976d-40c5-a0e4-1b53a9a4c7b5"
CUSTOMERS_ID = "af1fafc3-cb96-4bd4-a768-ede35d9766a9"
DEV_WORKSPACE = "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10"
DEV_ITEM_ID = "4d2b8e6a-0c1f-4a3e-9b5d-7f8e2c1a6b90"  # what Git sync writes: the dev item id


def _read(workspace: str, dataflow: str, entity: str = "Orders") -> str:
    return f'''let
  Source = PowerPlatform.Dataflows([]),
  #"Navigation 1" = Source{{[Id = "Workspaces"]}}[Data],
  #"Navigation 2" = #"Navigation 1"{{[workspaceId = "{workspace}"]}}[Data],
  #"Navigation 3" = #"Navigation 2"{{[dataflowId = "{dataflow}"]}}[Data],
  #"Navigation 4" = #"Navigation 3"{{[entity = "{entity}", version = ""]}}[Data]
in
  #"Navigation 4"'''


def _dataflow(name: str, logical_id: str, queries: dict[str, str]) -> SourceDataflow:
    members = "".join(f'shared #"{q}" = {body};\n' for q, body in queries.items())
    mashup = f"section Section1;\n{members}"
    return SourceDataflow(
        name=name,
        folder=f"dataflows/{name}.Dataflow",
        platform=Platform("Dataflow", name, logical_id),
        parts=(Part("mashup.pq", mashup.encode()),),
    )


def test_example_sales_summary_reads_two_dataflows() -> None:
    snapshot = read_working_tree(Path(__file__).resolve().parents[2])
    refs = find_references(snapshot)
    assert set(refs) == {d.name for d in snapshot.dataflows}
    assert [(r.query, r.target) for r in refs["Sales Summary"]] == [
        ("Orders", "Sales Orders"),
        ("Customers", "Customers"),
    ]
    assert all(r.workspace_id == ZERO_GUID for r in refs["Sales Summary"])
    assert refs["Customers"] == ()


def test_portable_form_resolves_by_logical_id_case_insensitively() -> None:
    orders = _dataflow("Sales Orders", SALES_ORDERS_ID, {"Orders": "1"})
    summary = _dataflow(
        "Summary",
        "c1c2c3c4-0000-4000-8000-000000000001",
        {"Orders": _read(ZERO_GUID, SALES_ORDERS_ID.upper())},
    )
    refs = find_references(Snapshot((orders, summary), commit=None))
    assert refs["Summary"] == (
        DataflowReference("Orders", ZERO_GUID, SALES_ORDERS_ID.upper(), target="Sales Orders"),
    )


def test_git_sync_form_resolves_through_the_id_map() -> None:
    customers = _dataflow("Customers", CUSTOMERS_ID, {"Customers": "1"})
    summary = _dataflow(
        "Summary",
        "c1c2c3c4-0000-4000-8000-000000000001",
        {"Customers": _read(DEV_WORKSPACE, DEV_ITEM_ID, "Customers")},
    )
    snapshot = Snapshot((customers, summary), commit=None)
    assert find_references(snapshot)["Summary"][0].target is None
    resolved = find_references(snapshot, id_map={DEV_ITEM_ID: "Customers"})["Summary"][0]
    assert resolved.target == "Customers"
    assert resolved.workspace_id == DEV_WORKSPACE


def test_git_sync_form_falls_back_to_a_logical_id_match() -> None:
    customers = _dataflow("Customers", CUSTOMERS_ID, {"Customers": "1"})
    summary = _dataflow(
        "Summary",
        "c1c2c3c4-0000-4000-8000-000000000001",
        {"Customers": _read(DEV_WORKSPACE, CUSTOMERS_ID, "Customers")},
    )
    refs = find_references(Snapshot((customers, summary), commit=None))
    assert refs["Summary"][0].target == "Customers"


def test_portable_form_pointing_nowhere_stays_unresolved() -> None:
    summary = _dataflow(
        "Summary",
        "c1c2c3c4-0000-4000-8000-000000000001",
        {"Orders": _read(ZERO_GUID, "99999999-9999-4999-8999-999999999999")},
    )
    ref = find_references(
        Snapshot((summary,), commit=None), id_map={"99999999-9999-4999-8999-999999999999": "Ignored"}
    )["Summary"][0]
    # an id_map only speaks for real (Git-sync) ids; a zero workspace means a logicalId
    assert ref.target is None


def test_one_query_reading_two_dataflows() -> None:
    body = f'''let
  Source = PowerPlatform.Dataflows([]),
  Workspaces = Source{{[Id = "Workspaces"]}}[Data],
  A = Workspaces{{[workspaceId = "{ZERO_GUID}"]}}[Data]{{[dataflowId = "{SALES_ORDERS_ID}"]}}[Data],
  B = Workspaces{{[workspaceId = "{ZERO_GUID}"]}}[Data]{{[dataflowId = "{CUSTOMERS_ID}"]}}[Data]
in
  Table.Combine({{A, B}})'''
    summary = _dataflow("Summary", "c1c2c3c4-0000-4000-8000-000000000001", {"Both": body})
    orders = _dataflow("Sales Orders", SALES_ORDERS_ID, {"Orders": "1"})
    customers = _dataflow("Customers", CUSTOMERS_ID, {"Customers": "1"})
    refs = find_references(Snapshot((summary, orders, customers), commit=None))
    assert sorted(r.target or "" for r in refs["Summary"]) == ["Customers", "Sales Orders"]
    edges = dependency_edges(refs)
    assert set(edges["Summary"]) == {"Customers", "Sales Orders"}
    assert dependency_order(["Summary", "Sales Orders", "Customers"], edges) == (
        "Sales Orders",
        "Customers",
        "Summary",
    )


def test_syntax_errors_surface() -> None:
    broken = SourceDataflow(
        "B",
        "dataflows/B.Dataflow",
        Platform("Dataflow", "B", CUSTOMERS_ID),
        (Part("mashup.pq", b'section S;\nshared A = "open;\n'),),
    )
    with pytest.raises(MSyntaxError):
        find_references(Snapshot((broken,), commit=None))


# ordering --------------------------------------------------------------------------------------


def test_order_is_stable_and_puts_dependencies_first() -> None:
    names = ["Summary", "B", "Orders", "A"]
    edges = {"Summary": ["Orders", "A"], "Orders": [], "A": [], "B": []}
    assert dependency_order(names, edges) == ("B", "Orders", "A", "Summary")
    assert dependency_order(["A", "B"], {}) == ("A", "B")


def test_edges_to_unknown_names_are_ignored() -> None:
    assert dependency_order(["A"], {"A": ["Elsewhere"]}) == ("A",)


def test_a_chain() -> None:
    assert dependency_order(["C", "B", "A"], {"C": ["B"], "B": ["A"]}) == ("A", "B", "C")


def test_cycle_is_named() -> None:
    with pytest.raises(DependencyError) as info:
        dependency_order(["X", "A", "B"], {"A": ["B"], "B": ["A"], "X": []})
    assert info.value.cycle == ("A", "B", "A")
    assert "dataflow references form a cycle: A → B → A" in str(info.value)
    assert "\n" not in str(info.value)


def test_longer_cycle_behind_an_entry_node() -> None:
    with pytest.raises(DependencyError) as info:
        dependency_order(["Entry", "A", "B", "C"], {"Entry": ["A"], "A": ["B"], "B": ["C"], "C": ["A"]})
    assert info.value.cycle == ("A", "B", "C", "A")


def test_self_reference_is_a_cycle() -> None:
    df = _dataflow("Loop", SALES_ORDERS_ID, {"Q": _read(ZERO_GUID, SALES_ORDERS_ID)})
    edges = dependency_edges(find_references(Snapshot((df,), commit=None)))
    with pytest.raises(DependencyError, match="Loop → Loop"):
        dependency_order(["Loop"], edges)
