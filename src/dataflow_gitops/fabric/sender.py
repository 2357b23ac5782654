"""Fabric client layer — one API call → one successful response, whatever it takes.

:class:`Sender` puts every request through the same policy: the per-identity throttle, a bound on
requests in flight, the bearer token (only ever to the API origin), retries with backoff for 429,
5xx, connection errors and timeouts, one token refresh after 401 ``TokenExpired``, the ``-v`` log
line, and typed errors for everything else. Time is injected (``sleep``, ``clock``) so tests never
wait.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx

from dataflow_gitops import interrupts
from dataflow_gitops.errors import TransportError
from dataflow_gitops.fabric.auth import TokenProvider
from dataflow_gitops.fabric.errors_map import api_error, error_code_of
from dataflow_gitops.fabric.http_log import display_url, log_exchange, request_id_of
from dataflow_gitops.fabric.origin import Origin, require_origin
from dataflow_gitops.fabric.retry import (
    AMBIGUOUS_STATUSES,
    RETRYABLE_STATUSES,
    Retry,
    RetryPolicy,
    retry_after_s,
    retrying,
    unreachable,
    was_sent,
)
from dataflow_gitops.fabric.throttle import Throttle

T = TypeVar("T")


class BodyDeadlineExceeded(httpx.ReadTimeout):
    """The response body did not arrive completely within the body deadline."""


class Sender:
    """Sends requests under the retry, throttle and security policy; thread-safe."""

    def __init__(
        self,
        http: httpx.Client,
        tokens: TokenProvider,
        origin: Origin,
        *,
        policy: RetryPolicy,
        throttle: Throttle,
        concurrency: int,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        jitter: Callable[[], float] = random.random,
        body_deadline_s: float = 120.0,
    ) -> None:
        self._http = http
        self.body_deadline_s = body_deadline_s
        self._tokens = tokens
        self.origin = origin
        self.policy = policy
        self._throttle = throttle
        self._slots = threading.BoundedSemaphore(concurrency)
        self._sleep = sleep
        self.clock = clock
        self._jitter = jitter

    def sleep(self, seconds: float) -> None:
        """Every wait of the client: after Ctrl-C / SIGTERM only one that ends within the grace
        period (a call in flight finishing its operation), else StoppedError at once."""
        interrupts.current().allow_wait(seconds)
        self._sleep(seconds)

    def send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        cleanup: bool = False,
    ) -> httpx.Response:
        """Send an idempotent request; retried until it succeeds, fails for good, or time is up.

        ``cleanup``: a write that undoes our own (cancelling the job we started) still goes out
        after Ctrl-C / SIGTERM.
        """
        response = self._exchange(
            method, url, json=json, params=params, idempotent=True, cleanup=cleanup
        )
        assert response is not None  # idempotent exchanges never report a lost response
        return response

    def send_once(
        self, method: str, url: str, *, json: Any = None, params: Mapping[str, str] | None = None
    ) -> httpx.Response | None:
        """Send a non-idempotent request (a create, a job run).

        Failures that certainly left the server untouched (refused connection, 429, 503) are
        retried; an ambiguous one (answer lost after sending, 500/502/504) returns None, so the
        caller can look for the effect before trying again.
        """
        return self._exchange(method, url, json=json, params=params, idempotent=False)

    def retrying(self, attempt: Callable[[], T | Retry], *, policy: RetryPolicy | None = None) -> T:
        """Run ``attempt`` in the one retry loop, on this sender's clock, sleep and jitter
        (under this sender's policy unless another is given)."""
        return retrying(
            attempt,
            policy=self.policy if policy is None else policy,
            clock=self.clock,
            sleep=self.sleep,
            jitter=self._jitter,
        )

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        json: Any,
        params: Mapping[str, str] | None,
        idempotent: bool,
        cleanup: bool = False,
    ) -> httpx.Response | None:
        require_origin(url, self.origin, what=f"{method} request")
        refreshed = False

        def attempt() -> httpx.Response | None | Retry:
            nonlocal refreshed
            refresh = False
            while True:
                if method != "GET" and not cleanup:
                    # After Ctrl-C / SIGTERM no write goes out, nor a retry of one (polls may).
                    interrupts.current().check(f"{method} {display_url(httpx.URL(url))}")
                self._throttle.wait(self.clock, self.sleep)
                request = self._http.build_request(method, url, json=json, params=params)
                # Set per request (never on the client) so no other host can ever receive it.
                token = self._tokens.get_token(force_refresh=refresh)
                request.headers["Authorization"] = f"Bearer {token}"
                began = time.perf_counter()
                try:
                    with self._slots:
                        response = self._receive(request)
                except httpx.TransportError as exc:
                    log_exchange(method, request.url, type(exc).__name__, time.perf_counter() - began)
                    return self._no_answer(exc, request, idempotent=idempotent)
                log_exchange(
                    method,
                    request.url,
                    response.status_code,
                    time.perf_counter() - began,
                    request_id_of(response),
                )
                if response.is_success:
                    return response
                if self._token_expired(response) and not refreshed:
                    refresh = refreshed = True
                    continue
                return self._failed(response, request, idempotent=idempotent)

        return self.retrying(attempt)

    def _no_answer(
        self, exc: httpx.TransportError, request: httpx.Request, *, idempotent: bool
    ) -> Retry | None:
        if was_sent(exc) and not idempotent:
            return None
        reason = (
            f"the answer did not arrive within {self.body_deadline_s:g}s"
            if isinstance(exc, BodyDeadlineExceeded)
            else unreachable(exc)
        )
        failure = TransportError(
            f"no answer from Fabric ({reason})",
            method=request.method,
            url=display_url(request.url),
            hint="check the network and the `api:` URL; the request was retried",
        )
        return Retry(failure, f"Fabric unreachable ({reason})")

    def _failed(
        self, response: httpx.Response, request: httpx.Request, *, idempotent: bool
    ) -> Retry | None:
        error = api_error(response, method=request.method, url=request.url)
        status = response.status_code
        if status not in RETRYABLE_STATUSES:
            raise error
        if status in AMBIGUOUS_STATUSES and not idempotent:
            return None
        if status == 429:
            # Everyone of this identity waits, this thread included (in _throttle.wait).
            return Retry(
                error,
                "Fabric is throttling (429)",
                retry_after_s(response),
                hold=lambda delay: self._throttle.pause_until(self.clock() + delay),
            )
        return Retry(error, f"Fabric answered {status}", retry_after_s(response))

    def _receive(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and read its whole body by a deadline.

        httpx's read timeout bounds each socket read, not the body: a server trickling a byte
        at a time would hold us for ever. The body is read in chunks instead, against
        :attr:`body_deadline_s` of wall time; after Ctrl-C / SIGTERM the read goes on only
        within the grace period.
        """
        response = self._http.send(request, stream=True)
        try:
            return self._already_read(response)
        except httpx.ResponseNotRead:
            pass
        try:
            deadline = time.monotonic() + self.body_deadline_s
            stop = interrupts.current()
            chunks: list[bytes] = []
            for chunk in response.iter_raw():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise BodyDeadlineExceeded(
                        f"body not complete after {self.body_deadline_s}s", request=request
                    )
                if stop.requested:
                    stop.allow_wait(0.0)
        finally:
            response.close()
        # Raw (still encoded) bytes: the new response decodes them as httpx would have.
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=b"".join(chunks),
            request=request,
            extensions=response.extensions,
        )

    @staticmethod
    def _already_read(response: httpx.Response) -> httpx.Response:
        """A response whose body is in memory already (a transport that is not a socket)."""
        response.content  # noqa: B018 - raises ResponseNotRead for a body still to stream
        return response

    @staticmethod
    def _token_expired(response: httpx.Response) -> bool:
        return response.status_code == 401 and error_code_of(response) == "TokenExpired"


__all__ = ["BodyDeadlineExceeded", "Sender"]
