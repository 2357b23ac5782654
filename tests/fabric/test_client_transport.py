"""Retries, backoff, Retry-After, the shared throttle, the deadline and the TokenExpired refresh."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fabric_fakes import V1, FakeTime, Server, Tokens, error, raises

from dataflow_gitops.errors import (
    BadRequest,
    ServerError,
    Throttled,
    TransportError,
    Unauthorized,
)
from dataflow_gitops.fabric.client import FabricClient
from dataflow_gitops.fabric.retry import RetryPolicy, retry_after_s
from dataflow_gitops.fabric.throttle import Throttle, shared_throttle

WS = "/v1/workspaces/ws1"
OK = httpx.Response(200, json={"id": "ws1", "displayName": "W"})


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=30)
    assert [policy.backoff(n, 0.0) for n in range(4)] == [0.25, 0.5, 1.0, 2.0]
    assert [policy.backoff(n, 0.999999) for n in range(4)] == pytest.approx([0.5, 1, 2, 4], rel=1e-5)
    assert policy.backoff(20, 0.0) == 15.0
    assert policy.delay(0, 0.0, retry_after=7) == 7


@pytest.mark.parametrize(
    ("value", "expected"), [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("soon", None), (None, None)]
)
def test_retry_after_forms(value: str | None, expected: float | None) -> None:
    headers = {"Retry-After": value} if value is not None else {}
    assert retry_after_s(httpx.Response(429, headers=headers)) == expected


def test_retry_after_http_date() -> None:
    response = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"})
    assert retry_after_s(response, now=lambda: 1445412480.0) == pytest.approx(10.0)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_with_growing_delays(
    server: Server, client: FabricClient, fake_time: FakeTime, status: int
) -> None:
    server.on(
        "GET", WS, error(status, "InternalServerError"), error(status, "X"), error(status, "X"), OK
    )
    assert client.get_workspace("ws1")["id"] == "ws1"
    assert server.count("GET", WS) == 4
    assert fake_time.sleeps == [0.25, 0.5, 1.0]


def test_retry_after_is_the_floor_of_the_delay(
    server: Server, client: FabricClient, fake_time: FakeTime
) -> None:
    server.on("GET", WS, error(503, "ServiceUnavailable", **{"Retry-After": "9"}), OK)
    client.get_workspace("ws1")
    assert fake_time.sleeps == [9.0]


def test_connection_errors_and_timeouts_are_retried(
    server: Server, client: FabricClient, fake_time: FakeTime
) -> None:
    server.on("GET", WS, raises(httpx.ConnectError), raises(httpx.ReadTimeout), OK)
    assert client.get_workspace("ws1")["id"] == "ws1"
    assert len(fake_time.sleeps) == 2


def test_retries_are_bounded(server: Server, make_client, fake_time: FakeTime) -> None:
    server.on("GET", WS, error(500, "InternalServerError"))
    client = make_client(max_retries=2)
    with pytest.raises(ServerError) as caught:
        client.get_workspace("ws1")
    assert server.count("GET", WS) == 3
    assert caught.value.error_code == "InternalServerError"
    assert caught.value.hint


def test_transport_failure_after_retries_is_a_typed_error(server: Server, make_client) -> None:
    server.on("GET", WS, raises(httpx.ConnectError))
    client = make_client(max_retries=1)
    with pytest.raises(TransportError) as caught:
        client.get_workspace("ws1")
    assert caught.value.method == "GET"
    assert caught.value.url.endswith("/v1/workspaces/ws1")


def test_deadline_stops_retrying_before_a_long_wait(
    server: Server, make_client, fake_time: FakeTime
) -> None:
    server.on("GET", WS, error(429, "TooManyRequests", **{"Retry-After": "55"}))
    client = make_client(deadline_s=120)
    with pytest.raises(Throttled):
        client.get_workspace("ws1")
    # Two 55 s pauses fit in 120 s, a third does not.
    assert sum(fake_time.sleeps) == pytest.approx(110)
    assert server.count("GET", WS) == 3


def test_client_errors_are_not_retried(server: Server, client: FabricClient) -> None:
    server.on("GET", WS, error(400, "InvalidRequest"), OK)
    with pytest.raises(BadRequest):
        client.get_workspace("ws1")
    assert server.count("GET", WS) == 1


def test_token_expired_refreshes_once_and_retries(
    server: Server, client: FabricClient, tokens: Tokens
) -> None:
    server.on("GET", WS, error(401, "TokenExpired"), OK)
    assert client.get_workspace("ws1")["id"] == "ws1"
    assert tokens.refreshes == 1
    sent = [r.headers["Authorization"] for r in server.requests]
    assert sent[0] != sent[1]
    assert sent[1].endswith("-refreshed1")


def test_token_expired_twice_is_an_error(server: Server, client: FabricClient, tokens: Tokens) -> None:
    server.on("GET", WS, error(401, "TokenExpired"))
    with pytest.raises(Unauthorized) as caught:
        client.get_workspace("ws1")
    assert tokens.refreshes == 1
    assert server.count("GET", WS) == 2
    assert caught.value.error_code == "TokenExpired"


def test_other_401_does_not_refresh(server: Server, client: FabricClient, tokens: Tokens) -> None:
    server.on("GET", WS, error(401, "InvalidToken"), OK)
    with pytest.raises(Unauthorized):
        client.get_workspace("ws1")
    assert tokens.refreshes == 0


def test_a_429_pauses_every_request_of_the_identity(make_client, fake_time: FakeTime) -> None:
    """Client A gets a 429 with Retry-After 30 and gives up; client B of the same identity, which
    never saw a 429 itself, must still hold its requests until the pause has passed."""
    throttle = Throttle()
    tokens = Tokens()
    seen_at: dict[str, float] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        if name == "a":
            return error(429, "TooManyRequests", **{"Retry-After": "30"})
        seen_at.setdefault(name, fake_time.clock())
        return httpx.Response(200, json={"id": name})

    start = fake_time.clock()
    client_a = make_client(
        transport=httpx.MockTransport(handler), throttle=throttle, tokens=tokens, max_retries=0
    )
    client_b = make_client(transport=httpx.MockTransport(handler), throttle=throttle, tokens=tokens)
    with pytest.raises(Throttled):
        client_a.get_workspace("a")
    assert fake_time.sleeps == []
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda ws: client_b.get_workspace(ws)["id"], ["b", "c", "d"]))
    assert results == ["b", "c", "d"]
    assert fake_time.sleeps
    assert all(moment >= start + 30 for moment in seen_at.values())


def test_another_identity_is_not_paused(make_client, fake_time: FakeTime) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/a"):
            return error(429, "TooManyRequests", **{"Retry-After": "30"})
        return httpx.Response(200, json={"id": "b"})

    transport = httpx.MockTransport(handler)
    client_a = make_client(
        transport=transport,
        tokens=Tokens(identity="alice"),
        max_retries=0,
        throttle=shared_throttle("alice-test-transport"),
    )
    client_b = make_client(
        transport=transport,
        tokens=Tokens(identity="bob"),
        throttle=shared_throttle("bob-test-transport"),
    )
    with pytest.raises(Throttled):
        client_a.get_workspace("a")
    client_b.get_workspace("b")
    assert fake_time.sleeps == []


def test_shared_throttle_is_one_per_identity() -> None:
    assert shared_throttle("id-x") is shared_throttle("id-x")
    assert shared_throttle("id-x") is not shared_throttle("id-y")


def test_throttle_wait_sleeps_only_the_remaining_time(fake_time: FakeTime) -> None:
    throttle = Throttle()
    throttle.pause_until(fake_time.clock() + 12)
    throttle.pause_until(fake_time.clock() + 5)  # a shorter pause never shortens a longer one
    assert throttle.wait(fake_time.clock, fake_time.sleep) == 12
    assert throttle.wait(fake_time.clock, fake_time.sleep) == 0


def test_concurrency_bounds_requests_in_flight(make_client) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    release = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        release.wait(0.05)
        with lock:
            in_flight -= 1
        return httpx.Response(200, json={"id": "x"})

    client = make_client(transport=httpx.MockTransport(handler), concurrency=2)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: client.get_workspace("w"), range(8)))
    assert 1 <= peak <= 2


def test_requests_carry_the_bearer_token(server: Server, client: FabricClient, tokens: Tokens) -> None:
    server.on("GET", WS, OK)
    client.get_workspace("ws1")
    assert server.requests[0].headers["Authorization"] == f"Bearer {tokens.token}"
    assert str(server.requests[0].url) == f"{V1}/workspaces/ws1"


def test_every_request_carries_the_per_request_timeout(server: Server, make_client) -> None:
    server.on("GET", WS, OK)
    make_client(timeout_s=7.5).get_workspace("ws1")
    timeouts = server.requests[0].extensions["timeout"]
    assert timeouts == {"connect": 7.5, "read": 7.5, "write": 7.5, "pool": 7.5}


def test_a_read_timeout_is_retried_then_reported_as_a_transport_error(
    server: Server, make_client, fake_time: FakeTime
) -> None:
    server.on("GET", WS, raises(httpx.ReadTimeout))
    client = make_client(max_retries=2)
    with pytest.raises(TransportError, match="timed out"):
        client.get_workspace("ws1")
    assert server.count("GET", WS) == 3
    assert len(fake_time.sleeps) == 2
