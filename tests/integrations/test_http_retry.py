"""The pull-request clients retry in the Fabric client's loop (``fabric.retry.retrying``):
``Retry-After`` in seconds or as an HTTP date (which an older parser ignored, backing off 1 s
instead of the minute asked), capped at a minute; the backoff grows; each wait is one status line;
the deadline is read on the injected clock; an answer that never comes is one clear error."""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from dataflow_gitops.errors import DataflowGitopsError, GitHubError
from dataflow_gitops.integrations.api_client import MAX_RETRY_AFTER_S
from dataflow_gitops.integrations.azure_repos import AzurePullRequest, AzureReposClient
from dataflow_gitops.integrations.github import GitHubClient

TOKEN = "ghs_retry-test-token"


class FakeTime:
    """A clock that moves only by the sleeps, which it records."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def scripted(*answers: httpx.Response | Exception) -> httpx.MockTransport:
    """Answers in turn; the last one for ever after."""
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler)


def throttled(retry_after: str | None, status: int = 429) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(status, headers=headers, json={"message": "slow down"})


OK = httpx.Response(200, json={"login": "octocat"})


def github(transport: httpx.MockTransport, fake: FakeTime, retries: int = 3) -> GitHubClient:
    return GitHubClient(
        TOKEN,
        api_url="https://api.github.test",
        transport=transport,
        sleep=fake.sleep,
        clock=fake.clock,
        retries=retries,
    )


class Collect(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def status_lines() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []
    handler = Collect(records)
    logger = logging.getLogger("dataflow_gitops.fabric.retry")
    saved = (logger.level, logger.disabled)
    logger.setLevel(logging.DEBUG)
    logger.disabled = False
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    logger.level, logger.disabled = saved


def test_retry_after_as_an_http_date_is_honoured() -> None:
    fake = FakeTime()
    when = email.utils.formatdate(time.time() + 40, usegmt=True)
    with github(scripted(throttled(when), OK), fake) as client:
        assert client.authenticated_login() == "octocat"
    assert len(fake.sleeps) == 1
    assert 35 <= fake.sleeps[0] <= 41


@pytest.mark.parametrize(("value", "expected"), [("7", 7.0), ("1.5", 1.5), ("3600", MAX_RETRY_AFTER_S)])
def test_retry_after_in_seconds_is_honoured_and_capped(value: str, expected: float) -> None:
    fake = FakeTime()
    with github(scripted(throttled(value), OK), fake) as client:
        client.authenticated_login()
    assert fake.sleeps == [expected]


def test_without_retry_after_the_backoff_grows() -> None:
    fake = FakeTime()
    transport = scripted(*[throttled(None, 503)] * 4, OK)
    with github(transport, fake, retries=4) as client:
        client.authenticated_login()
    assert len(fake.sleeps) == 4
    assert fake.sleeps == sorted(fake.sleeps)
    assert fake.sleeps[0] < fake.sleeps[-1]


def test_each_wait_is_one_status_line(status_lines: list[logging.LogRecord]) -> None:
    fake = FakeTime()
    transport = scripted(throttled("2", 503), httpx.ConnectError("Connection refused"), OK)
    with github(transport, fake) as client:
        client.authenticated_login()
    first, second = (r.getMessage() for r in status_lines)
    assert first == "GitHub answered 503 — retry 1/3 in 2 s"  # Retry-After above the backoff
    assert re.fullmatch(r"GitHub unreachable \(connection refused\) — retry 2/3 in [12] s", second)
    assert all(getattr(r, "dfg_status", False) for r in status_lines)


def test_after_the_last_retry_the_services_error_is_raised() -> None:
    fake = FakeTime()
    client = github(scripted(throttled("1", 502)), fake, retries=2)
    with client, pytest.raises(GitHubError) as caught:
        client.authenticated_login()
    assert caught.value.status == 502
    assert len(fake.sleeps) == 2
    assert TOKEN not in str(caught.value)


def test_no_answer_at_all_is_one_clear_error() -> None:
    fake = FakeTime()
    pr = AzurePullRequest("https://dev.azure.test/contoso/", "p", "r", 3)
    transport = scripted(httpx.ConnectTimeout("timed out"))
    client = AzureReposClient(TOKEN, pr, transport=transport, sleep=fake.sleep, clock=fake.clock)
    with client, pytest.raises(DataflowGitopsError, match="no answer: ConnectTimeout") as caught:
        client.me()
    assert "SYSTEM_COLLECTIONURI" in str(caught.value)
    assert len(fake.sleeps) == 3


def test_the_deadline_stops_retrying_before_a_wait_past_it() -> None:
    """Ten retries allowed, but each asks for the capped minute: the policy's deadline (ten
    minutes on the injected clock) ends it before the eleventh attempt, without waiting past it."""
    fake = FakeTime()
    client = github(scripted(throttled("3600")), fake, retries=20)
    with client, pytest.raises(GitHubError):
        client.authenticated_login()
    assert fake.sleeps == [MAX_RETRY_AFTER_S] * 10
