"""Deeply nested M (stage ① source): read thousands of nested levels, within a bound.

Power Query writes conditional columns as one ``else if`` chain per arm (thousands of arms are
real), and the recursive-descent rules take two or three Python frames per level, so Python's
default limit (1,000 frames) stops near 400 arms. A document is first read as usual (no cost for
the common case); only when that reaches the limit is it read again on a worker thread with a
large stack and a raised limit (:data:`DEEP_FRAMES`), which reads some 15,000 levels of any kind.
Deeper still is a :class:`RecursionError` again, which the callers turn into a syntax error.

Since Python 3.11 a call between Python functions takes no C stack, so the raised limit is safe
for the rules themselves; the worker's large stack covers what does recurse in C (object
construction, comparisons). The limit is the interpreter's, so it is raised only while a worker
runs, and one worker at a time. The cycle collector is paused meanwhile: run at the limit, a
finalizer's own frames can take the interpreter past the point where it aborts instead of raising
(seen once, "Cannot recover from stack overflow"); the pause lasts one read (well under a second).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

_T = TypeVar("_T")

DEEP_FRAMES = 60_000
DEEP_STACK_BYTES = 512 * 1024 * 1024  # reserved address space; pages are used only as reached
_one_at_a_time = threading.Lock()


def deeply(read: Callable[[], _T]) -> _T:
    """``read()``; if it nests past the recursion limit, ``read()`` again with room for
    :data:`DEEP_FRAMES` frames. :class:`RecursionError` if even that is not enough. ``read`` must
    be repeatable (it starts over)."""
    try:
        return read()
    except RecursionError:
        pass
    return _on_large_stack(read)


def _on_large_stack(read: Callable[[], _T]) -> _T:
    outcome: list[_T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(read())
        except BaseException as exc:  # handed to the calling thread as it is
            failure.append(exc)

    with _one_at_a_time, cycle_collection_paused():
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, DEEP_FRAMES))
        try:
            size = _large_stack()
            try:
                worker = threading.Thread(target=run, name="m-reader-deep", daemon=True)
                worker.start()
            finally:
                threading.stack_size(size)
            worker.join()
        finally:
            sys.setrecursionlimit(limit)
    if failure:
        raise failure[0]
    return outcome[0]


def _large_stack() -> int:
    """Ask for :data:`DEEP_STACK_BYTES` for the next thread; the size asked before."""
    try:
        return threading.stack_size(DEEP_STACK_BYTES)
    except (ValueError, RuntimeError):  # a platform that refuses the size: its default, then
        return threading.stack_size()


@contextlib.contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """The syntax trees of a document are tens of thousands of objects without cycles (freed by
    reference counting): while they are built and walked, the cyclic collector would only scan
    them again and again, a quarter of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
