"""M syntax tree (stage ① source, mashup.pq reader): the node types the parser builds.

Every node keeps ``span``, its ``(start, end)`` offsets in the document text, so a reader can cut the
exact source of any expression and an edit can replace exactly one literal. Nodes carry no
printing logic: the document is printed from its original text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Node:
    span: Span

    def children(self) -> Iterator[Node]:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                yield from (v for v in value if isinstance(v, Node))

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, depth first, in source order."""
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(frozen=True, slots=True)
class Literal(Node):
    kind: str  # "text" | "number" | "logical" | "null"
    value: object
    text: str


@dataclass(frozen=True, slots=True)
class Identifier(Node):
    name: str  # unquoted: 'Sales Orders' for #"Sales Orders"; '#date' for the #-keywords
    quoted: bool = False
    inclusive: bool = False  # `@name`


@dataclass(frozen=True, slots=True)
class Field(Node):
    """``name = value`` in a record literal or a let expression."""

    name: str
    name_span: Span
    value: Node


@dataclass(frozen=True, slots=True)
class Record(Node):
    fields: tuple[Field, ...]

    def get(self, name: str) -> Node | None:
        return next((f.value for f in self.fields if f.name == name), None)


@dataclass(frozen=True, slots=True)
class ListExpr(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Range(Node):
    """``a..b`` inside a list literal."""

    start: Node
    stop: Node


@dataclass(frozen=True, slots=True)
class Let(Node):
    bindings: tuple[Field, ...]
    body: Node


@dataclass(frozen=True, slots=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Each(Node):
    body: Node


@dataclass(frozen=True, slots=True)
class FunctionParameter(Node):
    name: str
    optional: bool
    type: Node | None


@dataclass(frozen=True, slots=True)
class Function(Node):
    parameters: tuple[FunctionParameter, ...]
    return_type: Node | None
    body: Node


@dataclass(frozen=True, slots=True)
class Try(Node):
    body: Node
    otherwise: Node | None  # `otherwise <expr>`
    catch: Node | None  # `catch (e) => <expr>`


@dataclass(frozen=True, slots=True)
class Raise(Node):
    """``error <expr>``."""

    value: Node


@dataclass(frozen=True, slots=True)
class Invoke(Node):
    target: Node
    arguments: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class ItemAccess(Node):
    """``target{selector}`` or ``target{selector}?``."""

    target: Node
    selector: Node
    optional: bool


@dataclass(frozen=True, slots=True)
class FieldAccess(Node):
    """``target[Name]``, ``[Name]`` (implicit target, inside ``each``), or ``[[A],[B]]`` projection."""

    target: Node | None
    names: tuple[str, ...]
    projection: bool
    optional: bool


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "+", "-", "not"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # "meta", "and", "or", "??", "is", "as", "=", "<>", "<", "&", "+", ...
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Parenthesized(Node):
    inner: Node


@dataclass(frozen=True, slots=True)
class NotImplementedExpr(Node):
    """``...``."""


@dataclass(frozen=True, slots=True)
class TypeExpr(Node):
    """``type <type>``."""

    type: Node


@dataclass(frozen=True, slots=True)
class PrimitiveType(Node):
    name: str  # "text", "number", "any", ...


@dataclass(frozen=True, slots=True)
class NullableType(Node):
    inner: Node


@dataclass(frozen=True, slots=True)
class ListType(Node):
    item: Node


@dataclass(frozen=True, slots=True)
class FieldSpec(Node):
    name: str
    optional: bool
    type: Node | None


@dataclass(frozen=True, slots=True)
class RecordType(Node):
    fields: tuple[FieldSpec, ...]
    open: bool


@dataclass(frozen=True, slots=True)
class TableType(Node):
    row: Node


@dataclass(frozen=True, slots=True)
class FunctionType(Node):
    parameters: tuple[FunctionParameter, ...]
    return_type: Node
