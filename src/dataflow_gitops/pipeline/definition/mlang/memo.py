"""Per-text memos for the M readers (stages ① source, ② render, ④ diff): (document text, key) → result.

Validate, render (twice: validate renders too), the planner's diff and impact each ask the same
document for its parameters, id literals and dataflow references: six times per dataflow for the
parameters alone. A document is immutable and those answers depend on its text only (not on the
path it was read under), so each is computed once per text and shared. The memo holds the text
objects the document cache already holds (no copy) and is bounded like that cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from dataflow_gitops.pipeline.definition.mlang.document import SectionDocument

Result = TypeVar("Result")

# As many texts as the document cache keeps (document._CACHE_SIZE).
MEMO_SIZE = 4096


class TextMemo(Generic[Result]):
    """A bounded least-recently-used map from (document text, extra key) to an immutable result."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._size = size
        self._results: OrderedDict[tuple[str, Hashable], Result] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, doc: SectionDocument, compute: Callable[[SectionDocument], Result], key: Hashable = None
    ) -> Result:
        """The result for ``doc``'s text (and ``key``), computed by ``compute(doc)`` the first time."""
        entry = (doc.text, key)
        with self._lock:
            found = self._results.get(entry)
            if found is not None:
                self._results.move_to_end(entry)
                return found
        # Computed outside the lock (it may build member trees); two threads racing on one text
        # compute equal results and the first stored wins.
        result = compute(doc)
        with self._lock:
            kept = self._results.setdefault(entry, result)
            self._results.move_to_end(entry)
            while len(self._results) > self._size:
                self._results.popitem(last=False)
            return kept

    def __len__(self) -> int:
        return len(self._results)

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
