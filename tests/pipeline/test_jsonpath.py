"""JSONPath subset: find / set_values / delete over decoded JSON documents."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataflow_gitops.config import jsonpath
from dataflow_gitops.config.jsonpath import JsonPathError

DOC = {
    "formatVersion": "202502",
    "computeEngineSettings": {"allowFastCopy": True, "maxConcurrency": 2},
    "connections": [
        {"path": "sql;db", "kind": "SQL", "connectionId": "a"},
        {"path": "Lakehouse", "kind": "Lakehouse", "connectionId": "b"},
    ],
    "queriesMetadata": {"Sales Orders": {"queryId": "q1", "nested": {"connectionId": "c"}}},
}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("$.formatVersion", [(("formatVersion",), "202502")]),
        ("$.computeEngineSettings.maxConcurrency", [(("computeEngineSettings", "maxConcurrency"), 2)]),
        ("$.connections[0].kind", [(("connections", 0, "kind"), "SQL")]),
        ("$.connections[-1].kind", [(("connections", 1, "kind"), "Lakehouse")]),
        (
            "$.connections[*].connectionId",
            [(("connections", 0, "connectionId"), "a"), (("connections", 1, "connectionId"), "b")],
        ),
        (
            "$['queriesMetadata']['Sales Orders'].queryId",
            [(("queriesMetadata", "Sales Orders", "queryId"), "q1")],
        ),
        (
            '$["queriesMetadata"]["Sales Orders"].queryId',
            [(("queriesMetadata", "Sales Orders", "queryId"), "q1")],
        ),
        (
            "$..connectionId",
            [
                (("connections", 0, "connectionId"), "a"),
                (("connections", 1, "connectionId"), "b"),
                (("queriesMetadata", "Sales Orders", "nested", "connectionId"), "c"),
            ],
        ),
        ("$.missing", []),
        ("$.connections[5]", []),
        ("$.formatVersion.deeper", []),
    ],
)
def test_find(expr: str, expected: list[tuple[tuple[object, ...], object]]) -> None:
    assert jsonpath.find(DOC, expr) == expected


def test_find_root_and_wildcard_on_mapping() -> None:
    assert jsonpath.find(DOC, "$") == [((), DOC)]
    keys = [path for path, _ in jsonpath.find(DOC["computeEngineSettings"], "$.*")]
    assert keys == [("allowFastCopy",), ("maxConcurrency",)]


def test_set_values_replaces_every_match_and_leaves_input_alone() -> None:
    new = jsonpath.set_values(DOC, "$.connections[*].connectionId", "X")
    assert [c["connectionId"] for c in new["connections"]] == ["X", "X"]
    assert [c["connectionId"] for c in DOC["connections"]] == ["a", "b"]


def test_set_values_creates_nothing() -> None:
    assert jsonpath.set_values(DOC, "$.nothing.here", 1) == DOC


def test_delete_fields_and_list_items() -> None:
    new = jsonpath.delete(DOC, "$.computeEngineSettings")
    assert "computeEngineSettings" not in new
    assert "computeEngineSettings" in DOC
    both = jsonpath.delete(DOC, "$.connections[*]")
    assert both["connections"] == []
    deep = jsonpath.delete(DOC, "$..connectionId")
    assert all("connectionId" not in c for c in deep["connections"])
    assert deep["queriesMetadata"]["Sales Orders"]["nested"] == {}


def test_delete_root_gives_none() -> None:
    assert jsonpath.delete(DOC, "$") is None


@pytest.mark.parametrize("expr", ["connections", "$.", "$[abc]", "$['open", "$[1", "$.a..", "$x"])
def test_bad_expressions(expr: str) -> None:
    with pytest.raises(JsonPathError):
        jsonpath.find(DOC, expr)


def test_format_path_round_trips_through_find() -> None:
    for path, value in jsonpath.find(DOC, "$..*"):
        expr = jsonpath.format_path(path)
        assert jsonpath.find(DOC, expr) == [(path, value)]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_every_recursive_match_is_addressable(doc: object) -> None:
    for path, value in jsonpath.find(doc, "$..*"):
        assert jsonpath.find(doc, jsonpath.format_path(path)) == [(path, value)]


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_delete_all_leaves_empty_containers(doc: object) -> None:
    pruned = jsonpath.delete(doc, "$.*")
    if isinstance(doc, dict | list):
        assert pruned == type(doc)()
    else:
        assert pruned == doc
