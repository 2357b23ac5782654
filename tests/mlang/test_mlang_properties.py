"""Property tests: generated section documents print back byte for byte; parameter rewrites and
literal formatting round-trip through the parser."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataflow_gitops.pipeline.definition.mlang import (
    format_literal,
    parameters,
    parse_section,
    set_parameter,
    split_queries,
)
from dataflow_gitops.pipeline.definition.mlang import tokens as tokens_module
from dataflow_gitops.pipeline.definition.mlang.literals import quote_text
from dataflow_gitops.pipeline.definition.mlang.tokens import KEYWORDS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Separators always start with whitespace, so that generated tokens never fuse (`x` `and` → `xand`,
# `/` `/* c */` → a line comment); `TIGHT` may also be empty, next to punctuation.
SEPARATORS = [
    " ",
    "  ",
    "\n",
    "\r\n",
    "\t",
    " /* c */ ",
    " // line comment\n",
    "\n/* multi\n   line */\n",
    " /**/",
    "\n\n    ",
]
sep = st.sampled_from(SEPARATORS)
tight = st.sampled_from(["", *SEPARATORS])

plain_name = st.from_regex(
    r"[A-Za-z_][A-Za-z0-9_]{0,6}(\.[A-Za-z][A-Za-z0-9]{0,4})?", fullmatch=True
).filter(lambda s: s not in KEYWORDS)
quoted_body = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


def quote(body: str, prefix: str = "") -> str:
    return prefix + '"' + body.replace('"', '""') + '"'


# (as written, as the parser must read it): quoted names may hold quotes and #(…) escapes.
name_pair = st.one_of(
    plain_name.map(lambda n: (n, n)),
    quoted_body.map(lambda b: ("#" + quote_text(b), b)),
)
name = name_pair.map(lambda pair: pair[0])
field_name = st.one_of(
    plain_name,
    quoted_body.map(lambda b: "#" + quote_text(b)),
    st.sampled_from(["Column 1", "Kind", "Settings", "type", "Item Kind 2"]),
)
text_literal = quoted_body.map(quote)
number_literal = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(str),
    st.sampled_from(["1.5", "0.25", "0xFF", "1e10", "2.5E-3", "#infinity", "#nan"]),
)
atom = st.one_of(
    number_literal,
    text_literal,
    name,
    st.sampled_from(
        [
            "true",
            "false",
            "null",
            "_",
            "[Data]",
            "@Self",
            "#date(2024, 1, 1)",
            "...",
            "#shared",
            "[Column 1]?",
        ]
    ),
)
primitive = st.sampled_from(["text", "number", "any", "logical", "date", "table", "list", "null"])


@st.composite
def type_expr(draw: st.DrawFn) -> str:
    s, t = draw(sep), draw(tight)
    kind = draw(st.integers(0, 5))
    p = draw(primitive)
    if kind == 0:
        return f"type{s}{p}"
    if kind == 1:
        return f"type{s}nullable{s}{p}"
    if kind == 2:
        return f"type{t}{{{t}{p}{t}}}"
    if kind == 3:
        return f"type{s}table{t}[{t}{draw(field_name)}{t}={t}{p}{t},{t}B{t}={t}Int64.Type{t}]"
    if kind == 4:
        return f"type{s}function{t}(x{s}as{s}{p}){s}as{s}{p}"
    return f"type{t}[A{t}={t}{p},{s}optional B,{t}...{t}]"


def compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        a, b, c = draw(children), draw(children), draw(children)
        s, t = draw(sep), draw(tight)
        kind = draw(st.integers(0, 17))
        if kind == 0:
            fields = draw(
                st.lists(st.tuples(field_name, children), max_size=3, unique_by=lambda f: f[0])
            )
            return f"[{t}" + f"{t},{t}".join(f"{n}{t}={t}{v}" for n, v in fields) + f"{t}]"
        if kind == 1:
            return f"{{{t}{a}{t},{t}{b}{s}..{s}{c}{t}}}"
        if kind == 2:
            return f"{draw(name)}{t}({t}{a}{t},{t}{b}{t})"
        if kind == 3:
            op = draw(
                st.sampled_from(
                    ["+", "-", "*", "/", "&", "=", "<>", "<", ">=", "??", "and", "or", "meta"]
                )
            )
            return f"{a}{s}{op}{s}{b}"
        if kind == 4:
            return f"let{s}{draw(name)}{t}={t}{a}{t},{s}{draw(name)}{t}={t}{b}{s}in{s}{c}"
        if kind == 5:
            return f"if{s}{a}{s}then{s}{b}{s}else{s}{c}"
        if kind == 6:
            return f"each{s}{a}"
        if kind == 7:
            return f"({t}x{s}as{s}number,{s}optional y{t}){s}as{s}text{t}=>{t}{a}"
        if kind == 8:
            return f"try{s}{a}{s}otherwise{s}{b}"
        if kind == 9:
            return f"try{s}{a}{s}catch{t}({t}e{t}){t}=>{t}{b}"
        if kind == 10:
            return f"({t}{a}{t}){t}{{{t}{b}{t}}}" + draw(st.sampled_from(["", "?"]))
        if kind == 11:
            return f"({t}{a}{t}){t}[{draw(field_name)}]" + draw(st.sampled_from(["", "?"]))
        if kind == 12:
            return f"not{s}{a}"
        if kind == 13:
            return f"-{t}{a}"
        if kind == 14:
            return f"error{s}{a}"
        if kind == 15:
            return f"({t}{a}{s}is{s}nullable{s}number{t})"
        if kind == 16:
            return f"({t}{a}{t}){s}meta{s}[IsParameterQuery{t}={t}true]"
        return draw(type_expr())

    return build()


expression = st.recursive(atom, compound, max_leaves=12)


@st.composite
def document(draw: st.DrawFn) -> tuple[str, list[tuple[str, str | None, str]]]:
    """A section document and, per member, (name, attribute text, expression text)."""
    s, t = draw(sep), draw(tight)
    parts = [draw(st.sampled_from(["", "\ufeff", "// header\n", "/* h */ ", "\n"]))]
    if draw(st.booleans()):
        parts.append(f'[StagingDefinition{t}={t}[Kind{t}={t}"FastCopy"]]{s}')
    parts.append(f"section{s}Section1{t};")
    members = []
    names = draw(st.lists(name_pair, max_size=5, unique_by=lambda pair: pair[1]))
    for raw, decoded in names:
        attribute = draw(
            st.one_of(
                st.none(),
                st.sampled_from(
                    [
                        '[DataDestinations = {[Definition = [Kind = "Reference", QueryName = "Q"]]}]',
                        '[ItemType="MDF"]',
                        "[]",
                        "[ /* c */ Description = null ]",
                    ]
                ),
            )
        )
        body = draw(expression)
        shared = draw(st.booleans())
        parts.append(draw(sep))
        if attribute:
            parts.append(attribute + draw(sep))
        parts.append(("shared" + draw(sep) if shared else "") + raw + f"{draw(tight)}={draw(tight)}")
        parts.append(body + draw(tight) + ";")
        members.append((decoded, attribute, body))
    parts.append(draw(st.sampled_from(["", "\n", " // end", "\n/* end */\n"])))
    return "".join(parts), members


@SETTINGS
@given(document())
def test_parse_then_print_is_identity(generated: tuple[str, list[tuple[str, str | None, str]]]) -> None:
    text, members = generated
    doc = parse_section(text)
    assert doc.print() == text
    assert [m.name for m in doc.members] == [decoded for decoded, _, _ in members]
    for member, (_, attribute, body) in zip(doc.members, members, strict=True):
        assert member.expression_text == body
        assert member.attribute_text == attribute
        assert text[member.start : member.end] == member.source
    # split_queries (the per-query diff) loses nothing after the header: comments included.
    queries = split_queries(doc)
    if doc.members:
        assert "".join(queries.values()) == text[doc.body_start :]
        assert all(queries[m.name].count(m.source) >= 1 for m in doc.members)
    assert text[: doc.body_start].rstrip().endswith(";")


# -- typed values --------------------------------------------------------------------------------

fixed_zone = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
text_value = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
typed_values = st.one_of(
    st.tuples(st.just("text"), text_value),
    st.tuples(st.just("number"), st.integers(min_value=-(10**30), max_value=10**30)),
    st.tuples(st.just("number"), st.floats(allow_nan=False)),
    st.tuples(st.just("logical"), st.booleans()),
    st.tuples(st.just("date"), st.dates()),
    st.tuples(st.just("datetime"), st.datetimes()),
    st.tuples(st.just("datetimezone"), st.datetimes(timezones=fixed_zone)),
    st.tuples(st.just("time"), st.times()),
    st.tuples(
        st.just("duration"),
        st.timedeltas(min_value=dt.timedelta(days=-(10**6)), max_value=dt.timedelta(days=10**6)),
    ),
    st.tuples(st.just("binary"), st.binary(max_size=20)),
)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    return a == b


@SETTINGS
@given(typed_values)
def test_format_literal_parses_back_to_the_value(typed: tuple[str, object]) -> None:
    type_name, value = typed
    literal = format_literal(value, type_name)
    text = f"section S;\nshared P = {literal} meta [IsParameterQuery = true, Type = type {type_name}];"
    (found,) = parameters(parse_section(text))
    assert found.literal_text == literal
    assert found.type_name == type_name
    assert _same(found.value, value), (literal, found.value, value)


@SETTINGS
@given(document(), typed_values, st.integers(min_value=0, max_value=5))
def test_set_parameter_changes_exactly_the_literal(
    generated: tuple[str, list[tuple[str, str | None, str]]], typed: tuple[str, object], at: int
) -> None:
    text, members = generated
    type_name, value = typed
    # Put a parameter among the generated members (after the section header or another member).
    doc = parse_section(text)
    cut = doc.members[min(at, len(doc.members) - 1)].end if doc.members else len(text)
    if not doc.members:
        text += "\n"
        cut = len(text)
    old = format_literal("old", "text") if type_name == "text" else "null"
    declared = f"\nshared Param__ = {old} meta [IsParameterQuery = true, Type = type {type_name}];"
    text = text[:cut] + declared + text[cut:]
    doc = parse_section(text)
    (param,) = [p for p in parameters(doc) if p.name == "Param__"]
    new_text = set_parameter(doc, "Param__", value)
    literal = format_literal(value, type_name)
    assert new_text == text[: param.span[0]] + literal + text[param.span[1] :]
    again = parse_section(new_text)
    (after,) = [p for p in parameters(again) if p.name == "Param__"]
    assert _same(after.value, value)
    assert [m.source for m in again.members if m.name != "Param__"] == [
        m.source for m in doc.members if m.name != "Param__"
    ]


def _slow_tokens(text: str) -> list[tuple[object, ...]]:
    lexer = tokens_module._Lexer(text, "mashup.pq")
    n = len(text)
    while lexer.pos < n:
        lexer.slow()
    return [(t.kind, t.text, t.start, t.line, t.column) for t in lexer.tokens]


@SETTINGS
@given(document())
def test_fast_lexer_path_agrees_with_the_character_path(
    generated: tuple[str, list[tuple[str, str | None, str]]],
) -> None:
    text, _ = generated
    fast = [(t.kind, t.text, t.start, t.line, t.column) for t in tokens_module.tokenize(text)][:-1]
    assert fast == _slow_tokens(text)


@pytest.mark.parametrize(
    "text",
    ['"a""b" #"x""y" 1.5e3 0x1F .5 a..b A.B.c ... // c\n/* d */ é́x Ünïcode', "x /* c *//y"],
)
def test_fast_lexer_path_agrees_on_tricky_text(text: str) -> None:
    fast = [(t.kind, t.text, t.start, t.line, t.column) for t in tokens_module.tokenize(text)][:-1]
    assert fast == _slow_tokens(text)
