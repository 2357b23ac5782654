"""Test doubles for the Fabric client tests: fake time, recording token providers, scripted servers."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

API = "https://api.fabric.test"
V1 = f"{API}/v1"
SECRET = "s3cr3t-T0KEN-value"
_ids = itertools.count()


class FakeTime:
    """A clock that only moves when someone sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


class Tokens:
    """A TokenProvider that hands out numbered tokens and counts forced refreshes."""

    def __init__(self, token: str = SECRET, identity: str | None = None) -> None:
        self.token = token
        self.refreshes = 0
        self._identity = identity or f"test-identity-{next(_ids)}"

    def get_token(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            self.refreshes += 1
            return f"{self.token}-refreshed{self.refreshes}"
        return self.token if not self.refreshes else f"{self.token}-refreshed{self.refreshes}"

    @property
    def identity(self) -> str:
        return self._identity


Responder = Callable[[httpx.Request], httpx.Response]


@dataclass
class Server:
    """A scripted server: per (METHOD, path) a queue of responders; the last one repeats.

    Every request is recorded, so tests can assert on headers and URLs.
    """

    routes: dict[tuple[str, str], list[Responder | httpx.Response]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, method: str, path: str, *responses: Responder | httpx.Response) -> Server:
        self.routes.setdefault((method, path), []).extend(responses)
        return self

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            queue = self.routes.get((request.method, request.url.path))
            if not queue:
                return httpx.Response(404, json={"errorCode": "NoRoute", "message": request.url.path})
            step = queue.pop(0) if len(queue) > 1 else queue[0]
        return step(request) if callable(step) else step

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.url.path == path)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def error(status: int, code: str, message: str = "boom", **headers: str) -> httpx.Response:
    body: dict[str, Any] = {"errorCode": code, "message": message, "requestId": f"rid-{code}"}
    return httpx.Response(status, json=body, headers={"x-ms-public-api-error-code": code, **headers})


def raises(exc: type[httpx.TransportError]) -> Responder:
    def respond(request: httpx.Request) -> httpx.Response:
        raise exc("scripted failure", request=request)

    return respond
