"""Schedules through the pure stages: the repository's part checked, the overlay rendered into it,
the plan's schedule-by-schedule diff (kinds, prune, impact), saved plans, and the reverse overlay
of export."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dataflow_gitops.config import parse_environment
from dataflow_gitops.errors import SourceError
from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.definition.schedule_part import check_part, entries_of
from dataflow_gitops.pipeline.model import (
    SCHEDULES_PATH,
    DesiredDataflow,
    Impact,
    LiveDataflow,
    LiveItem,
    LiveWorkspace,
    Part,
    PlanPolicy,
    Platform,
    ScheduleChangeKind,
    SourceDataflow,
)
from dataflow_gitops.pipeline.plan.planfile import dump_plan, load_plan
from dataflow_gitops.pipeline.plan.planner import build_plan
from dataflow_gitops.pipeline.plan.schedules import diff_schedules, schedule_deletes
from dataflow_gitops.pipeline.release.unrender import ReverseIds, unrender

WS = "8c2e4a6d-5f7b-4c9e-a1d3-7e9f1b3d5a24"
SPAN = {"startDateTime": "2026-01-01T00:00:00", "endDateTime": "2030-01-01T00:00:00"}
DAILY = {"type": "Daily", "times": ["03:00"], "localTimeZoneId": "UTC", **SPAN}
HOURLY = {"type": "Cron", "interval": 60, "localTimeZoneId": "UTC", **SPAN}


def _part(*entries: tuple[str, bool, dict[str, Any]]) -> Part:
    doc = {
        "$schema": "x",
        "schedules": [{"enabled": e, "jobType": j, "configuration": c} for j, e, c in entries],
    }
    return Part(SCHEDULES_PATH, json.dumps(doc, indent=2).encode())


def _kinds(desired: Part | None, live: Part | None, prune: bool = True) -> list[tuple[str, str, bool]]:
    return [(c.job_type, c.kind.value, c.kept) for c in diff_schedules(desired, live, prune=prune)]


def test_schedule_diff_kinds() -> None:
    daily, hourly = ("Execute", True, DAILY), ("Execute", True, HOURLY)
    assert _kinds(_part(daily), _part(daily)) == []
    assert _kinds(_part(daily), None) == [("Execute", "create", False)]
    assert _kinds(_part(("Execute", False, DAILY)), _part(daily)) == [("Execute", "disable", False)]
    assert _kinds(_part(daily), _part(("Execute", False, DAILY))) == [("Execute", "enable", False)]
    assert _kinds(_part(hourly), _part(daily)) == [("Execute", "change", False)]
    assert _kinds(None, _part(daily)) == [("Execute", "remove", False)]
    assert _kinds(None, _part(daily), prune=False) == [("Execute", "remove", True)]
    publish = ("ApplyChanges", True, DAILY)
    assert _kinds(_part(daily), _part(daily, publish), prune=False) == [("ApplyChanges", "remove", True)]
    # the same configuration under another job type is another schedule
    assert _kinds(_part(publish), _part(daily)) == [
        ("ApplyChanges", "create", False),
        ("Execute", "remove", False),
    ]


def test_a_change_shows_before_and_after() -> None:
    [change] = diff_schedules(_part(("Execute", True, HOURLY)), _part(("Execute", True, DAILY)))
    assert change.kind is ScheduleChangeKind.CHANGE
    assert change.before == "Daily at 03:00, UTC, from 2026-01-01T00:00:00 until 2030-01-01T00:00:00"
    assert change.schedule.startswith("Cron every 60 min, UTC")


def _desired(part: Part | None) -> DesiredDataflow:
    parts = (Part("mashup.pq", b"section Section1;\nshared Q = 1;\n"),)
    parts += (part,) if part else ()
    return DesiredDataflow(
        "Sales", "Sales", "", "l-1", parts, fingerprint(parts, display_name="Sales", description="")
    )


def _live(part: Part | None) -> LiveDataflow:
    parts = (Part("mashup.pq", b"section Section1;\nshared Q = 1;\n"),)
    parts += (part,) if part else ()
    return LiveDataflow(
        LiveItem("id-1", "Dataflow", "Sales"),
        "l-1",
        parts,
        fingerprint(parts, display_name="Sales", description=""),
    )


def _plan(desired: DesiredDataflow, live: LiveDataflow, prune: bool) -> Any:
    return build_plan(
        [desired],
        LiveWorkspace(WS, (live.item,), (live,)),
        environment="prod",
        policy=PlanPolicy(prune=prune),
        created_at="2026-01-01T00:00:00Z",
    )


def test_plan_disable_is_breaking_and_a_kept_live_schedule_is_written_back() -> None:
    plan = _plan(
        _desired(_part(("Execute", False, DAILY))), _live(_part(("Execute", True, DAILY))), True
    )
    [action] = plan.actions
    assert action.kind.value == "update"
    assert action.impact is Impact.BREAKING
    assert "Execute schedule disabled" in action.reason

    # prune off: the live-only publish schedule is kept, in the very part that is written
    live = _live(_part(("Execute", True, DAILY), ("ApplyChanges", True, HOURLY)))
    plan = _plan(_desired(_part(("Execute", True, DAILY))), live, False)
    [action] = plan.actions
    assert action.kind.value == "noop"
    assert action.desired is not None
    written = entries_of(action.desired.part(SCHEDULES_PATH).data)  # type: ignore[union-attr]
    assert {e.job_type for e in written} == {"Execute", "ApplyChanges"}
    assert any("kept (schedules are removed only where prune is on)" in w for w in plan.warnings)
    assert schedule_deletes(plan) == []


def test_a_saved_plan_keeps_its_schedule_removes() -> None:
    live = _live(_part(("Execute", True, DAILY), ("ApplyChanges", True, HOURLY)))
    plan = _plan(_desired(_part(("Execute", True, DAILY))), live, True)
    assert schedule_deletes(plan) == ["Sales (ApplyChanges schedule)"]
    again = load_plan(dump_plan(plan, secrets={}), path="saved.json", environ={})
    assert again.actions[0].diff == plan.actions[0].diff
    assert schedule_deletes(again) == ["Sales (ApplyChanges schedule)"]


@pytest.mark.parametrize(
    ("edit", "needle", "message"),
    [
        ({"jobType": "Refresh"}, '"Refresh"', "jobType 'Refresh' is not a Dataflow job type"),
        ({"configuration": {**HOURLY, "interval": 0}}, '"interval"', "interval 0 is out of range"),
        ({"configuration": {**DAILY, "times": ["25:00"]}}, '"25:00"', "'25:00' is not a time of day"),
        ({"configuration": {**DAILY, "localTimeZoneId": "Europe/Berlin"}}, "Berlin", "IANA"),
        ({"configuration": {**DAILY, "endDateTime": "2025-01-01T00:00:00"}}, "2025-", "not after"),
    ],
)
def test_check_part_names_the_line(edit: dict[str, Any], needle: str, message: str) -> None:
    entry = {"enabled": True, "jobType": "Execute", "configuration": DAILY, **edit}
    text = json.dumps({"$schema": "x", "schedules": [entry]}, indent=2)
    with pytest.raises(SourceError) as caught:
        check_part(text.encode(), location="dataflows/Sales.Dataflow/.schedules")
    line = next(n for n, text_line in enumerate(text.splitlines(), 1) if needle in text_line)
    assert caught.value.line == line, text
    assert message in str(caught.value)


def _env(extra: str) -> Any:
    text = f"workspace_id: {WS}\n{extra}"
    return parse_environment("prod", text.encode(), path="environments/prod.yaml", environ={})


def test_export_keeps_the_overlay_s_job_types_as_git_has_them() -> None:
    env = _env(
        "schedules:\n  Execute:\n    - {type: Cron, interval: 60, time_zone: UTC, "
        "start: 2026-01-01T00:00:00, end: 2030-01-01T00:00:00}\n"
    )
    ours = _part(("Execute", True, DAILY))
    rendered = _part(("Execute", True, HOURLY))
    live_part = _part(("Execute", True, {**HOURLY, "interval": 15}), ("ApplyChanges", True, DAILY))
    source = SourceDataflow("Sales", "Sales.Dataflow", Platform("Dataflow", "Sales", "l-1"), (ours,))
    desired = _desired(rendered)
    exported = unrender(
        _live(live_part), env, ReverseIds(), source=source, rendered=desired, folder="Sales.Dataflow"
    )
    [written] = [p for p in exported.files if p.path == SCHEDULES_PATH]
    by_job = {e.job_type: e for e in entries_of(written.data)}
    assert by_job["Execute"].config == DAILY  # git's, not the overlay's nor the hand edit
    assert by_job["ApplyChanges"].config == DAILY
    assert any("the Execute schedules differ live" in n for n in exported.notes)


def test_render_lays_the_overlay_over_the_part_within_fabric_s_20() -> None:
    from dataflow_gitops.errors import RenderError
    from dataflow_gitops.pipeline.definition.render import OfflineLookup, render

    many = [("Execute", True, {**DAILY, "times": [f"{h:02d}:00"]}) for h in range(15)]
    source = SourceDataflow(
        "Sales", "Sales.Dataflow", Platform("Dataflow", "Sales", "l-1"), (_part(*many),)
    )
    publish = "".join(
        f"    - {{type: Daily, times: ['{h:02d}:30'], time_zone: UTC, "
        "start: 2026-01-01T00:00:00, end: 2030-01-01T00:00:00}\n"
        for h in range(5)
    )
    env = _env(f"schedules:\n  ApplyChanges:\n{publish}")
    rendered = render(source, env, OfflineLookup(env))
    entries = entries_of(rendered.part(SCHEDULES_PATH).data)  # type: ignore[union-attr]
    assert [e.job_type for e in entries].count("ApplyChanges") == 5
    assert len(entries) == 20

    env = _env(
        f"schedules:\n  ApplyChanges:\n{publish}    - {{type: Cron, interval: 5, "
        "time_zone: UTC, start: 2026-01-01T00:00:00, end: 2030-01-01T00:00:00}\n"
    )
    with pytest.raises(RenderError, match="21 schedules with the overlay's, Fabric allows 20"):
        render(source, env, OfflineLookup(env))
