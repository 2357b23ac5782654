"""Unknown names: a name no query, parameter, step, field, parameter or library function defines."""

from __future__ import annotations

import json
import uuid
from importlib import resources

import pytest
from example_repo import load_script

from dataflow_gitops.pipeline.definition.mashups import part_document
from dataflow_gitops.pipeline.definition.mlang import names, parse_section
from dataflow_gitops.pipeline.definition.mlang.document import SectionDocument
from dataflow_gitops.pipeline.definition.mlang.names import (
    LIBRARY_FILES,
    UnknownName,
    find_unknown_names,
    from_plain,
    library_names,
    plain,
    unknown_names,
)
from dataflow_gitops.pipeline.model import MASHUP_PATH, Part


def _unknown(body: str, extra: str = "") -> list[tuple[str, str | None]]:
    doc = parse_section(f"section Section1;\n{extra}shared Q = {body};\n")
    return [(u.name, u.suggestion) for u in unknown_names(doc)]


def test_a_misspelt_parameter_is_reported_with_the_name_meant() -> None:
    extra = "shared MinimumAmount = 10 meta [IsParameterQuery = true, Type = type number];\n"
    body = "Table.SelectRows(Source, each [Amount] >= MinimumAmnt)"
    source = "shared Source = #table({}, {});\n"
    doc = parse_section(f"section Section1;\n{extra}{source}shared Q = {body};\n")
    (found,) = unknown_names(doc)
    assert (found.query, found.name, found.suggestion) == ("Q", "MinimumAmnt", "MinimumAmount")
    assert (found.line, found.column) == (4, 54)
    assert found.message("m.pq") == (
        "m.pq:4:54: query 'Q' uses 'MinimumAmnt', which no query, parameter, step, field, function "
        "parameter or library function defines (did you mean 'MinimumAmount'?)"
    )


def test_a_misspelt_library_function_gets_the_library_name() -> None:
    assert _unknown("Table.SelectRow(#table({}, {}), each true)") == [
        ("Table.SelectRow", "Table.SelectRows")
    ]


@pytest.mark.parametrize(
    "body",
    [
        "let a = 1, b = a + 1 in b",  # let steps, in any order
        "let b = a + 1, a = 1 in b",
        "[a = 1, b = a + 1]",  # fields of the record a value stands in
        "(x, optional y as nullable number) as number => x + y",
        "each _ + [Amount] + _[Amount]",  # `_` and field access inside each
        "[[A], [B]]",  # implicit projection
        "let f = (n) => if n = 0 then 1 else n * @f(n - 1) in f(5)",  # @ recursion
        'let #"Step 1" = 1 in #"Step 1"',  # quoted names
        "{#shared, #sections, #date(2024, 1, 1), #table({}, {}), #infinity}",
        "Section1!Other",  # section access is not looked up here
        'try error "x" catch (e) => e[Message]',
        "let catch = 1 in catch",
        "type table [A = number, B = Int64.Type]",
        "Table.Join(t, {}, t, {}, JoinKind.Inner)",  # enumeration values
        "Lakehouse.Contents([])",  # Fabric connectors
        "let t = type [a = text] in type table t",
        "Other",  # another query
    ],
)
def test_what_is_defined_is_not_reported(body: str) -> None:
    extra = "shared Other = 1;\nshared t = #table({}, {});\n"
    assert _unknown(body, extra) == []


def test_names_are_scoped() -> None:
    # A step's name is not visible outside its let; a parameter not outside its function.
    assert _unknown("let a = (x) => x in {x, (let b = 1 in b) + b}") == [("x", None), ("b", None)]


def test_a_deep_generated_query_is_checked_without_recursion() -> None:
    arms = " ".join(f"if [c] = {i} then Typo{i} else" for i in range(2000))
    found = _unknown(f"each {arms} 0")
    assert len(found) == 2000


def test_the_library_list_is_package_data_with_its_source() -> None:
    names = library_names()
    assert {"Table.SelectRows", "Int64.Type", "JoinKind.Inner", "Lakehouse.Contents"} <= names
    assert len(names) > 800


@pytest.mark.parametrize(
    "body",
    [
        # In the engine's #shared but on no page of Microsoft's reference (data/engine.txt).
        'Table.TransformColumnTypes(t, {{"D", Date.Type}, {"F", Logical.Type}})',
        'Text.Range("abc", 1, RelativePosition.FromStart)',
        "type table [A = DateTime.Type, B = Any.Type, C = Duration.Type]",
    ],
)
def test_names_the_engine_defines_beyond_the_reference_are_not_reported(body: str) -> None:
    assert _unknown(body, "shared t = #table({}, {});\n") == []


def test_every_name_list_names_its_source() -> None:
    folder = resources.files("dataflow_gitops.pipeline.definition.mlang").joinpath("data")
    for file in LIBRARY_FILES:
        lines = folder.joinpath(file).read_text(encoding="utf-8").splitlines()
        header = " ".join(line for line in lines if line.startswith("#"))
        assert "https://" in header, file


def test_the_answer_survives_plain_values_and_damage_is_refused() -> None:
    doc = parse_section("section S;\nshared Q = Table.SelectRow(Sourc, each [A] > Limt);\n")
    found = unknown_names(doc)
    assert [u.name for u in found] == ["Table.SelectRow", "Sourc", "Limt"]
    assert from_plain(json.loads(json.dumps(plain(found)))) == found
    assert from_plain([]) == ()
    good = plain(found)
    for damaged in (None, "x", [good[0][:4]], [[*good[0][:2], "6", *good[0][3:]]], [[1, *good[0][1:]]]):
        assert from_plain(damaged) is None


def test_the_answer_is_found_once_per_document_text(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(doc: SectionDocument) -> tuple[UnknownName, ...]:
        calls.append(doc.text)
        return find_unknown_names(doc)

    monkeypatch.setattr(names, "find_unknown_names", counting)
    text = f"section S;\n// {uuid.uuid4()}\nshared Q = Typo;\n"
    part = Part(MASHUP_PATH, text.encode("utf-8"))
    first = unknown_names(part_document(part, path="a/mashup.pq"))
    again = unknown_names(part_document(part, path="b/mashup.pq"))  # its document, named elsewhere
    assert first == again
    assert [u.name for u in first] == ["Typo"]
    assert calls == [text]
    assert unknown_names(parse_section(text)) == first  # the same text read again: equal


def test_the_engine_list_is_what_the_engine_defines_beyond_the_reference() -> None:
    engine = load_script("gen_m_engine_names")
    entries = [{"name": n} for n in ("Date.Type", "Table.SelectRows", "#date", "Logical.Type")]
    assert engine.engine_names(entries, {"Table.SelectRows"}) == ["Date.Type", "Logical.Type"]
    listed = resources.files("dataflow_gitops.pipeline.definition.mlang").joinpath("data/engine.txt")
    names = [n for n in listed.read_text(encoding="utf-8").splitlines() if not n.startswith("#")]
    assert names == sorted(names)
    assert {"Date.Type", "RelativePosition.FromStart"} <= set(names)
    assert not set(names) & set(
        resources.files("dataflow_gitops.pipeline.definition.mlang")
        .joinpath("data/library.txt")
        .read_text(encoding="utf-8")
        .splitlines()
    )
