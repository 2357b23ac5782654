"""Retries are visible without -v: each wait is one status line ("Fabric unreachable (connection
refused) — retry 3/6 in 4 s") that the CLI shows updating in place on a terminal."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import pytest
from fabric_fakes import FakeTime

from dataflow_gitops.errors import TransportError
from dataflow_gitops.fabric.client import FabricClient


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed: connections are refused


def test_a_refused_connection_says_so_on_every_retry(
    make_client: Callable[..., FabricClient],
    fake_time: FakeTime,
    status_lines: list[logging.LogRecord],
) -> None:
    client = make_client(base_url=f"http://127.0.0.1:{_closed_port()}/v1", transport=None, max_retries=3)
    with pytest.raises(TransportError):
        client.list_workspaces()
    messages = [r.getMessage() for r in status_lines]
    assert messages == [
        f"Fabric unreachable (connection refused) — retry {n}/3 in {wait} s"
        for n, wait in zip((1, 2, 3), ("0.2", "0.5", "1"), strict=True)
    ]
    assert all(r.levelno == logging.WARNING for r in status_lines)  # shown without -v
    assert all(getattr(r, "dfg_status", False) for r in status_lines)
    assert len(fake_time.sleeps) == 3
