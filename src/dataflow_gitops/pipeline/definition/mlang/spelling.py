"""Which queries spell a word (stages ② render, ④ diff): SectionDocument + words → its members.

Parameters, id literals and dataflow references live in the few queries that spell a flag or a
field name; only those need a syntax tree. Searching the document text once per word finds them
without slicing out each query's source (a copy of the whole document, query by query), and the
answer is kept per (text, word): ``#(`` is asked for by every reader of a document.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable

from dataflow_gitops.pipeline.definition.mlang.document import Member, SectionDocument
from dataflow_gitops.pipeline.definition.mlang.memo import TextMemo

_hits: TextMemo[tuple[int, ...]] = TextMemo()


def members_spelling(doc: SectionDocument, words: Iterable[str]) -> list[Member]:
    """The members whose source (attributes to ``;``) contains one of ``words``, in document order."""
    found: set[int] = set()
    for word in words:
        found.update(_hits.get(doc, functools.partial(_members_with, word=word), word))
    return [doc.members[i] for i in sorted(found)]


def _members_with(doc: SectionDocument, word: str) -> tuple[int, ...]:
    text, members = doc.text, doc.members
    starts = [m.start for m in members]
    search = _searcher(word)
    found: list[int] = []
    at = search(text, 0)
    while at >= 0:
        index = bisect.bisect_right(starts, at) - 1
        member = members[index] if index >= 0 else None
        if member is not None and at + len(word) <= member.end:
            found.append(index)
            at = search(text, member.end)  # the rest of this member adds nothing
        else:
            at = search(text, at + 1)
    return tuple(found)


def _searcher(word: str) -> Callable[[str, int], int]:
    """``str.find`` for the word; a regular expression for ``#…``, whose first character M writes
    hundreds of times per query (``#"Step 1"``), where the regex search is twice as fast."""
    if not word.startswith("#"):
        return lambda text, start: text.find(word, start)
    pattern = re.compile(re.escape(word))

    def search(text: str, start: int) -> int:
        match = pattern.search(text, start)
        return -1 if match is None else match.start()

    return search
