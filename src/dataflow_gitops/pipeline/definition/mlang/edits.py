"""Span edits (stage ② render): text + non-overlapping (span, replacement) pairs → new text.

The one way the tool rewrites M: everything outside the replaced spans stays byte-for-byte.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from dataflow_gitops.errors import MSyntaxError
from dataflow_gitops.pipeline.definition.mlang.document import (
    Member,
    SectionDocument,
    parse_section,
)
from dataflow_gitops.pipeline.definition.mlang.memo import TextMemo
from dataflow_gitops.pipeline.definition.mlang.tokens import Kind, Token, tokenize

Edit = tuple[tuple[int, int], str]
# One text literal token on one line: swapping such a token for another keeps every other token,
# bracket and line of the document where it was.
_TEXT_LITERAL = re.compile('"(?:[^"\r\n\x85\u2028\u2029]|"")*"')
# Characters that can continue a number, word or keyword token: a literal that begins or ends with
# one must not touch another (``a`` + ``42`` reads as one name, ``42`` + ``.5`` as one number).
_JOINING = re.compile(r"[\w.#@]")
_LITERAL_WORDS = frozenset({"true", "false", "null"})
# A literal spanning lines would move the lines of the queries after it.
_LINE_BREAK = re.compile("[\r\n\x85\u2028\u2029]")


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Replace each ``(start, end)`` span of ``text``; ``ValueError`` if spans overlap or are outside."""
    ordered = sorted(edits, key=lambda edit: edit[0])
    pieces: list[str] = []
    cursor = 0
    for (start, end), replacement in ordered:
        if not 0 <= start <= end <= len(text):
            raise ValueError(f"edit span ({start}, {end}) is outside the text (length {len(text)})")
        if start < cursor:
            raise ValueError(f"edit span ({start}, {end}) overlaps the previous edit (ends at {cursor})")
        pieces.append(text[cursor:start])
        pieces.append(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def edit_section(doc: SectionDocument, edits: Sequence[Edit]) -> SectionDocument:
    """The document of ``doc``'s text with ``edits`` (spans of syntax-tree nodes) applied.

    When every edit swaps one literal token for another inside a query (what parameters, bindings
    and references do: a text, number, logical or null for another), the tokens keep their shape,
    so the new document is ``doc`` with its spans shifted, not a new parse; any other edit makes
    the new text parsed (and checked).
    """
    ordered = tuple(sorted(edits, key=lambda edit: edit[0]))
    if not ordered:
        return doc
    # Kept on ``doc`` per set of edits: the same part rendered again for the same environment
    # (validate, then the plan, in one command) gets the document it got the first time.
    edited = _edited.get(doc, lambda d: _edit(d, ordered), ordered)
    return edited if edited.path == doc.path else replace(edited, path=doc.path)


_edited: TextMemo[SectionDocument] = TextMemo()


def _edit(doc: SectionDocument, ordered: Sequence[Edit]) -> SectionDocument:
    text = apply_edits(doc.text, ordered)
    starts = [m.start for m in doc.members]
    if not all(_swaps_literal(doc, starts, span, new) for span, new in ordered):
        return parse_section(text, path=doc.path)
    ends = [end for (_, end), _ in ordered]
    shifts = [0]
    for (start, end), new in ordered:
        shifts.append(shifts[-1] + len(new) - (end - start))
    members = tuple(_shifted(doc, text, ends, shifts))
    return replace(doc, text=text, members=members, derived={})


def _shifted(
    doc: SectionDocument, text: str, ends: Sequence[int], shifts: Sequence[int]
) -> Iterator[Member]:
    """``doc``'s members over the edited ``text``: an offset moves by the size change of every
    edit ending at or before it (``shifts[k]``: of the first k edits, ``ends`` sorted)."""

    def moved(offset: int) -> int:
        return offset + shifts[bisect.bisect_right(ends, offset)]

    def moved_span(span: tuple[int, int]) -> tuple[int, int]:
        return moved(span[0]), moved(span[1])

    for m in doc.members:
        first, last = bisect.bisect_right(ends, m.start), bisect.bisect_right(ends, m.end)
        if first == last:
            # No edit inside (most members): every offset moves alike, without a search each.
            delta = shifts[first]
            name_span = (m.name_span[0] + delta, m.name_span[1] + delta)
            expression_span = (m.expression_span[0] + delta, m.expression_span[1] + delta)
            attribute_span = m.attribute_span
            if attribute_span is not None:
                attribute_span = (attribute_span[0] + delta, attribute_span[1] + delta)
            start, end = m.start + delta, m.end + delta
            # Unmoved and unedited (the queries above the first edit): the same text at the same
            # offsets reads as the same trees, so those already built are shared, not rebuilt.
            trees = m._trees if delta == 0 else {}
        else:
            trees = {}
            name_span, expression_span = moved_span(m.name_span), moved_span(m.expression_span)
            attribute_span = None if m.attribute_span is None else moved_span(m.attribute_span)
            start, end = moved(m.start), moved(m.end)
        # Built directly rather than through dataclasses.replace (a thousand documents of sixty
        # queries made that a hot spot); test_warm_path pins Member's fields so none is lost.
        yield Member(
            name=m.name,
            shared=m.shared,
            start=start,
            end=end,
            line=m.line,
            name_span=name_span,
            expression_span=expression_span,
            attribute_span=attribute_span,
            document_text=text,
            path=m.path,
            _trees=trees,
        )


def _swaps_literal(doc: SectionDocument, starts: Sequence[int], span: tuple[int, int], new: str) -> bool:
    start, end = span
    text_swap = _TEXT_LITERAL.fullmatch(new) and _TEXT_LITERAL.fullmatch(doc.text, start, end)
    if not (text_swap or _swaps_token(doc, start, end, new)):
        return False
    # Members are in document order and do not overlap: only the last one starting at or before
    # the edit can hold it.
    index = bisect.bisect_right(starts, start) - 1
    return index >= 0 and _inside(doc.members[index], start, end)


def _swaps_token(doc: SectionDocument, start: int, end: int, new: str) -> bool:
    """Whether ``doc.text[start:end]`` and ``new`` are each one literal token, and ``new`` joins
    neither neighbour (a text literal's quotes always stand apart; a number or word may not)."""
    text = doc.text
    if not new or _LINE_BREAK.search(new) or _LINE_BREAK.search(text, start, end):
        return False
    if _JOINING.match(new) and start > 0 and _JOINING.match(text, start - 1):
        return False
    if _JOINING.match(new[-1]) and _JOINING.match(text, end):
        return False
    try:
        return _one_literal(tokenize(new, path=doc.path), 0, len(new)) and _one_literal(
            tokenize(text, path=doc.path, start=start, end=end), start, end
        )
    except MSyntaxError:
        return False


def _one_literal(tokens: Sequence[Token], start: int, end: int) -> bool:
    """Whether ``tokens`` are one literal token, from ``start`` to ``end`` exactly."""
    found = [t for t in tokens if t.kind is not Kind.END]
    if len(found) != 1 or (found[0].start, found[0].end) != (start, end):
        return False
    kind, word = found[0].kind, found[0].text
    return kind in (Kind.NUMBER, Kind.TEXT) or (kind is Kind.KEYWORD and word in _LITERAL_WORDS)


def _inside(member: Member, start: int, end: int) -> bool:
    spans = [member.expression_span]
    if member.attribute_span is not None:
        spans.append(member.attribute_span)
    return any(s <= start and end <= e for s, e in spans)
