"""Memos keyed by part content (stages ① source, ④ diff): part bytes → what was derived from them.

One command takes several snapshots of the same files (validate, render and the plan each read
the working tree) and compares or hashes the same parts more than once. What depends only on a
small part's bytes (its checks passed, its ``.platform`` meaning, its canonical JSON) is kept
once per distinct content. Bounded by the bytes held, since the keys keep their parts alive.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class BytesMemo(Generic[Value]):
    """A least-recently-used map from (part bytes, extra key) to a value, holding at most
    ``budget`` bytes of keys (plus the size each value is charged with)."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._held = 0
        self._values: OrderedDict[tuple[bytes, Hashable], tuple[Value, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, data: bytes, key: Hashable = None) -> Value | None:
        with self._lock:
            found = self._values.get((data, key))
            if found is None:
                return None
            self._values.move_to_end((data, key))
            return found[0]

    def put(self, data: bytes, value: Value, key: Hashable = None, *, size: int = 0) -> Value:
        """Keep ``value`` for ``data``; the value kept first wins. ``size``: bytes it holds."""
        with self._lock:
            found = self._values.get((data, key))
            if found is not None:
                return found[0]
            if len(data) + size > self._budget:
                return value  # larger than the whole memo: not worth evicting everything for
            self._values[(data, key)] = (value, len(data) + size)
            self._held += len(data) + size
            while self._held > self._budget:
                _, (_, freed) = self._values.popitem(last=False)
                self._held -= freed
            return value

    def __len__(self) -> int:
        return len(self._values)
