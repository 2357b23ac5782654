"""M syntax tree (stage ① source, mashup.pq reader): the node types the parser builds.

Every node keeps ``span``, its ``(start, end)`` offsets in the document text, so a reader can cut the
exact source of any expression and an edit can replace exactly one literal. Nodes carry no
printing logic: the document is printed from its original text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Protocol, TypeVar, cast

Span = tuple[int, int]
_N = TypeVar("_N")


def _fast_init(cls: type[_N]) -> type[_N]:
    """Give a frozen slotted dataclass an ``__init__`` that stores through its slot descriptors.

    The parser builds thousands of nodes per document, and a frozen dataclass's own ``__init__``
    goes through ``object.__setattr__`` by name for every field (about 1.7 times slower). Same
    signature, defaults and keywords; the class stays frozen (assignment still raises).
    """
    namespace: dict[str, object] = {}
    params, body = [], []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        namespace[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        body.append(f"    _set_{f.name}(self, {f.name})")
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body), namespace)
    init: Callable[..., None] = namespace["__init__"]  # type: ignore[assignment]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    type.__setattr__(cls, "__init__", init)
    return cls


@dataclass(frozen=True, slots=True)
class Node:
    span: Span

    def children(self) -> Iterator[Node]:
        for name in _node_fields(type(self)):
            value = getattr(self, name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                yield from (v for v in value if isinstance(v, Node))

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, depth first, in source order."""
        # An explicit stack, not nested generators: a tree thousands of levels deep (generated
        # else-if chains) must not reach the recursion limit.
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))


# Fields that never hold a node: the walk skips them (dataclasses.fields per node was most of
# the cost of a tree walk).
_PLAIN_FIELDS = frozenset(
    ("span", "name", "name_span", "kind", "text", "quoted", "inclusive", "op", "optional",
     "projection", "names", "open", "section")
)  # fmt: skip


_NODE_FIELDS: dict[type, tuple[str, ...]] = {}


def _node_fields(cls: type[Node]) -> tuple[str, ...]:
    found = _NODE_FIELDS.get(cls)
    if found is None:
        found = tuple(f.name for f in dataclasses.fields(cls) if f.name not in _PLAIN_FIELDS)
        _NODE_FIELDS[cls] = found
    return found


@_fast_init
@dataclass(frozen=True, slots=True)
class Literal(Node):
    kind: str  # "text" | "number" | "logical" | "null"
    value: object
    text: str


@_fast_init
@dataclass(frozen=True, slots=True)
class Identifier(Node):
    name: str  # unquoted: 'Sales Orders' for #"Sales Orders"; '#date' for the #-keywords
    quoted: bool = False
    inclusive: bool = False  # `@name`


@_fast_init
@dataclass(frozen=True, slots=True)
class SectionAccess(Node):
    """``Section1!Name``: member ``name`` of section ``section``."""

    section: str
    name: str


@_fast_init
@dataclass(frozen=True, slots=True)
class Field(Node):
    """``name = value`` in a record literal or a let expression."""

    name: str
    name_span: Span
    value: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class Record(Node):
    fields: tuple[Field, ...]

    def get(self, name: str) -> Node | None:
        return next((f.value for f in self.fields if f.name == name), None)


@_fast_init
@dataclass(frozen=True, slots=True)
class ListExpr(Node):
    items: tuple[Node, ...]


@_fast_init
@dataclass(frozen=True, slots=True)
class Range(Node):
    """``a..b`` inside a list literal."""

    start: Node
    stop: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class Let(Node):
    bindings: tuple[Field, ...]
    body: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class Each(Node):
    body: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class FunctionParameter(Node):
    name: str
    optional: bool
    type: Node | None


@_fast_init
@dataclass(frozen=True, slots=True)
class Function(Node):
    parameters: tuple[FunctionParameter, ...]
    return_type: Node | None
    body: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class Try(Node):
    body: Node
    otherwise: Node | None  # `otherwise <expr>`
    catch: Node | None  # `catch (e) => <expr>`


@_fast_init
@dataclass(frozen=True, slots=True)
class Raise(Node):
    """``error <expr>``."""

    value: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class Invoke(Node):
    target: Node
    arguments: tuple[Node, ...]


@_fast_init
@dataclass(frozen=True, slots=True)
class ItemAccess(Node):
    """``target{selector}`` or ``target{selector}?``."""

    target: Node
    selector: Node
    optional: bool


@_fast_init
@dataclass(frozen=True, slots=True)
class FieldAccess(Node):
    """``target[Name]``, ``[Name]`` (implicit target, inside ``each``), or ``[[A],[B]]`` projection."""

    target: Node | None
    names: tuple[str, ...]
    projection: bool
    optional: bool


@_fast_init
@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "+", "-", "not"
    operand: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # "meta", "and", "or", "??", "is", "as", "=", "<>", "<", "&", "+", ...
    left: Node
    right: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class Parenthesized(Node):
    inner: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class NotImplementedExpr(Node):
    """``...``."""


@_fast_init
@dataclass(frozen=True, slots=True)
class TypeExpr(Node):
    """``type <type>``."""

    type: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class PrimitiveType(Node):
    name: str  # "text", "number", "any", ...


@_fast_init
@dataclass(frozen=True, slots=True)
class NullableType(Node):
    inner: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class ListType(Node):
    item: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class FieldSpec(Node):
    name: str
    optional: bool
    type: Node | None


@_fast_init
@dataclass(frozen=True, slots=True)
class RecordType(Node):
    fields: tuple[FieldSpec, ...]
    open: bool


@_fast_init
@dataclass(frozen=True, slots=True)
class TableType(Node):
    row: Node


@_fast_init
@dataclass(frozen=True, slots=True)
class FunctionType(Node):
    parameters: tuple[FunctionParameter, ...]
    return_type: Node


class Builders(Protocol):
    """The node constructors the parser calls: this module (trees) or :data:`SPANS_ONLY`."""

    Binary: type[Binary]
    Each: type[Each]
    Field: type[Field]
    FieldAccess: type[FieldAccess]
    FieldSpec: type[FieldSpec]
    Function: type[Function]
    FunctionParameter: type[FunctionParameter]
    FunctionType: type[FunctionType]
    Identifier: type[Identifier]
    If: type[If]
    Invoke: type[Invoke]
    ItemAccess: type[ItemAccess]
    Let: type[Let]
    ListExpr: type[ListExpr]
    ListType: type[ListType]
    Literal: type[Literal]
    NotImplementedExpr: type[NotImplementedExpr]
    NullableType: type[NullableType]
    Parenthesized: type[Parenthesized]
    PrimitiveType: type[PrimitiveType]
    Raise: type[Raise]
    Range: type[Range]
    Record: type[Record]
    SectionAccess: type[SectionAccess]
    RecordType: type[RecordType]
    TableType: type[TableType]
    Try: type[Try]
    TypeExpr: type[TypeExpr]
    Unary: type[Unary]


class _Spanned:
    """What every constructor of :data:`SPANS_ONLY` builds: the span, and nothing else."""

    __slots__ = ("span",)

    def __init__(self, span: Span, *_fields: object, **_named: object) -> None:
        self.span = span


# Constructors that keep only the span, for a parser that reads where expressions end.
SPANS_ONLY = cast(Builders, SimpleNamespace(**dict.fromkeys(Builders.__annotations__, _Spanned)))
