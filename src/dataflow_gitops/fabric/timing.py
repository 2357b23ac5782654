"""Fabric client layer — time: the sleep and clock every wait uses (backoff, ``Retry-After``,
operation and job polling), and the one seam tests use to make them cost no wall time.

By default a wait is a real one that ends at once on Ctrl-C / SIGTERM
(:meth:`interrupts.Stop.sleep`) and time is ``time.monotonic``. :func:`using` swaps both for the
clients created inside the block (``dfg`` run in-process on a fake clock), instead of patching
the client class.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from dataflow_gitops import interrupts

Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Timing:
    sleep: Sleep
    clock: Clock


def _interruptible_sleep(seconds: float) -> None:
    interrupts.current().sleep(seconds)


REAL = Timing(_interruptible_sleep, time.monotonic)
_lock = threading.Lock()
_current = REAL


def current() -> Timing:
    return _current


@contextlib.contextmanager
def using(*, sleep: Sleep, clock: Clock) -> Iterator[Timing]:
    """Clients created in the block sleep with ``sleep`` and read ``clock``."""
    global _current
    with _lock:
        previous, _current = _current, Timing(sleep, clock)
    try:
        yield _current
    finally:
        with _lock:
            _current = previous
