"""Failures end to end: an injected API fault fails one action, skips its dependants, spares the
rest, is recorded, and a re-run converges; --publish reports a failing ApplyChanges job."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from e2e_support import WS, Live
from emulator_project import Cli

from dataflow_gitops import api
from dataflow_gitops.errors import RecordError
from dataflow_gitops.pipeline.release.records import DeploymentRecord

# The next createItem is refused as an invalid definition (400), once.
FAIL_NEXT_CREATE = {
    "kind": "status",
    "status": 400,
    "errorCode": "InvalidDefinition",
    "method": "POST",
    "path": "/items$",
    "count": 1,
}


def test_a_failed_create_spares_independent_items_and_a_rerun_converges(dfg: Cli, live: Live) -> None:
    # With one writer at a time the first create, "Customers", is the one that fails.
    live.control("POST", "faults", FAIL_NEXT_CREATE)
    code, out, err = dfg("apply", "-e", "e2e", "--auto-approve", "--concurrency", "1")
    assert code == 1
    assert 'FAILED  + create "Customers"' in out
    assert "InvalidDefinition" in out
    assert 'skipped  + create "Sales Summary"' in out  # it reads Customers
    # One line from the error tree (ApplyError), with what to do.
    assert "Error: some actions failed (see above) (fix the cause and run apply again" in err
    assert set(live.dataflows()) == {
        "Exchange Rates",
        "Hello Dataflow",
        "Inventory Snapshot",
        "Products",
        "Sales Orders",
    }
    history = json.loads(dfg("history", "-e", "e2e", "--format", "json")[1])
    assert history[0]["ok"] is False
    assert len(history[0]["items"]) == 5

    code, out, _ = dfg("plan", "-e", "e2e")
    assert "Plan: 2 to create, 0 to update, 0 to delete." in out

    code, out, _ = dfg("apply", "-e", "e2e", "--auto-approve")
    assert code == 0, out
    assert "Apply complete: 2 created, 0 updated" in out
    assert len(live.dataflows()) == 7
    assert dfg("plan", "-e", "e2e", "--detailed-exitcode")[0] == 0


def test_publish_runs_apply_changes_and_reports_failures(dfg: Cli, live: Live) -> None:
    code, out, _ = dfg("apply", "-e", "e2e", "--auto-approve", "--publish", "--target", "Products")
    assert code == 0, out
    assert "published" in out

    live.control("POST", "config", {"jobOutcome": "Failed"})
    code, out, err = dfg("apply", "-e", "e2e", "--auto-approve", "--publish", "--target", "Customers")
    assert code == 1
    assert "publish failed" in out
    assert "ApplyChanges" in out
    assert "Customers" in live.dataflows()  # the write itself succeeded


def test_a_failed_publish_is_retried_by_the_next_apply_publish(dfg: Cli, live: Live) -> None:
    live.control("POST", "config", {"jobOutcome": "Failed"})
    code, out, _ = dfg("apply", "-e", "e2e", "--auto-approve", "--publish", "--target", "Customers")
    assert code == 1
    assert "publish failed" in out
    customers = live.dataflows()["Customers"]
    failed_jobs = len(live.client.list_jobs(WS, customers))
    live.control("POST", "config", {"jobOutcome": "Completed"})

    # The definition is written, so the plan is a no-op, but it says what is still unpublished.
    code, out, _ = dfg("plan", "-e", "e2e", "--target", "Customers", "--detailed-exitcode")
    assert code == 0, out
    assert "not published (ApplyChanges failed): Customers" in out
    assert "dfg apply -e e2e --publish" in out

    code, out, err = dfg("apply", "-e", "e2e", "--auto-approve", "--publish", "--target", "Customers")
    assert code == 0, out + err
    assert 'ok  publish "Customers"' in out
    assert "published after an earlier failure" in out
    assert "Applying: 1 dataflow\n" in err
    assert "Customers" not in err  # in a log each action shows once: in the result above
    assert len(live.client.list_jobs(WS, customers)) == failed_jobs + 1
    history = json.loads(dfg("history", "-e", "e2e", "--format", "json")[1])
    assert [i["published"] for i in history[0]["items"]] == [True]

    # Converged: neither the plan nor another apply --publish has anything left to do.
    code, out, _ = dfg("plan", "-e", "e2e", "--target", "Customers")
    assert "not published" not in out
    code, out, _ = dfg("apply", "-e", "e2e", "--auto-approve", "--publish", "--target", "Customers")
    assert code == 0
    assert "No changes." in out
    assert len(live.client.list_jobs(WS, customers)) == failed_jobs + 1


class _BrokenStore:
    """A record store whose writes fail, as when the repository is read-only."""

    def write(self, record: DeploymentRecord) -> str:
        raise RecordError("git tag failed: read-only file system", where="dfg/e2e/x")

    def latest(self, environment: str) -> DeploymentRecord | None:
        return None

    def history(self, environment: str) -> tuple[DeploymentRecord, ...]:
        return ()


def test_an_unwritable_record_does_not_hide_the_apply_result(project: Path, live: Live) -> None:
    with api.deployment(project, "e2e") as dep:
        broken = replace(dep, records=_BrokenStore())
        applied = api.apply(broken, api.plan(broken), check_stale=False)
    assert applied.result.ok
    assert len(live.dataflows()) == 7
    assert applied.record_location is None
    assert applied.record_error is not None
    assert "read-only" in str(applied.record_error)


def test_json_output_stays_one_document_when_failures_are_annotated_in_ci(
    dfg: Cli, live: Live, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    live.control("POST", "faults", FAIL_NEXT_CREATE)
    code, out, _ = dfg("apply", "-e", "e2e", "--auto-approve", "--format", "json")
    assert code == 1
    document = json.loads(out)  # no ::error line mixed into stdout
    assert any(o["status"] == "failed" for o in document["outcomes"])
