"""④ diff, schedules: the desired ``.schedules`` part × the live one → ScheduleChange per schedule.

Schedules are compared by meaning, schedule by schedule, never as bytes (live rewrites the part
whenever a schedule changes through the API). Per job type: a schedule equal on both sides is
no change; the same configuration with another ``enabled`` is a disable (or enable); what is
left pairs in order as a change; the rest are creates (desired only) and removes (live only).

A remove is a delete of a live schedule: planned only where the environment prunes (as for
items, and applied only with ``--allow-delete``). Without prune the remove is shown as kept, and
:func:`keep_live_schedules` writes the live schedule into the desired part, so the definition
write (which replaces an item's schedules with the part's) keeps it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.definition.schedule_part import ScheduleEntry, entries_of, part_with
from dataflow_gitops.pipeline.model import (
    SCHEDULES_PATH,
    Action,
    DesiredDataflow,
    LiveDataflow,
    Part,
    Plan,
    ScheduleChange,
    ScheduleChangeKind,
)


def diff_schedules(
    desired: Part | None, live: Part | None, *, prune: bool = True
) -> tuple[ScheduleChange, ...]:
    """What writing ``desired`` would do to the schedules of ``live`` (see the module docstring)."""
    new = list(entries_of(desired.data if desired else None))
    old = list(entries_of(live.data if live else None))
    changes: list[ScheduleChange] = []
    for job_type in dict.fromkeys([e.job_type for e in new] + [e.job_type for e in old]):
        changes += _job_changes(
            [e for e in new if e.job_type == job_type],
            [e for e in old if e.job_type == job_type],
            prune,
        )
    return tuple(changes)


def _job_changes(
    new: list[ScheduleEntry], old: list[ScheduleEntry], prune: bool
) -> list[ScheduleChange]:
    for entry in list(new):
        if entry in old:
            new.remove(entry)
            old.remove(entry)
    changes: list[ScheduleChange] = []
    for entry in list(new):
        twin = next((o for o in old if o.configuration == entry.configuration), None)
        if twin is not None:
            kind = ScheduleChangeKind.ENABLE if entry.enabled else ScheduleChangeKind.DISABLE
            changes.append(_change(entry, kind))
            new.remove(entry)
            old.remove(twin)
    for after, before in zip(list(new), list(old), strict=False):
        changes.append(_change(after, ScheduleChangeKind.CHANGE, before=before.summary()))
        new.remove(after)
        old.remove(before)
    changes += [_change(e, ScheduleChangeKind.CREATE) for e in new]
    changes += [_change(e, ScheduleChangeKind.REMOVE, kept=not prune) for e in old]
    return changes


def _change(
    entry: ScheduleEntry, kind: ScheduleChangeKind, *, before: str = "", kept: bool = False
) -> ScheduleChange:
    return ScheduleChange(
        job_type=entry.job_type,
        kind=kind,
        schedule=entry.summary(),
        before=before,
        configuration=entry.configuration,
        kept=kept,
    )


def keep_live_schedules(
    desired: DesiredDataflow, live: LiveDataflow | None, changes: Sequence[ScheduleChange]
) -> DesiredDataflow:
    """``desired`` whose ``.schedules`` part also holds the live schedules a kept remove keeps.

    Without a desired part nothing is needed: a definition without the part leaves the live
    schedules alone."""
    part = desired.part(SCHEDULES_PATH)
    kept = {(c.job_type, c.configuration) for c in changes if c.kept}
    if live is None or part is None or not kept:
        return desired
    keep = [
        e for e in entries_of(_data(live.part(SCHEDULES_PATH))) if (e.job_type, e.configuration) in kept
    ]
    data = part_with(part.data, [*entries_of(part.data), *keep])
    parts = tuple(Part(p.path, data) if p.path == SCHEDULES_PATH else p for p in desired.parts)
    return replace(
        desired,
        parts=parts,
        fingerprint=fingerprint(
            parts, display_name=desired.display_name, description=desired.description
        ),
    )


def _data(part: Part | None) -> bytes | None:
    return None if part is None else part.data


def schedule_line(change: ScheduleChange) -> str:
    """How every output shows one schedule change: ``~ Execute schedule: before → after``."""
    what = f"{change.job_type} schedule"
    if change.kind is ScheduleChangeKind.CREATE:
        return f"+ {what}: {change.schedule}"
    if change.kind is ScheduleChangeKind.CHANGE:
        return f"~ {what}: {change.before} → {change.schedule}"
    if change.kind is ScheduleChangeKind.REMOVE:
        if change.kept:
            return f"= {what} kept (live only; removed only where prune is on): {change.schedule}"
        return f"- {what} removed: {change.schedule}"
    return f"~ {what} {change.kind.value}d: {change.schedule}"


def removed_schedules(action: Action) -> list[tuple[str, str]]:
    """(job type, canonical configuration) of each schedule the action removes (prune allowed)."""
    if action.diff is None:
        return []
    return [
        (c.job_type, c.configuration)
        for c in action.diff.schedules
        if c.kind is ScheduleChangeKind.REMOVE and not c.kept
    ]


def schedule_deletes(plan: Plan) -> list[str]:
    """The plan's schedule removes, named for the ``--allow-delete`` refusal."""
    return [
        f"{a.display_name} ({job} schedule)" for a in plan.actions for job, _ in removed_schedules(a)
    ]


def kept_schedule_warnings(actions: Sequence[Action]) -> list[str]:
    """Live schedules the repository lacks, kept because the environment does not prune."""
    return [
        f'"{a.display_name}": the live {c.job_type} schedule ({c.schedule}) is not in the '
        f"repository; kept (schedules are removed only where prune is on)"
        for a in actions
        if a.diff is not None
        for c in a.diff.schedules
        if c.kept
    ]
