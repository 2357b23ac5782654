"""Integrations layer, the retry both pull-request clients share (GitHub, Azure Repos): one
request → the first response not worth retrying.

The policy is the Fabric client's (:mod:`dataflow_gitops.fabric.retry`): the same retryable
statuses, the same ``Retry-After`` reading (seconds or an HTTP date) as the floor of a jittered
exponential backoff; here ``Retry-After`` is capped, since a comment is not worth a long wait.
The sleep is injected (tests never wait); the default one ends at once on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx

from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.fabric.retry import RETRYABLE_STATUSES, RetryPolicy, retry_after_s

MAX_RETRY_AFTER_S = 60.0
POLICY = RetryPolicy(base_delay_s=1.0, max_delay_s=MAX_RETRY_AFTER_S)


def send_with_retries(
    http: httpx.Client,
    method: str,
    url: str,
    payload: Any,
    *,
    retries: int,
    sleep: Callable[[float], None],
    no_answer: Callable[[httpx.HTTPError], DataflowGitopsError],
    params: dict[str, str] | None = None,
    jitter: Callable[[], float] = random.random,
) -> httpx.Response:
    """The response to judge (success or not is the caller's call); after the last attempt got
    no answer at all, the error ``no_answer`` builds."""
    for attempt in range(retries + 1):
        try:
            response = http.request(method, url, json=payload, params=params)
        except httpx.HTTPError as exc:
            if attempt == retries:
                raise no_answer(exc) from None
            sleep(POLICY.delay(attempt, jitter(), None))
            continue
        if response.status_code in RETRYABLE_STATUSES and attempt < retries:
            sleep(retry_delay(response, attempt, jitter()))
            continue
        return response
    raise AssertionError("unreachable")


def retry_delay(response: httpx.Response, attempt: int, jitter: float) -> float:
    """``Retry-After`` (capped) when given, else the backoff of ``attempt``."""
    after = retry_after_s(response)
    if after is not None:
        return min(after, MAX_RETRY_AFTER_S)
    return POLICY.backoff(attempt, jitter)
