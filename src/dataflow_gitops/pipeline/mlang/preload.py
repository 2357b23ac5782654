"""Reading many M documents at once (stage ① source): mashup texts → documents cached in process.

A command reads every mashup of a project; one by one, 1,000 × 50 KB of M is a minute of
pure-Python parsing. :func:`preload` reads them up front: a text already read in this process is
skipped, one the persistent store knows is rebuilt from its structure, and the rest are parsed —
in worker processes when there is enough to pay for starting them — and stored for next time.
Afterwards every ``parse_section`` of those texts is a lookup. A text that does not parse is left
alone: the stage that reads it next reports its error, with its own path.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from dataflow_gitops.errors import MSyntaxError
from dataflow_gitops.pipeline.mlang.document import (
    Structure,
    cached,
    from_structure,
    parse_uncached,
    remember,
    structure,
)
from dataflow_gitops.pipeline.mlang.store import ReadStore, text_key

# Below this much text to parse, starting worker processes (~0.3 s each, imports included) costs
# more than it saves.
PARALLEL_BYTES = 4_000_000


@dataclass(frozen=True, slots=True)
class PreloadStats:
    """Where the documents of one :func:`preload` came from (for ``-v`` logs and the benchmarks)."""

    texts: int = 0
    in_process: int = 0
    from_store: int = 0
    parsed: int = 0
    invalid: int = 0
    workers: int = 1


def preload(
    texts: Iterable[str], *, store: ReadStore | None = None, workers: int | None = None
) -> PreloadStats:
    """Make every text of ``texts`` a cached document (see the module docstring).

    ``workers`` None means one per available CPU; 1 parses in this process.
    """
    unique = list(dict.fromkeys(texts))
    todo = [t for t in unique if cached(t) is None]
    keys = {t: text_key(t) for t in todo} if store is not None else {}
    stored = store.load(keys.values()) if store is not None else {}
    missing: list[str] = []
    from_store = 0
    for text in todo:
        data = stored.get(keys[text]) if keys else None
        doc = None if data is None else from_structure(text, data)
        if doc is None:
            missing.append(text)
        else:
            remember(doc)
            from_store += 1
    count = _worker_count(workers, missing)
    results = _read_all(missing, count)
    fresh: dict[str, Structure] = {}
    for text, data in zip(missing, results, strict=True):
        doc = None if data is None else from_structure(text, data)
        if data is not None and doc is not None:
            remember(doc)
            if keys:
                fresh[keys[text]] = data
    if store is not None:
        store.save(fresh)
    invalid = sum(1 for r in results if r is None)
    return PreloadStats(
        texts=len(unique),
        in_process=len(unique) - len(todo),
        from_store=from_store,
        parsed=len(missing) - invalid,
        invalid=invalid,
        workers=count,
    )


def _worker_count(workers: int | None, texts: list[str]) -> int:
    if workers is None:
        available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        workers = available or os.cpu_count() or 1
    if sum(map(len, texts)) < PARALLEL_BYTES:
        return 1
    return max(1, min(workers, len(texts), 8))


def _read_all(texts: list[str], workers: int) -> list[Structure | None]:
    if workers > 1:
        # Fork is cheap (no imports to redo) but unsafe beside other threads (the embedded
        # emulator may be serving from one): then spawn.
        method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
        context = multiprocessing.get_context(method)
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                return list(pool.map(read_structure, texts, chunksize=4))
        except (OSError, BrokenProcessPool):
            pass  # no processes on this machine (sandbox, limits): read them here instead
    return [read_structure(t) for t in texts]


def read_structure(text: str) -> Structure | None:
    """Parse ``text`` → its structure, or None when it is not valid M (a worker's job)."""
    try:
        return structure(parse_uncached(text))
    except MSyntaxError:
        return None
