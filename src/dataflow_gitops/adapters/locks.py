"""One writer per environment: a lock file held from the plan of an apply to its record.

Two applies to one environment at once race for the same names and then each records what it
saw: the loser's record, written last, forgot what the winner created, and drift and prune took
those items for unmanaged. So ``apply`` and ``promote`` hold
``.dataflow-gitops/locks/<env>.lock`` (filelock: ``fcntl`` on POSIX, ``msvcrt`` on Windows, the
OS drops it when the process dies) and a second run is refused at once, told who holds it.

The lock covers runs that share the project folder (one machine, one checkout or a shared CI
workspace). Runs on different machines are kept apart by the CI's own concurrency settings
(docs/reliability.md); their records do not overwrite each other (each is a new tag), and apply
reads the latest record again just before writing its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import filelock

from dataflow_gitops.confined import inside, make_dirs_inside, write_inside
from dataflow_gitops.errors import LockedError

LOCK_DIR = Path(".dataflow-gitops") / "locks"


def lock_path(root: Path, environment: str) -> Path:
    return root / LOCK_DIR / f"{environment}.lock"


@contextlib.contextmanager
def environment_lock(root: Path, environment: str, *, wait_s: float = 0.0) -> Iterator[Path]:
    """Hold ``environment``'s lock for the block; LockedError (naming the holder) when another
    process holds it for longer than ``wait_s`` seconds."""
    path = inside(root, lock_path(root, environment), what="lock file")
    folder = make_dirs_inside(root, root / LOCK_DIR, what="lock folder")
    ignore = folder / ".gitignore"
    if not ignore.exists():
        # Never committed, whether or not the project ignores .dataflow-gitops/.
        write_inside(root, ignore, "# dataflow-gitops apply locks\n*\n", what="lock folder")
    lock = filelock.FileLock(path, timeout=wait_s)
    try:
        lock.acquire()
    except filelock.Timeout:
        held_by = holder(path)
        raise LockedError(
            f"another dfg run is applying to environment {environment!r} ({held_by})",
            holder=held_by,
            where=(LOCK_DIR / f"{environment}.lock").as_posix(),
        ) from None
    info = path.with_suffix(".holder.json")
    try:
        write_inside(root, info, json.dumps(_me()), what="lock holder file")
        yield path
    finally:
        with contextlib.suppress(OSError):
            info.unlink()
        lock.release()


def holder(path: Path) -> str:
    """Who holds the lock at ``path``, as far as its holder file says."""
    try:
        data = json.loads(path.with_suffix(".holder.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "holder unknown"
    if not isinstance(data, dict):
        return "holder unknown"
    return (
        f"pid {data.get('pid', '?')} on {data.get('host', '?')}, user {data.get('user', '?')}, "
        f"since {data.get('since', '?')}: {data.get('command', '?')}"
    )


def _me() -> dict[str, object]:
    import getpass  # here: it imports termios when loaded (POSIX-only modules stay out of imports)

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"
    command = " ".join(["dfg", *sys.argv[1:]])[:200]
    return {
        "pid": os.getpid(),
        "host": platform.node(),
        "user": user,
        "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
    }
