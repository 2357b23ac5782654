"""Fabric client layer — Job Scheduler values: a schedule, to and from the wire.

Shapes as ``common/job_scheduling.json`` defines them (``ItemSchedule``); its configuration is the
:class:`~dataflow_gitops.schedule_config.ScheduleConfig` the overlay and the ``.schedules`` part
write too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dataflow_gitops.schedule_config import ScheduleConfig

Json = dict[str, Any]


@dataclass(frozen=True)
class Schedule:
    """``ItemSchedule``: one schedule of one job type of one item."""

    id: str
    enabled: bool
    configuration: ScheduleConfig | None
    created_date_time: str | None = None
    owner_id: str | None = None
    owner_type: str | None = None
    execution_data: Mapping[str, Any] | None = field(default=None, hash=False)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Schedule:
        config = body.get("configuration")
        owner = body.get("owner") if isinstance(body.get("owner"), Mapping) else {}
        data = body.get("executionData")
        return cls(
            id=str(body.get("id", "")),
            enabled=bool(body.get("enabled", False)),
            configuration=ScheduleConfig.from_json(config) if isinstance(config, Mapping) else None,
            created_date_time=str(body["createdDateTime"]) if body.get("createdDateTime") else None,
            owner_id=str(owner["id"]) if owner and owner.get("id") else None,
            owner_type=str(owner["type"]) if owner and owner.get("type") else None,
            execution_data=dict(data) if isinstance(data, Mapping) else None,
        )


def schedule_request(
    enabled: bool, configuration: ScheduleConfig, execution_data: Mapping[str, Any] | None
) -> Json:
    """The body of a create or update (``CreateScheduleRequest`` / ``UpdateScheduleRequest``)."""
    body: Json = {"enabled": enabled, "configuration": configuration.to_json()}
    if execution_data is not None:
        body["executionData"] = dict(execution_data)
    return body


__all__ = ["Schedule", "ScheduleConfig", "schedule_request"]
