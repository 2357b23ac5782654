"""The emulator killed (SIGKILL) in the middle of an apply and restarted from its SQLite file.

The emulator runs as a subprocess here (a thread cannot be killed). dfg runs in-process on the
fake clock; a watcher kills the emulator once a few creates have gone out, then restarts it on the
same port and database. The interrupted apply must end cleanly (exit 0 or 1, one error line), and
a re-run must converge without duplicates or losses."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from benchmarks.emulator import free_port
from emulator_project import Cli
from fake_time import FakeTime
from reliability_support import TOKEN, TOKEN_ENV, WS, Probe, assert_clean, assert_converged
from shared_emulator import generated_project

COUNT = 12


class EmulatorProcess:
    def __init__(self, port: int, db: Path) -> None:
        self.port = port
        self.db = db
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [
            sys.executable,
            "-m",
            "fabric_emulator",
            "--port",
            str(self.port),
            "--db",
            str(self.db),
            "--workspace",
            f"{WS}:Reliability",
            "--lro",
            "always",
            "--latency-ms",
            "40",
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/_emulator/config", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError("the emulator subprocess did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[EmulatorProcess]:
    server = EmulatorProcess(free_port(), tmp_path / "state.sqlite")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _kill_after_creates(
    server: EmulatorProcess, creates: int, stop: threading.Event, killed: threading.Event
) -> None:
    with Probe(server.url) as probe:
        while not stop.is_set():
            try:
                posted = [
                    e for e in probe.requests() if e["method"] == "POST" and e["path"].endswith("/items")
                ]
            except httpx.HTTPError:
                return
            if len(posted) >= creates:
                server.kill()
                killed.set()
                server.start()  # same port, same SQLite file
                return
            time.sleep(0.01)


def test_killed_mid_apply_restarts_from_sqlite_and_converges(
    tmp_path: Path,
    emulator_process: EmulatorProcess,
    capsys: pytest.CaptureFixture[str],
    fast_clients: FakeTime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "repo"
    generated_project(
        root,
        COUNT,
        url=emulator_process.url,
        workspace=WS,
        env="rel",
        token_env=TOKEN_ENV,
        target_bytes=900,
    )
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    dfg = Cli(root, capsys)
    stop, killed = threading.Event(), threading.Event()
    watcher = threading.Thread(target=_kill_after_creates, args=(emulator_process, 3, stop, killed))
    watcher.start()
    try:
        code, out, err = dfg("apply", "-e", "rel", "--auto-approve")
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert killed.is_set(), "the apply finished before the emulator could be killed"

    assert_clean(code, out, err)
    with Probe(emulator_process.url) as probe:
        survived = {i["displayName"] for i in probe.dataflows()}
        assert survived  # state written before the kill came back from the SQLite file
        assert_converged(dfg, probe)
