"""Two `dfg apply` of one environment at once (real subprocesses): the second is refused at once,
told who holds the environment, and writes nothing; the records afterwards know every item, so
drift and prune still see them as managed. A failed apply that wrote nothing records nothing."""

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

from dataflow_gitops.adapters.locks import lock_path
from dataflow_gitops.adapters.record_stores import open_store


def dfg_process(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dataflow_gitops", "--no-color", "-C", str(project), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


def wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def assert_all_recorded(project: Path, live: Live) -> None:
    latest = open_store(project).latest("e2e")
    assert latest is not None
    assert latest.item_ids() == set(live.dataflows(WS).values())


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="holds the first run with SIGSTOP")
def test_a_second_apply_is_refused_naming_the_first(project: Path, live: Live, dfg: Cli) -> None:
    first = dfg_process(project, "apply", "-e", "e2e", "--auto-approve")
    holder = lock_path(project, "e2e").with_suffix(".holder.json")
    try:
        wait_for(holder, first)
        os.kill(first.pid, signal.SIGSTOP)  # deterministic: it holds the lock, mid-run
        writes_before = [e for e in live.control("GET", "requests")["value"] if e["method"] != "GET"]
        second = dfg_process(project, "apply", "-e", "e2e", "--auto-approve")
        out, err = second.communicate(timeout=60)
        assert second.returncode == 1, (out, err)
        (line,) = [x for x in err.splitlines() if x.startswith("Error:")]
        assert "another dfg run is applying to environment 'e2e'" in line
        assert f"pid {first.pid}" in line
        assert "apply -e e2e --auto-approve" in line
        writes_after = [e for e in live.control("GET", "requests")["value"] if e["method"] != "GET"]
        assert len(writes_after) == len(writes_before), "the refused run wrote nothing"
    finally:
        os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, (out, err)
    assert not holder.exists()
    assert_all_recorded(project, live)
    code, out, err = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert code == 0, (out, err)


def test_two_applies_at_once_never_lose_the_record(project: Path, live: Live, dfg: Cli) -> None:
    runs = [dfg_process(project, "apply", "-e", "e2e", "--auto-approve") for _ in range(2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0, results
    for code, out, err in results:
        assert "Traceback" not in out + err
        if code == 1:
            assert "another dfg run is applying" in err
    assert len(live.dataflows(WS)) == 7
    assert_all_recorded(project, live)
    for record in open_store(project).history("e2e"):
        assert record.items, "no empty record"
    code, out, err = dfg("drift", "-e", "e2e")
    assert code == 0, (out, err)


def test_an_apply_that_wrote_nothing_records_nothing(project: Path, live: Live, dfg: Cli) -> None:
    code, out, err = dfg("apply", "-e", "e2e", "--auto-approve")
    assert code == 0, (out, err)
    before = open_store(project).history("e2e")
    overlay = project / "environments" / "e2e.yaml"
    overlay.write_text(overlay.read_text().replace("DaysBack: 7", "DaysBack: 9"), encoding="utf-8")
    live.control(
        "POST",
        "faults",
        {
            "kind": "status",
            "method": "POST",
            "path": "updateDefinition",
            "status": 400,
            "errorCode": "InvalidDefinition",
            "count": None,
            "probability": 1.0,
        },
    )
    code, out, err = dfg("apply", "-e", "e2e", "--auto-approve")
    assert code == 1, (out, err)
    after = open_store(project).history("e2e")
    assert after == before
