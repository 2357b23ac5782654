"""Query parameters (stage ② render): SectionDocument → its parameters, and typed value rewrites.

A parameter is a member ``Name = <literal> meta [IsParameterQuery = true, Type = type text, …]``
(Power Query Online) or ``… meta [IsParameterQuery=true, Type="Text", …]`` (Power BI Desktop).
Setting one replaces only the literal before ``meta``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dataflow_gitops.pipeline.definition.mlang import nodes
from dataflow_gitops.pipeline.definition.mlang.document import Member, SectionDocument
from dataflow_gitops.pipeline.definition.mlang.edits import apply_edits
from dataflow_gitops.pipeline.definition.mlang.literals import (
    TYPE_NAMES,
    NotALiteral,
    format_literal,
    type_of_value,
    value_of,
)
from dataflow_gitops.pipeline.definition.mlang.memo import TextMemo
from dataflow_gitops.pipeline.definition.mlang.spelling import members_spelling

# Power BI Desktop writes the type as display text.
_DESKTOP_TYPES = {
    "text": "text",
    "number": "number",
    "decimal number": "number",
    "whole number": "number",
    "logical": "logical",
    "true/false": "logical",
    "date": "date",
    "datetime": "datetime",
    "date/time": "datetime",
    "datetimezone": "datetimezone",
    "date/time/timezone": "datetimezone",
    "time": "time",
    "duration": "duration",
    "binary": "binary",
    "any": "any",
}


@dataclass(frozen=True, slots=True)
class Parameter:
    """A query parameter with a literal value; ``span`` locates the literal in the document text."""

    name: str
    value: object
    literal_text: str
    type_name: str
    required: bool
    span: tuple[int, int]


def _unwrap(node: nodes.Node) -> nodes.Node:
    while isinstance(node, nodes.Parenthesized):
        node = node.inner
    return node


def _parameter_shape(member: Member) -> tuple[nodes.Node, nodes.Record] | None:
    """(value expression, meta record) when ``member`` is a parameter query."""
    node = _unwrap(member.expression)
    meta: list[nodes.Record] = []
    while isinstance(node, nodes.Binary) and node.op == "meta":
        right = _unwrap(node.right)
        if isinstance(right, nodes.Record):
            meta.append(right)
        node = _unwrap(node.left)
    for record in meta:
        flag = record.get("IsParameterQuery")
        if isinstance(flag, nodes.Literal) and flag.value is True:
            return node, record
    return None


def _type_name(record: nodes.Record, value: object) -> str:
    declared = record.get("Type")
    if isinstance(declared, nodes.TypeExpr):
        inner = declared.type
        while isinstance(inner, nodes.NullableType):
            inner = inner.inner
        if isinstance(inner, nodes.PrimitiveType) and inner.name in TYPE_NAMES:
            return inner.name
        return "any"
    if isinstance(declared, nodes.Literal) and isinstance(declared.value, str):
        return _DESKTOP_TYPES.get(declared.value.strip().lower(), "any")
    return type_of_value(value) if value is not None else "any"


def _iter(doc: SectionDocument) -> Iterator[tuple[Member, nodes.Node, nodes.Record]]:
    # Only a member that spells the flag (or could, through a #(…) escape) needs its tree.
    for member in members_spelling(doc, ("IsParameterQuery", "#(")):
        shape = _parameter_shape(member)
        if shape is not None:
            yield member, shape[0], shape[1]


_parameters: TextMemo[tuple[Parameter, ...]] = TextMemo()


def parameters(doc: SectionDocument) -> tuple[Parameter, ...]:
    """Every parameter query whose value is a literal, in document order (once per text)."""
    return _parameters.get(doc, _read_parameters)


def _read_parameters(doc: SectionDocument) -> tuple[Parameter, ...]:
    found = []
    for member, value_node, record in _iter(doc):
        try:
            value = value_of(value_node)
        except NotALiteral:
            continue  # computed parameters (e.g. Variable.ValueOrDefault(...)) have no literal to set
        required = record.get("IsParameterQueryRequired")
        found.append(
            Parameter(
                name=member.name,
                value=value,
                literal_text=doc.text[value_node.span[0] : value_node.span[1]],
                type_name=_type_name(record, value),
                required=isinstance(required, nodes.Literal) and required.value is True,
                span=value_node.span,
            )
        )
    return tuple(found)


def set_parameter(doc: SectionDocument, name: str, value: object) -> str:
    """The document text with parameter ``name`` set to ``value``; only its literal changes.

    ``KeyError`` if there is no such parameter; ``ValueError`` if the value does not fit the
    parameter's type or the parameter is computed rather than a literal.
    """
    for parameter in parameters(doc):
        if parameter.name == name:
            literal = format_literal(value, parameter.type_name)
            return apply_edits(doc.text, [(parameter.span, literal)])
    if any(member.name == name for member, _, _ in _iter(doc)):
        raise ValueError(f"parameter {name!r} is computed, not a literal value, so it cannot be set")
    raise KeyError(name)
