"""Reading many M documents at once (the source stage's read-ahead): mashup texts → documents.
The adapter behind :class:`~dataflow_gitops.pipeline.ports.ReadAhead`.

A command reads every mashup of a project; one by one, 1,000 × 50 KB of M is a minute of
pure-Python parsing. :func:`preload` reads them up front: a text the persistent store knows is
rebuilt from its structure, and the rest are parsed — shared with worker processes (``python -m``
this module) when there is enough to pay for starting them — and stored for next time. The
source stage leaves each document on its part (``pipeline/definition/reading.py``); nothing is
kept here. A text that does not parse is left out: the stage that reads it next reports its
error, with its own path.

Asked for ``names`` (``dfg validate``), it does the same for the unknown-names check
(:mod:`~dataflow_gitops.pipeline.definition.mlang.names`): each answer comes from the document, the
store, or is found where the text is read (in a worker process too), kept on the document and
stored, so a warm run never walks a syntax tree.
"""

from __future__ import annotations

import contextlib
import json
import logging
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
from dataflow_gitops.pipeline.definition.mlang import names as unknown
from dataflow_gitops.pipeline.definition.mlang.depth import cycle_collection_paused
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


LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PreloadStats:
    """Where the documents of one :func:`preload` came from (for ``-v`` logs and the benchmarks)."""

    texts: int = 0
    in_process: int = 0
    from_store: int = 0
    parsed: int = 0
    invalid: int = 0
    workers: int = 1
    # With ``names``: unknown-names answers taken from the store, and found by reading the text.
    names_from_store: int = 0
    names_found: int = 0


@dataclass(frozen=True, slots=True)
class Preloaded:
    documents: dict[str, SectionDocument]
    """Text → its document, for every text that is valid M."""
    stats: PreloadStats


def preload(
    texts: Iterable[str],
    *,
    store: ReadStore | None = None,
    workers: int | None = None,
    names: bool = False,
    known: Mapping[str, SectionDocument] | None = None,
) -> Preloaded:
    """The document of every text of ``texts`` that is valid M (see the module docstring); with
    ``names``, one that knows its unknown names too. ``known``: documents already read in this
    process (only their names are looked for).

    ``workers`` None means one per available CPU; 1 parses in this process.
    """
    unique = list(dict.fromkeys(texts))
    documents = {t: (known or {})[t] for t in unique if t in (known or {})}
    todo = [t for t in unique if t not in documents]
    keys = {t: text_key(t) for t in (unique if names else todo)} if store is not None else {}
    stored = store.load(keys[t] for t in todo) if store is not None else {}
    missing: list[str] = []
    for text in todo:
        data = stored.get(keys[text]) if keys else None
        doc = None if data is None else from_structure(text, data)
        if doc is None:
            missing.append(text)
        else:
            documents[text] = doc
    from_store = len(todo) - len(missing)
    unchecked, names_from_store = _unchecked(unique, documents, store, keys) if names else ([], 0)
    work = missing + unchecked
    count = _worker_count(workers, work)
    results = _read_all(work, count, names=names)
    fresh: dict[str, Structure] = {}
    fresh_names: dict[str, object] = {}
    names_found = 0
    for text, result in zip(work, results, strict=True):
        data, answer = _split(result, names=names)
        doc = documents.get(text)
        if doc is None and data is not None:
            doc = from_structure(text, data)
            if doc is not None:
                documents[text] = doc
                if keys:
                    fresh[keys[text]] = data
        found = None if answer is None else unknown.from_plain(answer)
        if doc is not None and found is not None:
            unknown.keep(doc, found)
            names_found += 1
            if keys:
                fresh_names[keys[text]] = answer
    if store is not None:
        store.save(fresh)
        store.save_names(fresh_names)
    invalid = sum(1 for r in results[: len(missing)] if r is None)
    stats = PreloadStats(
        texts=len(unique),
        in_process=len(unique) - len(todo),
        from_store=from_store,
        parsed=len(missing) - invalid,
        invalid=invalid,
        workers=count,
        names_from_store=names_from_store,
        names_found=names_found,
    )
    return Preloaded(documents, stats)


def _unchecked(
    texts: list[str],
    documents: Mapping[str, SectionDocument],
    store: ReadStore | None,
    keys: Mapping[str, str],
) -> tuple[list[str], int]:
    """The texts with a document that does not know its unknown names yet and whose answer the
    store does not hold either; and how many answers the store gave (those are kept on their
    documents)."""
    lacking = [t for t in texts if t in documents and unknown.known(documents[t]) is None]
    stored = store.load_names(keys[t] for t in lacking) if store is not None else {}
    unchecked: list[str] = []
    for text in lacking:
        found = unknown.from_plain(stored.get(keys[text])) if keys else None
        if found is None:
            unchecked.append(text)
        else:
            unknown.keep(documents[text], found)
    return unchecked, len(lacking) - len(unchecked)


def _split(result: object, *, names: bool) -> tuple[Structure | None, object]:
    """A read's result → its structure and (with ``names``) its unknown-names answer."""
    if not isinstance(result, list):
        return None, None
    if not names:
        return result, None
    if len(result) != 2 or not isinstance(result[0], list):
        return None, None
    return result[0], result[1]


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

    def read(
        self,
        texts: Sequence[str],
        *,
        names: bool = False,
        known: Mapping[str, SectionDocument] | None = None,
    ) -> dict[str, SectionDocument]:
        done = preload(texts, store=self._store, names=names, known=known)
        s = done.stats
        LOGGER.debug(
            "read-ahead: %d texts; %d known in this process, %d from the read cache, %d parsed "
            "(%d invalid) by %d worker(s); unknown names: %d from the read cache, %d found",
            s.texts,
            s.in_process,
            s.from_store,
            s.parsed,
            s.invalid,
            s.workers,
            s.names_from_store,
            s.names_found,
        )
        return done.documents


def _worker_count(workers: int | None, texts: list[str]) -> int:
    if workers is None:
        available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        workers = available or os.cpu_count() or 1
    if sum(map(len, texts)) < PARALLEL_BYTES:
        return 1
    return max(1, min(workers, len(texts), 8))


def _read_all(texts: list[str], workers: int, *, names: bool = False) -> list[object]:
    """Each text's :func:`read_structure` (with ``names``, :func:`read_with_names`) result."""
    results: list[object] = [None] * len(texts)
    shares = _shares(texts, workers) if workers > 1 else [list(range(len(texts)))]
    threads = [
        threading.Thread(target=_read_share, args=(texts, share, results, names), daemon=True)
        for share in shares[1:]
    ]
    for thread in threads:
        thread.start()
    read = read_with_names if names else read_structure
    for i in shares[0]:  # this process reads a share too
        results[i] = read(texts[i])
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


def _read_share(texts: list[str], share: list[int], results: list[object], names: bool) -> None:
    """Read ``share`` in a worker process (a fresh interpreter, so nothing of this process's
    memory or threads is copied); any failure of the worker reads the share here instead.

    Texts go one by one (a length line, then UTF-8) and structures come back one JSON line each,
    so neither side ever holds more than one text it does not need.
    """
    found: list[object] = []
    try:
        with subprocess.Popen(
            [sys.executable, "-m", __name__, *(["--names"] if names else [])],
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
        read = read_with_names if names else read_structure
        found = [read(texts[i]) for i in share]
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


def read_with_names(text: str) -> list[object] | None:
    """Parse ``text`` → ``[its structure, its unknown names (names.plain)]``, or None when it is
    not valid M."""
    with cycle_collection_paused():
        try:
            doc = parse_section(text, trees=True)  # the check walks every tree: one pass builds them
        except MSyntaxError:
            return None
        return [structure(doc), unknown.plain(unknown.find_unknown_names(doc))]


def _serve(names: bool) -> None:
    """The worker: texts on stdin (each a length line, then UTF-8) → one JSON line per text on
    stdout, its structure (with ``--names``, :func:`read_with_names`'s pair) or null."""
    source, out = sys.stdin.buffer, sys.stdout
    read = read_with_names if names else read_structure
    while header := source.readline():
        text = source.read(int(header)).decode("utf-8")
        out.write(json.dumps(read(text), separators=(",", ":")) + "\n")
        out.flush()


if __name__ == "__main__":
    _serve("--names" in sys.argv[1:])
