"""Fabric client layer — one API call → one successful response, whatever it takes.

:class:`Sender` puts every request through the same policy: the per-identity throttle, a bound on
requests in flight, the bearer token (only ever to the API origin), retries with backoff for 429,
5xx, connection errors and timeouts, one token refresh after 401 ``TokenExpired``, the ``-v`` log
line, and typed errors for everything else. Time is injected (``sleep``, ``clock``) so tests never
wait.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from dataflow_gitops import interrupts
from dataflow_gitops.errors import FabricApiError, TransportError
from dataflow_gitops.fabric.auth import TokenProvider
from dataflow_gitops.fabric.errors_map import api_error, error_code_of
from dataflow_gitops.fabric.http_log import display_url, log_exchange, request_id_of
from dataflow_gitops.fabric.origin import Origin, require_origin
from dataflow_gitops.fabric.retry import (
    AMBIGUOUS_STATUSES,
    RETRYABLE_STATUSES,
    RetryPolicy,
    retry_after_s,
    was_sent,
)
from dataflow_gitops.fabric.throttle import Throttle

LOGGER = logging.getLogger("dataflow_gitops.fabric.retry")
STATUS = {"dfg_status": True}
"""``extra`` of a log record that reports a wait: the CLI shows it as one line that updates."""


def _reason(exc: httpx.TransportError) -> str:
    """A transport failure in a few words: connection refused, timed out, …"""
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

    def backoff(self, attempt: int) -> float:
        return self.policy.backoff(attempt, self._jitter())

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
        start = self.clock()
        attempt = 0
        refresh = refreshed = False
        while True:
            if method != "GET" and not cleanup:
                # After Ctrl-C / SIGTERM no write goes out, nor a retry of one (polls may).
                interrupts.current().check(f"{method} {display_url(httpx.URL(url))}")
            self._throttle.wait(self.clock, self.sleep)
            request = self._http.build_request(method, url, json=json, params=params)
            # Set per request (never on the client) so no other host can ever receive it.
            request.headers["Authorization"] = f"Bearer {self._tokens.get_token(force_refresh=refresh)}"
            refresh = False
            began = time.perf_counter()
            failure: Exception
            try:
                with self._slots:
                    response = self._receive(request)
            except httpx.TransportError as exc:
                log_exchange(method, request.url, type(exc).__name__, time.perf_counter() - began)
                if was_sent(exc) and not idempotent:
                    return None
                delay = self.policy.delay(attempt, self._jitter(), None)
                reason = (
                    f"the answer did not arrive within {self.body_deadline_s:g}s"
                    if isinstance(exc, BodyDeadlineExceeded)
                    else _reason(exc)
                )
                waiting = f"Fabric unreachable ({reason})"
                failure = TransportError(
                    f"no answer from Fabric ({reason})",
                    method=method,
                    url=display_url(request.url),
                    hint="check the network and the `api:` URL; the request was retried",
                )
            else:
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
                error = api_error(response, method=method, url=request.url)
                if response.status_code not in RETRYABLE_STATUSES:
                    raise error
                if response.status_code in AMBIGUOUS_STATUSES and not idempotent:
                    return None
                delay = self.policy.delay(attempt, self._jitter(), retry_after_s(response))
                status = response.status_code
                waiting = "Fabric is throttling (429)" if status == 429 else f"Fabric answered {status}"
                if response.status_code == 429:
                    # Everyone of this identity waits, this thread included (in _throttle.wait).
                    self._throttle.pause_until(self.clock() + delay)
                failure = error
            attempt += 1
            if attempt > self.policy.max_retries:
                raise failure
            if self.clock() - start + delay > self.policy.deadline_s:
                raise failure
            # Seen without -v: a long silence before a failure looks like a hang.
            wait = f"{delay:.1f}" if delay < 1 else f"{delay:.0f}"
            LOGGER.warning(
                "%s — retry %d/%d in %s s", waiting, attempt, self.policy.max_retries, wait, extra=STATUS
            )
            if not isinstance(failure, FabricApiError) or failure.status != 429:
                self.sleep(delay)

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
