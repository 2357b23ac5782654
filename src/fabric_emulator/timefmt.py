"""Time formatting for responses: epoch seconds → the two UTC string shapes Fabric uses."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_z(ts: float) -> str:
    """Operation timestamps: `2023-09-13T14:56:18.477Z`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def job_time(ts: float) -> str:
    """Job instance timestamps carry 7 fractional digits and no zone: `2023-04-22T06:35:00.7812154`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"
