"""A server that trickles a response body (one byte every 0.1 s of a 10 kB body, which would take
17 minutes) cannot hold the client past its body deadline; the request ends as a clean
TransportError after the retries the policy allows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from example_repo import copy_example
from fabric_fakes import Tokens
from loopback_http import TricklingHandler, serving

from dataflow_gitops.errors import TransportError
from dataflow_gitops.fabric.client import FabricClient
from dataflow_gitops.fabric.throttle import Throttle


@pytest.fixture
def trickling() -> Iterator[str]:
    handler = type("Trickle", (TricklingHandler,), {"stop": threading.Event()})
    with serving(handler) as url:
        try:
            yield url
        finally:
            handler.stop.set()


def test_a_trickled_body_ends_at_the_deadline(trickling: str) -> None:
    sleeps: list[float] = []
    with (
        FabricClient(
            trickling,
            Tokens(),
            body_deadline_s=0.5,
            max_retries=1,
            sleep=sleeps.append,
            clock=lambda: 0.0,
            throttle=Throttle(),
        ) as client,
        pytest.raises(TransportError, match=r"did not arrive within 0.5s"),
    ):
        client.get_workspace("ws")
    assert len(sleeps) == 1  # one retry, then the clean error


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals to a child process")
def test_ctrl_c_ends_a_trickled_read_at_once(trickling: str, tmp_path: Path) -> None:
    root = copy_example(tmp_path / "project")
    (root / "environments" / "slow.yaml").write_text(
        f"workspace_id: 1b2c3d4e-0000-4000-8000-000000000001\napi: {trickling}\n"
        "auth:\n  method: token\n  token_env: FABRIC_TOKEN\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "dataflow_gitops", "--no-color", "-C", str(root), "plan", "-e", "slow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FABRIC_TOKEN": "t0k3n"},
    )
    time.sleep(2.0)  # started, connected, and reading the trickle (which would take minutes)
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err
    assert "Interrupted." in err
