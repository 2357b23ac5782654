"""A part's M document (stages ① source, ② render, ④ diff): mashup.pq bytes → SectionDocument.

Validate, render (twice), references, the diff and impact each read every dataflow's
``mashup.pq``: decoding 50 KB of bytes and hashing the new text to find its cached document, a
dozen times per dataflow. Here each part's content is read once per path it is named by. The
source stage hands every snapshot of one command the same bytes object for the same content
(:func:`shared_content`), so finding it again costs no more than a lookup by identity.

Both memos are bounded by the bytes they hold (:class:`~.bytes_memo.BytesMemo`).
"""

from __future__ import annotations

from dataflow_gitops.pipeline.definition.bytes_memo import BytesMemo
from dataflow_gitops.pipeline.definition.mlang import SectionDocument, parse_section
from dataflow_gitops.pipeline.definition.parts import decode_text

# Texts of 1,000 dataflows of 50 KB, source and rendered, with room to spare.
DOCUMENT_BUDGET = 256_000_000
CONTENT_BUDGET = 256_000_000

_documents: BytesMemo[SectionDocument] = BytesMemo(DOCUMENT_BUDGET)
_contents: BytesMemo[bytes] = BytesMemo(CONTENT_BUDGET)


def mashup_document(data: bytes, *, path: str) -> SectionDocument:
    """The document of a ``mashup.pq`` part's bytes, named ``path`` in errors.

    :class:`SourceError` if the bytes are not UTF-8, :class:`MSyntaxError` if the text is not M.
    """
    doc = _documents.get(data, path)
    if doc is None:
        # Errors (not UTF-8, not M) are not kept: each names the caller's path.
        doc = _documents.put(data, parse_section(decode_text(data, path=path), path=path), path)
    return doc


def shared_content(data: bytes) -> bytes:
    """``data``, or the equal bytes object read before it: one copy of each file content however
    many snapshots a command takes, and one identity (so one kept hash) for the memos above."""
    return _contents.get(data) or _contents.put(data, data)
