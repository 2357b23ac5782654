"""Per-identity quota: (identity, now) → allowed, or the seconds until the fixed 60 s window resets
(the caller answers 429 `TooManyRequests` with that `Retry-After`)."""

from __future__ import annotations

import math
import threading

WINDOW_S = 60.0


class Quota:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def charge(self, identity: str, now: float, limit: int | None) -> int | None:
        """Count one call; None when allowed, else the Retry-After seconds."""
        if limit is None:
            return None
        with self._lock:
            start, used = self._windows.get(identity, (now, 0))
            if now - start >= WINDOW_S:
                start, used = now, 0
            if used >= limit:
                return max(1, math.ceil(start + WINDOW_S - now))
            self._windows[identity] = (start, used + 1)
            return None

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
