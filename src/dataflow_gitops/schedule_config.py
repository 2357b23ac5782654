"""The Job Scheduler's ``ScheduleConfig``: when a scheduled job runs, in the one shape the API,
a ``.schedules`` part and an overlay's ``schedules:`` all write.

Shapes as ``common/job_scheduling.json`` defines them (``Cron`` / ``Daily`` / ``Weekly`` /
``Monthly``). Keys this module does not know — the spec says more configuration types "may be
added over time" — are kept in ``extra`` and written back, so a schedule read and written again is
unchanged. A leaf module: the config layer and the Fabric client both build on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

_KNOWN_CONFIG_KEYS = frozenset(
    {
        "type",
        "startDateTime",
        "endDateTime",
        "localTimeZoneId",
        "interval",
        "times",
        "weekdays",
        "recurrence",
        "occurrence",
    }
)


@dataclass(frozen=True)
class ScheduleConfig:
    """``ScheduleConfig``: when a scheduled job runs.

    ``interval`` (minutes) is for ``Cron``; ``times`` (``hh:mm``) for ``Daily``, ``Weekly`` and
    ``Monthly``; ``weekdays`` for ``Weekly``; ``recurrence`` (months) and ``occurrence`` (a
    ``DayOfMonth`` or ``OrdinalWeekday`` object) for ``Monthly``.
    """

    type: str
    start_date_time: str
    end_date_time: str
    local_time_zone_id: str
    interval: int | None = None
    times: tuple[str, ...] = ()
    weekdays: tuple[str, ...] = ()
    recurrence: int | None = None
    occurrence: Mapping[str, Any] | None = field(default=None, hash=False)
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ScheduleConfig:
        interval = body.get("interval")
        recurrence = body.get("recurrence")
        occurrence = body.get("occurrence")
        return cls(
            type=str(body.get("type", "")),
            start_date_time=str(body.get("startDateTime", "")),
            end_date_time=str(body.get("endDateTime", "")),
            local_time_zone_id=str(body.get("localTimeZoneId", "")),
            interval=interval if isinstance(interval, int) else None,
            times=tuple(str(t) for t in body.get("times") or ()),
            weekdays=tuple(str(d) for d in body.get("weekdays") or ()),
            recurrence=recurrence if isinstance(recurrence, int) else None,
            occurrence=dict(occurrence) if isinstance(occurrence, Mapping) else None,
            extra={k: v for k, v in body.items() if k not in _KNOWN_CONFIG_KEYS},
        )

    def to_json(self) -> Json:
        out: Json = {
            "type": self.type,
            "startDateTime": self.start_date_time,
            "endDateTime": self.end_date_time,
            "localTimeZoneId": self.local_time_zone_id,
        }
        if self.interval is not None:
            out["interval"] = self.interval
        if self.times:
            out["times"] = list(self.times)
        if self.weekdays:
            out["weekdays"] = list(self.weekdays)
        if self.recurrence is not None:
            out["recurrence"] = self.recurrence
        if self.occurrence is not None:
            out["occurrence"] = dict(self.occurrence)
        out.update(self.extra)
        return out
