"""Long-running operation layer: an accepted request → `Operation` that moves NotStarted → Running →
Succeeded | Failed as it is polled (after N polls or T seconds), and → the OperationState JSON."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from fabric_emulator.timefmt import iso_z

SUCCEEDED, FAILED, STUCK = "Succeeded", "Failed", "Stuck"


@dataclass(frozen=True, slots=True)
class Operation:
    id: str
    created: float
    updated: float
    outcome: str  # Succeeded | Failed | Stuck (stays Running forever)
    polls_needed: int
    seconds_needed: float | None = None
    polls: int = 0
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    def status(self, now: float) -> str:
        if self.outcome == STUCK:
            return "Running"
        done_by_polls = self.polls > self.polls_needed
        done_by_time = self.seconds_needed is not None and now - self.created >= self.seconds_needed
        if done_by_polls or done_by_time:
            return self.outcome
        return "NotStarted" if self.polls == 0 else "Running"

    def polled(self, now: float) -> Operation:
        return dataclasses.replace(self, polls=self.polls + 1, updated=now)

    def to_json(self, now: float) -> dict[str, Any]:
        status = self.status(now)
        out: dict[str, Any] = {
            "status": status,
            "createdTimeUtc": iso_z(self.created),
            "lastUpdatedTimeUtc": iso_z(self.updated),
            "percentComplete": 100 if status in (SUCCEEDED, FAILED) else min(99, 25 * self.polls),
        }
        if status == FAILED and self.error is not None:
            out["error"] = self.error
        return out

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Operation:
        return cls(**record)
