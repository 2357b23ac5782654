"""Fabric client layer — the per-identity throttle: a 429 → every request of that identity waits.

Fabric's quota is per identity (notes §4), so one client's 429 must also hold back the other
clients and threads that use the same identity; otherwise they burn the quota further and
stretch the penalty. :func:`shared_throttle` hands out one :class:`Throttle` per identity.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Throttle:
    """A pause shared by every request of one identity, in the time of the clock given."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = float("-inf")

    def pause_until(self, moment: float) -> None:
        with self._lock:
            self._until = max(self._until, moment)

    def remaining(self, clock: Callable[[], float]) -> float:
        with self._lock:
            return max(0.0, self._until - clock())

    def wait(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> float:
        """Sleep until the pause has passed (it may grow meanwhile); return the time slept."""
        slept = 0.0
        while (left := self.remaining(clock)) > 0:
            sleep(left)
            slept += left
        return slept


_REGISTRY: dict[str, Throttle] = {}
_REGISTRY_LOCK = threading.Lock()


def shared_throttle(identity: str) -> Throttle:
    with _REGISTRY_LOCK:
        return _REGISTRY.setdefault(identity, Throttle())
