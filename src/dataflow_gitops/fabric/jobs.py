"""Fabric client layer — Job Scheduler: run / poll / cancel job instances (not LROs, notes §6).

A run answers 202 with ``Location`` = the job-instance URL; some examples show a Location that
does not end in an id, so then the newest instance of that job type is taken. Polling honours
``Retry-After`` and stops at a terminal status; what a Failed run means is the caller's call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx

from dataflow_gitops.errors import OperationTimeout
from dataflow_gitops.fabric.lro import WaitNotice, default_poll_delay, json_object
from dataflow_gitops.fabric.retry import retry_after_s
from dataflow_gitops.fabric.sender import Sender

TERMINAL_JOB_STATUSES = frozenset({"completed", "failed", "cancelled", "deduped"})


def instance_id_from_location(location: str | None) -> str | None:
    if not location:
        return None
    last = httpx.URL(location).path.rstrip("/").rsplit("/", 1)[-1]
    return None if last.lower() in {"", "instances"} else last


def newest_first(instances: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Job instances by start time, newest first."""
    # A just-submitted instance has no start time yet: that makes it the newest.
    return sorted(instances, key=lambda i: str(i.get("startTimeUtc") or "9999"), reverse=True)


def newest_instance(instances: list[dict[str, Any]], job_type: str) -> dict[str, Any] | None:
    kinds = {job_type.lower(), _alias(job_type)}
    same_type = [i for i in instances if str(i.get("jobType", "")).lower() in kinds]
    return next(iter(newest_first(same_type)), None)


def _alias(job_type: str) -> str:
    # Refresh is the old name of Execute (notes §6); list results may use either.
    return {"execute": "refresh", "refresh": "execute"}.get(job_type.lower(), job_type.lower())


def wait_for_job(
    sender: Sender,
    url: str,
    *,
    timeout_s: float,
    on_poll: Callable[[dict[str, Any]], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
    what: str = "job",
) -> dict[str, Any]:
    started = sender.clock()
    notice = WaitNotice(on_wait, sender.clock)
    polls = 0
    while True:
        response = sender.send("GET", url)
        instance = json_object(response)
        if on_poll is not None:
            on_poll(instance)
        notice(what, str(instance.get("status", "")))
        if str(instance.get("status", "")).lower() in TERMINAL_JOB_STATUSES:
            return instance
        floor = retry_after_s(response)
        delay = floor if floor is not None else default_poll_delay(polls)
        polls += 1
        if sender.clock() - started + delay > timeout_s:
            raise OperationTimeout(
                f"job {instance.get('id', url)} still {instance.get('status')} after {timeout_s:.0f}s",
                where=f"GET {httpx.URL(url).path}",
                hint="it keeps running in Fabric; check it with `dfg jobs` or wait longer (--timeout)",
            )
        sender.sleep(delay)
