"""Id literals in record fields, dataflow→dataflow references, and span edits."""

from __future__ import annotations

import pytest

from dataflow_gitops.pipeline.definition.mlang import (
    FieldLiteral,
    RawReference,
    apply_edits,
    dataflow_references,
    field_literals,
    parse_section,
    query_dependencies,
)

WS0 = "00000000-0000-0000-0000-000000000000"
WS = "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10"
DF_A = "018b9992-976d-40c5-a0e4-1b53a9a4c7b5"
DF_B = "af1fafc3-cb96-4bd4-a768-ede35d9766a9"
ID_FIELDS = {"workspaceId", "lakehouseId", "warehouseId", "dataflowId"}

TWO_QUERIES = f"""section Section1;
shared Orders = let
  Source = PowerPlatform.Dataflows([]),
  #"Navigation 1" = Source{{[Id = "Workspaces"]}}[Data],
  #"Navigation 2" = #"Navigation 1"{{[workspaceId = "{WS0}"]}}[Data],
  #"Navigation 3" = #"Navigation 2"{{[dataflowId = "{DF_A}"]}}[Data],
  #"Navigation 4" = #"Navigation 3"{{[entity = "Orders", version = ""]}}[Data]
in
  #"Navigation 4";
shared Customers = let
  Source = PowerPlatform.Dataflows([]),
  #"Navigation 1" = Source{{[Id = "Workspaces"]}}[Data],
  #"Navigation 2" = #"Navigation 1"{{[workspaceId = "{WS}"]}}[Data],
  #"Navigation 3" = #"Navigation 2"{{[dataflowId = "{DF_B}"]}}[Data]
in
  #"Navigation 3"{{[entity = "Customers", version = ""]}}[Data];
"""

ONE_QUERY_TWO_DATAFLOWS = f"""section Section1;
shared Both = let
  Workspace = PowerPlatform.Dataflows(null){{[Id = "Workspaces"]}}[Data]{{[workspaceId = "{WS}"]}}[Data],
  A = Workspace{{[dataflowId = "{DF_A}"]}}[Data]{{[entity = "Orders", version = ""]}}[Data],
  B = Workspace{{[dataflowId = "{DF_B}"]}}[Data]{{[entity = "Customers", version = ""]}}[Data],
  Combined = Table.Combine({{A, B}})
in
  Combined;
"""

LEGACY_INLINE = f"""section Section1;
shared Legacy = PowerBI.Dataflows(null){{[workspaceId = "{WS}"]}}[Data]{{[dataflowId = "{DF_A}"]}}[Data]\
{{[entity = "T"]}}[Data];
"""

ACROSS_QUERIES = f"""section Section1;
shared DataflowsRoot = PowerPlatform.Dataflows([]){{[Id = "Workspaces"]}}[Data];
shared Team = DataflowsRoot{{[workspaceId = "{WS}"]}}[Data];
shared Orders = Team{{[dataflowId = "{DF_A}"]}}[Data];
shared Again = try Team{{[dataflowId = "{DF_B}"]}}[Data] otherwise null;
"""

NOT_REFERENCES = f"""section Section1;
shared Lake = Lakehouse.Contents([]){{[workspaceId = "{WS}"]}}[Data]{{[lakehouseId = "x"]}}[Data];
shared Fake = Lake{{[dataflowId = "{DF_A}"]}}[Data];
shared Loose = [workspaceId = "{WS}", dataflowId = "{DF_B}"];
shared ByParameter = let
  Source = PowerPlatform.Dataflows([]),
  Ws = Source{{[Id = "Workspaces"]}}[Data]{{[workspaceId = WorkspaceParam]}}[Data],
  Df = Ws{{[dataflowId = "{DF_A}"]}}[Data]
in Df;
shared Shadowed = let
  Source = PowerPlatform.Dataflows([]),
  F = (Source) => Source{{[workspaceId = "{WS}"]}}[Data]{{[dataflowId = "{DF_B}"]}}[Data]
in F(1);
"""


def _spans_hold(text: str, refs: tuple[RawReference, ...]) -> None:
    for ref in refs:
        assert text[ref.workspace_span[0] : ref.workspace_span[1]] == f'"{ref.workspace_id}"'
        assert text[ref.dataflow_span[0] : ref.dataflow_span[1]] == f'"{ref.dataflow_id}"'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TWO_QUERIES, [("Orders", WS0, DF_A), ("Customers", WS, DF_B)]),
        (ONE_QUERY_TWO_DATAFLOWS, [("Both", WS, DF_A), ("Both", WS, DF_B)]),
        (LEGACY_INLINE, [("Legacy", WS, DF_A)]),
        (ACROSS_QUERIES, [("Orders", WS, DF_A), ("Again", WS, DF_B)]),
        (NOT_REFERENCES, []),
    ],
    ids=["two-queries", "one-query-two-dataflows", "legacy-inline", "across-queries", "not-references"],
)
def test_dataflow_references(text: str, expected: list[tuple[str, str, str]]) -> None:
    refs = dataflow_references(parse_section(text))
    assert [(r.query, r.workspace_id, r.dataflow_id) for r in refs] == expected
    _spans_hold(text, refs)


def test_references_can_be_rewritten_with_their_spans() -> None:
    doc = parse_section(TWO_QUERIES)
    refs = dataflow_references(doc)
    edits = [(r.workspace_span, f'"{WS}"') for r in refs] + [(r.dataflow_span, '"new-id"') for r in refs]
    text = apply_edits(doc.text, edits)
    again = dataflow_references(parse_section(text))
    assert [(r.workspace_id, r.dataflow_id) for r in again] == [(WS, "new-id"), (WS, "new-id")]


def test_field_literals_find_ids_in_every_member() -> None:
    text = f"""section Section1;
[DataDestinations = {{[Definition = [Kind = "Reference", QueryName = "T_DataDestination"]]}}]
shared T = Lakehouse.Contents([]){{[workspaceId = "{WS}"]}}[Data]{{[lakehouseId = "lh-1"]}}[Data];
shared T_DataDestination = let
  Pattern = Fabric.Warehouse([HierarchicalNavigation = null]),
  Navigation_1 = Pattern{{[workspaceId = ("{WS0}")]}}[Data],
  Navigation_2 = Navigation_1{{[warehouseId = "wh-1", Other = "x"]}}[Data],
  ByParam = Navigation_1{{[warehouseId = WarehouseParam]}}[Data],
  Nested = [Outer = [lakehouseId = "lh-2"]],
  workspaceId = "a let variable, not a record field"
in
  Navigation_2;
"""
    doc = parse_section(text)
    found = field_literals(doc, ID_FIELDS)
    assert [(f.member, f.field, f.value) for f in found] == [
        ("T", "workspaceId", WS),
        ("T", "lakehouseId", "lh-1"),
        ("T_DataDestination", "workspaceId", WS0),
        ("T_DataDestination", "warehouseId", "wh-1"),
        ("T_DataDestination", "lakehouseId", "lh-2"),
    ]
    for f in found:
        assert isinstance(f, FieldLiteral)
        assert text[f.span[0] : f.span[1]] == f'"{f.value}"'
    assert [f.value for f in field_literals(doc, {"QueryName"})] == ["T_DataDestination"]
    assert field_literals(doc, set()) == ()


def test_field_literal_values_are_unescaped_but_spans_are_raw() -> None:
    text = 'section S;\nshared A = [workspaceId = "a""b"];'
    (found,) = field_literals(parse_section(text), {"workspaceId"})
    assert found.value == 'a"b'
    assert text[found.span[0] : found.span[1]] == '"a""b"'


def test_apply_edits() -> None:
    text = "0123456789"
    assert apply_edits(text, []) == text
    assert apply_edits(text, [((8, 10), "X"), ((0, 1), "AB")]) == "AB1234567X"
    assert apply_edits(text, [((3, 3), "+")]) == "012+3456789"
    assert apply_edits(text, [((2, 4), ""), ((4, 5), "-")]) == "01-56789"
    with pytest.raises(ValueError, match="overlaps"):
        apply_edits(text, [((0, 5), "a"), ((4, 6), "b")])
    with pytest.raises(ValueError, match="outside"):
        apply_edits(text, [((5, 11), "a")])
    with pytest.raises(ValueError, match="outside"):
        apply_edits(text, [((5, 4), "a")])


def test_query_dependencies_follow_m_scoping() -> None:
    text = """section Section1;
shared Server = "s" meta [IsParameterQuery = true, Type = type text];
shared Raw = Sql.Database(Server, "db");
shared Orders = let
    Source = Raw,
    Raw = "a let variable shadows the query of the same name",
    F = (Server) => Server,
    G = each _ & Server,
    R = [Server = 1, Use = Server],
    Self = @Orders
in
    Table.Combine({Source, #"Other Query", Missing});
shared #"Other Query" = Orders;
shared Fact = (n) => if n = 0 then 1 else n * @Fact(n - 1);
"""
    doc = parse_section(text)
    assert query_dependencies(doc) == {
        "Server": (),
        "Raw": ("Server",),
        "Orders": ("Server", "Other Query"),
        "Other Query": ("Orders",),
        "Fact": (),
    }
