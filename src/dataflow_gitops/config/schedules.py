"""Overlay schedules (config layer): the ``schedules:`` blocks of an overlay → checked, typed
settings per job type, and the pure step that lays them over a dataflow's ``.schedules`` part.

The JSON Schema has checked the shapes; this module checks what a schema cannot say, each at its
``file:line``: a time zone Fabric does not know (Windows ids), a time such as ``25:00``, an end
before the start, the fields a schedule type needs, duplicates, and Fabric's 20 schedules per item.
"""

from __future__ import annotations

import difflib
import json
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dataflow_gitops.config.schema import format_pointer
from dataflow_gitops.config.yamlpos import Located, Pointer
from dataflow_gitops.errors import ConfigError, DataflowGitopsError
from dataflow_gitops.schedule_config import ScheduleConfig
from fabric_time_zones import WINDOWS_TIME_ZONES, windows_time_zone

SCHEDULES_SCHEMA = (
    "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/schedules/1.0.0/schema.json"
)
JOB_TYPES = ("Execute", "ApplyChanges")
MAX_SCHEDULES = 20  # per item, Fabric's Job Scheduler limit


@dataclass(frozen=True, slots=True)
class ScheduleSetting:
    """One schedule the overlay asks for (Fabric's ``ScheduleConfig`` plus ``enabled``)."""

    type: str
    start: str
    end: str
    time_zone: str
    enabled: bool = True
    interval: int | None = None
    times: tuple[str, ...] = ()
    weekdays: tuple[str, ...] = ()
    recurrence: int | None = None
    day_of_month: int | None = None
    week_index: str | None = None
    weekday: str | None = None
    where: str = ""

    def configuration(self) -> dict[str, Any]:
        """The ``configuration`` object as the API and the ``.schedules`` file hold it."""
        return ScheduleConfig(
            self.type,
            self.start,
            self.end,
            self.time_zone,
            interval=self.interval,
            times=self.times,
            weekdays=self.weekdays,
            recurrence=self.recurrence,
            occurrence=self._occurrence(),
        ).to_json()

    def _occurrence(self) -> dict[str, Any] | None:
        if self.recurrence is None:
            return None
        if self.day_of_month is not None:
            return {"occurrenceType": "DayOfMonth", "dayOfMonth": self.day_of_month}
        return {
            "occurrenceType": "OrdinalWeekday",
            "weekIndex": self.week_index,
            "weekday": self.weekday,
        }

    def entry(self, job_type: str) -> dict[str, Any]:
        """This schedule as one entry of a ``.schedules`` file."""
        return {"enabled": self.enabled, "jobType": job_type, "configuration": self.configuration()}


@dataclass(frozen=True, slots=True)
class JobSchedules:
    """What the overlay says about one job type: these schedules, or (None) the part's, disabled."""

    job_type: str
    schedules: tuple[ScheduleSetting, ...] | None
    where: str = ""

    @property
    def disables(self) -> bool:
        return self.schedules is None


def parse_schedules(doc: Located, pointer: Pointer) -> tuple[JobSchedules, ...]:
    """The ``schedules`` mapping at ``pointer`` (absent: none), checked."""
    block = _at(doc, pointer)
    if not isinstance(block, Mapping):
        return ()
    found: list[JobSchedules] = []
    for job_type, value in block.items():
        at = (*pointer, job_type)
        if value is True:
            raise ConfigError(
                f"{_name(at)}: true does not say which schedules",
                path=doc.path,
                line=doc.line(at),
                hint="give a list of schedules, [] for none, or false to turn the repository's off",
            )
        if value is False:
            found.append(JobSchedules(job_type, None, doc.where(at)))
            continue
        settings = tuple(_schedule(doc, (*at, i)) for i in range(len(value)))
        _check_duplicates(doc, at, settings)
        found.append(JobSchedules(job_type, settings, doc.where(at)))
    total = sum(len(j.schedules or ()) for j in found)
    if total > MAX_SCHEDULES:
        raise ConfigError(
            f"{_name(pointer)}: {total} schedules, Fabric allows {MAX_SCHEDULES} per dataflow",
            path=doc.path,
            line=doc.line(pointer, key=True),
        )
    return tuple(found)


def merged(
    environment: Sequence[JobSchedules], dataflow: Sequence[JobSchedules]
) -> tuple[JobSchedules, ...]:
    """The environment's settings with the dataflow's own taking precedence per job type."""
    own = {j.job_type for j in dataflow}
    return tuple(j for j in environment if j.job_type not in own) + tuple(dataflow)


def overlay_part(text: str | None, settings: Sequence[JobSchedules]) -> str | None:
    """The ``.schedules`` part after the overlay: per job type the overlay names, its schedules
    replace the part's (or the part's are turned off); other job types stay as the part has them.
    Without settings the part is returned unchanged, byte for byte; None when there is no part
    and nothing to put in one."""
    if not settings:
        return text
    doc: dict[str, Any] = json.loads(text) if text is not None else {}
    if not isinstance(doc, dict):
        doc = {}
    entries = [e for e in doc.get("schedules", []) if isinstance(e, dict)]
    for job in settings:
        if job.schedules is None:
            entries = [
                {**e, "enabled": False} if e.get("jobType") == job.job_type else e for e in entries
            ]
        else:
            entries = [e for e in entries if e.get("jobType") != job.job_type]
            entries += [s.entry(job.job_type) for s in job.schedules]
    if text is None and not entries:
        return None
    return schedules_document(doc, entries)


def schedules_document(doc: Mapping[str, Any], entries: Sequence[Mapping[str, Any]]) -> str:
    """``doc`` (a ``.schedules`` file's JSON, or {}) holding ``entries``, laid out as Git sync
    writes it: ``$schema`` first, the other keys kept."""
    out = {"$schema": doc.get("$schema", SCHEDULES_SCHEMA), **doc, "schedules": list(entries)}
    return json.dumps(out, indent=2, ensure_ascii=False)


# -- checks ----------------------------------------------------------------------------------------


def _schedule(doc: Located, at: Pointer) -> ScheduleSetting:
    raw: dict[str, Any] = _at(doc, at)
    checked: dict[str, Any] = {}
    for key, value in raw.items():  # in file order, so the first mistake by line is the one told
        if key == "time_zone":
            checked[key] = _time_zone(doc, (*at, key), value)
        elif key == "times":
            checked[key] = _times(doc, (*at, key), value)
        elif key == "weekdays":
            checked[key] = _unique(doc, (*at, key), value)
        elif key in ("start", "end"):
            _datetime(doc, (*at, key), value)
    _check_fields(doc, at, raw)
    if _datetime(doc, (*at, "end"), raw["end"]) <= _datetime(doc, (*at, "start"), raw["start"]):
        raise _error(doc, (*at, "end"), f"ends at {raw['end']}, not after its start {raw['start']}")
    return ScheduleSetting(
        type=raw["type"],
        start=raw["start"],
        end=raw["end"],
        time_zone=checked["time_zone"],
        enabled=raw.get("enabled", True),
        interval=raw.get("interval"),
        times=checked.get("times", ()),
        weekdays=checked.get("weekdays", ()),
        recurrence=raw.get("recurrence"),
        day_of_month=raw.get("day_of_month"),
        week_index=raw.get("week_index"),
        weekday=raw.get("weekday"),
        where=doc.where(at),
    )


# Which keys each type needs, and which it cannot have.
_NEEDS = {
    "Cron": ("interval",),
    "Daily": ("times",),
    "Weekly": ("times", "weekdays"),
    "Monthly": ("times", "recurrence"),
}
_ONLY = {
    "interval": ("Cron",),
    "times": ("Daily", "Weekly", "Monthly"),
    "weekdays": ("Weekly",),
    "recurrence": ("Monthly",),
    "day_of_month": ("Monthly",),
    "week_index": ("Monthly",),
    "weekday": ("Monthly",),
}


def _check_fields(doc: Located, at: Pointer, raw: Mapping[str, Any]) -> None:
    kind = raw["type"]
    for key in _NEEDS[kind]:
        if key not in raw:
            raise _error(doc, at, f"a {kind} schedule needs '{key}'", key=True)
    for key, kinds in _ONLY.items():
        if key in raw and kind not in kinds:
            raise _error(
                doc,
                (*at, key),
                f"'{key}' is for {' / '.join(kinds)} schedules, this one is {kind}",
                key=True,
            )
    if kind == "Monthly":
        by_day = "day_of_month" in raw
        by_week = "week_index" in raw or "weekday" in raw
        if by_day == by_week or (by_week and not ("week_index" in raw and "weekday" in raw)):
            raise _error(
                doc,
                at,
                "a Monthly schedule needs either day_of_month, or week_index and weekday",
                key=True,
            )


def _time_zone(doc: Located, at: Pointer, value: str) -> str:
    return check_time_zone(doc, at, value, _error)


def _times(doc: Located, at: Pointer, values: Sequence[Any]) -> tuple[str, ...]:
    for i, value in enumerate(values):
        if isinstance(value, int):
            raise _error(
                doc,
                (*at, i),
                f"is the number {value}: YAML reads an unquoted 12:30 as a number",
                hint="quote the time: '12:30'",
            )
        check_time_of_day(doc, (*at, i), value, _error)
    return _unique(doc, at, values)


def _unique(doc: Located, at: Pointer, values: Sequence[Any]) -> tuple[str, ...]:
    for i, value in enumerate(values):
        if value in values[:i]:
            raise _error(doc, (*at, i), f"{value!r} is listed twice")
    return tuple(str(v) for v in values)


def _datetime(doc: Located, at: Pointer, value: str) -> datetime:
    return check_datetime(doc, at, value, _error)


def _check_duplicates(doc: Located, at: Pointer, settings: Sequence[ScheduleSetting]) -> None:
    seen: list[dict[str, Any]] = []
    for i, setting in enumerate(settings):
        config = setting.configuration()
        if config in seen:
            first = seen.index(config)
            raise _error(doc, (*at, i), f"is the same schedule as {_name((*at, first))}", key=False)
        seen.append(config)


def _error(
    doc: Located, at: Pointer, message: str, *, key: bool = False, hint: str | None = None
) -> ConfigError:
    return ConfigError(f"{_name(at)}: {message}", path=doc.path, line=doc.line(at, key=key), hint=hint)


def _name(pointer: Pointer) -> str:
    return format_pointer(pointer)


def _at(doc: Located, pointer: Pointer) -> Any:
    node: Any = doc.value
    for key in pointer:
        in_list = isinstance(node, list) and isinstance(key, int) and key < len(node)
        if not (in_list or (isinstance(node, dict) and key in node)):
            return None
        node = node[key]
    return node


# -- the checks the overlay and the ``.schedules`` part share (each raises its own error) ----------


class ErrorAt(Protocol):
    """How a caller words an error at ``at`` of ``doc`` (ConfigError here, SourceError for a part)."""

    def __call__(
        self, doc: Located, at: Pointer, message: str, *, key: bool = False, hint: str | None = None
    ) -> DataflowGitopsError: ...


def check_time_zone(doc: Located, at: Pointer, value: str, error: ErrorAt) -> str:
    """The Windows time zone id ``value`` names (in its canonical spelling)."""
    found = windows_time_zone(value)
    if found is not None:
        return found
    if value in zoneinfo.available_timezones():
        hint = (
            f"{value!r} is an IANA name; Fabric takes Windows time zone ids "
            "(e.g. 'W. Europe Standard Time', 'Eastern Standard Time', 'UTC')"
        )
    else:
        close = difflib.get_close_matches(value, WINDOWS_TIME_ZONES, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "use a Windows time zone id, e.g. 'UTC'"
    raise error(doc, at, f"{value!r} is not a time zone Fabric knows", hint=hint)


def check_time_of_day(doc: Located, at: Pointer, value: object, error: ErrorAt) -> None:
    text = value if isinstance(value, str) else ""
    hours, sep, minutes = text.partition(":")
    good = sep and len(hours) == 2 and len(minutes) == 2 and hours.isdigit() and minutes.isdigit()
    if not good or int(hours) > 23 or int(minutes) > 59:
        raise error(doc, at, f"{value!r} is not a time of day hh:mm (00:00 to 23:59)")


def check_datetime(doc: Located, at: Pointer, value: str, error: ErrorAt) -> datetime:
    """``value`` as a naive date and time (the schedule's own time zone applies)."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise error(
            doc, at, f"{value!r} is not a date and time", hint="write it as 2026-01-31T06:00:00"
        ) from None
