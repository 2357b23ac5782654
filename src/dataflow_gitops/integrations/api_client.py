"""Integrations layer, the HTTP client both pull-request clients share (GitHub, Azure Repos): one
request → its successful response, or the service's error as one clear line.

Retries go through the Fabric client's loop (:func:`dataflow_gitops.fabric.retry.retrying`): the
same retryable statuses, the same ``Retry-After`` reading (seconds or an HTTP date) as the floor
of a jittered exponential backoff, the same status line per wait; here ``Retry-After`` is capped,
since a comment is not worth a long wait. Sleep and clock are injected (tests never wait); by
default they are :mod:`dataflow_gitops.fabric.timing`'s, whose sleep ends at once on Ctrl-C /
SIGTERM.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, ClassVar, Self, TypedDict

import httpx

from dataflow_gitops import __version__
from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.fabric import retry, timing

MAX_RETRY_AFTER_S = 60.0


def policy(retries: int) -> retry.RetryPolicy:
    return retry.RetryPolicy(
        max_retries=retries,
        base_delay_s=1.0,
        max_delay_s=MAX_RETRY_AFTER_S,
        max_retry_after_s=MAX_RETRY_AFTER_S,
    )


class Options(TypedDict, total=False):
    """What a caller may set on either client (tests: a transport, a sleep and a clock)."""

    transport: httpx.BaseTransport | None
    sleep: Callable[[float], None] | None
    clock: Callable[[], float] | None
    retries: int
    timeout_s: float


class ApiClient(ABC):
    """One service's REST API under a bearer token, with a few retries on 429/5xx."""

    service: ClassVar[str]
    """Named in the status line of a wait: "GitHub answered 503 — retry 1/3 in 1 s"."""
    token_variable: ClassVar[str]
    """Where the CLI reads the token, and the step maps it from: told when it is empty."""
    token_expression: ClassVar[str]
    where: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        token: str,
        headers: Mapping[str, str],
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        retries: int = 3,
        timeout_s: float = 30.0,
        params: Mapping[str, str] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not token:
            raise DataflowGitopsError(
                f"{self.token_variable} is not set",
                where=self.where,
                hint=f"map it into the step: env: {self.token_variable}: {self.token_expression}",
            )
        self._sleep = sleep or timing.current().sleep
        self._clock = clock or timing.current().clock
        self._jitter = jitter
        self._policy = policy(retries)
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout_s,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": f"dataflow-gitops/{__version__}",
                **headers,
            },
            params=params,
            follow_redirects=False,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(
        self, method: str, url: str, payload: Any = None, *, params: dict[str, str] | None = None
    ) -> httpx.Response:
        """The successful response; the service's error once it refused or retries ran out."""

        def attempt() -> httpx.Response | retry.Retry:
            try:
                response = self._http.request(method, url, json=payload, params=params)
            except httpx.HTTPError as exc:
                waiting = f"{self.service} unreachable ({retry.unreachable(exc)})"
                return retry.Retry(self.no_answer(exc, method, url), waiting)
            status = response.status_code
            if status in retry.RETRYABLE_STATUSES:
                error = self.error(response, method, url)
                waiting = f"{self.service} answered {status}"
                return retry.Retry(error, waiting, retry.retry_after_s(response))
            if self.accepted(response):
                return response
            raise self.error(response, method, url)

        return retry.retrying(
            attempt, policy=self._policy, clock=self._clock, sleep=self._sleep, jitter=self._jitter
        )

    def accepted(self, response: httpx.Response) -> bool:
        return response.is_success

    @abstractmethod
    def error(self, response: httpx.Response, method: str, url: str) -> DataflowGitopsError:
        """The one-line error of a refused request."""

    @abstractmethod
    def no_answer(self, exc: httpx.HTTPError, method: str, url: str) -> DataflowGitopsError:
        """The one-line error of a request that got no answer at all."""


def message_of(response: httpx.Response) -> str:
    """The service's own words about a refusal (``message`` of a JSON body), or ""."""
    try:
        return str(response.json().get("message", ""))
    except (ValueError, AttributeError):
        return ""
