"""Persistent read cache of M documents (behind the source stage's read-ahead): text digest →
document structure, in SQLite.

Reading 50 KB of M costs tens of milliseconds of pure-Python tokenizing and parsing, and most of a
project's texts do not change between two commands. The structure of every text read without error
(:func:`~.document.structure`: member names and spans) is kept in one SQLite file under the text's
SHA-256, so an unchanged text is rebuilt from it instead of read again. Entries are keyed by a
digest of the reader's own source as well: a changed reader never trusts what an older one found.
The cache is an optimisation only: a store that cannot be opened, read or written is a miss, never
an error, and a damaged entry is rebuilt by reading the text again.

Beside each structure, the answer of the unknown-names check (``dfg validate``; it costs more
than reading the text) is kept per text in the same way: the names module and its name lists
are part of the reader digest, so a changed library list never trusts an older answer.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dataflow_gitops.pipeline.definition import mlang
from dataflow_gitops.pipeline.definition.mlang.document import Structure
from dataflow_gitops.pipeline.definition.mlang.names import LIBRARY_FILES

FILE_NAME = "mlang.sqlite"
# Rows beyond this are dropped oldest first: a store never grows without bound on a busy machine.
MAX_ENTRIES = 50_000
_READER_MODULES = (
    "tokens",
    "cursor",
    "parser",
    "nodes",
    "literals",
    "document",
    "depth",
    "signatures",
    "names",
    "memo",
)


@functools.cache
def reader_version() -> str:
    """A digest of the reader's source files: the part of every key that retires stale entries."""
    return reader_digest(Path(mlang.__file__).parent)


def reader_digest(here: Path) -> str:
    """:func:`reader_version` of the reader whose package folder is ``here``."""
    digest = hashlib.sha256()
    try:
        for name in _READER_MODULES:
            digest.update((here / f"{name}.py").read_bytes())
        for file in LIBRARY_FILES:  # the unknown-names answers depend on the name lists
            digest.update((here / "data" / file).read_bytes())
        digest.update(Path(__file__).read_bytes())  # this store's own format
    except OSError:
        # No source beside the code (a frozen build): the release names the reader instead.
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            digest.update(importlib.metadata.version("dataflow-gitops").encode())
    return digest.hexdigest()[:16]


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# Table → the column holding its JSON values (both keyed by reader version and text digest).
_TABLES = {"documents": "structure", "names": "found"}


class ReadStore:
    """The cache file of one project (``.dataflow-gitops/cache/mlang.sqlite``)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME

    def _open(self, *, create: bool) -> sqlite3.Connection | None:
        if not create and not self.path.exists():
            return None
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # A project that does not ignore .dataflow-gitops/ gets no untracked cache files.
                ignore = self.path.parent / ".gitignore"
                if not ignore.exists():
                    ignore.write_text("# dataflow-gitops read cache\n*\n", encoding="utf-8")
            return self._connect()
        except sqlite3.DatabaseError as exc:
            # Not a database (a damaged or foreign file): replaced by a new store on this write,
            # as from a miss. (Only that: a store another process has locked is left alone.)
            if not create or exc.sqlite_errorcode != sqlite3.SQLITE_NOTADB:
                return None
            try:
                self.path.unlink()
                return self._connect()
            except (OSError, sqlite3.Error):
                return None
        except (OSError, sqlite3.Error):
            return None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=5)
        try:
            for table, column in _TABLES.items():
                columns = f"key TEXT PRIMARY KEY, {column} TEXT NOT NULL"
                db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        except sqlite3.Error:
            db.close()
            raise
        return db

    def load(self, keys: Iterable[str]) -> dict[str, Structure]:
        """The stored structure of each of ``keys`` (text digests) that has one."""
        return {k: v for k, v in self._load("documents", keys).items() if isinstance(v, list)}

    def save(self, entries: Mapping[str, Structure]) -> None:
        """Store ``entries`` (text digest → structure) in one transaction; failures are ignored."""
        self._save("documents", entries)

    def load_names(self, keys: Iterable[str]) -> dict[str, object]:
        """The stored unknown-names answer (``names.plain`` output) of each of ``keys`` that has one."""
        return self._load("names", keys)

    def save_names(self, entries: Mapping[str, object]) -> None:
        """Store ``entries`` (text digest → unknown-names answer), as :meth:`save` does."""
        self._save("names", entries)

    def _load(self, table: str, keys: Iterable[str]) -> dict[str, Any]:
        wanted = [f"{reader_version()}:{k}" for k in keys]
        found: dict[str, Any] = {}
        db = self._open(create=False)
        if db is None:
            return found
        try:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, {_TABLES[table]} FROM {table} WHERE key IN ({marks})"
                for key, value in db.execute(query, chunk):
                    with contextlib.suppress(ValueError):
                        found[key.partition(":")[2]] = json.loads(value)
        except sqlite3.Error:
            pass  # a damaged file reads as empty; the next save rebuilds what it can
        finally:
            db.close()
        return found

    def _save(self, table: str, entries: Mapping[str, object]) -> None:
        if not entries:
            return
        version = reader_version()
        rows = [(f"{version}:{k}", json.dumps(v, separators=(",", ":"))) for k, v in entries.items()]
        db = self._open(create=True)
        if db is None:
            return
        try:
            with db:
                db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", rows)
                # Entries of another reader version can never be read again.
                db.execute(f"DELETE FROM {table} WHERE key NOT LIKE ?", (f"{version}:%",))
                db.execute(
                    f"DELETE FROM {table} WHERE rowid <= (SELECT max(rowid) FROM {table}) - ?",
                    (MAX_ENTRIES,),
                )
        except sqlite3.Error:
            pass  # read-only or locked for too long: this run simply leaves nothing behind
        finally:
            db.close()
