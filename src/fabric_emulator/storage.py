"""Persistence layer: state records (kind, id) → JSON rows, in memory or in a SQLite file, so that an
emulator started with `--db FILE` finds its workspaces, items and jobs again after a restart."""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any, Protocol

# How long to wait for another process's lock on the file before giving up with an error.
LOCK_TIMEOUT_S = 5.0


class Storage(Protocol):
    def put(self, kind: str, ident: str, record: dict[str, Any]) -> None: ...
    def delete(self, kind: str, ident: str) -> None: ...
    def load(self) -> dict[str, list[dict[str, Any]]]: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class MemoryStorage:
    """Nothing to persist: the live objects in `State` are the only copy."""

    def put(self, kind: str, ident: str, record: dict[str, Any]) -> None:
        pass

    def delete(self, kind: str, ident: str) -> None:
        pass

    def load(self) -> dict[str, list[dict[str, Any]]]:
        return {}

    def clear(self) -> None:
        pass

    def close(self) -> None:
        pass


class SqliteStorage:
    """One table of JSON rows, written on every mutation (autocommit) under a lock.

    Each process keeps the state in memory and only writes through, so two processes on one file
    do not see each other's changes; `dfg`'s embedded mode relies on opening it from several
    processes at once, so the file is not locked against that."""

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        # The server thread and test threads share one connection; the lock serialises them.
        self._conn = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=LOCK_TIMEOUT_S
        )
        try:
            self._prepare()
        except sqlite3.Error:
            self._conn.close()
            raise

    def _prepare(self) -> None:
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, id TEXT NOT NULL, "
            "seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id))"
        )

        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()
        self._seq = int(row[0])

    def put(self, kind: str, ident: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            # Keep the first insertion order (seq) so listings are stable across restarts.
            self._conn.execute(
                "INSERT INTO records (kind, id, seq, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                (kind, ident, self._seq, json.dumps(record)),
            )

    def delete(self, kind: str, ident: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM records WHERE kind = ? AND id = ?", (kind, ident))

    def load(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        with self._lock:
            rows = self._conn.execute("SELECT kind, body FROM records ORDER BY seq").fetchall()
        for kind, body in rows:
            out.setdefault(kind, []).append(json.loads(body))
        return out

    def clear(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM records")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
