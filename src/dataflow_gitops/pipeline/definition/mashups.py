"""A part's M document (stages ① source, ② render, ④ diff): a ``mashup.pq`` part → SectionDocument.

Validate, render, references, the diff, impact and the planner each need the document of a
mashup part. The part carries it (:attr:`Part.derived`): it is decoded and parsed the first time
a stage asks, unless a stage that already holds it put it there — the source stage's read-ahead
(:mod:`.reading`, the read cache and worker processes) and render (the rendered document is the
source's with its edits, :func:`.mlang.edits.edit_section`). Every later stage gets the same
document from the part; nothing here is kept anywhere else.
"""

from __future__ import annotations

from dataclasses import replace

from dataflow_gitops.pipeline.definition.mlang import SectionDocument, parse_section
from dataflow_gitops.pipeline.definition.parts import decode_text
from dataflow_gitops.pipeline.model import MASHUP_PATH, Part


def part_document(part: Part, *, path: str = MASHUP_PATH) -> SectionDocument:
    """The document of a ``mashup.pq`` part, named ``path`` in errors; kept on the part.

    :class:`SourceError` if the bytes are not UTF-8, :class:`MSyntaxError` if the text is not M
    (errors are not kept: each names the caller's path).
    """
    derived = part.derived
    doc = derived.document
    if doc is None:
        # Two threads racing on one part read equal documents; the one kept first wins.
        doc = parse_section(decode_text(part.data, path=path), path=path)
        if derived.document is None:
            derived.document = doc
    # A path only names the document in messages; its derived answers are shared.
    return doc if doc.path == path else replace(doc, path=path)


def has_document(part: Part) -> bool:
    """Whether ``part`` already carries its document (read ahead, rendered, or asked for)."""
    return part.derived.document is not None


def keep_document(part: Part, doc: SectionDocument) -> Part:
    """``part``, carrying ``doc`` — the document of exactly its text, read by a stage that had it
    at hand (the read-ahead, render) — unless it carries one already."""
    if part.derived.document is None:
        part.derived.document = doc
    return part


def mashup_part(doc: SectionDocument, data: bytes | None = None) -> Part:
    """A ``mashup.pq`` part of ``doc``'s text (``data``: those bytes, when already encoded),
    carrying ``doc``."""
    return keep_document(Part(MASHUP_PATH, doc.text.encode("utf-8") if data is None else data), doc)
