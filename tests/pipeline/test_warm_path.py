"""The warm path's shortcuts answer exactly what the plain computation does.

Answers kept on a document (parameters, id literals, dataflow references), the search for
queries that spell a word, the bytes-level normalisation of canonical_bytes, the linear
dependency order and the scandir walk of the working tree: each against the result it replaced.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataflow_gitops.errors import DependencyError, SourceError
from dataflow_gitops.pipeline.definition.mlang import (
    dataflow_references,
    field_literals,
    parameters,
    parse_section,
)
from dataflow_gitops.pipeline.definition.mlang.document import Member
from dataflow_gitops.pipeline.definition.mlang.edits import edit_section
from dataflow_gitops.pipeline.definition.mlang.memo import TextMemo
from dataflow_gitops.pipeline.definition.mlang.spelling import members_spelling
from dataflow_gitops.pipeline.definition.parts import canonical_bytes, lenient_text
from dataflow_gitops.pipeline.definition.references import dependency_order
from dataflow_gitops.pipeline.definition.source import read_working_tree, scan_working_tree
from dataflow_gitops.pipeline.model import Part

MASHUP = """section Section1;
shared Server = "a.example.net" meta [IsParameterQuery = true, Type = type text];
// IsParameterQuery and lakehouseId in a comment between queries belong to no query's source
shared Rows = let
  Source = Lakehouse.Contents([]),
  Nav = Source{[workspaceId = "11111111-1111-4111-8111-111111111111"]}[Data],
  Lake = Nav{[lakehouseId = "22222222-2222-4222-8222-222222222222"]}[Data]
in
  Lake;
shared Other = let
  Source = PowerPlatform.Dataflows([]),
  W = Source{[workspaceId = "00000000-0000-0000-0000-000000000000"]}[Data],
  D = W{[dataflowId = "33333333-3333-4333-8333-333333333333"]}[Data]
in
  D;
"""


def _fresh(text: str) -> str:
    # An equal text in a new string object: memos must key on the content, not the object.
    return "".join(list(text))


# per-text memos ---------------------------------------------------------------------------------


def test_parameters_are_read_once_per_document() -> None:
    from dataflow_gitops.pipeline.definition.mashups import part_document

    part = Part("mashup.pq", MASHUP.encode("utf-8"))
    doc = part_document(part)
    first = parameters(doc)
    assert [p.name for p in first] == ["Server"]
    assert parameters(doc) is first
    # The part's document asked for under another path (validate and diff name it differently).
    assert parameters(part_document(part, path="dataflows/X.Dataflow/mashup.pq")) is first
    assert parameters(parse_section(_fresh(MASHUP))) == first  # an equal text: equal answers


def test_a_different_text_gets_its_own_parameters() -> None:
    doc = parse_section(MASHUP)
    changed = parse_section(MASHUP.replace('"a.example.net"', "42").replace("type text", "type number"))
    assert parameters(changed) is not parameters(doc)
    assert parameters(changed)[0].value == 42
    assert parameters(changed)[0].type_name == "number"
    assert parameters(doc)[0].value == "a.example.net"


def test_field_literals_are_kept_per_text_and_field_set() -> None:
    doc = parse_section(MASHUP)
    lakes = field_literals(doc, {"lakehouseId"})
    assert [f.value for f in lakes] == ["22222222-2222-4222-8222-222222222222"]
    assert field_literals(doc, ["lakehouseId"]) is lakes
    both = field_literals(doc, {"lakehouseId", "workspaceId"})
    assert both is not lakes
    assert [f.field for f in both] == ["workspaceId", "lakehouseId", "workspaceId"]
    assert field_literals(doc, {"warehouseId"}) == ()


def test_dataflow_references_are_read_once_per_document() -> None:
    doc = parse_section(MASHUP)
    found = dataflow_references(doc)
    assert [(r.query, r.dataflow_id) for r in found] == [
        ("Other", "33333333-3333-4333-8333-333333333333")
    ]
    assert dataflow_references(doc) is found
    assert dataflow_references(parse_section(_fresh(MASHUP))) == found
    other = MASHUP.replace(
        "33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444"
    )
    assert dataflow_references(parse_section(other))[0].dataflow_id.startswith("4444")


def test_a_rendered_document_answers_like_a_parsed_one() -> None:
    # edit_section derives the rendered document by shifting spans: its answers must be those
    # of the same text parsed from scratch (and the memo must not hand it the source's).
    doc = parse_section(MASHUP)
    server = parameters(doc)[0]
    lake = field_literals(doc, {"lakehouseId"})[0]
    rendered = edit_section(doc, [(server.span, '"a-much-longer-name.example.net"'), (lake.span, '"x"')])
    reparsed = parse_section(_fresh(rendered.text), path="other.pq")
    assert rendered.text != doc.text
    assert parameters(rendered) == parameters(reparsed)
    assert parameters(rendered)[0].value == "a-much-longer-name.example.net"
    assert field_literals(rendered, {"workspaceId"}) == field_literals(reparsed, {"workspaceId"})
    assert dataflow_references(rendered) == dataflow_references(reparsed)
    ref = dataflow_references(rendered)[0]
    assert rendered.text[ref.dataflow_span[0] : ref.dataflow_span[1]] == f'"{ref.dataflow_id}"'


def test_answers_travel_with_the_document_and_its_copies() -> None:
    memo: TextMemo[tuple[int, ...]] = TextMemo()
    calls: list[str] = []

    def compute(d: object) -> tuple[int, ...]:
        calls.append("x")
        return (len(calls),)

    a = parse_section("section S;\nshared Q = 1;\n")
    first = memo.get(a, compute)
    assert memo.get(a, compute) is first
    assert memo.get(dataclasses.replace(a, path="x/mashup.pq"), compute) is first
    assert memo.get(a, compute, key="other") == (2,)  # another key: its own answer
    edited = edit_section(a, [(a.members[0].expression.span, "2")])
    assert memo.get(edited, compute) == (3,)  # another text: never the source's answer
    assert len(calls) == 3


def test_member_fields_are_the_ones_edit_section_copies() -> None:
    # edit_section builds shifted members field by field (dataclasses.replace was the hot spot):
    # a new Member field must be added there too, or it would silently take its default.
    assert [f.name for f in dataclasses.fields(Member)] == [
        "name",
        "shared",
        "start",
        "end",
        "line",
        "name_span",
        "expression_span",
        "attribute_span",
        "document_text",
        "path",
        "_trees",
    ]


# which queries spell a word -----------------------------------------------------------------


def _spelling_by_slicing(text: str, words: Sequence[str]) -> list[str]:
    doc = parse_section(text)
    return [m.name for m in doc.members if any(w in m.source for w in words)]


def test_members_spelling_ignores_words_between_queries() -> None:
    doc = parse_section(MASHUP)
    assert [m.name for m in members_spelling(doc, ["IsParameterQuery"])] == ["Server"]
    assert [m.name for m in members_spelling(doc, ["lakehouseId"])] == ["Rows"]
    assert [m.name for m in members_spelling(doc, ["workspaceId", "IsParameterQuery"])] == [
        "Server",
        "Rows",
        "Other",
    ]
    assert members_spelling(doc, ["#("]) == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["ab", "b", "ba", "x"]), st.sampled_from(["", "//ab\n", "/*b*/"])),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.sampled_from(["a", "b", "ab", "ba", "bab", ";", "x"]), min_size=1, max_size=3),
)
def test_members_spelling_matches_slicing(queries: list[tuple[str, str]], words: list[str]) -> None:
    body = "".join(f'{trivia}shared Q{i} = "{value}";\n' for i, (value, trivia) in enumerate(queries))
    text = f"section ab;\n{body}"
    doc = parse_section(text)
    assert [m.name for m in members_spelling(doc, words)] == _spelling_by_slicing(text, words)


# canonical bytes ------------------------------------------------------------------------------


def _canonical_as_text(data: bytes) -> bytes:
    """The normalisation as it was defined: decode leniently, LF only, one final LF."""
    text = lenient_text(data)
    return (text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n") + "\n").encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [b"a", b"\n", b"\r", b"\r\n", b"\xef\xbb\xbf", b"\xc3\xa9", b"\xff", b"\xe2\x82", b" "]
        ),
        max_size=12,
    )
)
def test_text_parts_normalise_on_bytes_as_on_text(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    assert canonical_bytes(Part("mashup.pq", data)) == _canonical_as_text(data)


def test_a_normal_text_part_is_its_own_canonical_form() -> None:
    data = MASHUP.encode("utf-8")
    assert canonical_bytes(Part("mashup.pq", data)) is data
    assert canonical_bytes(Part("mashup.pq", data + b"\n\n")) == data


def test_json_parts_are_canonical_json() -> None:
    data = json.dumps({"b": [1, {"d": 2, "c": "é"}], "a": True}, indent=4).encode("utf-8")
    first = canonical_bytes(Part("queryMetadata.json", data))
    assert first == '{"a":true,"b":[1,{"c":"é","d":2}]}'.encode()
    assert canonical_bytes(Part("x/queryMetadata.json", bytes(bytearray(data)))) == first
    other = canonical_bytes(Part("queryMetadata.json", b'{"a": false}'))
    assert other == b'{"a":false}'
    assert canonical_bytes(Part("broken.json", b"{not json\r\n")) == b"{not json\n"


# dependency order -----------------------------------------------------------------------------


def _order_by_rescanning(names: Sequence[str], edges: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The definition: repeatedly take the first listed dataflow whose dependencies are done."""
    wanted = set(names)
    pending = {n: [t for t in edges.get(n, ()) if t in wanted] for n in names}
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(pending):
        ready = [n for n in names if n not in done and all(t in done for t in pending[n])]
        if not ready:
            raise DependencyError("cycle", cycle=[], where="")
        order.append(ready[0])
        done.add(ready[0])
    return tuple(order)


NAMES = st.sampled_from([f"d{i}" for i in range(8)])


@settings(max_examples=300, deadline=None)
@given(st.lists(NAMES, max_size=8), st.dictionaries(NAMES, st.lists(NAMES, max_size=3)))
def test_dependency_order_is_the_first_ready_each_time(
    names: list[str], edges: dict[str, list[str]]
) -> None:
    try:
        expected: tuple[str, ...] | None = _order_by_rescanning(names, edges)
    except DependencyError:
        expected = None
    if expected is None:
        with pytest.raises(DependencyError):
            dependency_order(names, edges)
    else:
        assert dependency_order(names, edges) == expected


def test_dependency_order_of_a_long_chain_listed_backwards() -> None:
    # The worst case of the rescanning order: each step finds one ready name at the end.
    names = [f"d{i:04d}" for i in range(2000)]
    edges = {n: [names[i + 1]] for i, n in enumerate(names[:-1])}
    assert dependency_order(names, edges) == tuple(reversed(names))


# working-tree walk ----------------------------------------------------------------------------


def _files_by_rglob(folder: Path) -> dict[str, bytes]:
    """What the walk replaced: every file rglob lists (links followed, linked dirs not entered)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _walk(root: Path) -> dict[str, dict[str, bytes]]:
    from dataflow_gitops.pipeline.definition.discovery import discover_working_tree

    found = discover_working_tree(root, "dataflows", boundary=root, ignored=lambda _: False)
    assert not found.errors, found.errors
    return found.folders


def test_the_walk_reads_what_rglob_lists(tmp_path: Path) -> None:
    folder = tmp_path / "dataflows" / "A.Dataflow"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / ".platform").write_text("{}")
    (folder / "mashup.pq").write_text("section S;")
    (folder / "sub" / "x.mdf").write_text("{}")
    (folder / "sub" / "deeper" / "y.mdf").write_text("{}")
    (folder / "sub-file").write_text("z")
    (folder / "link.mdf").symlink_to(folder / "sub" / "x.mdf")  # a link inside: allowed
    (folder / "dangling.mdf").symlink_to(folder / "missing")
    outside = tmp_path / "outside"
    (outside / "nested").mkdir(parents=True)
    (outside / "nested" / "secret.mdf").write_text("token")
    (folder / "linked-dir").symlink_to(outside, target_is_directory=True)
    walked = _walk(tmp_path)["dataflows/A.Dataflow"]
    expected = _files_by_rglob(folder)
    assert walked == expected
    assert list(walked) == list(expected)  # the same order too
    assert "linked-dir/nested/secret.mdf" not in walked
    assert walked["link.mdf"] == b"{}"


def test_the_walk_refuses_a_file_link_out_of_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "dataflows" / "A.Dataflow" / "sub"
    folder.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("token")
    (folder / "z.mdf").symlink_to(secret)
    with pytest.raises(SourceError, match="links outside its dataflow folder") as info:
        read_working_tree(tmp_path)
    assert info.value.path == "dataflows/A.Dataflow/sub/z.mdf"


def test_the_walk_accepts_a_dataflow_folder_that_is_itself_a_link(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere" / "A.Dataflow"
    real.mkdir(parents=True)
    (real / "mashup.pq").write_text("section S;")
    (tmp_path / "dataflows").mkdir()
    os.symlink(real, tmp_path / "dataflows" / "A.Dataflow", target_is_directory=True)
    walked = _walk(tmp_path)
    assert walked == {"dataflows/A.Dataflow": {"mashup.pq": b"section S;"}}


# documents of parts, shared parts, per-content checks ---------------------------------------


def test_a_part_carries_its_document() -> None:
    from dataflow_gitops.pipeline.definition.mashups import part_document

    part = Part("mashup.pq", MASHUP.replace("Section1", "Once").encode("utf-8"))
    doc = part_document(part, path="dataflows/A.Dataflow/mashup.pq")
    assert doc.path == "dataflows/A.Dataflow/mashup.pq"
    assert doc.section_name == "Once"
    again = part_document(part)
    assert again.path == "mashup.pq"
    assert again.members == doc.members
    assert parameters(again) is parameters(doc)  # one document, whatever path names it
    # An equal part read again (another snapshot of the same file) gets an equal document.
    assert part_document(Part("mashup.pq", bytes(bytearray(part.data)))).text == doc.text


def test_a_part_that_does_not_read_names_each_callers_path() -> None:
    from dataflow_gitops.errors import MSyntaxError
    from dataflow_gitops.pipeline.definition.mashups import part_document

    broken = Part("mashup.pq", b"section S;\nshared Q = ;\n")
    for path in ("a/mashup.pq", "b/mashup.pq"):
        with pytest.raises(MSyntaxError) as info:
            part_document(broken, path=path)
        assert info.value.path == path  # each error names its caller's path
    with pytest.raises(SourceError, match="not valid UTF-8"):
        part_document(Part("mashup.pq", b'section S;\nshared Q = "\xff";\n'), path="c/mashup.pq")


def test_every_snapshot_shares_the_bytes_of_unchanged_files(example_copy: Path) -> None:
    first = scan_working_tree(example_copy).snapshot
    second = scan_working_tree(example_copy).snapshot
    for a, b in zip(first.dataflows, second.dataflows, strict=True):
        for pa, pb in zip(a.parts, b.parts, strict=True):
            assert pa.data is pb.data


def test_a_part_changed_after_passing_is_checked_again(example_copy: Path) -> None:
    metadata = example_copy / "dataflows/Customers.Dataflow/queryMetadata.json"
    assert scan_working_tree(example_copy).errors == ()
    doc = json.loads(metadata.read_text())
    doc["formatVersion"] = "202412"  # now a legacy folder: the memo of the old bytes must not hide it
    metadata.write_text(json.dumps(doc, indent=2))
    errors = scan_working_tree(example_copy).errors
    assert [type(e).__name__ for e in errors] == ["LegacyFormatError"]
    mashup = example_copy / "dataflows/Customers.Dataflow/mashup.pq"
    mashup.write_bytes(mashup.read_bytes() + b"// \xff\n")
    metadata.write_text(json.dumps({**doc, "formatVersion": "202502"}, indent=2))
    errors = scan_working_tree(example_copy).errors
    assert len(errors) == 1
    assert "not valid UTF-8" in str(errors[0])


def test_edited_documents_share_only_the_trees_above_the_first_edit() -> None:
    doc = parse_section(MASHUP)
    server = doc.members[0]
    assert parameters(doc)  # builds Server's tree
    lake = field_literals(doc, {"lakehouseId"})[0]
    rendered = edit_section(doc, [(lake.span, '"a-longer-lakehouse-id"')])
    before, inside, after = rendered.members
    assert before.expression is server.expression  # same text at the same offsets
    assert inside.expression is not doc.members[1].expression
    assert after.start != doc.members[2].start
    moved = after.expression
    assert rendered.text[moved.span[0] : moved.span[1]] == after.expression_text


def test_a_platform_reads_back_and_errors_name_their_path() -> None:
    from dataflow_gitops.pipeline.definition.parts import parse_platform, platform_part
    from dataflow_gitops.pipeline.model import Platform

    platform = Platform("Dataflow", "Memo Test", "5f0c8a8e-3f7e-4d67-9a41-2b1f0e9c7d33")
    data = platform_part(platform).data
    assert parse_platform(data, path="a/.platform") == platform
    other = parse_platform(data.replace(b"Memo Test", b"Other"), path="c/.platform")
    assert other.display_name == "Other"
    broken = data.replace(b'"Dataflow"', b'"Notebook"')
    for path in ("d/.platform", "e/.platform"):
        with pytest.raises(SourceError) as info:
            parse_platform(broken, path=path)
        assert info.value.path == path
