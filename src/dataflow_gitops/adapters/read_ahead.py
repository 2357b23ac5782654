"""Reading many M documents at once (the source stage's read-ahead): mashup texts → documents.
The adapter behind :class:`~dataflow_gitops.pipeline.ports.ReadAhead`.

A command reads every mashup of a project; one by one, 1,000 × 50 KB of M is a minute of
pure-Python parsing. :func:`preload` reads them up front: a text the persistent store knows is
rebuilt from its structure, and the rest are parsed — shared with worker processes (``python -m``
this module) when there is enough to pay for starting them — and stored for next time. The
source stage leaves each document on its part (``pipeline/definition/reading.py``); nothing is
kept here. A text that does not parse is left out: the stage that reads it next reports its
error, with its own path.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dataflow_gitops.adapters.read_store import FILE_NAME, ReadStore, text_key
from dataflow_gitops.confined import inside
from dataflow_gitops.errors import MSyntaxError, UnsafePathError
from dataflow_gitops.pipeline.definition.mlang.document import (
    SectionDocument,
    Structure,
    from_structure,
    parse_section,
    structure,
)

# Below this much text to parse (a few seconds of work), starting worker processes (~0.1 s each)
# and passing them the texts is not worth it.
PARALLEL_BYTES = 4_000_000
# The worker imports this package from where this process did, installed or not.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True, slots=True)
class PreloadStats:
    """Where the documents of one :func:`preload` came from (for ``-v`` logs and the benchmarks)."""

    texts: int = 0
    from_store: int = 0
    parsed: int = 0
    invalid: int = 0
    workers: int = 1


@dataclass(frozen=True, slots=True)
class Preloaded:
    documents: dict[str, SectionDocument]
    """Text → its document, for every text that is valid M."""
    stats: PreloadStats


def preload(
    texts: Iterable[str], *, store: ReadStore | None = None, workers: int | None = None
) -> Preloaded:
    """The document of every text of ``texts`` that is valid M (see the module docstring).

    ``workers`` None means one per available CPU; 1 parses in this process.
    """
    unique = list(dict.fromkeys(texts))
    keys = {t: text_key(t) for t in unique} if store is not None else {}
    stored = store.load(keys.values()) if store is not None else {}
    documents: dict[str, SectionDocument] = {}
    missing: list[str] = []
    for text in unique:
        data = stored.get(keys[text]) if keys else None
        doc = None if data is None else from_structure(text, data)
        if doc is None:
            missing.append(text)
        else:
            documents[text] = doc
    from_store = len(documents)
    count = _worker_count(workers, missing)
    results = _read_all(missing, count)
    fresh: dict[str, Structure] = {}
    for text, data in zip(missing, results, strict=True):
        doc = None if data is None else from_structure(text, data)
        if data is not None and doc is not None:
            documents[text] = doc
            if keys:
                fresh[keys[text]] = data
    if store is not None:
        store.save(fresh)
    invalid = sum(1 for r in results if r is None)
    stats = PreloadStats(
        texts=len(unique),
        from_store=from_store,
        parsed=len(missing) - invalid,
        invalid=invalid,
        workers=count,
    )
    return Preloaded(documents, stats)


CACHE_DIR = Path(".dataflow-gitops") / "cache"
NO_CACHE_ENV = "DFG_NO_CACHE"


def cache_store(root: Path) -> ReadStore | None:
    """The project's read cache; None (no cache) when a symlink would put any of its files
    outside the project (a committed ``.dataflow-gitops -> DIR`` must not make us write DIR)."""
    folder = root / CACHE_DIR
    try:
        for name in (FILE_NAME, ".gitignore", f"{FILE_NAME}-journal", f"{FILE_NAME}-wal"):
            inside(root, folder / name, what="read cache")
    except UnsafePathError:
        return None
    return ReadStore(folder)


class ProjectReadAhead:
    """The read-ahead of one project: its persistent read cache (``.dataflow-gitops/cache/``,
    unless ``DFG_NO_CACHE`` is set) and worker processes for what it does not hold."""

    def __init__(self, root: Path, environ: Mapping[str, str] = os.environ) -> None:
        self._store = None if environ.get(NO_CACHE_ENV) else cache_store(root)

    def read(self, texts: Sequence[str]) -> dict[str, SectionDocument]:
        return preload(texts, store=self._store).documents


def _worker_count(workers: int | None, texts: list[str]) -> int:
    if workers is None:
        available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        workers = available or os.cpu_count() or 1
    if sum(map(len, texts)) < PARALLEL_BYTES:
        return 1
    return max(1, min(workers, len(texts), 8))


def _read_all(texts: list[str], workers: int) -> list[Structure | None]:
    results: list[Structure | None] = [None] * len(texts)
    shares = _shares(texts, workers) if workers > 1 else [list(range(len(texts)))]
    threads = [
        threading.Thread(target=_read_share, args=(texts, share, results), daemon=True)
        for share in shares[1:]
    ]
    for thread in threads:
        thread.start()
    for i in shares[0]:  # this process reads a share too
        results[i] = read_structure(texts[i])
    for thread in threads:
        thread.join()
    return results


def _shares(texts: list[str], count: int) -> list[list[int]]:
    """Text indexes in ``count`` shares of about equal size (largest first, to the lightest)."""
    shares: list[list[int]] = [[] for _ in range(count)]
    sizes = [0] * count
    for i in sorted(range(len(texts)), key=lambda i: -len(texts[i])):
        lightest = sizes.index(min(sizes))
        shares[lightest].append(i)
        sizes[lightest] += len(texts[i])
    return shares


def _read_share(texts: list[str], share: list[int], results: list[Structure | None]) -> None:
    """Read ``share`` in a worker process (a fresh interpreter, so nothing of this process's
    memory or threads is copied); any failure of the worker reads the share here instead.

    Texts go one by one (a length line, then UTF-8) and structures come back one JSON line each,
    so neither side ever holds more than one text it does not need.
    """
    found: list[object] = []
    try:
        with subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": _python_path()},
        ) as worker:
            if worker.stdin is None or worker.stdout is None:  # both are pipes: never
                raise OSError("worker started without pipes")
            feeder = threading.Thread(
                target=_feed, args=(worker.stdin, (texts[i] for i in share)), daemon=True
            )
            feeder.start()
            found = [json.loads(line) for line in worker.stdout]
            feeder.join()
        if worker.returncode != 0:
            found = []
    except (OSError, ValueError):
        found = []
    if len(found) != len(share):
        found = [read_structure(texts[i]) for i in share]
    for i, data in zip(share, found, strict=True):
        results[i] = data if isinstance(data, list) else None


def _feed(pipe: IO[bytes], texts: Iterator[str]) -> None:
    with contextlib.suppress(OSError), pipe:  # a worker that died is noticed by its reader
        for text in texts:
            data = text.encode("utf-8")
            pipe.write(b"%d\n" % len(data))
            pipe.write(data)


def _python_path() -> str:
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join([_PACKAGE_ROOT, *inherited])


def read_structure(text: str) -> Structure | None:
    """Parse ``text`` → its structure, or None when it is not valid M."""
    try:
        return structure(parse_section(text))
    except MSyntaxError:
        return None


def _serve() -> None:
    """The worker: texts on stdin (each a length line, then UTF-8) → one JSON line per text on
    stdout, its structure or null."""
    source, out = sys.stdin.buffer, sys.stdout
    while header := source.readline():
        text = source.read(int(header)).decode("utf-8")
        out.write(json.dumps(read_structure(text), separators=(",", ":")) + "\n")
        out.flush()


if __name__ == "__main__":
    _serve()
