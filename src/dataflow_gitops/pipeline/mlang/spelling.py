"""Which queries spell a word (stages ② render, ④ diff): SectionDocument + words → its members.

Parameters, id literals and dataflow references live in the few queries that spell a flag or a
field name; only those need a syntax tree. Searching the document text once per word finds them
without slicing out each query's source (a copy of the whole document, query by query).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from dataflow_gitops.pipeline.mlang.document import Member, SectionDocument


def members_spelling(doc: SectionDocument, words: Iterable[str]) -> list[Member]:
    """The members whose source (attributes to ``;``) contains one of ``words``, in document order."""
    text, members = doc.text, doc.members
    starts = [m.start for m in members]
    found: set[int] = set()
    for word in words:
        at = text.find(word)
        while at >= 0:
            index = bisect.bisect_right(starts, at) - 1
            member = members[index] if index >= 0 else None
            if member is not None and at + len(word) <= member.end:
                found.add(index)
                at = text.find(word, member.end)  # the rest of this member adds nothing
            else:
                at = text.find(word, at + 1)
    return [members[i] for i in sorted(found)]
