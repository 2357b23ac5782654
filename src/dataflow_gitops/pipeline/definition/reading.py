"""Reading a project's M up front (stage ① source): dataflows → their mashups read and cached.

Validate, render and diff each need the document of every mashup; :func:`read_mashups` reads them
all before the first of those stages runs (see :mod:`.mlang.preload`), through the project's
persistent read cache ``.dataflow-gitops/cache/`` unless ``DFG_NO_CACHE`` is set. Texts that are
not UTF-8 or not valid M are skipped here: the stage that reads them reports the error.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.pipeline.definition.mlang import preload as preloading
from dataflow_gitops.pipeline.definition.mlang.store import ReadStore
from dataflow_gitops.pipeline.definition.parts import decode_text
from dataflow_gitops.pipeline.model import MASHUP_PATH, LiveDataflow, SourceDataflow

CACHE_DIR = Path(".dataflow-gitops") / "cache"
NO_CACHE_ENV = "DFG_NO_CACHE"


def read_mashups(
    root: Path,
    dataflows: Iterable[SourceDataflow | LiveDataflow],
    *,
    environ: Mapping[str, str] = os.environ,
) -> preloading.PreloadStats:
    """Read every dataflow's ``mashup.pq`` into this process's document cache."""
    texts: list[str] = []
    for dataflow in dataflows:
        part = dataflow.part(MASHUP_PATH)
        if part is None:
            continue
        try:
            texts.append(decode_text(part.data, path=MASHUP_PATH))
        except DataflowGitopsError:
            continue
    store = None if environ.get(NO_CACHE_ENV) else ReadStore(root / CACHE_DIR)
    return preloading.preload(texts, store=store)
