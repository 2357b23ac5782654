"""Property tests for the emulator's own M section checker: generated well-formed documents parse
to their members; dropping a closing bracket or a terminating quote always fails."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fabric_emulator.mashup import MashupSyntaxError, parse_section

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: n not in {"shared", "section", "meta", "let", "in", "type"}
)
STRINGS = st.text(alphabet='ab;()[]{}/*" ', max_size=8).map(lambda t: '"' + t.replace('"', '""') + '"')
ATOMS = st.one_of(
    STRINGS, st.integers(0, 999).map(str), NAMES, st.just("// c ; ) \n 1"), st.just("/* ; ] */ 2")
)


def _expr(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    wrap = st.sampled_from(["({})", "[a = {}]", "{{{}}}", "let x = {} in x", "f({}, 1)"])
    return st.tuples(wrap, children).map(lambda p: p[0].format(p[1]))


EXPRESSIONS = st.recursive(ATOMS, _expr, max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(members=st.lists(st.tuples(NAMES, EXPRESSIONS), min_size=1, max_size=5, unique_by=lambda m: m[0]))
def test_generated_documents_parse_and_breaking_them_fails(members) -> None:
    body = "".join(f"shared {name} = {expr};\n" for name, expr in members)
    text = "section Section1;\n" + body
    assert [m.name for m in parse_section(text).members] == [name for name, _ in members]
    last = max(text.rfind(")"), text.rfind("]"), text.rfind("}"))
    if last > 0 and "//" not in text and "/*" not in text and '"' not in text:
        with pytest.raises(MashupSyntaxError):
            parse_section(text[:last] + text[last + 1 :])
    quote = text.rfind('"')
    if quote > 0:  # without its closing quote the last string never ends
        with pytest.raises(MashupSyntaxError):
            parse_section(text[:quote] + text[quote + 1 :])


# The emulator may not import dataflow_gitops (tests/test_architecture.py), so its tokenizer is its
# own; this keeps it reading M as the product's M reader does: the same tokens, or both refusing.
PIECES = st.sampled_from(
    [
        "section",
        "Section1",
        ";",
        "shared",
        "Q",
        "=",
        "09",
        "0x1F",
        "1e5",
        ".5",
        "1.",
        "#date",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ",",
        "..",
        "...",
        "=>",
        "<>",
        "??",
        "?",
        "@",
        "/",
        "*",
        "-",
        "+",
        "&",
        "meta",
        '"t"',
        '""',
        '"',
        '#"q r"',
        "#",
        "#bogus",
        "#infinity",
        "//c\n",
        "/*x*/",
        "/*",
        "\r\n",
        "\u2028",
        "\x85",
        "\ufeff",
        "²",
        "é",
        "Table.FromRows",
        "a.1",
        "_x",
        "$",
        "!",
        "'",
        " ",
        "\t",
    ]
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.lists(PIECES, max_size=30).map("".join), st.text(max_size=40)))
@example(text="#date\ufeff")  # a known word followed by a format character is another word
def test_the_emulator_tokenizes_as_the_m_reader_does(text: str) -> None:
    from dataflow_gitops.errors import MSyntaxError
    from dataflow_gitops.pipeline.definition.mlang.tokens import tokenize as reader_tokenize
    from fabric_emulator.mashup import tokenize

    try:
        expected: list[str] | None = [t for t in reader_tokenize(text).texts if t]
    except MSyntaxError:
        expected = None
    try:
        got: list[str] | None = [t.text for t in tokenize(text)]
    except MashupSyntaxError:
        got = None
    assert got == expected
