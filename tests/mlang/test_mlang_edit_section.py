"""edit_section: a document derived by shifting spans is the document a fresh parse gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parse_count import counting_parses

from dataflow_gitops.errors import MSyntaxError
from dataflow_gitops.pipeline.definition.mlang import field_literals, parameters, parse_section
from dataflow_gitops.pipeline.definition.mlang.document import SectionDocument
from dataflow_gitops.pipeline.definition.mlang.edits import apply_edits, edit_section

TEXT = (
    "section Section1;\n"
    'shared Server = "old-sql" meta [IsParameterQuery = true, Type = "Text"];\n'
    "// the sales query\n"
    '[Description = "lakehouse", Target = [lakehouseId = "L1"]]\n'
    "shared Sales = let\n"
    '  Source = Lakehouse.Contents([workspaceId = "W1"]),\n'
    '  Nav = Source{[workspaceId = "W1"]}[Data]{[lakehouseId = "L1"]}[Data]\n'
    "in\n"
    "  Nav;\n"
    'shared Count = 42 meta [IsParameterQuery = true, Type = "Number"];\n'
)


def _same(derived: SectionDocument, text: str) -> None:
    fresh = parse_section(text, path=derived.path)
    assert derived.text == text
    assert derived.print() == text
    assert derived.members == fresh.members
    for mine, theirs in zip(derived.members, fresh.members, strict=True):
        assert mine.source == theirs.source
        assert mine.expression == theirs.expression
        assert mine.attribute == theirs.attribute
    assert parameters(derived) == parameters(fresh)
    assert field_literals(derived, {"workspaceId", "lakehouseId"}) == field_literals(
        fresh, {"workspaceId", "lakehouseId"}
    )


def test_text_literal_swaps_shift_the_document_without_reading_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = parse_section(TEXT, path="df/mashup.pq")
    server = next(p for p in parameters(doc) if p.name == "Server")
    edits = [(server.span, '"prod-sql.example.net"')]
    longer = '"a-much-longer-id-""quoted"""'
    edits += [(lit.span, longer) for lit in field_literals(doc, {"lakehouseId"})]
    with counting_parses(monkeypatch) as parsed:
        derived = edit_section(doc, edits)
    assert parsed == []
    _same(derived, apply_edits(TEXT, edits))


@pytest.mark.parametrize("value", ["7", "1.5e3", "#infinity", "true", "null", '"seven"'])
def test_any_literal_for_a_literal_shifts_the_document(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    doc = parse_section(TEXT)
    count = next(p for p in parameters(doc) if p.name == "Count")
    server = next(p for p in parameters(doc) if p.name == "Server")
    edits = [(count.span, value), (server.span, "42")]
    with counting_parses(monkeypatch) as parsed:
        derived = edit_section(doc, edits)
    assert parsed == []
    _same(derived, apply_edits(TEXT, edits))


@pytest.mark.parametrize("value", ["40 + 2", "-1", '"two\nlines"', "#date(2024, 1, 31)", "x", "1 ", ""])
def test_other_edits_are_parsed_again(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    doc = parse_section(TEXT)
    count = next(p for p in parameters(doc) if p.name == "Count")
    with counting_parses(monkeypatch) as parsed:
        try:
            derived = edit_section(doc, [(count.span, value)])
        except MSyntaxError:
            assert value in ("x", "")  # not M any more: the parse says so
            return
    assert parsed == [derived.text]
    _same(derived, apply_edits(TEXT, [(count.span, value)]))
    assert edit_section(doc, []) is doc


def test_a_literal_that_would_join_its_neighbour_is_parsed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = 'section S;\nshared A = {"a".."b"};\nshared B = 1;\n'
    doc = parse_section(text)
    start = text.index('"a"')
    with counting_parses(monkeypatch) as parsed:
        derived = edit_section(doc, [((start, start + 3), "1")])
    assert parsed == [derived.text]  # 1.. could read as the number "1." followed by "."
    _same(derived, apply_edits(text, [((start, start + 3), "1")]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet='ab"\n -', max_size=6), min_size=5, max_size=5))
def test_any_replacement_values_give_the_parsed_document(values: list[str]) -> None:
    doc = parse_section(TEXT)
    literals = [*field_literals(doc, {"workspaceId", "lakehouseId"})]
    server = next(p for p in parameters(doc) if p.name == "Server")
    spans = [server.span, *(lit.span for lit in literals)]
    edits = [(span, '"' + v.replace('"', '""') + '"') for span, v in zip(spans, values, strict=False)]
    _same(edit_section(doc, edits), apply_edits(TEXT, edits))
