"""The pull-request clients retry by the Fabric client's policy: ``Retry-After`` in seconds or as
an HTTP date (which the old parser ignored, backing off 1 s instead of the minute asked), capped."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from dataflow_gitops.integrations.http_retry import MAX_RETRY_AFTER_S, retry_delay


def answer(retry_after: str | None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(429, headers=headers)


def test_retry_after_as_an_http_date_is_honoured() -> None:
    when = email.utils.formatdate(time.time() + 40, usegmt=True)
    assert 35 <= retry_delay(answer(when), 0, 0.0) <= 41


@pytest.mark.parametrize(("value", "expected"), [("7", 7.0), ("1.5", 1.5), ("3600", MAX_RETRY_AFTER_S)])
def test_retry_after_in_seconds_is_honoured_and_capped(value: str, expected: float) -> None:
    assert retry_delay(answer(value), 0, 0.0) == expected


def test_without_retry_after_the_backoff_grows() -> None:
    delays = [retry_delay(answer(None), attempt, 0.0) for attempt in range(4)]
    assert delays == sorted(delays)
    assert delays[0] < delays[-1]
