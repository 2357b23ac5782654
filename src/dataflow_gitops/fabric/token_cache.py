"""Fabric client layer, auth: the persisted msal token cache (JSON file ⇄ SerializableTokenCache).

The file holds access and refresh tokens, so it is created 0600 in a 0700 directory, written
atomically (temp file + rename, so a crash never leaves half a cache) after merging what others
saved meanwhile, and an existing file with wider permissions is narrowed before it is read.
A corrupt cache is dropped, never fatal: the worst case is one extra sign-in.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import threading
from pathlib import Path
from typing import Any

import msal

DEFAULT_CACHE_PATH = Path("~/.cache/dataflow-gitops/msal_cache.json")
FILE_MODE = 0o600
DIR_MODE = 0o700

log = logging.getLogger(__name__)


def default_cache_path() -> Path:
    return DEFAULT_CACHE_PATH.expanduser()


def _narrow_permissions(path: Path) -> None:
    if os.name == "nt":
        return  # ACLs guard it there (the profile is private); st_mode always says 0o666
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        # Another user could read our refresh tokens; keep the file but close it to others.
        log.warning("token cache %s had mode %o; narrowed to %o", path, mode, FILE_MODE)
        path.chmod(FILE_MODE)


class TokenCacheFile:
    """An msal cache loaded from ``path`` and saved back after each token acquisition."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_cache_path()
        self.cache = msal.SerializableTokenCache()
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        _narrow_permissions(self.path)
        try:
            self.cache.deserialize(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("token cache %s is unreadable; starting with an empty cache", self.path)
            self.cache = msal.SerializableTokenCache()

    def save(self) -> None:
        """Write the cache if msal changed it; 0600 from the first byte (os.open with the mode)."""
        with self._lock:
            if not self.cache.has_state_changed:
                return
            self.path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(self._merged_with_disk())
                os.chmod(tmp, FILE_MODE)  # O_CREAT's mode is ignored when tmp already existed
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    tmp.unlink()
                raise
            self.cache.has_state_changed = False

    def _merged_with_disk(self) -> str:
        # Another provider (promote signs in to two environments) or process may have saved
        # since we loaded; keep its entries, ours win on the same key.
        ours: dict[str, Any] = json.loads(self.cache.serialize())
        try:
            disk = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return json.dumps(ours)
        if not isinstance(disk, dict):
            return json.dumps(ours)
        for section, entries in ours.items():
            merged = disk.get(section)
            if isinstance(merged, dict) and isinstance(entries, dict):
                merged.update(entries)
            else:
                disk[section] = entries
        return json.dumps(disk)

    def __repr__(self) -> str:
        return f"TokenCacheFile({str(self.path)!r})"


def drop_access_tokens(cache: msal.TokenCache, query: dict[str, str | None]) -> None:
    """Forget the access tokens matching ``query``, so the next call asks the authority."""
    entries = list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, query=query))
    for entry in entries:
        cache.remove_at(entry)
