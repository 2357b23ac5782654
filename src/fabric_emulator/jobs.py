"""Job scheduler layer: a run request → `JobInstance` that moves NotStarted → InProgress → Completed |
Failed | Cancelled on the clock (configurable duration and outcome) → the ItemJobInstance JSON.
ApplyChanges (and Execute) of a Dataflow whose `mashup.pq` does not parse ends Failed; with the
dedupe knob, a run while one of the same type is active ends `Deduped` at once."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fabric_emulator.errors import EmulatorError, bad_request
from fabric_emulator.mashup import MashupSyntaxError, parameters, parse_section
from fabric_emulator.model import Item
from fabric_emulator.timefmt import job_time

# Canonical job type per lower-cased spelling, per item type; `Refresh` is the old name of `Execute`.
_DATAFLOW_JOBS = {"execute": "Execute", "refresh": "Execute", "applychanges": "ApplyChanges"}
_GENERIC_JOBS = {
    "defaultjob": "DefaultJob",
    "runnotebook": "RunNotebook",
    "pipeline": "Pipeline",
    "sparkjob": "sparkjob",
    "execute": "Execute",
}
TERMINAL = ("Completed", "Failed", "Cancelled", "Deduped")


def canonical_job_type(item_type: str, job_type: str | None) -> str:
    table = _DATAFLOW_JOBS if item_type == "Dataflow" else _GENERIC_JOBS
    found = table.get((job_type or "").lower())
    if found is None:
        valid = ", ".join(sorted(set(table.values())))
        what = f"Job type '{job_type}' is not valid" if job_type else "No job type was given"
        message = (
            f"{what} for item type '{item_type}'; use one of {valid} "
            "(in .../jobs/{jobType}/instances or ?jobType=)."
        )
        raise bad_request("InvalidJobType", message)
    return found


@dataclass(frozen=True, slots=True)
class JobInstance:
    id: str
    workspace_id: str
    item_id: str
    job_type: str
    root_activity_id: str
    start: float
    duration: float
    outcome: str  # Completed | Failed | Deduped
    failure: dict[str, Any] | None = None
    cancelled_at: float | None = None
    invoke_type: str = "Manual"
    start_delay: float = 0.0  # seconds spent NotStarted before InProgress

    def status(self, now: float) -> str:
        if self.cancelled_at is not None:
            return "Cancelled"
        if now - self.start < self.start_delay:
            return "NotStarted"
        if now - self.start < self.start_delay + self.duration:
            return "InProgress"
        return self.outcome

    def end_time(self, now: float) -> float | None:
        if self.cancelled_at is not None:
            return self.cancelled_at
        finished = self.start + self.start_delay + self.duration
        return finished if self.status(now) in TERMINAL else None

    def cancelled(self, now: float) -> JobInstance:
        return dataclasses.replace(self, cancelled_at=now)

    def to_json(self, now: float) -> dict[str, Any]:
        status = self.status(now)
        end = self.end_time(now)
        return {
            "id": self.id,
            "itemId": self.item_id,
            "jobType": self.job_type,
            "invokeType": self.invoke_type,
            "status": status,
            "rootActivityId": self.root_activity_id,
            "startTimeUtc": job_time(self.start),
            "endTimeUtc": job_time(end) if end is not None else None,
            "failureReason": self.failure if status == "Failed" else None,
        }

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> JobInstance:
        return cls(**record)


def new_job(
    item: Item,
    kind: str,
    job_id: str,
    now: float,
    timing: tuple[float, float],
    outcome: str,
    *,
    deduped: bool = False,
) -> JobInstance:
    """A job instance started `now`; `timing` is (start delay, duration) in seconds."""
    root_activity = str(uuid.uuid4())
    if deduped:
        return JobInstance(job_id, item.workspace_id, item.id, kind, root_activity, now, 0.0, "Deduped")
    failure = dataflow_failure(item) if kind in ("Execute", "ApplyChanges") else None
    if outcome == "Failed" and failure is None:
        failure = {"errorCode": "JobFailed", "message": "The job failed (emulator outcome)."}
    start_delay, duration = timing
    final = "Failed" if failure else "Completed"
    return JobInstance(
        job_id,
        item.workspace_id,
        item.id,
        kind,
        root_activity,
        now,
        duration,
        final,
        failure,
        start_delay=start_delay,
    )


def dataflow_failure(item: Item) -> dict[str, Any] | None:
    """Why publishing (ApplyChanges) or running this item fails, if its M does not parse."""
    mashup = item.part("mashup.pq") if item.type == "Dataflow" else None
    if mashup is None:
        return None
    try:
        parse_section(mashup.text())
    except MashupSyntaxError as exc:
        return {
            "errorCode": "DataflowInvalidMashupDocument",
            "message": f"mashup.pq of '{item.display_name}' does not parse ({exc}); fix the M.",
        }
    return None


def check_job_parameters(item: Item, job_type: str, names: Sequence[str]) -> None:
    """Run-time parameter overrides must name public parameters of the Dataflow, once each."""
    if not names:
        return
    if item.type != "Dataflow" or job_type != "Execute":
        raise EmulatorError(
            403,
            "FeatureNotAvailable",
            "Parameter is not allowed for this item type or this item job type",
        )
    lowered = [n.lower() for n in names]
    duplicates = sorted({n for n in names if lowered.count(n.lower()) > 1})
    if duplicates:
        raise bad_request("InvalidParameter", f"Parameters given twice: {', '.join(duplicates)}.")
    mashup = item.part("mashup.pq")
    try:
        declared = {p.name for p in parameters(mashup.text())} if mashup else set()
    except MashupSyntaxError:
        declared = set()
    unknown = [n for n in names if n not in declared]
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise bad_request(
            "InvalidParameter",
            f"Dataflow '{item.display_name}' has no public parameter "
            f"{', '.join(repr(n) for n in unknown)} (it declares: {known}).",
        )
