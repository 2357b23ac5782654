"""Job Scheduler rules: a create/update request or a `.schedules` definition part → validated
`Schedule` records, and records → `ItemSchedule` JSON or the `.schedules` part Fabric Git sync writes.

Shapes as `common/job_scheduling.json` (the REST API) and the published Git schema
`gitIntegration/schedules/1.0.0` (the part) define them. No HTTP and no state here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fabric_emulator.errors import bad_request
from fabric_time_zones import windows_time_zone

SCHEDULES_PART = ".schedules"
SCHEDULES_SCHEMA = (
    "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/schedules/1.0.0/schema.json"
)
MAX_SCHEDULES = 20  # "An item can create maximum 20 schedulers."
MAX_INTERVAL_MIN = 5270400  # ten years, CronScheduleConfig.interval
MAX_TIMES = 100
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEK_INDEXES = ("First", "Second", "Third", "Fourth", "Fifth")
TYPES = ("Cron", "Daily", "Weekly", "Monthly")
_CODE = "InvalidScheduleConfiguration"


@dataclass(frozen=True, slots=True)
class Schedule:
    id: str
    job_type: str
    enabled: bool
    configuration: dict[str, Any]
    created: str  # createdDateTime as Fabric writes it
    owner_id: str
    execution_data: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "enabled": self.enabled,
            "createdDateTime": self.created,
            "configuration": dict(self.configuration),
            "owner": {"id": self.owner_id, "type": "User"},
        }
        if self.execution_data is not None:
            out["executionData"] = dict(self.execution_data)
        return out

    def to_part_entry(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "jobType": self.job_type, "configuration": self.configuration}

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job_type": self.job_type,
            "enabled": self.enabled,
            "configuration": self.configuration,
            "created": self.created,
            "owner_id": self.owner_id,
            "execution_data": self.execution_data,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Schedule:
        return cls(**dict(record))


def owner_id(identity: str) -> str:
    """A stable principal id (a UUID, as `Principal.id` must be) for the caller's identity."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "fabric-emulator:" + identity))


def _fail(message: str) -> Exception:
    return bad_request(_CODE, message)


def _datetime(config: Mapping[str, Any], key: str) -> datetime:
    value = config.get(key)
    if not isinstance(value, str) or not value:
        raise _fail(f"'configuration.{key}' is required, as a date-time such as 2025-04-28T00:00:00.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"'configuration.{key}' value '{value}' is not a valid date-time.") from None
    return parsed.replace(tzinfo=None)


def _int(config: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(f"'configuration.{key}' must be a whole number from {low} to {high}.")
    return value


def _time_slot(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return False
    hours, minutes = value[:2], value[3:]
    return hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60


def _times(config: Mapping[str, Any]) -> None:
    times = config.get("times")
    if not isinstance(times, list) or not 1 <= len(times) <= MAX_TIMES:
        raise _fail(f"'configuration.times' must list 1 to {MAX_TIMES} time slots (hh:mm).")
    bad = [t for t in times if not _time_slot(t)]
    if bad:
        raise _fail(f"'configuration.times' has {bad[0]!r}, which is not a time slot hh:mm.")


def _enum(value: Any, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise _fail(f"'{what}' value {value!r} is not one of {', '.join(allowed)}.")


def _occurrence(config: Mapping[str, Any]) -> None:
    occurrence = config.get("occurrence")
    if not isinstance(occurrence, Mapping):
        raise _fail("'configuration.occurrence' is required for a Monthly schedule.")
    kind = occurrence.get("occurrenceType")
    _enum(kind, ("DayOfMonth", "OrdinalWeekday"), "configuration.occurrence.occurrenceType")
    if kind == "DayOfMonth":
        _int(occurrence, "dayOfMonth", 1, 31)
    else:
        _enum(occurrence.get("weekIndex"), WEEK_INDEXES, "configuration.occurrence.weekIndex")
        _enum(occurrence.get("weekday"), WEEKDAYS, "configuration.occurrence.weekday")


def check_configuration(config: Any) -> dict[str, Any]:
    """A `ScheduleConfig` as the service takes it, or a 400 naming the first wrong field."""
    if not isinstance(config, Mapping):
        raise _fail("'configuration' is required and must be an object.")
    kind = config.get("type")
    _enum(kind, TYPES, "configuration.type")
    start, end = _datetime(config, "startDateTime"), _datetime(config, "endDateTime")
    if end <= start:
        raise _fail("'configuration.endDateTime' must be later than 'configuration.startDateTime'.")
    zone = config.get("localTimeZoneId")
    if not isinstance(zone, str) or windows_time_zone(zone) is None:
        raise _fail(
            f"'configuration.localTimeZoneId' value {zone!r} is not a Windows time zone id "
            "(for example 'UTC' or 'Central Standard Time')."
        )
    if kind == "Cron":
        _int(config, "interval", 1, MAX_INTERVAL_MIN)
    else:
        _times(config)
    if kind == "Weekly":
        days = config.get("weekdays")
        if not isinstance(days, list) or not 1 <= len(days) <= len(WEEKDAYS):
            raise _fail("'configuration.weekdays' must list 1 to 7 days of the week.")
        for day in days:
            _enum(day, WEEKDAYS, "configuration.weekdays")
    if kind == "Monthly":
        _int(config, "recurrence", 1, 12)
        _occurrence(config)
    return dict(config)


def check_request(body: Mapping[str, Any]) -> tuple[bool, dict[str, Any], dict[str, Any] | None]:
    """(enabled, configuration, executionData) of a CreateScheduleRequest / UpdateScheduleRequest."""
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        raise _fail("'enabled' is required and must be true or false.")
    configuration = check_configuration(body.get("configuration"))
    data = body.get("executionData")
    if data is not None and not isinstance(data, Mapping):
        raise _fail("'executionData' must be an object.")
    return enabled, configuration, dict(data) if data is not None else None


def entries_of_part(data: bytes) -> list[tuple[str, bool, dict[str, Any]]]:
    """(jobType, enabled, configuration) of each schedule in a `.schedules` part."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("schedules"), list):
        raise bad_request(
            "InvalidDefinitionParts",
            "The '.schedules' part must be a JSON object with a 'schedules' array.",
        )
    found: list[tuple[str, bool, dict[str, Any]]] = []
    for n, entry in enumerate(doc["schedules"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("jobType"), str):
            raise bad_request(
                "InvalidDefinitionParts", f"'.schedules' entry {n} needs a 'jobType' string."
            )
        enabled, configuration, _ = check_request(entry)
        found.append((entry["jobType"], enabled, configuration))
    if len(found) > MAX_SCHEDULES:
        raise bad_request("ScheduleExceedsLimit", f"An item can have at most {MAX_SCHEDULES} schedules.")
    return found


def part_text(schedules: Sequence[Schedule]) -> str:
    """The `.schedules` file for these schedules, laid out as Fabric Git sync writes JSON."""
    doc = {"$schema": SCHEDULES_SCHEMA, "schedules": [s.to_part_entry() for s in schedules]}
    return json.dumps(doc, indent=2)
