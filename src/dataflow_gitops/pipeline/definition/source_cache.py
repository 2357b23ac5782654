"""The source stage's one cache (stage ① source): each distinct file read → one :class:`Part`.

One command takes several snapshots of the same files (validate, render and the plan each read
the working tree; drift, promote and proof read commits as well). The source stage turns every
file it reads into the part it made before for the same path and bytes, so whatever a stage
derives from that part (its M document, its canonical form: :class:`~.model.Derived`) is derived
once per process however many snapshots hold it, and every snapshot shares one copy of the bytes.
The checks a file passed and the ``.platform`` it reads as are kept with it; failures are not
kept, so each names its own location.

This is the only module-level cache of ``pipeline/`` (tests/test_architecture.py holds it to
that). Bounded by the bytes of the files it holds (the least recently read go first); a part it
has let go of keeps what it derived, for as long as the snapshots holding it live.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from dataflow_gitops.pipeline.model import PLATFORM_PATH, Part, Platform

# The files of 1,000 dataflows of 50 KB, as two versions (a working tree and a commit), with room.
BUDGET = 256_000_000


@dataclass(slots=True, eq=False)
class Known:
    """One file as the source stage read it: its part, and what was found about its bytes."""

    part: Part
    passed: bool = False
    """The source stage's checks of this part passed (a part failing them is read again)."""
    platform: Platform | None = None
    """What a ``.platform`` file with these bytes means, once read."""


class SourceCache:
    """(path in the item, bytes) → :class:`Known`, least recently read dropped past ``budget`` bytes."""

    def __init__(self, budget: int = BUDGET) -> None:
        self._budget = budget
        self._held = 0
        self._files: OrderedDict[tuple[str, bytes], Known] = OrderedDict()
        self._lock = threading.Lock()

    def known(self, path: str, data: bytes) -> Known:
        """The file ``path`` with ``data``: as read before, else new (and kept, within budget)."""
        key = (path, data)
        with self._lock:
            found = self._files.get(key)
            if found is not None:
                self._files.move_to_end(key)
                return found
            found = Known(Part(path, data))
            if len(data) > self._budget:
                return found  # larger than the whole cache: not worth evicting everything for
            self._files[key] = found
            self._held += len(data)
            while self._held > self._budget:
                (_, dropped), _ = self._files.popitem(last=False)
                self._held -= len(dropped)
            return found

    def part(self, path: str, data: bytes) -> Part:
        return self.known(path, data).part

    def content(self, path: str, data: bytes) -> bytes:
        """``data``, or the equal bytes read before for ``path``: a snapshot holds one copy of
        each file content from the moment it is read (and its hash is computed once)."""
        return self.known(path, data).part.data

    def platform(self, data: bytes, read: Callable[[bytes], Platform]) -> Platform:
        """What the ``.platform`` file ``data`` means, read by ``read`` the first time (its errors
        propagate and are not kept)."""
        known = self.known(PLATFORM_PATH, data)
        if known.platform is None:
            known.platform = read(data)
        return known.platform


FILES = SourceCache()
"""The process's one: every snapshot of every command reads through it."""
