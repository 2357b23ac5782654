"""Overlay schedules: `schedules:` per environment and per dataflow load into typed settings, every
mistake is one ConfigError at environments/<env>.yaml:<line>, and laying the settings over a
dataflow's `.schedules` part gives what Fabric would take (byte for byte when nothing changes)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from dataflow_gitops.config import Environment
from dataflow_gitops.config.schedules import JobSchedules, ScheduleSetting, overlay_part
from dataflow_gitops.errors import ConfigError

LoadOverlay = Callable[..., Environment]
WS = "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13"

PROD = f"""
workspace_id: {WS}
schedules:
  Execute:
    - type: Cron
      interval: 60
      time_zone: w. europe standard time
      start: 2026-01-01T00:00:00
      end: 2030-01-01T00:00:00
dataflows:
  Sales Orders:
    schedules:
      Execute:
        - type: Weekly
          times: ["02:00", "14:30"]
          weekdays: [Monday, Thursday]
          time_zone: UTC
          start: 2026-01-01T00:00:00
          end: 2030-01-01T00:00:00
          enabled: false
      ApplyChanges: false
  Customers:
    schedules:
      Execute:
        - type: Monthly
          times: ["06:00"]
          recurrence: 1
          week_index: Second
          weekday: Monday
          time_zone: Eastern Standard Time
          start: 2026-01-01T00:00:00
          end: 2030-01-01T00:00:00
"""


def test_environment_and_dataflow_schedules_load_typed(load_overlay: LoadOverlay) -> None:
    env = load_overlay(PROD)
    [hourly] = env.schedules
    assert hourly.job_type == "Execute"
    assert hourly.schedules is not None
    [setting] = hourly.schedules
    assert setting.configuration() == {
        "type": "Cron",
        "startDateTime": "2026-01-01T00:00:00",
        "endDateTime": "2030-01-01T00:00:00",
        "localTimeZoneId": "W. Europe Standard Time",  # spelled as Windows spells it
        "interval": 60,
    }
    assert setting.where == "environments/test.yaml:4"

    sales = {j.job_type: j for j in env.schedules_for("Sales Orders")}
    assert sales["ApplyChanges"].disables
    weekly = sales["Execute"].schedules
    assert weekly is not None
    assert weekly[0].entry("Execute") == {
        "enabled": False,
        "jobType": "Execute",
        "configuration": {
            "type": "Weekly",
            "startDateTime": "2026-01-01T00:00:00",
            "endDateTime": "2030-01-01T00:00:00",
            "localTimeZoneId": "UTC",
            "times": ["02:00", "14:30"],
            "weekdays": ["Monday", "Thursday"],
        },
    }
    [monthly] = env.schedules_for("Customers")[0].schedules or ()
    assert monthly.configuration()["occurrence"] == {
        "occurrenceType": "OrdinalWeekday",
        "weekIndex": "Second",
        "weekday": "Monday",
    }
    assert env.schedules_for("Other") == env.schedules


START = ("start", "'2026-01-01T00:00:00'")
END = ("end", "'2030-01-01T00:00:00'")
UTC = ("time_zone", "UTC")
CRON = ("type", "Cron")
DAILY = ("type", "Daily")


def overlay_with(fields: list[tuple[str, str]]) -> str:
    """An overlay whose one Execute schedule has ``fields`` in this order (the first on line 4)."""
    lines = [f"workspace_id: {WS}", "schedules:", "  Execute:"]
    lines += [("    - " if i == 0 else "      ") + f"{k}: {v}" for i, (k, v) in enumerate(fields)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("fields", "bad", "needle"),
    [
        ([CRON, ("interval", "0"), UTC, START, END], "interval", "minimum"),
        ([CRON, ("interval", "5270401"), UTC, START, END], "interval", "maximum"),
        ([CRON, ("interval", "5"), ("time_zone", "Mars/Olympus"), START, END], "time_zone", "zone"),
        ([CRON, ("interval", "5"), ("time_zone", "Europe/Berlin"), START, END], "time_zone", "IANA"),
        ([DAILY, ("times", "['25:00']"), UTC, START, END], "times", "25:00"),
        ([DAILY, ("times", "[12:30]"), UTC, START, END], "times", "750"),
        ([DAILY, ("times", "['01:00', '01:00']"), UTC, START, END], "times", "twice"),
        ([CRON, ("interval", "5"), UTC, START, ("end", "'2025-01-01T00:00:00'")], "end", "not after"),
        ([CRON, ("interval", "5"), UTC, ("start", "soon"), END], "start", "date"),
        ([("type", "Weekly"), ("times", "['01:00']"), UTC, START, END], "type", "weekdays"),
        ([CRON, ("times", "['01:00']"), UTC, START, END], "type", "interval"),
        ([CRON, ("interval", "5"), ("weekdays", "[Monday]"), UTC, START, END], "weekdays", "Weekly"),
        (
            [("type", "Monthly"), ("times", "['01:00']"), ("recurrence", "1"), UTC, START, END],
            "type",
            "day_of_month",
        ),
        ([("type", "Hourly"), UTC, START, END], "type", "Hourly"),
    ],
)
def test_each_mistake_is_one_located_line(
    load_overlay: LoadOverlay, fields: list[tuple[str, str]], bad: str, needle: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_overlay(overlay_with(fields))
    line = 4 + [k for k, _ in fields].index(bad)
    assert caught.value.line == line, str(caught.value)
    assert needle in str(caught.value), str(caught.value)


def test_unknown_job_type_duplicates_true_and_too_many(load_overlay: LoadOverlay) -> None:
    one = (
        "- type: Cron\n      interval: 5\n      time_zone: UTC\n"
        "      start: '2026-01-01T00:00:00'\n      end: '2030-01-01T00:00:00'"
    )
    with pytest.raises(ConfigError, match="unknown key 'Refresh'") as caught:
        load_overlay(f"workspace_id: {WS}\nschedules:\n  Refresh: []\n")
    assert caught.value.line == 3
    with pytest.raises(ConfigError, match="same schedule") as caught:
        load_overlay(f"workspace_id: {WS}\nschedules:\n  Execute:\n    {one}\n    {one}\n")
    assert caught.value.line == 9
    with pytest.raises(ConfigError, match="true does not say") as caught:
        load_overlay(f"workspace_id: {WS}\nschedules:\n  Execute: true\n")
    assert caught.value.line == 3
    many = "".join(
        f"\n    - type: Cron\n      interval: {n + 1}\n      time_zone: UTC\n"
        f"      start: '2026-01-01T00:00:00'\n      end: '2030-01-01T00:00:00'"
        for n in range(11)
    )
    with pytest.raises(ConfigError, match="22 schedules, Fabric allows 20"):
        load_overlay(f"workspace_id: {WS}\nschedules:\n  Execute:{many}\n  ApplyChanges:{many}\n")


PART = json.dumps(
    {
        "$schema": "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/schedules/1.0.0/schema.json",
        "schedules": [
            {"enabled": True, "jobType": job, "configuration": {"type": "Cron", "interval": n}}
            for job, n in (("Execute", 15), ("ApplyChanges", 5))
        ],
    },
    indent=2,
)
HOURLY = ScheduleSetting("Cron", "2026-01-01T00:00:00", "2030-01-01T00:00:00", "UTC", interval=60)


def test_the_overlay_over_a_schedules_part() -> None:
    assert overlay_part(PART, ()) is PART  # nothing to change: the bytes as they are
    assert overlay_part(None, ()) is None

    replaced = json.loads(overlay_part(PART, (JobSchedules("Execute", (HOURLY,)),)) or "")
    assert [(e["jobType"], e["configuration"].get("interval")) for e in replaced["schedules"]] == [
        ("ApplyChanges", 5),
        ("Execute", 60),
    ]
    off = json.loads(overlay_part(PART, (JobSchedules("Execute", None),)) or "")
    assert [(e["jobType"], e["enabled"]) for e in off["schedules"]] == [
        ("Execute", False),
        ("ApplyChanges", True),
    ]
    none_left = json.loads(overlay_part(PART, (JobSchedules("ApplyChanges", ()),)) or "")
    assert [e["jobType"] for e in none_left["schedules"]] == ["Execute"]

    made = overlay_part(None, (JobSchedules("Execute", (HOURLY,)),))
    assert made is not None
    assert json.loads(made)["$schema"].endswith("/schedules/1.0.0/schema.json")
    assert overlay_part(None, (JobSchedules("Execute", None),)) is None
