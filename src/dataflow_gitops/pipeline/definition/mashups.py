"""A part's M document (stages ① source, ② render, ④ diff): a ``mashup.pq`` part → SectionDocument.

Validate, render, references, the diff, impact and the planner each need the document of a
mashup part. The part carries it (:attr:`Part.derived`): it is decoded and looked up (or parsed)
the first time a stage asks, and every later stage gets the same document from the part. Texts
equal to one read before (a second snapshot of the same files, a render that changed nothing)
find its document in the reader's one cache (:func:`.mlang.parse_section`), filled ahead by the
source stage (:mod:`.reading`).

The source stage also hands every snapshot of one command the same bytes object for the same
content (:func:`shared_content`), so the content-keyed memos of small parts find it by identity.
"""

from __future__ import annotations

from dataclasses import replace

from dataflow_gitops.pipeline.definition.bytes_memo import BytesMemo
from dataflow_gitops.pipeline.definition.mlang import SectionDocument, parse_section
from dataflow_gitops.pipeline.definition.parts import decode_text
from dataflow_gitops.pipeline.model import MASHUP_PATH, Part

# Texts of 1,000 dataflows of 50 KB, source and rendered, with room to spare.
CONTENT_BUDGET = 256_000_000
_DOCUMENT = "document"

_contents: BytesMemo[bytes] = BytesMemo(CONTENT_BUDGET)


def part_document(part: Part, *, path: str = MASHUP_PATH) -> SectionDocument:
    """The document of a ``mashup.pq`` part, named ``path`` in errors; kept on the part.

    :class:`SourceError` if the bytes are not UTF-8, :class:`MSyntaxError` if the text is not M
    (errors are not kept: each names the caller's path).
    """
    doc = part.derived.get(_DOCUMENT)
    if not isinstance(doc, SectionDocument):
        doc = parse_section(decode_text(part.data, path=path), path=path)
        found = part.derived.setdefault(_DOCUMENT, doc)
        doc = found if isinstance(found, SectionDocument) else doc
    # A path only names the document in messages; its derived answers are shared.
    return doc if doc.path == path else replace(doc, path=path)


def shared_content(data: bytes) -> bytes:
    """``data``, or the equal bytes object read before it: one copy of each file content however
    many snapshots a command takes, and one identity for the content-keyed memos."""
    return _contents.get(data) or _contents.put(data, data)
