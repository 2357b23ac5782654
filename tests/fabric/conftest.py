"""Fixtures for the Fabric client tests (the doubles themselves live in fabric_fakes.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fabric_fakes import API, FakeTime, Server, Tokens

from dataflow_gitops.fabric.auth import TokenProvider
from dataflow_gitops.fabric.client import FabricClient
from dataflow_gitops.fabric.throttle import Throttle


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def tokens() -> Tokens:
    return Tokens()


@pytest.fixture
def make_client(
    server: Server, tokens: Tokens, fake_time: FakeTime
) -> Iterator[Callable[..., FabricClient]]:
    made: list[FabricClient] = []

    def make(**options: Any) -> FabricClient:
        options.setdefault("transport", server.transport())
        options.setdefault("sleep", fake_time.sleep)
        options.setdefault("clock", fake_time.clock)
        options.setdefault("throttle", Throttle())
        options.setdefault("jitter", lambda: 0.0)
        client = FabricClient(options.pop("base_url", API), options.pop("tokens", tokens), **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., FabricClient]) -> FabricClient:
    return make_client()


# -- msal against the emulator's authority (authority_support.py) --------------------------------


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "msal_cache.json"


@pytest.fixture
def providers() -> Iterator[list[TokenProvider]]:
    """Collects providers so their HTTP sessions are closed after the test."""
    made: list[TokenProvider] = []
    yield made
    for provider in made:
        provider.close()  # type: ignore[attr-defined]


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def status_lines() -> Iterator[list[logging.LogRecord]]:
    """The status lines of the one retry loop (each wait of any retry), as they are logged."""
    handler = Collect()
    logger = logging.getLogger("dataflow_gitops.fabric.retry")
    # Whatever an earlier test in this worker left on the logger tree, these records are wanted.
    saved = (logger.level, logger.disabled)
    logger.setLevel(logging.DEBUG)
    logger.disabled = False
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)
    logger.level, logger.disabled = saved
