"""Reading a project's M up front (stage ① source): dataflows → their mashup parts carrying documents.

Validate, render and diff each need the document of every mashup; :func:`read_mashups` hands
the texts of the parts that do not carry one yet to the
:class:`~dataflow_gitops.pipeline.ports.ReadAhead` port before the first of those stages runs
(the adapter, ``adapters/read_ahead.py``, reads them through the project's persistent read cache
and worker processes) and leaves each document on its part
(:class:`~dataflow_gitops.pipeline.model.Derived`). Without a read-ahead, each part's
document is read when a stage first asks for it. Texts that are not UTF-8 or not M are left
alone: the stage that reads them reports it, with its own path.
"""

from __future__ import annotations

from collections.abc import Iterable

from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.pipeline.definition.mashups import keep_document
from dataflow_gitops.pipeline.definition.mlang import SectionDocument
from dataflow_gitops.pipeline.definition.mlang import names as unknown
from dataflow_gitops.pipeline.definition.parts import decode_text
from dataflow_gitops.pipeline.definition.source_cache import FILES
from dataflow_gitops.pipeline.model import (
    MASHUP_PATH,
    DesiredDataflow,
    LiveDataflow,
    Part,
    SourceDataflow,
)
from dataflow_gitops.pipeline.ports import ReadAhead


def read_mashups(
    dataflows: Iterable[SourceDataflow | LiveDataflow],
    read_ahead: ReadAhead | None,
    *,
    desired: Iterable[DesiredDataflow] = (),
    names: bool = False,
) -> None:
    """Leave on every dataflow's ``mashup.pq`` part its document, read by ``read_ahead``
    (nothing when None); with ``names``, a document that knows its unknown names as well
    (``dfg validate``'s check).

    A live dataflow's mashup equal to one of ``desired`` is not read: the diff finds them equal
    without a document, and the desired part's document (when it has one) is also its own. Any
    other mashup is read once per process: the source stage's cache holds the part of each text
    read (a second live read, of apply's stale check or another plan, finds it there).
    """
    if read_ahead is None:
        return
    rendered: dict[bytes, Part] = {}
    for target in desired:
        part = target.part(MASHUP_PATH)
        if part is not None:
            rendered.setdefault(part.data, part)
    waiting: dict[str, list[Part]] = {}
    wanting: dict[str, SectionDocument] = {}  # read already, but not for their names
    for dataflow in dataflows:
        part = dataflow.part(MASHUP_PATH)
        if part is None:
            continue
        doc = part.derived.document
        if doc is not None:
            if names and unknown.known(doc) is None:
                wanting.setdefault(doc.text, doc)
            continue
        twin = rendered.get(part.data)
        if twin is not None:
            if twin.derived.document is not None:
                keep_document(part, twin.derived.document)
            continue
        known = FILES.part(MASHUP_PATH, part.data)
        if known.derived.document is not None:
            keep_document(part, known.derived.document)
            if names and unknown.known(known.derived.document) is None:
                wanting.setdefault(known.derived.document.text, known.derived.document)
            continue
        try:
            text = decode_text(part.data, path=MASHUP_PATH)
        except DataflowGitopsError:
            continue
        waiting.setdefault(text, []).extend((part, known) if known is not part else (part,))
    if not waiting and not wanting:
        return
    found = read_ahead.read([*waiting, *wanting], names=names, known=wanting)
    for text, doc in found.items():
        for part in waiting.get(text, ()):
            keep_document(part, doc)
