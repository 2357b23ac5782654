"""① source, the ``.schedules`` part: bytes → checked schedule entries (each error at its line).

The file follows the published schema ``gitIntegration/schedules/1.0.0`` (docs/schedules.md):
``{"$schema", "schedules": [{"enabled", "jobType", "configuration"}]}``. The part itself is
carried byte for byte; this module only reads it, strictly for the repository (the same rules
as the Job Scheduler API and the overlay), leniently for what live returns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dataflow_gitops.config.schedules import (
    JOB_TYPES,
    MAX_SCHEDULES,
    check_datetime,
    check_time_of_day,
    check_time_zone,
    schedules_document,
)
from dataflow_gitops.config.yamlpos import Located, Pointer, load_yaml
from dataflow_gitops.errors import DataflowGitopsError, SourceError
from dataflow_gitops.pipeline.definition.parts import decode_text, load_json

MAX_INTERVAL = 5_270_400  # minutes (ten years), the API's limit for a Cron schedule
_TYPES = ("Cron", "Daily", "Weekly", "Monthly")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEK_INDEXES = ("First", "Second", "Third", "Fourth", "Fifth")
_OWN_KEYS = {
    "Cron": ("interval",),
    "Daily": ("times",),
    "Weekly": ("times", "weekdays"),
    "Monthly": ("times", "recurrence", "occurrence"),
}
_ANY_TYPE_KEYS = ("interval", "times", "weekdays", "recurrence", "occurrence")


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """One schedule of a ``.schedules`` part; ``configuration`` is canonical JSON (sorted keys)."""

    job_type: str
    enabled: bool
    configuration: str

    @property
    def config(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.configuration)
        return loaded

    def entry(self) -> dict[str, Any]:
        """The entry as the file holds it."""
        return {"enabled": self.enabled, "jobType": self.job_type, "configuration": self.config}

    def summary(self) -> str:
        """One line: ``Cron every 60 min, UTC, from 2026-01-01T00:00:00 until 2030-…``."""
        c = self.config
        kind = c.get("type", "?")
        if kind == "Cron":
            when = f"every {c.get('interval')} min"
        elif kind == "Weekly":
            when = f"at {', '.join(c.get('times', []))} on {', '.join(c.get('weekdays', []))}"
        elif kind == "Monthly":
            when = f"at {', '.join(c.get('times', []))}, every {c.get('recurrence')} month(s)"
        else:
            when = f"at {', '.join(c.get('times', []))}"
        state = "" if self.enabled else " (disabled)"
        span = f"from {c.get('startDateTime')} until {c.get('endDateTime')}"
        return f"{kind} {when}, {c.get('localTimeZoneId')}, {span}{state}"


def canonical(configuration: Mapping[str, Any]) -> str:
    return json.dumps(configuration, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entries_of(data: bytes | None) -> tuple[ScheduleEntry, ...]:
    """The schedules of a part as far as they can be read (live parts: never an error)."""
    if data is None:
        return ()
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except ValueError:
        return ()
    raw = doc.get("schedules") if isinstance(doc, dict) else None
    found = []
    for e in raw if isinstance(raw, list) else ():
        if isinstance(e, dict) and isinstance(e.get("configuration"), dict):
            found.append(
                ScheduleEntry(
                    str(e.get("jobType", "")),
                    bool(e.get("enabled", False)),
                    canonical(e["configuration"]),
                )
            )
    return tuple(found)


def part_with(data: bytes | None, entries: Sequence[ScheduleEntry]) -> bytes:
    """A ``.schedules`` part holding ``entries``, laid out as Git sync writes JSON."""
    doc: dict[str, Any] = {}
    if data is not None:
        try:
            loaded = json.loads(data.decode("utf-8-sig"))
            doc = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            doc = {}
    return schedules_document(doc, [e.entry() for e in entries]).encode("utf-8")


# the repository's part: checked -------------------------------------------------------------


def check_part(data: bytes, *, location: str) -> tuple[ScheduleEntry, ...]:
    """The part's schedules; the first mistake is one SourceError at ``location:line``."""
    doc = load_json(data, path=location)
    located = _located(decode_text(data, path=location), doc, location)
    if not isinstance(doc, dict):
        raise _error(located, (), "must be a JSON object with a `schedules` list")
    raw = doc.get("schedules")
    if not isinstance(raw, list):
        raise _error(located, ("schedules",), "`schedules` must be a list", key=True)
    if len(raw) > MAX_SCHEDULES:
        raise _error(
            located, ("schedules",), f"{len(raw)} schedules, Fabric allows {MAX_SCHEDULES} per item"
        )
    entries: list[ScheduleEntry] = []
    for i, item in enumerate(raw):
        entry = _entry(located, ("schedules", i), item)
        same = next((k for k, e in enumerate(entries) if _same(e, entry)), None)
        if same is not None:
            raise _error(located, ("schedules", i), f"is the same schedule as schedules[{same}]")
        entries.append(entry)
    return tuple(entries)


def _same(a: ScheduleEntry, b: ScheduleEntry) -> bool:
    return a.job_type == b.job_type and a.configuration == b.configuration


def _entry(doc: Located, at: Pointer, item: Any) -> ScheduleEntry:
    if not isinstance(item, dict):
        raise _error(doc, at, "a schedule must be an object {enabled, jobType, configuration}")
    job_type = item.get("jobType")
    if job_type not in JOB_TYPES:
        raise _error(
            doc,
            (*at, "jobType"),
            f"jobType {job_type!r} is not a Dataflow job type",
            hint=f"use one of {', '.join(JOB_TYPES)}",
        )
    if not isinstance(item.get("enabled"), bool):
        raise _error(doc, (*at, "enabled"), "`enabled` must be true or false")
    config = item.get("configuration")
    if not isinstance(config, dict):
        raise _error(doc, (*at, "configuration"), "`configuration` must be an object")
    _check_configuration(doc, (*at, "configuration"), config)
    return ScheduleEntry(job_type, item["enabled"], canonical(config))


def _check_configuration(doc: Located, at: Pointer, c: Mapping[str, Any]) -> None:
    kind = c.get("type")
    if kind not in _TYPES:
        raise _error(
            doc, (*at, "type"), f"type {kind!r} is not a schedule type", hint=f"use {', '.join(_TYPES)}"
        )
    for key in ("startDateTime", "endDateTime", "localTimeZoneId"):
        if not isinstance(c.get(key), str):
            raise _error(doc, at, f"a schedule needs `{key}` (a string)")
    for key in _OWN_KEYS[kind]:
        if key not in c:
            raise _error(doc, at, f"a {kind} schedule needs `{key}`")
    for key in _ANY_TYPE_KEYS:
        if key in c and key not in _OWN_KEYS[kind]:
            raise _error(doc, (*at, key), f"`{key}` is not for a {kind} schedule", key=True)
    start = _datetime(doc, (*at, "startDateTime"), c["startDateTime"])
    end = _datetime(doc, (*at, "endDateTime"), c["endDateTime"])
    if end <= start:
        raise _error(
            doc,
            (*at, "endDateTime"),
            f"ends at {c['endDateTime']}, not after its start {c['startDateTime']}",
        )
    _time_zone(doc, (*at, "localTimeZoneId"), c["localTimeZoneId"])
    if "interval" in c:
        interval = c["interval"]
        if not isinstance(interval, int) or isinstance(interval, bool):
            raise _error(doc, (*at, "interval"), "`interval` must be a whole number of minutes")
        if not 1 <= interval <= MAX_INTERVAL:
            raise _error(
                doc,
                (*at, "interval"),
                f"interval {interval} is out of range: 1 to {MAX_INTERVAL:,} minutes (ten years)",
            )
    if "times" in c:
        _times(doc, (*at, "times"), c["times"])
    if "weekdays" in c:
        _choices(doc, (*at, "weekdays"), c["weekdays"], _WEEKDAYS, 7)
    if "recurrence" in c:
        r = c["recurrence"]
        if not isinstance(r, int) or isinstance(r, bool) or not 1 <= r <= 12:
            raise _error(doc, (*at, "recurrence"), f"recurrence {r!r} must be 1 to 12 (months)")
    if "occurrence" in c:
        _occurrence(doc, (*at, "occurrence"), c["occurrence"])


def _times(doc: Located, at: Pointer, values: Any) -> None:
    if not isinstance(values, list) or not 1 <= len(values) <= 100:
        raise _error(doc, at, "`times` must be a list of 1 to 100 times hh:mm")
    for i, value in enumerate(values):
        check_time_of_day(doc, (*at, i), value, _error)
        if value in values[:i]:
            raise _error(doc, (*at, i), f"{value!r} is listed twice")


def _choices(doc: Located, at: Pointer, values: Any, allowed: Sequence[str], most: int) -> None:
    if not isinstance(values, list) or not 1 <= len(values) <= most:
        raise _error(doc, at, f"must be a list of 1 to {most} of {', '.join(allowed)}")
    for i, value in enumerate(values):
        if value not in allowed:
            raise _error(doc, (*at, i), f"{value!r} is not one of {', '.join(allowed)}")
        if value in values[:i]:
            raise _error(doc, (*at, i), f"{value!r} is listed twice")


def _occurrence(doc: Located, at: Pointer, value: Any) -> None:
    kind = value.get("occurrenceType") if isinstance(value, dict) else None
    if kind == "DayOfMonth":
        day = value.get("dayOfMonth")
        if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 31:
            raise _error(doc, (*at, "dayOfMonth"), f"dayOfMonth {day!r} must be 1 to 31")
    elif kind == "OrdinalWeekday":
        if value.get("weekIndex") not in _WEEK_INDEXES:
            raise _error(doc, (*at, "weekIndex"), f"weekIndex must be one of {', '.join(_WEEK_INDEXES)}")
        if value.get("weekday") not in _WEEKDAYS:
            raise _error(doc, (*at, "weekday"), f"weekday must be one of {', '.join(_WEEKDAYS)}")
    else:
        raise _error(doc, at, "`occurrence` needs occurrenceType DayOfMonth or OrdinalWeekday")


def _time_zone(doc: Located, at: Pointer, value: str) -> None:
    check_time_zone(doc, at, value, _error)


def _datetime(doc: Located, at: Pointer, value: str) -> datetime:
    return check_datetime(doc, at, value, _error)


def _located(text: str, doc: Any, location: str) -> Located:
    """The JSON's lines, read through the YAML loader (JSON is YAML); without lines if not."""
    try:
        return load_yaml(text, path=location)
    except DataflowGitopsError:
        return Located(doc, location)


def _error(
    doc: Located, at: Pointer, message: str, *, key: bool = False, hint: str | None = None
) -> SourceError:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in at).lstrip(".")
    return SourceError(
        f"{where + ': ' if where else ''}{message}",
        path=doc.path,
        line=doc.line(at, key=key),
        hint=hint or "fix the .schedules file (docs/schedules.md shows its shape)",
    )
