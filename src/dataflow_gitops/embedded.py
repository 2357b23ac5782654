"""The ``api: embedded`` mode: a local emulator process serving one project.

dataflow_gitops never imports ``fabric_emulator`` (it reaches it only over HTTP, like Fabric), so
the emulator runs as a child process (``python -m fabric_emulator``) on a free loopback port with
its state in ``.dataflow-gitops/emulator.db``: what one command applied, the next one sees.

One state file must have one writer: every emulator process keeps the state in memory and writes
it through, so two processes on one file would overwrite each other. Within a process (``dfg
promote`` connects to two embedded environments) the running emulator is shared; across
processes an exclusive lock on ``.dataflow-gitops/emulator.lock`` makes a second command wait.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import filelock

from dataflow_gitops.errors import DataflowGitopsError

STATE_DIR = ".dataflow-gitops"
DB_NAME = "emulator.db"
LOCK_NAME = "emulator.lock"
LOCK_WAIT_S = 120.0

_lock = threading.Lock()
_running: dict[Path, tuple[str, int]] = {}
"""State directory → (URL, number of open users) of the emulator this process runs for it."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_listening(
    port: int, process: subprocess.Popen[bytes], log: Path, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            last = lines[-1] if lines else f"exit code {process.returncode}"
            raise DataflowGitopsError(
                f"the embedded emulator did not start: {last}",
                where="api: embedded",
                hint="install dfg with its emulator extra, dataflow-gitops[emulator]; see the README",
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise DataflowGitopsError(
        "the embedded emulator did not start in time",
        where="api: embedded",
        hint="run `fabric-emulator` by hand to see why",
    )


@contextlib.contextmanager
def embedded_emulator(
    project_root: Path,
    workspaces: Sequence[tuple[str, str]] = (),
    *,
    extra_args: Sequence[str] = (),
    timeout_s: float = 20.0,
) -> Iterator[str]:
    """Run (or share) the project's emulator for the duration of the block; yield its base URL.

    ``workspaces`` are created at start-up only; callers create others through the API.
    """
    state = (project_root / STATE_DIR).resolve()
    with _lock:
        shared = _running.get(state)
        if shared is not None:
            _running[state] = (shared[0], shared[1] + 1)
    if shared is not None:
        try:
            yield shared[0]
        finally:
            with _lock:
                url, users = _running[state]
                _running[state] = (url, users - 1)
        return
    with _exclusive(state), _started(state, workspaces, extra_args, timeout_s) as url:
        with _lock:
            _running[state] = (url, 1)
        try:
            yield url
        finally:
            with _lock:
                del _running[state]


@contextlib.contextmanager
def _exclusive(state: Path) -> Iterator[None]:
    """Hold the project's emulator lock; wait for another dfg command to finish with it."""
    state.mkdir(parents=True, exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        # Emulator state is local scratch: keep it out of the user's commits and `git status`.
        ignore.write_text("*\n", encoding="utf-8")
    # filelock: one portable lock (fcntl on POSIX, msvcrt on Windows), released if the holder dies.
    lock = filelock.FileLock(state / LOCK_NAME, timeout=LOCK_WAIT_S)
    try:
        lock.acquire(poll_interval=0.1)
    except filelock.Timeout:
        raise DataflowGitopsError(
            "another dfg command is still using this project's embedded emulator",
            where=str(state / LOCK_NAME),
            hint="wait for it to finish, then run the command again",
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def _started(
    state: Path, workspaces: Sequence[tuple[str, str]], extra_args: Sequence[str], timeout_s: float
) -> Iterator[str]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "fabric_emulator",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        str(state / DB_NAME),
    ]
    for workspace_id, name in workspaces:
        command += ["--workspace", f"{workspace_id}:{name}"]
    command += list(extra_args)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = state / "emulator.log"
    # A file, not a pipe: an unread pipe fills up and blocks the emulator mid-request.
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_listening(port, process, log, timeout_s)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
