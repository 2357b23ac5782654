"""Ctrl-C and SIGTERM (a cancelled CI job): stop writing at once, end within seconds, say what ran.

One :class:`Stop` per process (:func:`current`). The CLI installs the signal handlers
(:func:`handling`); the first signal sets the stop. From then on no new write is sent (the
transport refuses it), every wait in the client (backoff, ``Retry-After``, operation and job
polling) ends at once, and the apply runner stops scheduling: it waits at most
:attr:`Stop.grace_s` for the calls in flight, records what completed, and the command exits 130
(143 for SIGTERM). Outside the apply runner the signal raises :class:`Interrupted` in the main
thread, as KeyboardInterrupt would. A second signal exits at once; a watchdog ends the process if
it still runs well after the grace period (a call stuck in a socket read).

Windows has SIGINT (Ctrl-C, Ctrl-Break) but no deliverable SIGTERM; only signals the platform
has are handled, and nothing POSIX-only is imported.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from dataflow_gitops.errors import StoppedError

GRACE_S = 5.0
"""How long in-flight calls may finish after the first signal."""
HARD_EXIT_AFTER_S = 20.0
"""After the first signal, the process ends by force if it is still running this much later."""


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by a signal (or after an interrupted apply was recorded)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return exit_code(self.signum)


def exit_code(signum: int) -> int:
    """130 for SIGINT, 143 for SIGTERM: 128 + the signal number, as shells report it."""
    return 128 + int(signum)


class Stop:
    """The process's stop request: set by a signal, read by every wait and write."""

    def __init__(self, *, grace_s: float = GRACE_S) -> None:
        self._event = threading.Event()
        self.signum: int | None = None
        self.grace_s = grace_s
        self._deadline = float("inf")
        self._shielded = 0
        self._lock = threading.Lock()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, signum: int = signal.SIGINT) -> None:
        with self._lock:
            if self.signum is None:
                self.signum = signum
                self._deadline = time.monotonic() + self.grace_s
        self._event.set()

    def check(self, what: str = "the call") -> None:
        """Raise StoppedError when a stop was requested (``what`` did not run)."""
        if self._event.is_set():
            raise StoppedError(f"interrupted ({signal_name(self.signum)}): {what} was not started")

    def allow_wait(self, seconds: float) -> None:
        """After a stop, a wait (an operation poll of a call in flight) may only end within the
        grace period; StoppedError when it would not."""
        if self._event.is_set() and time.monotonic() + seconds > self._deadline:
            raise StoppedError(
                f"interrupted ({signal_name(self.signum)}) while waiting; the call in flight "
                "may still complete in Fabric"
            )

    def sleep(self, seconds: float) -> None:
        """A real sleep that a stop cuts short unless it ends within the grace period."""
        seconds = max(0.0, seconds)
        self.allow_wait(seconds)
        end = time.monotonic() + seconds
        if self._event.wait(seconds):
            left = end - time.monotonic()
            self.allow_wait(left)
            time.sleep(max(0.0, left))

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a stop request; True when there is one."""
        return self._event.wait(max(0.0, seconds))

    @contextlib.contextmanager
    def shielded(self) -> Iterator[Stop]:
        """A signal inside the block only sets the stop (the block polls :attr:`requested`)
        instead of raising in the middle of its bookkeeping."""
        with self._lock:
            self._shielded += 1
        try:
            yield self
        finally:
            with self._lock:
                self._shielded -= 1

    @property
    def is_shielded(self) -> bool:
        return self._shielded > 0


def signal_name(signum: int | None) -> str:
    if signum is None:
        return "stopped"
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


_current = Stop()


def current() -> Stop:
    return _current


@contextlib.contextmanager
def handling(
    *,
    echo: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True),
    hard_exit: Callable[[int], None] = os._exit,
) -> Iterator[Stop]:
    """Install SIGINT (and SIGTERM where the platform has it) handlers on a fresh Stop for the
    block; the previous handlers and Stop come back afterwards. Only in the main thread."""
    global _current
    previous_stop = _current
    stop = _current = Stop(grace_s=previous_stop.grace_s)
    if threading.current_thread() is not threading.main_thread():
        try:
            yield stop
        finally:
            _current = previous_stop
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.requested:
            echo(f"{signal_name(signum)} again: exiting now; what was in flight is not recorded")
            hard_exit(exit_code(stop.signum or signum))
            return
        stop.request(signum)
        echo(
            f"{signal_name(signum)}: stopping; no new writes, waiting at most "
            f"{stop.grace_s:.0f}s for calls in flight (press Ctrl-C again to quit at once)"
        )
        _watchdog(stop, hard_exit)
        if not stop.is_shielded:
            raise Interrupted(signum)

    wanted = [int(signal.SIGINT)] + ([int(signal.SIGTERM)] if hasattr(signal, "SIGTERM") else [])
    saved: list[tuple[int, Any]] = []
    for number in wanted:
        with contextlib.suppress(ValueError, OSError):  # not allowed here: leave it be
            saved.append((number, signal.signal(number, on_signal)))
    try:
        yield stop
    finally:
        for number, handler in saved:
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(number, handler)
        _current = previous_stop


def _watchdog(stop: Stop, hard_exit: Callable[[int], None]) -> None:
    def run() -> None:
        # Normally the process has long exited; this only ends one stuck in a socket read.
        threading.Event().wait(HARD_EXIT_AFTER_S)
        with contextlib.suppress(Exception):
            sys.stderr.write("still running after the interrupt: exiting now\n")
            sys.stderr.flush()
        hard_exit(exit_code(stop.signum or signal.SIGINT))

    threading.Thread(target=run, name="dfg-interrupt-watchdog", daemon=True).start()


def end_process(code: int) -> None:
    """Exit with ``code``; after an interrupt, even if a worker thread is still stuck in a call
    (it would keep Python's normal exit waiting). Called by ``main()`` only, never in-process."""
    interrupted = code in {exit_code(signal.SIGINT), exit_code(getattr(signal, "SIGTERM", 15))}
    stuck = [t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon]
    if not interrupted or not stuck:
        sys.exit(code)
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)
