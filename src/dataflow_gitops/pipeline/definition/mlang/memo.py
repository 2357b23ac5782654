"""Answers derived from a document's text (stages ① source, ② render, ④ diff), kept on the document.

Validate, render, the planner's diff and impact each ask the same document for its parameters,
id literals and dataflow references: six times per dataflow for the parameters alone. A document
is immutable and those answers depend on its text only (not on the path it was read under), so
each is computed once and kept in the document's own :attr:`~.SectionDocument.derived` map,
where it lives exactly as long as the document: there is no second cache to bound.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar, cast

from dataflow_gitops.pipeline.definition.mlang.document import SectionDocument

Result = TypeVar("Result")


class TextMemo(Generic[Result]):
    """One kind of answer (``compute``) per document text and extra key, kept on the document."""

    def get(
        self, doc: SectionDocument, compute: Callable[[SectionDocument], Result], key: Hashable = None
    ) -> Result:
        """The answer for ``doc`` (and ``key``), computed by ``compute(doc)`` the first time."""
        entry = (self, key)
        found = doc.derived.get(entry)
        if found is not None:
            return cast(Result, found)
        # Two threads racing on one document compute equal answers; the first kept wins.
        return cast(Result, doc.derived.setdefault(entry, compute(doc)))

    def peek(self, doc: SectionDocument, key: Hashable = None) -> Result | None:
        """The answer already kept for ``doc`` (and ``key``), without computing it."""
        return cast("Result | None", doc.derived.get((self, key)))

    def keep(self, doc: SectionDocument, answer: Result, key: Hashable = None) -> None:
        """Keep ``answer``, found elsewhere (a persistent cache, a worker process), for ``doc``."""
        doc.derived.setdefault((self, key), answer)
