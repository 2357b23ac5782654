"""Benchmark emulator: settings → a ``fabric-emulator`` subprocess on a free loopback port, driven
through its control plane (reset, config, request log).

A subprocess, not a thread: the emulator then never competes for the measured tool's interpreter
lock, which is how a real service behaves.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

START_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class Settings:
    latency_ms: int = 35
    lro: str = "always"
    workspaces: tuple[tuple[str, str], ...] = ()
    retry_after_s: int | None = None
    """The Retry-After of long-running operations; None: the emulator's default (1 s, as Fabric)."""


@dataclass(frozen=True, slots=True)
class CallCount:
    total: int
    writes: int
    throttled: int


def is_write(method: str, path: str) -> bool:
    """A call that changes state (getDefinition is a POST that only reads)."""
    return method in {"POST", "PATCH", "PUT", "DELETE"} and not path.endswith("/getDefinition")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Emulator:
    """One emulator subprocess; ``url`` is its base (without ``/v1``)."""

    def __init__(
        self, url: str, process: subprocess.Popen[bytes], knobs: dict[str, Any] | None = None
    ) -> None:
        self.url = url
        self._process = process
        self._http = httpx.Client(base_url=f"{url}/_emulator", timeout=30)
        self._knobs = knobs or {}  # set again after every reset (no command-line flag for them)

    def control(self, method: str, action: str, body: Any = None) -> Any:
        response = self._http.request(method, f"/{action}", json=body)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.control("POST", "reset")
        if self._knobs:
            self.configure(**self._knobs)

    def configure(self, **changes: Any) -> None:
        self.control("POST", "config", changes)

    def clear_log(self) -> None:
        self.control("DELETE", "requests")

    def calls(self) -> CallCount:
        entries = self.control("GET", "requests")["value"]
        writes = sum(1 for e in entries if is_write(e["method"], e["path"]))
        throttled = sum(1 for e in entries if e["status"] == 429)
        return CallCount(len(entries), writes, throttled)

    def close(self) -> None:
        self._http.close()


@contextlib.contextmanager
def running(settings: Settings, log_file: Path) -> Iterator[Emulator]:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "fabric_emulator",
        "--port",
        str(port),
        "--latency-ms",
        str(settings.latency_ms),
        "--lro",
        settings.lro,
    ]
    for ws_id, name in settings.workspaces:
        args += ["--workspace", f"{ws_id}:{name}"]
    with log_file.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    knobs = {} if settings.retry_after_s is None else {"retryAfterS": settings.retry_after_s}
    emulator = Emulator(f"http://127.0.0.1:{port}", process, knobs)
    try:
        _wait_ready(emulator, process)
        emulator.reset()
        yield emulator
    finally:
        emulator.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(emulator: Emulator, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"fabric-emulator exited with {process.returncode} at start")
        try:
            emulator.control("GET", "config")
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("fabric-emulator did not answer within 20 s")
