"""Ids inside queries (stages ① source and ② render): SectionDocument → the id literals written there.

:func:`field_literals` finds text literals assigned to record fields (``[lakehouseId = "…"]``), which
bindings rewrite. :func:`dataflow_references` follows values derived from a
``PowerPlatform.Dataflows`` (or legacy ``PowerBI.Dataflows``) source through let steps, queries and
navigations, and reports each ``{[workspaceId = "…"]}`` … ``{[dataflowId = "…"]}`` pair: the
dataflows this one reads, as written. Resolving them to this repository's dataflows is
``definition/references.py``'s work.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass

from dataflow_gitops.pipeline.definition.mlang import nodes
from dataflow_gitops.pipeline.definition.mlang.depth import deeply
from dataflow_gitops.pipeline.definition.mlang.document import Member, SectionDocument
from dataflow_gitops.pipeline.definition.mlang.memo import TextMemo
from dataflow_gitops.pipeline.definition.mlang.spelling import members_spelling

DATAFLOW_SOURCES = frozenset({"PowerPlatform.Dataflows", "PowerBI.Dataflows"})


@dataclass(frozen=True, slots=True)
class FieldLiteral:
    """A text literal assigned to a record field; ``span`` covers the literal with its quotes."""

    member: str
    field: str
    value: str
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class RawReference:
    """One dataflow read by ``query``, as the workspace and dataflow id literals written there."""

    query: str
    workspace_id: str
    dataflow_id: str
    workspace_span: tuple[int, int]
    dataflow_span: tuple[int, int]


def _text_literal(node: nodes.Node | None) -> nodes.Literal | None:
    while isinstance(node, nodes.Parenthesized):
        node = node.inner
    return node if isinstance(node, nodes.Literal) and node.kind == "text" else None


_field_literals: TextMemo[tuple[FieldLiteral, ...]] = TextMemo()
_references: TextMemo[tuple[RawReference, ...]] = TextMemo()


def field_literals(doc: SectionDocument, fields: Collection[str]) -> tuple[FieldLiteral, ...]:
    """Every ``[<field> = "<text>"]`` for the given field names, in every member, in source order."""
    wanted = frozenset(fields)
    return _field_literals.get(doc, lambda d: _read_field_literals(d, wanted), wanted)


def _read_field_literals(doc: SectionDocument, wanted: frozenset[str]) -> tuple[FieldLiteral, ...]:
    found: list[FieldLiteral] = []
    # Only a member that spells a wanted field (or could, through a #(…) escape) needs its tree.
    for member in members_spelling(doc, ("#(", *sorted(wanted))):
        roots: list[nodes.Node] = [member.expression]
        if member.attribute is not None:
            roots.insert(0, member.attribute)
        for root in roots:
            for node in root.walk():
                if not isinstance(node, nodes.Record):
                    continue
                for f in node.fields:
                    literal = _text_literal(f.value) if f.name in wanted else None
                    if literal is not None and isinstance(literal.value, str):
                        found.append(FieldLiteral(member.name, f.name, literal.value, literal.span))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class _Flow:
    """Abstract value: derived from a dataflows source, after this workspace navigation (if any)."""

    workspace: nodes.Literal | None = None


# A scope maps a name to (its defining expression, the scope chain it is evaluated in), or to None
# for function parameters, which shadow outer names and carry no flow.
_Scope = dict[str, "tuple[nodes.Node, tuple[_Scope, ...]] | None"]


class _Analysis:
    def __init__(self, doc: SectionDocument) -> None:
        self.members: dict[str, Member] = {m.name: m for m in doc.members}
        self.memo: dict[int, _Flow | None] = {}
        self.active: set[int] = set()
        self.found: dict[tuple[int, int], RawReference] = {}

    def member(self, name: str) -> _Flow | None:
        member = self.members[name]
        return self.cached(member.expression, (), name)

    def cached(self, node: nodes.Node, env: tuple[_Scope, ...], query: str) -> _Flow | None:
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        if key in self.active:
            return None  # a recursive reference: no new flow comes from a cycle
        self.active.add(key)
        try:
            result = self.eval(node, env, query)
        finally:
            self.active.discard(key)
        self.memo[key] = result
        return result

    def lookup(self, name: str, env: tuple[_Scope, ...], query: str) -> _Flow | None:
        for scope in reversed(env):
            if name in scope:
                entry = scope[name]
                return None if entry is None else self.cached(entry[0], entry[1], query)
        return self.member(name) if name in self.members else None

    def eval(self, node: nodes.Node, env: tuple[_Scope, ...], query: str) -> _Flow | None:
        if isinstance(node, nodes.Identifier):
            return self.lookup(node.name, env, query)
        if isinstance(node, nodes.Parenthesized):
            return self.eval(node.inner, env, query)
        if isinstance(node, nodes.Let):
            scope: _Scope = {}
            inner = (*env, scope)
            for binding in node.bindings:
                scope[binding.name] = (binding.value, inner)
            for binding in node.bindings:
                self.cached(binding.value, inner, query)
            return self.eval(node.body, inner, query)
        if isinstance(node, nodes.Function | nodes.Each):
            params: _Scope = {"_": None}
            if isinstance(node, nodes.Function):
                params = {p.name: None for p in node.parameters}
            self.eval(node.body, (*env, params), query)
            return None
        if isinstance(node, nodes.Invoke):
            for child in node.children():
                self.eval(child, env, query)
            target = node.target
            if isinstance(target, nodes.Identifier) and target.name in DATAFLOW_SOURCES:
                return _Flow()
            return None
        if isinstance(node, nodes.ItemAccess):
            return self.navigate(node, env, query)
        if isinstance(node, nodes.FieldAccess):
            return self.eval(node.target, env, query) if node.target is not None else None
        if isinstance(node, nodes.Try):
            flow = self.eval(node.body, env, query)
            for handler in (node.otherwise, node.catch):
                if handler is not None:
                    self.eval(handler, env, query)
            return flow
        for child in node.children():
            self.eval(child, env, query)
        return None

    def navigate(self, node: nodes.ItemAccess, env: tuple[_Scope, ...], query: str) -> _Flow | None:
        flow = self.eval(node.target, env, query)
        self.eval(node.selector, env, query)
        selector = node.selector
        while isinstance(selector, nodes.Parenthesized):
            selector = selector.inner
        if flow is None or not isinstance(selector, nodes.Record):
            return flow
        workspace = _text_literal(selector.get("workspaceId"))
        if workspace is not None:
            flow = _Flow(workspace)
        dataflow = _text_literal(selector.get("dataflowId"))
        if dataflow is not None and flow.workspace is not None:
            self.found.setdefault(
                dataflow.span,
                RawReference(
                    query=query,
                    workspace_id=str(flow.workspace.value),
                    dataflow_id=str(dataflow.value),
                    workspace_span=flow.workspace.span,
                    dataflow_span=dataflow.span,
                ),
            )
        return flow


def dataflow_references(doc: SectionDocument) -> tuple[RawReference, ...]:
    """Every (workspaceId, dataflowId) pair navigated from a dataflows source, in source order.

    A navigation may span let steps and queries (``Source = PowerPlatform.Dataflows([])`` in one
    step, ``Source{[Id = "Workspaces"]}[Data]`` in the next, and so on); ids that are not text
    literals (parameters, variables) are not references this function can report. Once per text.
    """
    return _references.get(doc, _read_references)


def _read_references(doc: SectionDocument) -> tuple[RawReference, ...]:
    if not members_spelling(doc, ("#(", *sorted(DATAFLOW_SOURCES))):
        return ()  # no query names a dataflows source: no query tree needs building
    # The analysis recurses: a generated query thousands of levels deep is read on a large stack.
    return deeply(functools.partial(_analyse, doc))


def _analyse(doc: SectionDocument) -> tuple[RawReference, ...]:
    analysis = _Analysis(doc)
    for name in analysis.members:
        analysis.member(name)
    return tuple(analysis.found[span] for span in sorted(analysis.found))
