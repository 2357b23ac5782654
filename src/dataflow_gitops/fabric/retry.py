"""Fabric client layer — the one retry loop: an attempt → its result, or another attempt later.

Every HTTP call that retries goes through :func:`retrying` — the Fabric client's requests and the
pull-request clients' (GitHub, Azure Repos), the wait for a reserved name and the retry of a
create whose answer was lost. Jittered exponential backoff with ``Retry-After`` as the floor, a
bounded number of retries (or the deadline alone) and an overall deadline, read on the injected
clock; each wait is one status line ("… — retry 2/6 in 4 s") that the CLI shows updating in place.
Which failures are retryable, and which are *ambiguous* (the request may have been carried out
although no answer came back), is decided here as well.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

LOGGER = logging.getLogger(__name__)
STATUS = {"dfg_status": True}
"""``extra`` of a log record that reports a wait: the CLI shows it as one line that updates."""

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# The server may have done the work before failing; a non-idempotent call must not be replayed blindly.
AMBIGUOUS_STATUSES = frozenset({500, 502, 504})
# Raised before a single byte of the request reached the server: always safe to retry.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int | None = 6
    """None: as many as the deadline leaves time for (the reserved-name wait)."""
    deadline_s: float = 600.0
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_retry_after_s: float | None = None
    """A cap on what ``Retry-After`` may ask (None: only the deadline bounds it)."""

    def backoff(self, attempt: int, jitter: float) -> float:
        """Delay before retry ``attempt`` (0-based); ``jitter`` in [0, 1) spreads it over [½, 1]·cap."""
        cap = min(self.max_delay_s, self.base_delay_s * 2.0**attempt)
        return cap * (0.5 + jitter / 2)

    def delay(self, attempt: int, jitter: float, retry_after: float | None) -> float:
        asked = retry_after or 0.0
        if self.max_retry_after_s is not None:
            asked = min(asked, self.max_retry_after_s)
        return max(asked, self.backoff(attempt, jitter))


@dataclass(frozen=True, slots=True)
class Retry:
    """An attempt that failed in a way worth another; ``failure`` is raised once none is left."""

    failure: Exception
    waiting: str
    """What the status line says is wrong: "Fabric answered 503"."""
    retry_after: float | None = None
    hold: Callable[[float], None] | None = None
    """Called with the delay instead of sleeping it here, whether or not another attempt follows
    (a 429 pauses every request of the identity, this one included, in the throttle)."""


def retrying(
    attempt: Callable[[], T | Retry],
    *,
    policy: RetryPolicy,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    jitter: Callable[[], float] = random.random,
) -> T:
    """Call ``attempt`` until it returns a result, or raise the last failure when the retries or
    the deadline (a wait that would end past it is not begun) run out."""
    start = clock()
    retries = 0
    while True:
        outcome = attempt()
        if not isinstance(outcome, Retry):
            return outcome
        delay = policy.delay(retries, jitter(), outcome.retry_after)
        if outcome.hold is not None:
            outcome.hold(delay)
        retries += 1
        bound = policy.max_retries
        if (bound is not None and retries > bound) or clock() - start + delay > policy.deadline_s:
            raise outcome.failure
        # Seen without -v: a long silence before a failure looks like a hang.
        wait = f"{delay:.1f}" if delay < 1 else f"{delay:.0f}"
        of = "" if bound is None else f"/{bound}"
        LOGGER.warning("%s — retry %d%s in %s s", outcome.waiting, retries, of, wait, extra=STATUS)
        if outcome.hold is None:
            sleep(delay)


def was_sent(exc: httpx.TransportError) -> bool:
    """Whether the request may have reached the server before ``exc`` happened."""
    return not isinstance(exc, _NOT_SENT)


def unreachable(exc: httpx.HTTPError) -> str:
    """A failure without an answer in a few words: connection refused, timed out, …"""
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "certificate" in text:
        return "TLS certificate not trusted"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    return type(exc).__name__


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
