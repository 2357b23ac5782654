"""Integrations layer, the retry both pull-request clients share (GitHub, Azure Repos): one
request → the first response not worth retrying. 429 and 5xx wait for Retry-After (capped) or
back off exponentially, as does a request that got no answer; the sleep is injected, so tests
never wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from dataflow_gitops.errors import DataflowGitopsError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0


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
) -> httpx.Response:
    """The response to judge (success or not is the caller's call); after the last attempt got
    no answer at all, the error ``no_answer`` builds."""
    for attempt in range(retries + 1):
        try:
            response = http.request(method, url, json=payload, params=params)
        except httpx.HTTPError as exc:
            if attempt == retries:
                raise no_answer(exc) from None
            sleep(2.0**attempt)
            continue
        if response.status_code in RETRY_STATUSES and attempt < retries:
            sleep(retry_after(response, attempt))
            continue
        return response
    raise AssertionError("unreachable")


def retry_after(response: httpx.Response, attempt: int) -> float:
    value = response.headers.get("Retry-After", "")
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    return 2.0**attempt
