"""Runtime knobs layer: command-line / control-plane settings → one mutable `EmulatorConfig`, and the
injectable `Clock` every time-based rule reads (LRO and job progress, quota windows)."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from fabric_emulator.errors import bad_request

LRO_MODES = ("always", "never", "random")
# 9000-01-01T00:00:00Z: timestamps stay printable (datetime stops at 9999) with room for durations.
LATEST = 221845392000.0
JOB_OUTCOMES = ("Completed", "Failed")


class Clock:
    """Wall time plus an offset that tests advance instead of sleeping."""

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._source() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._source() + self._offset + seconds >= LATEST:
                raise bad_request(
                    "InvalidRequest", "advanceSeconds would move the clock past the year 9000."
                )
            self._offset += seconds

    def reset(self) -> None:
        """Back to wall time, so one test's time travel does not leak into the next."""
        with self._lock:
            self._offset = 0.0


@dataclass(slots=True)
class EmulatorConfig:
    lro: str = "never"
    latency_ms: int = 0
    quota_per_minute: int | None = None
    page_size: int = 100
    job_duration_s: float = 0.0
    job_outcome: str = "Completed"
    job_start_delay_s: float = 0.0
    lro_polls: int = 1
    retry_after_s: int = 1
    # Seeds the emulator's randomness (`lro: random`, probability faults); None = unpredictable.
    seed: int | None = None
    # Seconds a deleted item's display name stays reserved (`ItemDisplayNameNotAvailableYet`).
    name_reservation_s: float = 0.0
    # A run while a job of the same type is active on the item ends `Deduped` at once.
    job_dedupe: bool = False
    # Per-identity job runs per minute before 429 `TooManyRequestsForJobs`; None = no such limit.
    jobs_per_minute: int | None = None
    # Per-route LRO mode: path regex → always|never|random; the first match beats `lro`.
    lro_routes: dict[str, str] = field(default_factory=dict)

    def lro_mode(self, path: str) -> str:
        for pattern, mode in self.lro_routes.items():
            if re.search(pattern, path):
                return mode
        return self.lro

    def validate(self) -> None:
        for name in _WHOLE:
            value = getattr(self, name)
            if not (value is None and name in _NULLABLE) and (
                isinstance(value, bool) or not isinstance(value, int)
            ):
                raise bad_request("InvalidParameter", f"{_camel(name)} must be a whole number")
        for name in _SECONDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise bad_request("InvalidParameter", f"{_camel(name)} must be a finite number")
        if not isinstance(self.lro_routes, dict):
            raise bad_request("InvalidParameter", "lroRoutes must map path regexes to LRO modes")
        for pattern, mode in self.lro_routes.items():
            if mode not in LRO_MODES:
                raise bad_request(
                    "InvalidParameter", f"lroRoutes['{pattern}'] must be one of {', '.join(LRO_MODES)}"
                )
            try:
                re.compile(pattern)
            except re.error as exc:
                raise bad_request("InvalidParameter", f"lroRoutes key '{pattern}': {exc}") from None
        if self.lro not in LRO_MODES:
            raise bad_request("InvalidParameter", f"lro must be one of {', '.join(LRO_MODES)}")
        if self.job_outcome not in JOB_OUTCOMES:
            raise bad_request("InvalidParameter", f"jobOutcome must be one of {', '.join(JOB_OUTCOMES)}")
        if self.job_duration_s < 0 or self.job_start_delay_s < 0:
            raise bad_request("InvalidParameter", "jobDurationS and jobStartDelayS must be >= 0")
        if self.page_size < 1 or self.latency_ms < 0 or self.lro_polls < 0 or self.retry_after_s < 0:
            raise bad_request(
                "InvalidParameter",
                "pageSize must be >= 1; latencyMs, lroPolls, retryAfterS must be >= 0",
            )
        if self.quota_per_minute is not None and self.quota_per_minute < 1:
            raise bad_request("InvalidParameter", "quotaPerMinute must be >= 1 or null")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise bad_request("InvalidParameter", "seed must be an integer or null")
        if self.name_reservation_s < 0:
            raise bad_request("InvalidParameter", "nameReservationS must be >= 0")
        if not isinstance(self.job_dedupe, bool):
            raise bad_request("InvalidParameter", "jobDedupe must be true or false")
        if self.jobs_per_minute is not None and self.jobs_per_minute < 1:
            raise bad_request("InvalidParameter", "jobsPerMinute must be >= 1 or null")

    def to_json(self) -> dict[str, Any]:
        out = {_camel(f.name): getattr(self, f.name) for f in fields(self)}
        out["lroRoutes"] = dict(self.lro_routes)
        return out

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply camelCase keys from the control plane; unknown keys are an error."""
        known = {_camel(f.name): f.name for f in fields(self)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise bad_request(
                "InvalidParameter",
                f"unknown config keys: {', '.join(unknown)}; known: {', '.join(sorted(known))}",
            )
        before = self.to_json()
        for key, value in changes.items():
            setattr(self, known[key], value)
        try:
            self.validate()
        except (TypeError, ValueError) as exc:
            self._restore(before, known)
            raise bad_request("InvalidParameter", f"bad config value: {exc}") from None
        except Exception:
            self._restore(before, known)
            raise

    def _restore(self, before: Mapping[str, Any], known: Mapping[str, str]) -> None:
        for key, value in before.items():
            setattr(self, known[key], value)


_WHOLE = (
    "latency_ms",
    "quota_per_minute",
    "page_size",
    "lro_polls",
    "retry_after_s",
    "jobs_per_minute",
)
_NULLABLE = ("quota_per_minute", "jobs_per_minute")
_SECONDS = ("job_duration_s", "job_start_delay_s", "name_reservation_s")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    out = head + "".join(part.capitalize() for part in rest)
    return out
