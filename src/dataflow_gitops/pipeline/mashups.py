"""A part's M document (stages ① source, ② render, ④ diff): mashup.pq bytes → SectionDocument.

Validate, render (twice), references, the diff and impact each read every dataflow's
``mashup.pq``: decoding 50 KB of bytes and hashing the new text to find its cached document, a
dozen times per dataflow. Here each part's bytes object is read once per path it is named by,
found again by identity. The source stage hands every snapshot of one command the same bytes
object for the same content (:func:`shared_content`), so the reads of validate, render and plan
meet here too.

The memo holds the bytes it was asked about (so an identity is never reused by another object)
and the documents the document cache holds anyway; it is bounded by the bytes it holds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from dataflow_gitops.pipeline.mlang import SectionDocument, parse_section
from dataflow_gitops.pipeline.parts import decode_text

# Texts of 1,000 dataflows of 50 KB, source and rendered, with room to spare.
DOCUMENT_BUDGET = 256_000_000
CONTENT_BUDGET = 256_000_000


class _Documents:
    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._held = 0
        self._entries: OrderedDict[tuple[int, str], tuple[bytes, SectionDocument]] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, data: bytes, path: str) -> SectionDocument:
        key = (id(data), path)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] is data:
                self._entries.move_to_end(key)
                return entry[1]
        # Errors (not UTF-8, not M) are not kept: each names the caller's path.
        doc = parse_section(decode_text(data, path=path), path=path)
        with self._lock:
            if key not in self._entries:
                self._entries[key] = (data, doc)
                self._held += len(data)
            while self._held > self._budget and self._entries:
                _, (freed, _) = self._entries.popitem(last=False)
                self._held -= len(freed)
        return doc


_documents = _Documents(DOCUMENT_BUDGET)


def mashup_document(data: bytes, *, path: str) -> SectionDocument:
    """The document of a ``mashup.pq`` part's bytes, named ``path`` in errors.

    :class:`SourceError` if the bytes are not UTF-8, :class:`MSyntaxError` if the text is not M.
    """
    return _documents.read(data, path)


class _Contents:
    """Equal file contents read again → the bytes object read first (bounded by bytes held)."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._held = 0
        self._kept: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def shared(self, data: bytes) -> bytes:
        with self._lock:
            kept = self._kept.get(data)
            if kept is not None:
                self._kept.move_to_end(data)
                return kept
            if len(data) <= self._budget:
                self._kept[data] = data
                self._held += len(data)
                while self._held > self._budget:
                    freed, _ = self._kept.popitem(last=False)
                    self._held -= len(freed)
            return data


_contents = _Contents(CONTENT_BUDGET)


def shared_content(data: bytes) -> bytes:
    """``data``, or the equal bytes object read before it: one copy of each file content however
    many snapshots a command takes, and one identity for :func:`mashup_document` to find."""
    return _contents.shared(data)
