"""The syntax tree of single expressions: precedence, postfixes, functions, types, literals."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import pytest

from dataflow_gitops.pipeline.definition.mlang import nodes
from dataflow_gitops.pipeline.definition.mlang.literals import value_of
from dataflow_gitops.pipeline.definition.mlang.tokens import Kind, tokenize

Parse = Callable[[str], nodes.Node]


def shape(node: nodes.Node | None) -> object:
    """A compact nested-tuple picture of a tree, for readable expectations."""
    match node:
        case None:
            return None
        case nodes.Literal(value=value):
            return value
        case nodes.Identifier(name=name, inclusive=inclusive):
            return f"@{name}" if inclusive else name
        case nodes.Binary(op=op, left=left, right=right):
            return (op, shape(left), shape(right))
        case nodes.Unary(op=op, operand=operand):
            return (op, shape(operand))
        case nodes.Parenthesized(inner=inner):
            return ("()", shape(inner))
        case nodes.Invoke(target=target, arguments=args):
            return ("call", shape(target), *[shape(a) for a in args])
        case nodes.ItemAccess(target=target, selector=selector, optional=optional):
            return ("item?" if optional else "item", shape(target), shape(selector))
        case nodes.FieldAccess(target=target, names=names, projection=projection, optional=optional):
            kind = "project" if projection else "field"
            return (kind + ("?" if optional else ""), shape(target), *names)
        case nodes.Record(fields=fields):
            return {f.name: shape(f.value) for f in fields}
        case nodes.ListExpr(items=items):
            return [shape(i) for i in items]
        case nodes.Range(start=start, stop=stop):
            return ("..", shape(start), shape(stop))
        case nodes.Each(body=body):
            return ("each", shape(body))
        case nodes.If(condition=c, then=t, otherwise=o):
            return ("if", shape(c), shape(t), shape(o))
        case nodes.Let(bindings=bindings, body=body):
            return ("let", tuple((b.name, shape(b.value)) for b in bindings), shape(body))
        case nodes.Function(parameters=params, return_type=ret, body=body):
            return ("fn", tuple(shape(p) for p in params), shape(ret), shape(body))
        case nodes.FunctionParameter(name=name, optional=optional, type=type_):
            return ("optional " if optional else "") + name + (f" as {shape(type_)}" if type_ else "")
        case nodes.Try(body=body, otherwise=otherwise, catch=catch):
            return ("try", shape(body), shape(otherwise), shape(catch))
        case nodes.Raise(value=value):
            return ("error", shape(value))
        case nodes.TypeExpr(type=type_):
            return ("type", shape(type_))
        case nodes.PrimitiveType(name=name):
            return name
        case nodes.NullableType(inner=inner):
            return ("nullable", shape(inner))
        case nodes.ListType(item=item):
            return ("list of", shape(item))
        case nodes.TableType(row=row):
            return ("table", shape(row))
        case nodes.RecordType(fields=fields, open=is_open):
            specs = tuple(
                ("optional " if f.optional else "") + f.name + "=" + str(shape(f.type)) for f in fields
            )
            return ("record type", specs, "open" if is_open else "closed")
        case nodes.FunctionType(parameters=params, return_type=ret):
            return ("function type", tuple(shape(p) for p in params), shape(ret))
        case nodes.NotImplementedExpr():
            return "..."
    raise AssertionError(f"no shape for {node!r}")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", ("+", 1, ("*", 2, 3))),
        ("(1 + 2) * 3", ("*", ("()", ("+", 1, 2)), 3)),
        ("1 - 2 - 3", ("-", ("-", 1, 2), 3)),
        ('"a" & "b" & C', ("&", ("&", "a", "b"), "C")),
        ("a = b and c <> d or e", ("or", ("and", ("=", "a", "b"), ("<>", "c", "d")), "e")),
        ("a < b = c >= d", ("=", ("<", "a", "b"), (">=", "c", "d"))),
        ("not a and b", ("and", ("not", "a"), "b")),
        ("- - 1", ("-", ("-", 1))),
        ("x ?? y or z", ("??", "x", ("or", "y", "z"))),
        ("x is nullable number", ("is", "x", ("nullable", "number"))),
        ("x as text", ("as", "x", "text")),
        ("x is null", ("is", "x", "null")),
        ("1 meta [A = 1] meta [B = 2]", ("meta", ("meta", 1, {"A": 1}), {"B": 2})),
        ("1 + 2 meta [A = 1]", ("+", 1, ("meta", 2, {"A": 1}))),
        ("Table.FromRows({})", ("call", "Table.FromRows", [])),
        ("f(1, g(2))(3)", ("call", ("call", "f", 1, ("call", "g", 2)), 3)),
        ('Source{[Id = "x"]}?[Data]?', ("field?", ("item?", "Source", {"Id": "x"}), "Data")),
        ("Source{0}[Data]", ("field", ("item", "Source", 0), "Data")),
        ("[Data]", ("field", None, "Data")),
        ("[Column 1]?", ("field?", None, "Column 1")),
        ("T[[A], [B C]]", ("project", "T", "A", "B C")),
        ("[[A]]?", ("project?", None, "A")),
        ("[]", {}),
        ('[A = 1, #"B c" = [D = {}]]', {"A": 1, "B c": {"D": []}}),
        ("{1..3, 5}", [("..", 1, 3), 5]),
        ("{}", []),
        ("each [A] > 1", ("each", (">", ("field", None, "A"), 1))),
        ("each _ + 1", ("each", ("+", "_", 1))),
        ("@Fact(n - 1)", ("call", "@Fact", ("-", "n", 1))),
        ("if a then b else if c then d else e", ("if", "a", "b", ("if", "c", "d", "e"))),
        ('let a = 1, #"b c" = a in #"b c"', ("let", (("a", 1), ("b c", "a")), "b c")),
        ("let a = let b = 1 in b in a", ("let", (("a", ("let", (("b", 1),), "b")),), "a")),
        ("() => 1", ("fn", (), None, 1)),
        ("(x) => (y) => x", ("fn", ("x",), None, ("fn", ("y",), None, "x"))),
        (
            "(x as number, optional y as nullable text) as text => y",
            ("fn", ("x as number", "optional y as ('nullable', 'text')"), "text", "y"),
        ),
        ("(optional) => optional", ("fn", ("optional",), None, "optional")),
        ("try x otherwise 0", ("try", "x", 0, None)),
        (
            "try x catch (e) => e[Message]",
            ("try", "x", None, ("fn", ("e",), None, ("field", "e", "Message"))),
        ),
        ("try x catch () => null", ("try", "x", None, ("fn", (), None, None))),
        ('error "boom"', ("error", "boom")),
        ('error [Reason = "r"]', ("error", {"Reason": "r"})),
        ("1 + (if a then 1 else 2)", ("+", 1, ("()", ("if", "a", 1, 2)))),
        ("1 + if a then 1 else 2", ("+", 1, ("if", "a", 1, 2))),
        ("type text", ("type", "text")),
        ("type nullable text", ("type", ("nullable", "text"))),
        ("type {number}", ("type", ("list of", "number"))),
        (
            'type table [A = text, #"B b" = Int64.Type]',
            ("type", ("table", ("record type", ("A=text", "B b=Int64.Type"), "closed"))),
        ),
        (
            "type [A = number, optional B, ...]",
            ("type", ("record type", ("A=number", "optional B=None"), "open")),
        ),
        (
            "type function (x as number, optional y as text) as text",
            ("type", ("function type", ("x as number", "optional y as text"), "text")),
        ),
        (
            "(type nullable text) meta [Serialized.Text = true]",
            ("meta", ("()", ("type", ("nullable", "text"))), {"Serialized.Text": True}),
        ),
        ("type any", ("type", "any")),
        ('#table({"A"}, {{1}})', ("call", "#table", ["A"], [[1]])),
        ("#shared", "#shared"),
        ("#sections[Section1]", ("field", "#sections", "Section1")),
        ("...", "..."),
        ("null", None),
        ("true <> false", ("<>", True, False)),
    ],
)
def test_expression_shapes(expr: Parse, source: str, expected: object) -> None:
    assert shape(expr(source)) == expected


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("0xFF", 255),
        ("0X1f", 31),
        ("1.5", 1.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("1.5E-3", 0.0015),
        ("2e+2", 200.0),
        ("#infinity", math.inf),
        ("-7", -7),
        ('"plain"', "plain"),
        ('"say ""hi"""', 'say "hi"'),
        ('"a#(lf)b#(cr,lf)c#(tab)d#(#)(e)"', "a\nb\r\nc\td#(e)"),
        ('"#(00E9)#(0001F600)"', "é\U0001f600"),
        ('"#(notanescape)"', "#(notanescape)"),
        ("true", True),
        ("null", None),
        ("#date(2024, 2, 29)", dt.date(2024, 2, 29)),
        ("#datetime(2024, 1, 2, 3, 4, 5.25)", dt.datetime(2024, 1, 2, 3, 4, 5, 250000)),
        (
            "#datetimezone(2024, 1, 2, 3, 4, 5, -5, -30)",
            dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30))),
        ),
        ("#time(23, 59, 59)", dt.time(23, 59, 59)),
        ("#duration(1, 2, 3, 4)", dt.timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ('#binary("AQID")', b"\x01\x02\x03"),
    ],
)
def test_literal_values(expr: Parse, source: str, value: object) -> None:
    assert value_of(expr(source)) == value


def test_nan_literal(expr: Parse) -> None:
    value = value_of(expr("#nan"))
    assert isinstance(value, float)
    assert math.isnan(value)


def test_spans_cover_exact_source(expr: Parse) -> None:
    text = 'let  a = f( 1 ,2 )  {0}? , b = [ X = "y" ] in  a'
    tree = expr(text)
    assert isinstance(tree, nodes.Let)
    offset = len("section S;\nshared X = ")
    spans = {b.name: b.value.span for b in tree.bindings}
    full = f"section S;\nshared X = {text};"
    assert full[spans["a"][0] : spans["a"][1]] == "f( 1 ,2 )  {0}?"
    assert full[spans["b"][0] : spans["b"][1]] == '[ X = "y" ]'
    assert tree.span == (offset, offset + len(text))


def test_tokens_keep_offsets_lines_and_columns() -> None:
    text = 'section S;\r\n  shared #"A b" = Table.FromRows/* c */(x)..."t""x";'
    tokens = tokenize(text)
    picked = [(t.kind, t.text, t.line, t.column) for t in tokens]
    assert picked[:4] == [
        (Kind.KEYWORD, "section", 1, 1),
        (Kind.IDENTIFIER, "S", 1, 9),
        (Kind.OPERATOR, ";", 1, 10),
        (Kind.KEYWORD, "shared", 2, 3),
    ]
    assert (Kind.QUOTED, '#"A b"', 2, 10) in picked
    assert (Kind.IDENTIFIER, "Table.FromRows", 2, 19) in picked
    assert (Kind.OPERATOR, "...", 2, 43) in picked
    assert (Kind.TEXT, '"t""x"', 2, 46) in picked
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert tokens[-1].kind is Kind.END


def test_lexer_splits_ranges_and_dotted_names() -> None:
    assert [t.text for t in tokenize("{1..2}")][:5] == ["{", "1", "..", "2", "}"]
    assert [t.text for t in tokenize("a..b")][:3] == ["a", "..", "b"]
    # A part after a dot may start with a digit (`x.1`), as the engine and Microsoft's parser read it.
    assert [t.text for t in tokenize("A.B.C.d1 x.1 y .1")][:4] == ["A.B.C.d1", "x.1", "y", ".1"]
    assert [t.kind for t in tokenize("#date #nan")][:2] == [Kind.KEYWORD, Kind.NUMBER]
