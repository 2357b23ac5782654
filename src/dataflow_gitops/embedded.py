"""The ``api: embedded`` mode: a local emulator process serving one project.

dataflow_gitops never imports ``fabric_emulator`` (it reaches it only over HTTP, like Fabric), so
the emulator runs as a child process (``python -m fabric_emulator``) on a free loopback port with
its state in ``.dataflow-gitops/emulator.db``: what one command applied, the next one sees.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from dataflow_gitops.errors import DataflowGitopsError

STATE_DIR = ".dataflow-gitops"
DB_NAME = "emulator.db"


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
                hint='install the emulator extra: pip install "dataflow-gitops[emulator]"',
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
    """Run the emulator for the duration of the block; yield its base URL."""
    state = project_root / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        # Emulator state is local scratch: keep it out of the user's commits and `git status`.
        ignore.write_text("*\n", encoding="utf-8")
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
