"""M section documents (stage ① source, mashup.pq reader): mashup.pq text → SectionDocument.

A section document is an optional attribute record, ``section Name;``, then members
``[attributes] [shared] Name = expression;``. The document keeps its original text and every member
its exact source span, so printing is lossless and rewrites touch only what they change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dataflow_gitops.errors import MSyntaxError
from dataflow_gitops.pipeline.definition.mlang import nodes
from dataflow_gitops.pipeline.definition.mlang.depth import deeply
from dataflow_gitops.pipeline.definition.mlang.parser import Parser
from dataflow_gitops.pipeline.definition.mlang.tokens import Kind, Positions, tokenize


@dataclass(frozen=True, slots=True)
class Member:
    """One member (query) of the section: ``[attributes] shared Name = expression;``."""

    name: str
    shared: bool
    start: int
    end: int
    line: int
    name_span: tuple[int, int] = (0, 0)
    # The trees are built on first use (most callers need those of a few parameter or reference
    # queries only), from the document text the member was read from.
    expression_span: tuple[int, int] = (0, 0)
    attribute_span: tuple[int, int] | None = None
    document_text: str = field(default="", repr=False, compare=False)
    path: str = field(default="mashup.pq", repr=False, compare=False)
    _trees: dict[str, nodes.Node] = field(default_factory=dict, repr=False, compare=False)

    @property
    def source(self) -> str:
        """The member's exact text, attributes to ``;``."""
        return self.document_text[self.start : self.end]

    @property
    def expression_text(self) -> str:
        return self.document_text[self.expression_span[0] : self.expression_span[1]]

    @property
    def attribute_text(self) -> str | None:
        span = self.attribute_span
        return None if span is None else self.document_text[span[0] : span[1]]

    @property
    def expression(self) -> nodes.Node:
        tree = self._trees.get("expression")
        if tree is None:
            parser = _reparse(self, self.expression_span)
            tree = self._trees["expression"] = deeply(parser.restart(parser.expression))
        return tree

    @property
    def attribute(self) -> nodes.Record | None:
        if self.attribute_span is None:
            return None
        tree = self._trees.get("attribute")
        if not isinstance(tree, nodes.Record):
            parser = _reparse(self, self.attribute_span)
            tree = self._trees["attribute"] = deeply(parser.restart(parser.record))
        return tree


def _reparse(member: Member, span: tuple[int, int]) -> Parser:
    """A parser over ``span`` of a member already read once by :func:`parse_section` (so valid)."""
    return _span_parser(member.document_text, span, member.path)


def _span_parser(text: str, span: tuple[int, int], path: str) -> Parser:
    return Parser(text, tokenize(text, path=path, start=span[0], end=span[1]), path=path)


@dataclass(frozen=True, slots=True)
class SectionDocument:
    """A parsed mashup.pq. ``print()`` gives back ``text`` exactly."""

    text: str
    section_name: str
    attribute_text: str | None
    members: tuple[Member, ...]
    path: str = "mashup.pq"
    attribute: nodes.Record | None = None
    # Offset just after the ';' of `section Name;` (where the members' text begins).
    body_start: int = 0
    derived: dict[object, object] = field(default_factory=dict, repr=False, compare=False, hash=False)
    """Answers computed from the text (parameters, references…; see :mod:`.memo`): they travel
    with the document, and copies of it under another ``path`` share them."""

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name), None)

    def print(self) -> str:
        # Rebuilt from the header, each member's source and the trivia between them, so that a
        # span bookkeeping mistake shows up as a difference instead of hiding behind `self.text`.
        pieces: list[str] = []
        cursor = 0
        for m in self.members:
            pieces.append(self.text[cursor : m.start])
            pieces.append(m.source)
            cursor = m.end
        pieces.append(self.text[cursor:])
        return "".join(pieces)

    def line_of(self, offset: int) -> int:
        """The 1-based line of an offset (a parameter's or literal's span), for error messages."""
        return Positions(self.text).at(offset)[0]


def parse_section(text: str, *, path: str = "mashup.pq", trees: bool = False) -> SectionDocument:
    """Parse a Power Query M section document; :class:`MSyntaxError` (path:line:column) if invalid.

    Every call reads the whole text: the callers keep what they read (a part carries its
    document, :class:`~dataflow_gitops.pipeline.model.Derived`), so each text is read once.
    """
    return _parse(text, path, trees=trees)


def _parse(text: str, path: str, *, trees: bool = False) -> SectionDocument:
    # The one place a whole text is tokenized and parsed (tests and the benchmark count calls).
    # ``trees``: build every member's expression tree in this same pass (for a caller about to
    # walk them all, the unknown-names check) instead of reading each span again on first use.
    tokens = tokenize(text, path=path)
    p = Parser(text, tokens, path=path)
    try:
        return deeply(p.restart(lambda: _document(p, text, path, trees=trees)))
    except RecursionError:
        # Tens of thousands of nested levels: a syntax error like any other, not a traceback.
        raise p.error(
            "expression nested too deeply to read", hint="split the query into let steps"
        ) from None


# What a document is made of besides its text, as plain JSON values (the persistent read cache
# stores it): section name, document attribute span, body start, and per member its name, shared
# flag, span, line and the spans of its name, expression and attributes (-1 when absent).
Structure = list[object]


def structure(doc: SectionDocument) -> Structure:
    """The plain-value form of ``doc`` from which :func:`from_structure` rebuilds it without parsing."""
    attribute = None if doc.attribute is None else list(doc.attribute.span)
    members = [
        [
            m.name,
            int(m.shared),
            m.start,
            m.end,
            m.line,
            *m.name_span,
            *m.expression_span,
            *(m.attribute_span or (-1, -1)),
        ]
        for m in doc.members
    ]
    return [doc.section_name, attribute, doc.body_start, members]


def from_structure(text: str, data: object, *, path: str = "mashup.pq") -> SectionDocument | None:
    """The document of ``text`` rebuilt from :func:`structure` output, or None if ``data`` does not
    fit ``text`` (a damaged or foreign cache entry is a miss, never a wrong document)."""
    if not (isinstance(data, list) and len(data) == 4):
        return None
    section_name, attribute_span, body_start, rows = data
    if not (isinstance(section_name, str) and isinstance(body_start, int) and isinstance(rows, list)):
        return None
    try:
        members = tuple(_member_of(text, row, path) for row in rows)
        attribute: nodes.Record | None = None
        if attribute_span is not None:
            start, end = attribute_span
            attribute = _span_parser(text, (start, end), path).record()
    except (TypeError, ValueError, IndexError, MSyntaxError):
        return None
    bounds = [body_start, *(edge for m in members for edge in (m.start, m.end)), len(text)]
    if any(a > b for a, b in zip(bounds, bounds[1:], strict=False)):
        return None
    return SectionDocument(
        text=text,
        section_name=section_name,
        attribute_text=_slice(text, attribute),
        members=members,
        path=path,
        attribute=attribute,
        body_start=body_start,
    )


def _member_of(text: str, row: list[object], path: str) -> Member:
    name, *rest = row
    numbers = [n for n in rest if isinstance(n, int)]
    if not isinstance(name, str) or len(numbers) != 10 or len(rest) != 10:
        raise ValueError("not a member row")
    shared, start, end, line, n0, n1, e0, e1, a0, a1 = numbers
    # In order within the member: [attributes] name = expression; (a0 is -1 without attributes).
    edges = [start, *((a0, a1) if a0 != -1 else ()), n0, n1, e0, e1, end]
    if line < 1 or any(a > b for a, b in zip(edges, edges[1:], strict=False)):
        raise ValueError("member spans out of order")
    return Member(
        name=name,
        shared=bool(shared),
        start=start,
        end=end,
        line=line,
        name_span=(n0, n1),
        expression_span=(e0, e1),
        attribute_span=None if a0 == -1 else (a0, a1),
        document_text=text,
        path=path,
    )


def _document(p: Parser, text: str, path: str, *, trees: bool = False) -> SectionDocument:
    doc_attribute: nodes.Record | None = None
    if p.tok.is_op("["):
        doc_attribute = p.literal_record()
    if not p.tok.is_keyword("section"):
        raise p.error(
            "no 'section' declaration"
            if p.tok.kind is not Kind.END or not doc_attribute
            else "no 'section' declaration after the section attribute",
            hint="a mashup.pq starts with 'section Section1;' followed by 'shared Name = …;' queries",
        )
    p.advance()
    section_name, _ = p.name("a section name after 'section'")
    if not p.tok.is_op(";"):
        raise _missing_semicolon(
            p, f"after 'section {section_name}'", hint=f"write 'section {section_name};'"
        )
    body_start = p.advance().end
    members: list[Member] = []
    seen: set[str] = set()
    while p.tok.kind is not Kind.END:
        member = _member(p, text, trees=trees)
        if member.name in seen:
            raise MSyntaxError(
                f"query {member.name!r} is defined twice",
                path=path,
                line=member.line,
                column=None,
                hint="rename or remove one of them",
            )
        seen.add(member.name)
        members.append(member)
    return SectionDocument(
        text=text,
        section_name=section_name,
        attribute_text=_slice(text, doc_attribute),
        members=tuple(members),
        path=path,
        attribute=doc_attribute,
        body_start=body_start,
    )


def _member(p: Parser, text: str, *, trees: bool = False) -> Member:
    start = p.tok.start
    # Only spans are kept (``trees`` keeps the expression's too): member trees are built again on
    # first use, from those spans.
    attribute_span = p.skim(p.literal_record) if p.tok.is_op("[") else None
    shared = p.tok.is_keyword("shared")
    if shared:
        p.advance()
    name_token = p.tok
    if name_token.kind not in (Kind.IDENTIFIER, Kind.QUOTED):
        raise p.error(
            f"unexpected {name_token.describe()}, expected a query name",
            hint="each query reads 'shared Name = expression;'",
        )
    name, name_span = p.name("a query name")
    p.expect_op("=", f"'=' after the query name {name!r}")
    tree = p.expression() if trees else None
    expression_span = p.skim(p.expression) if tree is None else tree.span
    if not p.tok.is_op(";"):
        raise _missing_semicolon(p, f"after query {name!r}")
    end = p.advance().end
    member = Member(
        name=name,
        shared=shared,
        start=start,
        end=end,
        line=name_token.line,
        name_span=name_span,
        expression_span=expression_span,
        attribute_span=attribute_span,
        document_text=text,
        path=p.path,
    )
    if tree is not None:
        member._trees["expression"] = tree
    return member


def _missing_semicolon(p: Parser, where: str, *, hint: str = "end every query with ';'") -> MSyntaxError:
    if p.tok.is_op(")", "]", "}"):
        return p.error(
            f"unexpected {p.tok.describe()}: no bracket is open here",
            hint="remove it or add the opening bracket it closes",
        )
    # At the token found instead (often the next query's first word), where Microsoft's parser
    # and the Power Query editor point too.
    return p.error(f"missing ';' {where} (found {p.tok.describe()})", hint=hint)


def _slice(text: str, node: nodes.Node | None) -> str | None:
    return None if node is None else text[node.span[0] : node.span[1]]


def split_queries(doc: SectionDocument) -> dict[str, str]:
    """Query name → its text with the comments that belong to it, in document order.

    Every character after ``section Name;`` belongs to exactly one query, so no edit — a comment
    between two queries included — is invisible to a per-query diff while it changes the
    fingerprint. A comment or blank line above a query belongs to that query (it is how queries
    are documented); the rest of the line a query ends on (``…; // note``) stays with it; the
    text after the last query belongs to the last. ``Member.source`` is the bare span.
    """
    members = doc.members
    if not members:
        return {}
    cuts = [doc.body_start]
    for before, after in zip(members, members[1:], strict=False):
        cuts.append(_end_of_line(doc.text, before.end, after.start))
    cuts.append(len(doc.text))
    return {m.name: doc.text[cuts[i] : cuts[i + 1]] for i, m in enumerate(members)}


def _end_of_line(text: str, start: int, limit: int) -> int:
    """The offset after the first line break in the trivia ``text[start:limit]`` that is not
    inside a block comment (``limit`` when the next member starts on the same line)."""
    i = start
    while i < limit:
        if text.startswith("/*", i):
            close = text.find("*/", i + 2, limit)
            i = limit if close < 0 else close + 2
        elif text.startswith("//", i):
            newline = text.find("\n", i, limit)
            return limit if newline < 0 else newline + 1
        elif text[i] == "\n":
            return i + 1
        else:
            i += 1
    return limit
