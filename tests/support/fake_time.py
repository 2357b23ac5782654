"""A clock and sleep for in-process dfg runs: retries and backoff cost no wall time."""

from __future__ import annotations

import threading
import time


class FakeTime:
    """Monotonic time plus everything slept; never goes backwards across tests."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self.slept = 0.0

    def clock(self) -> float:
        with self._lock:
            return time.monotonic() + self._offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(0.0, seconds)
            self.slept += max(0.0, seconds)
        time.sleep(0)  # let other threads run, as a real sleep would
