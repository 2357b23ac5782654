"""`dfg run` and `dfg jobs` against the emulator's job scheduler: wait, failure reason, timeout →
cancel, Ctrl-C → cancel, typed parameters, list and cancel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator_project import Cli, Live
from release_support import TEST_WS

from dataflow_gitops import api
from dataflow_gitops.pipeline.model import LiveItem


@pytest.fixture
def deployed(dfg: Cli) -> Cli:
    code, out, err = dfg("apply", "-e", "test", "--auto-approve")
    assert code == 0, out + err
    return dfg


def _jobs(live: Live, name: str) -> list[dict[str, Any]]:
    return live.client.list_jobs(TEST_WS, live.dataflows(TEST_WS)[name])


def test_run_and_wait_completes(deployed: Cli, live: Live) -> None:
    code, out, err = deployed("run", "-e", "test", "Sales Orders", "--wait", "--param", "DaysBack=3")
    assert code == 0, out + err
    assert "Completed" in out
    jobs = _jobs(live, "Sales Orders")
    assert [(j["jobType"], j["status"]) for j in jobs] == [("Execute", "Completed")]


def test_failed_job_prints_the_failure_reason(deployed: Cli, live: Live) -> None:
    live.hotfix(TEST_WS, "Products", "shared Products = let", "shared Products = ((let")

    code, _, err = deployed("run", "-e", "test", "Products", "--job", "apply-changes", "--wait")

    assert code == 1
    line = next(x for x in err.splitlines() if x.startswith("failureReason: "))
    reason = json.loads(line.removeprefix("failureReason: "))
    assert reason["errorCode"] == "DataflowInvalidMashupDocument"
    assert "Products" in reason["message"]


def test_emulated_failure_outcome(deployed: Cli, live: Live) -> None:
    live.control("POST", "config", {"jobOutcome": "Failed"})
    code, _, err = deployed("run", "-e", "test", "Customers", "--wait")
    assert code == 1
    assert '"errorCode": "JobFailed"' in err


def test_timeout_cancels_the_job(deployed: Cli, live: Live) -> None:
    # The job runs for ever; Retry-After 1 s against a 0.5 s budget ends the wait at the first poll.
    live.control("POST", "config", {"jobDurationS": 10_000, "retryAfterS": 1})

    code, _, err = deployed("run", "-e", "test", "Customers", "--wait", "--timeout", "0.5")

    assert code == 1
    assert "the job was cancelled" in err
    assert [j["status"] for j in _jobs(live, "Customers")] == ["Cancelled"]


def test_ctrl_c_while_waiting_cancels_the_job(deployed: Cli, project: Path, live: Live) -> None:
    live.control("POST", "config", {"jobDurationS": 10_000})

    def interrupt(instance: dict[str, Any]) -> None:
        raise KeyboardInterrupt

    with api.deployment(project, "test") as dep:
        item = api.find_dataflow(dep.connection, "Customers")
        job_id = api.run_job(dep.connection, item)
        with pytest.raises(KeyboardInterrupt):
            api.wait_job(dep.connection, item, job_id, timeout_s=60, on_poll=interrupt)
    assert [(j["id"], j["status"]) for j in _jobs(live, "Customers")] == [(job_id, "Cancelled")]


def test_jobs_lists_and_cancels(deployed: Cli, live: Live) -> None:
    live.control("POST", "config", {"jobDurationS": 10_000})
    code, out, _ = deployed("run", "-e", "test", "Customers")
    assert code == 0
    job_id = out.split()[3]

    code, out, _ = deployed("jobs", "-e", "test", "Customers")
    assert code == 0
    assert job_id in out
    assert "InProgress" in out

    code, out, _ = deployed("jobs", "-e", "test", "Customers", "--cancel", job_id)
    assert code == 0
    code, out, _ = deployed("jobs", "-e", "test", "Customers")
    assert f"{job_id} Execute" in " ".join(out.split())
    assert "Cancelled" in out


def test_parameters_are_typed_from_discovery(deployed: Cli, live: Live) -> None:
    item_id = live.dataflows(TEST_WS)["Products"]
    discovered = live.client.list_dataflow_parameters(TEST_WS, item_id)
    item = LiveItem(item_id, "Dataflow", "Products")
    typed = api.typed_parameters(item, {"IncludeDiscontinued": "TRUE"}, discovered)
    assert typed == [{"name": "IncludeDiscontinued", "type": "Automatic", "value": True}]

    code, _, err = deployed("run", "-e", "test", "Products", "--param", "IncludeDiscontinued=maybe")
    assert code == 1
    assert "parameter IncludeDiscontinued is of type" in err
    code, _, err = deployed("run", "-e", "test", "Products", "--param", "Nope=1")
    assert code == 1
    assert "no public parameter 'Nope'" in err
    assert "IncludeDiscontinued" in err
    assert _jobs(live, "Products") == []


def test_unknown_dataflow_and_bad_param_syntax(deployed: Cli) -> None:
    code, _, err = deployed("run", "-e", "test", "Nope")
    assert code == 1
    assert "no dataflow named 'Nope'" in err
    code, _, err = deployed("run", "-e", "test", "Products", "--param", "novalue")
    assert code == 1
    assert "is not K=V" in err


def test_cancel_of_an_unknown_job_says_how_to_find_one(deployed: Cli) -> None:
    code, _, err = deployed("jobs", "-e", "test", "Customers", "--cancel", "no-such-job")
    assert code == 1
    assert "no job instance 'no-such-job' for 'Customers'" in err
    assert "dfg jobs -e test 'Customers'" in err
    assert len(err.strip().splitlines()) == 1


def test_wait_shows_each_status_change_once(deployed: Cli, live: Live) -> None:
    live.control("POST", "config", {"jobDurationS": 0.3})

    code, out, err = deployed("run", "-e", "test", "Customers", "--wait")

    assert code == 0, out + err
    statuses = [line.split(": ")[-1] for line in err.splitlines() if line.startswith("  ")]
    assert statuses[-1] == "Completed"
    assert len(statuses) >= 2  # it was seen running first
    assert len(statuses) == len(set(statuses))
