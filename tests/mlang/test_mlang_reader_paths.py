"""The reader's fast paths give what the careful ones give: the scan vs the per-token lexer, spans
read without the whole text's line table, and parsed documents that keep no tokens alive."""

from __future__ import annotations

import dataclasses
import gc
import random

import pytest

from dataflow_gitops.errors import MSyntaxError
from dataflow_gitops.pipeline.definition.mlang import document, nodes, parse_section
from dataflow_gitops.pipeline.definition.mlang import tokens as tokens_module
from dataflow_gitops.pipeline.definition.mlang.parser import Parser
from dataflow_gitops.pipeline.definition.mlang.tokens import Kind, Tokens, kind_of, tokenize

TRICKY = [
    "",
    "  \n// only a comment",
    "\ufeffsection S;",  # a BOM before the first token is trivia
    "ab\ufeffcd",  # … but after a name character it is part of the name
    "é́x Ünïcode x.é́",  # combining marks the scan's \w does not cover
    '#date #datetime #datetimezone #duration #nan #infinity #table #"q ""x"""',
    "0x1F 1e5 1.5E-3 .5 1..2 a..b ... A.B.c x.1",
    "x /* c *//y // end",
    "a=>b<=c>=d<>e??f?g@h&i*j/k+l-m",
    '"a""b" "#(lf)" "" """"',
    "x\r\ny\rz\x85w\u2028v\u2029u",
    'Web.Contents("https://x.example/a?b=1") / 2',  # `//` in a literal, not a comment
    "let\r\n\tA = {1, 2}{0},\u00a0B = [C]?\n in\v\fA  \n",  # only blanks between tokens
]
BROKEN = [
    ('x = "abc', "unterminated text literal"),
    ('x = #"abc', "unterminated quoted identifier"),
    ("x /* never closed", "unterminated block comment"),
    ("x = #datex", "unknown '#datex'"),
    ("x = 1 $ 2", "unexpected character '$'"),
    ("x = \u0301", "unexpected character"),
]


def _picture(tokens: list[tokens_module.Token] | Tokens) -> list[tuple[object, ...]]:
    return [(t.kind, t.text, t.start, t.end, t.line, t.column) for t in tokens]


def _careful(text: str, start: int = 0, end: int | None = None) -> list[tuple[object, ...]]:
    return _picture(tokens_module._Lexer(text, "mashup.pq", start, end).run())


@pytest.mark.parametrize("text", TRICKY)
def test_the_scan_gives_the_careful_lexers_tokens(text: str) -> None:
    assert _picture(tokenize(text)) == _careful(text)


@pytest.mark.parametrize(("text", "fragment"), BROKEN)
def test_the_scan_leaves_broken_text_to_the_careful_lexer(text: str, fragment: str) -> None:
    with pytest.raises(MSyntaxError) as fast:
        tokenize(f"section S;\n{text}")
    with pytest.raises(MSyntaxError) as careful:
        _careful(f"section S;\n{text}")
    assert str(fast.value) == str(careful.value)
    assert fragment in str(fast.value)
    assert fast.value.line == 2


def test_tokens_index_slice_and_iterate_alike() -> None:
    text = 'section S;\nshared A = f([B], "x", 1);'
    tokens = tokenize(text)
    listed = list(tokens)
    assert len(listed) == len(tokens) == len(tokens.texts)
    assert listed[-1].kind is Kind.END
    assert tokens[-1] == listed[-1]
    assert tokens[2:5] == listed[2:5]
    assert [t.text for t in listed] == tokens.texts
    assert all(kind_of(t.text) is t.kind for t in listed)
    assert all(text[t.start : t.end] == t.text for t in listed)


def test_a_span_keeps_the_whole_texts_offsets_lines_and_columns() -> None:
    text = "section S;\r\nshared A = 1;\n\n  shared B = f(x,\n    y);\n"
    start = text.index("f(")
    end = text.index(";", start)
    span = tokenize(text, start=start, end=end)
    whole = [t for t in tokenize(text) if start <= t.start < end]
    assert _picture(span)[:-1] == _picture(whole)
    assert (span[-1].kind, span[-1].start, span[-1].line) == (Kind.END, end, 5)
    assert [t.text for t in span] == ["f", "(", "x", ",", "y", ")", ""]


def test_an_error_in_a_span_names_the_line_and_column_in_the_whole_text() -> None:
    text = "section S;\nshared A = 1;\nshared B = {1, $};\n"
    start = text.index("{")
    with pytest.raises(MSyntaxError) as caught:
        tokenize(text, path="q/mashup.pq", start=start, end=text.index(";", start))
    assert (caught.value.path, caught.value.line, caught.value.column) == ("q/mashup.pq", 3, 16)


def test_a_members_tree_is_read_without_a_line_table_of_the_whole_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "section S;\n" + "".join(f"shared Q{i} = f([c{i}], {i}) + 1;\n" for i in range(50))
    doc = document.parse_section(text)
    built: list[str] = []

    class Counting(tokens_module.Positions):
        def __init__(self, whole: str) -> None:
            built.append(whole)
            super().__init__(whole)

    monkeypatch.setattr(tokens_module, "Positions", Counting)
    trees = [m.expression for m in doc.members]
    assert [type(t).__name__ for t in trees] == ["Binary"] * 50
    assert built == []


@pytest.mark.parametrize(
    "text",
    ["section S;\nshared A = (x) as", "section S;\nshared A = (x) as nullable"],
)
def test_a_function_head_cut_short_is_a_syntax_error(text: str) -> None:
    with pytest.raises(MSyntaxError) as caught:
        parse_section(text)
    assert caught.value.line == 2


def test_a_parsed_document_keeps_no_tokens_alive() -> None:
    text = "section S;\n" + "".join(f'shared Q{i} = Text.Upper("v{i}");\n' for i in range(20))
    doc = document.parse_section(text)
    assert doc.members[3].expression is not None
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, Tokens) and o.text is text]
    assert alive == []


def test_nodes_stay_frozen_value_objects_with_their_dataclass_signature() -> None:
    node = nodes.Identifier((1, 2), "x", quoted=True)
    assert node == nodes.Identifier((1, 2), "x", True, False)
    assert hash(node) == hash(nodes.Identifier((1, 2), "x", True))
    assert node != nodes.Identifier((1, 2), "x")
    assert repr(node) == "Identifier(span=(1, 2), name='x', quoted=True, inclusive=False)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.name = "y"  # type: ignore[misc]
    with pytest.raises(TypeError, match="name"):
        nodes.Identifier((1, 2))  # type: ignore[call-arg]
    call = nodes.Invoke((0, 4), node, arguments=(node,))
    assert list(call.walk()) == [call, node, node]


def _line_and_column(text: str, offset: int) -> tuple[int, int]:
    """The definition: lines end at CRLF, CR, LF, NEL, U+2028 or U+2029."""
    line, start, i = 1, 0, 0
    while i < offset:
        width = 2 if text.startswith("\r\n", i) else 1 if text[i] in "\r\n\x85\u2028\u2029" else 0
        if width and i + width <= offset:
            line, start = line + 1, i + width
        i += width or 1
    return line, offset - start + 1


@pytest.mark.parametrize(
    "pieces", [["a", "\n", "\r\n", " "], ["a", "\n", "\r\n", "\r", "\x85", "\u2028"]]
)
def test_positions_count_every_kind_of_line_break_in_any_order_of_offsets(pieces: list[str]) -> None:
    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(30)))
        offsets = [rng.randrange(len(text) + 1) for _ in range(8)]
        positions = tokens_module.Positions(text)
        for offset in [*sorted(offsets), *offsets]:
            assert positions.at(offset) == _line_and_column(text, offset), (text, offset)


SKIMMED = [
    'let a = f(1, "x"){0}[B]?, #"c d" = [E = 1, F = {1..3}] in a',
    'each if [x] > 1 then try g(_) otherwise null else error "no"',
    "(x as number, optional y as nullable text) as text => x & y",
    "type table [A = number, optional B = nullable text] meta [Doc = true]",
    "type [A = number, ...]",
    "type table Type.ForRecord(r, false)",
    "type function (a as list) as record",
    "not -1 + @Self * #date(2024, 1, 2) ?? #nan <> #infinity and x is number or y as text",
    "t[[A], [B]]{[K = 1]}? ?? ...",
    "try f() catch (e) => e[Message]",
]


def _read_member(text: str, *, skim: bool) -> tuple[object, int]:
    p = Parser(text, tokenize(text), path="q.pq")
    p.i = p.texts.index("=") + 1
    read = p.skim(p.expression) if skim else p.expression().span
    return read, p.i


@pytest.mark.parametrize("expression", SKIMMED)
def test_skim_reads_an_expression_as_far_as_the_tree_does_and_builds_none(expression: str) -> None:
    text = f"section S;\nshared X = {expression};"
    assert _read_member(text, skim=True) == _read_member(text, skim=False)
    p = Parser(text, tokenize(text), path="q.pq")
    p.i = 6  # after `section S; shared X =`
    assert p.skim(p.expression) == (text.index(expression), len(text) - 1)
    p.i = 6
    assert isinstance(p.expression(), nodes.Node)  # trees again after a skim
    p.i = 6
    read: list[nodes.Node] = []

    def spy() -> nodes.Node:
        read.append(p.expression())
        return read[-1]

    p.skim(spy)
    assert not isinstance(read[0], nodes.Node)  # while skimming, no tree node is built


@pytest.mark.parametrize(
    "expression", ["f(1,", "[A = ]", "let a = 1 b", "(x) => ", "{1, 2", "type table [A = ]"]
)
def test_skim_fails_where_the_tree_fails_and_then_builds_trees_again(expression: str) -> None:
    text = f"section S;\nshared X = {expression}"
    with pytest.raises(MSyntaxError) as skimmed:
        _read_member(text, skim=True)
    with pytest.raises(MSyntaxError) as built:
        _read_member(text, skim=False)
    assert str(skimmed.value) == str(built.value)
    p = Parser("1 + 2", tokenize("1 + 2"), path="q.pq")
    with pytest.raises(MSyntaxError):
        p.skim(lambda: p.record())
    assert isinstance(p.expression(), nodes.Binary)


@pytest.mark.parametrize(
    ("expression", "column"),
    [
        ("(1 is number meta [A = 1])", 25),  # `meta` takes unary operands, never an `is` test
        ("a as text meta [B = 1]", 22),  # missing ';' after the query: at the `meta` found instead
        ("a + each x is number meta y", 33),
        ("each x is number meta y", 29),
    ],
)
def test_meta_after_a_type_test_is_a_syntax_error(expression: str, column: int) -> None:
    with pytest.raises(MSyntaxError, match="'meta'") as caught:
        parse_section(f"section S;\nshared X = {expression};")
    assert (caught.value.line, caught.value.column) == (2, column)


def test_meta_chains_bind_tighter_than_binary_operators() -> None:
    doc = parse_section("section S;\nshared X = -a meta b meta c * d is number;")
    tree = doc.members[0].expression

    def shape(node: nodes.Node) -> object:
        if isinstance(node, nodes.Binary):
            return (node.op, shape(node.left), shape(node.right))
        if isinstance(node, nodes.Unary):
            return (node.op, shape(node.operand))
        return getattr(node, "name", None)

    assert shape(tree) == ("is", ("*", ("meta", ("meta", ("-", "a"), "b"), "c"), "d"), "number")


def test_an_escape_beyond_unicode_stands_as_written() -> None:
    doc = parse_section('section S;\nshared #"a#(FFFFFFFF)" = "#(0010FFFF)#(00110000)";')
    member = doc.members[0]
    assert member.name == "a#(FFFFFFFF)"
    literal = member.expression
    assert isinstance(literal, nodes.Literal)
    assert literal.value == "\U0010ffff#(00110000)"
