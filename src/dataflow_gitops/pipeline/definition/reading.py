"""Reading a project's M up front (stage ① source): dataflows → their mashups read ahead.

Validate, render and diff each need the document of every mashup; :func:`read_mashups` hands
all their texts to the :class:`~dataflow_gitops.pipeline.ports.ReadAhead` port before the first
of those stages runs (the adapter, ``adapters/read_ahead.py``, reads them through the project's
persistent read cache and worker processes). Without one, each document is read when first
asked for. Texts that are not UTF-8 are skipped here: the stage that reads them reports it.
"""

from __future__ import annotations

from collections.abc import Iterable

from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.pipeline.definition.parts import decode_text
from dataflow_gitops.pipeline.model import MASHUP_PATH, LiveDataflow, SourceDataflow
from dataflow_gitops.pipeline.ports import ReadAhead


def read_mashups(
    dataflows: Iterable[SourceDataflow | LiveDataflow],
    read_ahead: ReadAhead | None,
    *,
    names: bool = False,
) -> None:
    """Hand every dataflow's ``mashup.pq`` text to ``read_ahead`` (nothing when None); with
    ``names``, it finds their unknown names as well (``dfg validate``'s check)."""
    if read_ahead is None:
        return
    texts: list[str] = []
    for dataflow in dataflows:
        part = dataflow.part(MASHUP_PATH)
        if part is None:
            continue
        try:
            texts.append(decode_text(part.data, path=MASHUP_PATH))
        except DataflowGitopsError:
            continue
    read_ahead.read(texts, names=names)
