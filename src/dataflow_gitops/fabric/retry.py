"""Fabric client layer — retry policy: attempt number + ``Retry-After`` → how long to wait.

Jittered exponential backoff with ``Retry-After`` as the floor, a bounded number of retries and an
overall deadline. Which failures are retryable, and which are *ambiguous* (the request may have
been carried out although no answer came back), is decided here as well.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# The server may have done the work before failing; a non-idempotent call must not be replayed blindly.
AMBIGUOUS_STATUSES = frozenset({500, 502, 504})
# Raised before a single byte of the request reached the server: always safe to retry.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 6
    deadline_s: float = 600.0
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def backoff(self, attempt: int, jitter: float) -> float:
        """Delay before retry ``attempt`` (0-based); ``jitter`` in [0, 1) spreads it over [½, 1]·cap."""
        cap = min(self.max_delay_s, self.base_delay_s * 2.0**attempt)
        return cap * (0.5 + jitter / 2)

    def delay(self, attempt: int, jitter: float, retry_after: float | None) -> float:
        return max(retry_after or 0.0, self.backoff(attempt, jitter))


def was_sent(exc: httpx.TransportError) -> bool:
    """Whether the request may have reached the server before ``exc`` happened."""
    return not isinstance(exc, _NOT_SENT)


def retry_after_s(response: httpx.Response, *, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` in seconds (integer, decimal or HTTP date); None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now())
