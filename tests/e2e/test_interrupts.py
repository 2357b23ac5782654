"""Ctrl-C and SIGTERM during `dfg apply` (a real subprocess, a real signal): no new write after
it, the calls in flight get a few seconds, what completed is printed and recorded as a partial
deployment that history, drift and promote understand, and the exit code is 130 / 143. A second
Ctrl-C ends the process at once. A re-run converges."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e_support import WS, Live
from emulator_project import Cli

from dataflow_gitops.adapters.record_stores import open_store

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals to a child process")

SLOW = {"lro": "always", "retryAfterS": 1, "lroPolls": 2, "latencyMs": 2}


def start_apply(project: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dataflow_gitops", "--no-color", "-C", str(project)]
        + ["apply", "-e", "e2e", "--auto-approve", "--concurrency", "2", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_stuck_apply(project: Path, live: Live) -> tuple[int, subprocess.Popen[str]]:
    """Start `dfg apply` with every create's operation stuck: the number of writes before it,
    and the process."""
    live.control("POST", "config", SLOW)
    live.control(
        "POST",
        "faults",
        {"kind": "lro_stuck", "method": "POST", "path": "/items$", "count": None, "probability": 1.0},
    )
    return len(writes(live)), start_apply(project)


def wait_until(condition, process: subprocess.Popen[str], timeout: float = 60.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(("the apply ended first", process.communicate()))
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.05)


def writes(live: Live) -> list[str]:
    entries = live.control("GET", "requests")["value"]
    return [
        f"{e['method']} {e['path']}"
        for e in entries
        if e["method"] in {"POST", "PATCH", "DELETE"} and not e["path"].endswith("/getDefinition")
    ]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_apply_records_what_completed(
    project: Path, live: Live, dfg: Cli, signum: int, code: int
) -> None:
    live.control("POST", "config", SLOW)
    before = len(writes(live))
    process = start_apply(project)
    # With --concurrency 2 the 4th create is only sent once 2 creates have completed.
    wait_until(lambda: sum(w.endswith("/items") for w in writes(live)[before:]) >= 4, process)
    process.send_signal(signum)
    sent_at = len(writes(live))
    out, err = process.communicate(timeout=30)  # the grace period is a few seconds, not minutes
    assert process.returncode == code, (out, err)
    assert "Traceback" not in out + err
    name = signal.Signals(signum).name
    assert f"Interrupted ({name}):" in err
    assert "changes completed" in err or "change completed" in err
    # nothing new started after the signal (the calls in flight may only poll)
    creates_after = [w for w in writes(live)[sent_at:] if w.endswith("/items")]
    assert creates_after == []

    record = open_store(project).latest("e2e")
    assert record is not None, (out, err)
    assert record.interrupted
    assert not record.ok
    live_ids = set(live.dataflows(WS).values())
    assert record.item_ids() <= live_ids
    assert len(record.items) >= 2
    for item in record.items:
        assert item.name in err  # printed as completed

    code_h, out_h, _ = dfg("history", "-e", "e2e")
    assert code_h == 0
    assert "incomplete: interrupted" in out_h
    code_d, out_d, err_d = dfg("drift", "-e", "e2e")
    assert code_d in (0, 2), (out_d, err_d)
    assert "Traceback" not in out_d + err_d
    code_p, _, err_p = dfg("promote", "--from", "e2e", "--to", "e2e-other", "--auto-approve")
    assert code_p == 1
    assert "it was interrupted" in err_p

    live.control("POST", "config", {"retryAfterS": 0, "lroPolls": 1})
    code_a, out_a, err_a = dfg("apply", "-e", "e2e", "--auto-approve")
    assert code_a == 0, (out_a, err_a)
    code_a, out_a, err_a = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert code_a == 0, (out_a, err_a)


def test_a_second_ctrl_c_exits_at_once(project: Path, live: Live) -> None:
    before, process = start_stuck_apply(project, live)
    wait_until(lambda: any(w.endswith("/items") for w in writes(live)[before:]), process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 130, (out, err)
    assert "again: exiting now" in err
    assert "Traceback" not in out + err


def test_ctrl_c_while_waiting_on_a_stuck_operation_ends_within_the_grace(
    project: Path, live: Live
) -> None:
    before, process = start_stuck_apply(project, live)
    wait_until(lambda: sum(w.endswith("/items") for w in writes(live)[before:]) >= 2, process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, (out, err)
    assert "0 of 7 changes completed" in err
    assert "may or may not have been applied" in err
    assert open_store(project).latest("e2e") is None  # nothing completed: nothing to record


def test_ctrl_c_at_the_approval_prompt_is_130_not_aborted(project: Path, live: Live) -> None:
    import pty
    import select

    primary, secondary = pty.openpty()  # a terminal to ask on
    process = subprocess.Popen(
        [sys.executable, "-m", "dataflow_gitops", "--no-color", "-C", str(project)]
        + ["apply", "-e", "e2e"],
        stdin=secondary,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(secondary)
    assert process.stderr is not None
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"Only 'yes' will be accepted" not in seen:
            assert time.monotonic() < deadline, seen
            ready, _, _ = select.select([process.stderr], [], [], 0.5)
            if ready:
                chunk = os.read(process.stderr.fileno(), 4096)
                assert chunk, ("ended before asking", seen)
                seen += chunk
        process.send_signal(signal.SIGINT)  # at the question
        _, rest = process.communicate(timeout=30)
    finally:
        os.close(primary)
    err = (seen + rest).decode()
    assert process.returncode == 130, err
    assert "Aborted." not in err
    assert "Interrupted." in err
    assert live.dataflows(WS) == {}  # nothing was written


def test_ctrl_c_during_run_wait_cancels_the_job(project: Path, live: Live, dfg: Cli) -> None:
    code, out, err = dfg("apply", "-e", "e2e", "--auto-approve", "--target", "Customers")
    assert code == 0, (out, err)
    live.control("POST", "config", {"jobDurationS": 10_000})
    process = subprocess.Popen(
        [sys.executable, "-m", "dataflow_gitops", "--no-color", "-C", str(project)]
        + ["run", "-e", "e2e", "Customers", "--wait"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    item = live.dataflows(WS)["Customers"]

    def jobs() -> list[dict[str, str]]:
        listed: list[dict[str, str]] = live.client.list_jobs(WS, item)
        return listed

    wait_until(lambda: bool(jobs()), process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, (out, err)
    assert [j["status"] for j in jobs()] == ["Cancelled"]
