"""Unknown names (stage ① source, ``dfg validate``): SectionDocument → names nothing defines.

A name in a query resolves, innermost first, to a function parameter (``_`` inside ``each``), a
``let`` step, a field of a record literal it stands in (``[a = 1, b = a + 1]``), a query of the
section (parameters are queries too), or a standard-library function, enumeration or type
(``data/library.txt``, from Microsoft's M reference; ``data/engine.txt``, what the engine defines
beyond it; ``data/connectors.txt``, Fabric connectors).
Anything else is reported with the closest defined name: ``>= MinimumAmnt`` → did you mean
``MinimumAmount``? ``[Field]`` is a field access, not a name; ``#shared``, ``#date``… and
``Section1!Name`` are not looked up.

The walk keeps its own stack (a generated query can nest thousands of levels). It builds every
query's syntax tree, which costs more than reading the document; the answer depends on the text
alone, so it is kept on the document (:mod:`.memo`) and, as plain values (:func:`plain`,
:func:`from_plain`), in the persistent read cache (``adapters/read_store.py``).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from dataflow_gitops.pipeline.definition.mlang import nodes
from dataflow_gitops.pipeline.definition.mlang.document import SectionDocument
from dataflow_gitops.pipeline.definition.mlang.memo import TextMemo
from dataflow_gitops.pipeline.definition.mlang.tokens import Positions

# The name lists (package data; each file's header names its source).
LIBRARY_FILES = ("library.txt", "engine.txt", "connectors.txt")
_Scope = tuple[frozenset[str], ...]
_EACH = frozenset({"_"})


@dataclass(frozen=True, slots=True)
class UnknownName:
    query: str
    name: str
    line: int
    column: int
    suggestion: str | None

    def message(self, path: str) -> str:
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        return (
            f"{path}:{self.line}:{self.column}: query {self.query!r} uses {self.name!r}, which no "
            f"query, parameter, step, field, function parameter or library function defines{hint}"
        )


@functools.cache
def library_names() -> frozenset[str]:
    """The standard-library and connector names (package data; see the files' headers)."""
    names: set[str] = set()
    folder = resources.files("dataflow_gitops.pipeline.definition.mlang").joinpath("data")
    for file in LIBRARY_FILES:
        for line in folder.joinpath(file).read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                names.add(line.strip())
    return frozenset(names)


_found: TextMemo[tuple[UnknownName, ...]] = TextMemo()


def unknown_names(doc: SectionDocument) -> tuple[UnknownName, ...]:
    """Every use of a name nothing defines, in document order, with a did-you-mean (computed once
    per document text: see :func:`keep`)."""
    return _found.get(doc, find_unknown_names)


def known(doc: SectionDocument) -> tuple[UnknownName, ...] | None:
    """What :func:`unknown_names` already holds for ``doc``, without computing it."""
    return _found.peek(doc)


def keep(doc: SectionDocument, found: tuple[UnknownName, ...]) -> None:
    """Give ``doc`` the answer of :func:`unknown_names` found for its text elsewhere (the read
    cache, a worker process), so that it is not computed again."""
    _found.keep(doc, found)


def plain(found: tuple[UnknownName, ...]) -> list[list[object]]:
    """``found`` as JSON values, for the read cache and worker processes."""
    return [[u.query, u.name, u.line, u.column, u.suggestion] for u in found]


def from_plain(data: object) -> tuple[UnknownName, ...] | None:
    """:func:`plain`'s output back, or None when ``data`` is not such output (a damaged entry)."""
    if not isinstance(data, list):
        return None
    found: list[UnknownName] = []
    for row in data:
        if not (isinstance(row, list) and len(row) == 5):
            return None
        query, name, line, column, suggestion = row
        if not (
            isinstance(query, str)
            and isinstance(name, str)
            and type(line) is int
            and type(column) is int
            and (suggestion is None or isinstance(suggestion, str))
        ):
            return None
        found.append(UnknownName(query, name, line, column, suggestion))
    return tuple(found)


def find_unknown_names(doc: SectionDocument) -> tuple[UnknownName, ...]:
    """:func:`unknown_names` without the memo: walk every query's syntax tree now."""
    members = frozenset(m.name for m in doc.members)
    library = library_names()
    positions = Positions(doc.text)
    found: list[UnknownName] = []
    for member in doc.members:
        for node, scope in _uses(member.expression, (members,)):
            name = node.name
            if name in library or any(name in names for names in scope):
                continue
            line, column = positions.at(node.span[0])
            found.append(UnknownName(member.name, name, line, column, _closest(name, scope, library)))
    return tuple(found)


def _closest(name: str, scope: _Scope, library: frozenset[str]) -> str | None:
    visible = sorted({n for names in scope for n in names})
    close = difflib.get_close_matches(name, visible, n=1, cutoff=0.75)
    if not close:
        close = difflib.get_close_matches(name, sorted(library), n=1, cutoff=0.75)
    return close[0] if close else None


# Nodes with no node below them: most of a query's nodes, skipped without asking for children.
_LEAVES = frozenset({nodes.Literal, nodes.SectionAccess, nodes.PrimitiveType, nodes.NotImplementedExpr})


def _uses(root: nodes.Node, scope: _Scope) -> Iterator[tuple[nodes.Identifier, _Scope]]:
    """Each identifier that names something, with the names visible where it stands, in source
    order (what is pushed last is walked first)."""
    stack: list[tuple[nodes.Node, _Scope]] = [(root, scope)]
    push, extend = stack.append, stack.extend
    while stack:
        node, scope = stack.pop()
        if type(node) in _LEAVES:
            continue
        if isinstance(node, nodes.Identifier):
            if node.quoted or not node.name.startswith("#"):
                yield node, scope
        elif isinstance(node, nodes.Let):
            inner = (*scope, frozenset([b.name for b in node.bindings]))
            push((node.body, inner))
            extend([(b.value, inner) for b in reversed(node.bindings)])
        elif isinstance(node, nodes.Record):
            inner = (*scope, frozenset([f.name for f in node.fields]))
            extend([(f.value, inner) for f in reversed(node.fields)])
        elif isinstance(node, nodes.Function):
            push((node.body, (*scope, frozenset([p.name for p in node.parameters]))))
            if node.return_type is not None:
                push((node.return_type, scope))
            extend([(p.type, scope) for p in reversed(node.parameters) if p.type is not None])
        elif isinstance(node, nodes.Each):
            push((node.body, (*scope, _EACH)))
        elif isinstance(node, nodes.FieldAccess):
            if node.target is not None:
                push((node.target, scope))
        else:
            children = [*node.children()]
            children.reverse()
            extend([(child, scope) for child in children])
