"""Schedules as code end to end (issue 17): a dataflow's `.schedules` in git, three environments
with their own overlay (prod hourly, test nightly, dev never), over a loopback emulator and a real
git repository: deploy, change one, a hand edit through the REST API seen as drift, exported back
(reverse overlay), and promoted."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
from emulator_project import Cli, Live, commit_all
from release_support import PROD_WS, PUBLIC_API, TEST_WS

from dataflow_gitops.fabric.schedules import ScheduleConfig
from dataflow_gitops.pipeline.plan.planfile import plan_schema

DRIFT_SCHEMA = json.loads(
    resources.files("dataflow_gitops").joinpath("schemas/drift.schema.json").read_text("utf-8")
)
DEV_WS = "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10"
APPROVE = ("--approve-protected", "prod")
SALES = "Sales Orders"
PART = Path("dataflows") / f"{SALES}.Dataflow" / ".schedules"
SPAN = "      start: 2026-01-01T00:00:00\n      end: 2030-01-01T00:00:00\n"
GIT_PART = {
    "$schema": "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/schedules/1.0.0/schema.json",
    "schedules": [
        {
            "enabled": True,
            "jobType": "Execute",
            "configuration": {
                "type": "Daily",
                "startDateTime": "2026-01-01T00:00:00",
                "endDateTime": "2030-01-01T00:00:00",
                "localTimeZoneId": "W. Europe Standard Time",
                "times": ["03:00"],
            },
        }
    ],
}
OVERLAYS = {
    "prod": "schedules:\n  Execute:\n    - type: Cron\n      interval: 60\n"
    "      time_zone: W. Europe Standard Time\n" + SPAN,
    "test": "schedules:\n  Execute:\n    - type: Weekly\n      times: ['02:00']\n"
    "      weekdays: [Monday, Tuesday, Wednesday, Thursday, Friday]\n      time_zone: UTC\n" + SPAN,
    "dev": "schedules:\n  Execute: false\n",
}


@pytest.fixture
def scheduled(project: Path, live: Live) -> Path:
    """Sales Orders has a nightly schedule in git; each environment's overlay says its own."""
    live.control("POST", "seed", {"workspaces": [{"id": DEV_WS, "displayName": "Sales DEV"}]})
    (project / PART).write_text(json.dumps(GIT_PART, indent=2) + "\n", encoding="utf-8")
    for env, extra in OVERLAYS.items():
        path = project / "environments" / f"{env}.yaml"
        text = path.read_text(encoding="utf-8").replace(PUBLIC_API, f"api: {live.url}")
        path.write_text(text + "\n" + extra, encoding="utf-8")
    commit_all(project, "schedules per environment")
    return project


def _schedules(live: Live, workspace: str, job_type: str = "Execute") -> list[tuple[bool, dict]]:  # type: ignore[type-arg]
    item = live.dataflows(workspace)[SALES]
    return [
        (s.enabled, s.configuration.to_json() if s.configuration else {})
        for s in live.client.list_schedules(workspace, item, job_type)
    ]


def _deploy_everywhere(dfg: Cli) -> None:
    for env in ("dev", "test"):
        code, out, err = dfg("apply", "-e", env, "--auto-approve")
        assert code == 0, out + err
    code, out, err = dfg("promote", "--from", "test", "--to", "prod", *APPROVE)
    assert code == 0, out + err


def test_schedules_deploy_change_drift_export_and_promote(dfg: Cli, scheduled: Path, live: Live) -> None:
    # the plan shows each environment's schedules before anything is written
    code, out, err = dfg("plan", "-e", "dev")
    assert code == 0, out + err
    assert "+ Execute schedule: Daily at 03:00, W. Europe Standard Time" in out
    assert "(disabled)" in out

    _deploy_everywhere(dfg)

    [(enabled, config)] = _schedules(live, DEV_WS)
    assert not enabled
    assert config["type"] == "Daily"
    assert config["times"] == ["03:00"]
    [(enabled, config)] = _schedules(live, TEST_WS)
    assert enabled
    assert config["type"] == "Weekly"
    assert config["times"] == ["02:00"]
    [(enabled, config)] = _schedules(live, PROD_WS)
    assert enabled
    assert config["type"] == "Cron"
    assert config["interval"] == 60
    # every dataflow refreshes hourly in prod (the environment's schedules), and only there
    assert all(
        live.client.list_schedules(PROD_WS, item, "Execute") for item in live.dataflows(PROD_WS).values()
    )
    assert not live.client.list_schedules(DEV_WS, live.dataflows(DEV_WS)["Customers"], "Execute")
    for env in ("dev", "test"):
        assert dfg("plan", "-e", env, "--detailed-exitcode")[0] == 0

    # change one: test runs nightly at 01:00 every day instead
    overlay = scheduled / "environments" / "test.yaml"
    text = overlay.read_text(encoding="utf-8")
    text = text.replace("type: Weekly", "type: Daily").replace("'02:00'", "'01:00'")
    overlay.write_text(
        text.replace("      weekdays: [Monday, Tuesday, Wednesday, Thursday, Friday]\n", ""),
        encoding="utf-8",
    )
    commit_all(scheduled, "test: daily at 01:00")
    code, out, err = dfg("plan", "-e", "test", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    jsonschema.validate(doc, plan_schema())
    sales = next(a for a in doc["actions"] if a["name"] == SALES)
    assert sales["kind"] == "update"
    [change] = sales["diff"]["schedules"]
    assert (change["job_type"], change["kind"]) == ("Execute", "change")
    assert change["before"].startswith("Weekly at 02:00 on Monday")
    assert change["schedule"].startswith("Daily at 01:00, UTC")
    code, out, err = dfg("plan", "-e", "test", "--format", "markdown")
    assert "**schedules**" in out
    assert "| 1 schedule |" in out
    code, out, err = dfg("apply", "-e", "test", "--auto-approve")
    assert code == 0, out + err
    [(enabled, config)] = _schedules(live, TEST_WS)
    assert enabled
    assert config["type"] == "Daily"
    assert config["times"] == ["01:00"]

    # a hand edit through the REST API: prod every 15 minutes; and dev gains a publish schedule
    prod_item = live.dataflows(PROD_WS)[SALES]
    [hourly] = live.client.list_schedules(PROD_WS, prod_item, "Execute")
    assert hourly.configuration is not None
    live.client.update_schedule(
        PROD_WS,
        prod_item,
        "Execute",
        hourly.id,
        enabled=True,
        configuration=ScheduleConfig.from_json({**hourly.configuration.to_json(), "interval": 15}),
    )
    code, out, err = dfg("drift", "-e", "prod")
    assert code == 2, out + err  # live drift
    assert "~ Execute schedule: Cron every 60 min" in out
    assert "→ Cron every 15 min" in out
    code, out, err = dfg("drift", "-e", "prod", "--format", "json")
    jsonschema.validate(json.loads(out), DRIFT_SCHEMA)
    row = next(r for r in json.loads(out)["dataflows"] if r["name"] == SALES)
    assert [(s["job_type"], s["kind"]) for s in row["diff"]["schedules"]] == [("Execute", "change")]

    dev_item = live.dataflows(DEV_WS)[SALES]
    publish = ScheduleConfig.from_json(
        {
            "type": "Daily",
            "times": ["05:00"],
            "startDateTime": "2026-01-01T00:00:00",
            "endDateTime": "2030-01-01T00:00:00",
            "localTimeZoneId": "UTC",
        }
    )
    live.client.create_schedule(DEV_WS, dev_item, "ApplyChanges", enabled=True, configuration=publish)

    # export: prod's hand edit is to a job type prod's overlay sets, so git keeps its own
    before = (scheduled / PART).read_bytes()
    code, out, err = dfg("export", "-e", "prod", SALES)
    assert code == 0, out + err
    assert "the Execute schedules differ live; the overlay sets them" in out + err
    assert (scheduled / PART).read_bytes() == before
    # dev's new publish schedule is written back, its Execute kept as git has it (enabled)
    code, out, err = dfg("export", "-e", "dev", SALES)
    assert code == 0, out + err
    exported = json.loads((scheduled / PART).read_text(encoding="utf-8"))
    by_job = {e["jobType"]: e for e in exported["schedules"]}
    assert by_job["Execute"] == GIT_PART["schedules"][0]  # type: ignore[index]
    assert by_job["ApplyChanges"]["enabled"] is True
    assert by_job["ApplyChanges"]["configuration"]["times"] == ["05:00"]
    commit_all(scheduled, "export: dev publishes daily at 05:00")
    assert dfg("plan", "-e", "dev", "--detailed-exitcode")[0] == 0

    # promote carries it: test gets the publish schedule, then prod, whose hand edit is undone
    code, out, err = dfg("plan", "-e", "test")
    assert "+ ApplyChanges schedule: Daily at 05:00, UTC" in out
    assert dfg("apply", "-e", "test", "--auto-approve")[0] == 0
    code, out, err = dfg("promote", "--from", "test", "--to", "prod", *APPROVE)
    assert code == 0, out + err
    [(enabled, config)] = _schedules(live, PROD_WS, "ApplyChanges")
    assert enabled
    assert config["times"] == ["05:00"]
    [(enabled, config)] = _schedules(live, PROD_WS)
    assert enabled
    assert config["interval"] == 60


def test_removing_a_schedule_is_a_delete_that_follows_prune_rules(
    dfg: Cli, scheduled: Path, live: Live
) -> None:
    _deploy_everywhere(dfg)
    # a publish schedule added by hand in test (no prune) and prod (prune on): git lacks both
    for workspace in (TEST_WS, PROD_WS):
        item = live.dataflows(workspace)[SALES]
        [execute] = live.client.list_schedules(workspace, item, "Execute")
        assert execute.configuration is not None
        live.client.create_schedule(
            workspace, item, "ApplyChanges", enabled=True, configuration=execute.configuration
        )

    code, out, err = dfg("plan", "-e", "test", "--detailed-exitcode")
    assert code == 0, out + err  # kept: nothing to do
    assert "the live ApplyChanges schedule (Weekly at 02:00 on Monday" in out
    assert "kept (schedules are removed only where prune is on)" in out
    assert dfg("apply", "-e", "test", "--auto-approve")[0] == 0
    assert len(_schedules(live, TEST_WS, "ApplyChanges")) == 1

    code, out, err = dfg("plan", "-e", "prod")
    assert "- ApplyChanges schedule removed: Cron every 60 min" in out
    code, out, err = dfg("apply", "-e", "prod", *APPROVE)
    assert code == 1
    assert f"{SALES} (ApplyChanges schedule)" in err
    assert "--allow-delete" in err
    assert len(_schedules(live, PROD_WS, "ApplyChanges")) == 1  # nothing written
    code, out, err = dfg("apply", "-e", "prod", *APPROVE, "--allow-delete")
    assert code == 0, out + err
    assert _schedules(live, PROD_WS, "ApplyChanges") == []
    assert len(_schedules(live, PROD_WS)) == 1
    assert dfg("plan", "-e", "prod", "--detailed-exitcode")[0] == 0

    # a dataflow without a .schedules part at all: the definition write leaves live schedules
    # alone, so the remove is a Job Scheduler DELETE
    customers = live.dataflows(DEV_WS)["Customers"]
    live.client.create_schedule(
        DEV_WS, customers, "Execute", enabled=True, configuration=execute.configuration
    )
    overlay = scheduled / "environments" / "dev.yaml"
    overlay.write_text(overlay.read_text("utf-8") + "prune:\n  enabled: true\n", "utf-8")
    commit_all(scheduled, "dev prunes")
    code, out, err = dfg("apply", "-e", "dev", "--auto-approve", "--allow-delete")
    assert code == 0, out + err
    assert "Apply complete: 0 created, 1 updated, 0 deleted." in out
    assert live.client.list_schedules(DEV_WS, customers, "Execute") == []
    assert ".schedules" not in live.parts(DEV_WS, customers)


def test_a_saved_plan_is_stale_once_a_schedule_changed_by_hand(
    dfg: Cli, scheduled: Path, live: Live, tmp_path: Path
) -> None:
    assert dfg("apply", "-e", "test", "--auto-approve")[0] == 0
    overlay = scheduled / "environments" / "test.yaml"
    overlay.write_text(overlay.read_text(encoding="utf-8").replace("'02:00'", "'04:00'"), "utf-8")
    commit_all(scheduled, "test: at 04:00")
    saved = tmp_path / "test.plan.json"
    assert dfg("plan", "-e", "test", "--out", str(saved))[0] == 0
    item = live.dataflows(TEST_WS)[SALES]
    [nightly] = live.client.list_schedules(TEST_WS, item, "Execute")
    live.client.update_schedule(
        TEST_WS, item, "Execute", nightly.id, enabled=False, configuration=nightly.configuration
    )  # type: ignore[arg-type]

    code, out, err = dfg("apply", "-e", "test", str(saved))

    assert code == 1
    assert SALES in err
    assert len(err.strip().splitlines()) == 1
    [(enabled, config)] = _schedules(live, TEST_WS)
    assert not enabled
    assert config["times"] == ["02:00"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("jobType", "Refresh", "jobType 'Refresh' is not a Dataflow job type"),
        ("configuration", {"type": "Cron", "interval": 0}, "interval 0 is out of range"),
        ("configuration", {"type": "Cron", "interval": 5_270_401}, "interval 5270401 is out of range"),
        ("localTimeZoneId", "Mars/Olympus", "'Mars/Olympus' is not a time zone Fabric knows"),
        ("times", ["25:00"], "'25:00' is not a time of day"),
        ("endDateTime", "2025-01-01T00:00:00", "not after its start"),
        ("duplicate", None, "is the same schedule as schedules[0]"),
    ],
)
def test_a_bad_schedules_part_is_one_located_line_and_nothing_written(
    dfg: Cli, scheduled: Path, live: Live, path: str, value: object, message: str
) -> None:
    doc = json.loads(json.dumps(GIT_PART))
    entry = doc["schedules"][0]
    if path == "jobType":
        entry["jobType"] = value
    elif path == "duplicate":
        doc["schedules"].append(json.loads(json.dumps(entry)))
    elif path == "configuration":
        entry["configuration"] = {**entry["configuration"], **value}  # type: ignore[dict-item]
        del entry["configuration"]["times"]
    else:
        entry["configuration"][path] = value
    (scheduled / PART).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    commit_all(scheduled, "a bad schedule")

    for command in (("validate",), ("apply", "-e", "test", "--auto-approve")):
        code, out, err = dfg(*command)
        assert code == 1, out + err
        assert message in out + err
        located = [line for line in (out + err).splitlines() if f"{PART.as_posix()}:" in line]
        assert located, out + err
    assert live.dataflows(TEST_WS) == {}
