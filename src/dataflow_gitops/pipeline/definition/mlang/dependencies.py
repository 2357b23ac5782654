"""Query dependencies (stages ① validate and ④ diff impact): SectionDocument → which queries use which.

A name inside a query refers to another query of the section unless a ``let`` variable, a record
field, a function parameter or ``each``'s ``_`` of the same spelling is in scope there, the way M
resolves names. Removing or renaming a query that others use is a breaking change.
"""

from __future__ import annotations

import functools

from dataflow_gitops.pipeline.definition.mlang import nodes
from dataflow_gitops.pipeline.definition.mlang.depth import deeply
from dataflow_gitops.pipeline.definition.mlang.document import SectionDocument

_Scope = frozenset[str]


def _names(node: nodes.Node, scopes: tuple[_Scope, ...], found: list[str]) -> None:
    if isinstance(node, nodes.Identifier):
        if not any(node.name in scope for scope in scopes):
            found.append(node.name)
        return
    if isinstance(node, nodes.Let):
        inner = (*scopes, frozenset(b.name for b in node.bindings))
        for binding in node.bindings:
            _names(binding.value, inner, found)
        _names(node.body, inner, found)
        return
    if isinstance(node, nodes.Record):
        inner = (*scopes, frozenset(f.name for f in node.fields))
        for f in node.fields:
            _names(f.value, inner, found)
        return
    if isinstance(node, nodes.Function):
        params = frozenset(p.name for p in node.parameters)
        for p in node.parameters:
            if p.type is not None:
                _names(p.type, scopes, found)
        if node.return_type is not None:
            _names(node.return_type, scopes, found)
        _names(node.body, (*scopes, params), found)
        return
    if isinstance(node, nodes.Each):
        _names(node.body, (*scopes, frozenset({"_"})), found)
        return
    for child in node.children():
        _names(child, scopes, found)


def _names_in(expression: nodes.Node) -> list[str]:
    found: list[str] = []
    _names(expression, (), found)
    return found


def query_dependencies(doc: SectionDocument) -> dict[str, tuple[str, ...]]:
    """Query name → the other queries of the section its expression uses, in order of first use.

    ``@Name`` (a query naming itself) is not a dependency; names of library functions
    (``Table.SelectRows``) are not queries and are left out.
    """
    members = {m.name for m in doc.members}
    result: dict[str, tuple[str, ...]] = {}
    for member in doc.members:
        # The walk recurses: a generated query thousands of levels deep is walked on a large stack.
        found = deeply(functools.partial(_names_in, member.expression))
        used = dict.fromkeys(n for n in found if n in members and n != member.name)
        result[member.name] = tuple(used)
    return result
