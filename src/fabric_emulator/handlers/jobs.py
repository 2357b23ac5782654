"""Handlers for the job scheduler: run (generic, old `?jobType=` and /dataflows forms), get, list,
cancel. Jobs are not LROs: 202 + `Location` of the job instance."""

from __future__ import annotations

from typing import Any

from fabric_emulator.errors import EmulatorError, bad_request
from fabric_emulator.exchange import Ctx, Reply
from fabric_emulator.paging import page


def _instance_url(ctx: Ctx, ws: str, item: str, job: str) -> str:
    return f"{ctx.base_url}/v1/workspaces/{ws}/items/{item}/jobs/instances/{job}"


def _parameter_names(body: dict[str, Any]) -> list[str]:
    """Names from the generic `parameters[].name` or the dataflow `executionData.parameters[]`."""
    execution = body.get("executionData")
    found: list[Any] = []
    for raw, key in (
        (body.get("parameters"), "name"),
        (execution.get("parameters") if isinstance(execution, dict) else None, "parameterName"),
    ):
        if raw is None:
            continue
        if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
            raise bad_request("InvalidRequest", "Job parameters must be a list of objects.")
        found += [p.get(key) for p in raw]
    if not all(isinstance(n, str) and n for n in found):
        raise bad_request("InvalidRequest", "Every job parameter needs a non-empty name.")
    return found


def run_job(ctx: Ctx) -> Reply:
    names = _parameter_names(ctx.object_body(required=False))
    job_type = ctx.params.get("jobType") or ctx.query.get("jobType")
    config = ctx.emu.config
    retry = ctx.emu.job_quota.charge(ctx.identity, ctx.emu.clock.now(), config.jobs_per_minute)
    if retry is not None:
        raise EmulatorError(
            429,
            "TooManyRequestsForJobs",
            "The caller exceeded the number of job runs allowed in the current time frame.",
            headers={"Retry-After": str(retry)},
        )
    job = ctx.emu.state.start_job(
        ctx.params["ws"],
        ctx.params["item"],
        job_type,
        config.job_duration_s,
        config.job_outcome,
        ctx.item_type,
        parameter_names=names,
        start_delay=config.job_start_delay_s,
        dedupe=config.job_dedupe,
    )
    headers = {
        "Location": _instance_url(ctx, job.workspace_id, job.item_id, job.id),
        "Retry-After": ctx.retry_after(),
    }
    return Reply(202, None, headers)


def get_job(ctx: Ctx) -> Reply:
    state = ctx.emu.state
    job = state.job(ctx.params["ws"], ctx.params["item"], ctx.params["job"])
    return Reply(200, job.to_json(state.now()), {"Retry-After": ctx.retry_after()})


def list_jobs(ctx: Ctx) -> Reply:
    state = ctx.emu.state
    now = state.now()
    jobs = sorted(state.list_jobs(ctx.params["ws"], ctx.params["item"]), key=lambda j: -j.start)
    values = [j.to_json(now) for j in jobs]
    return Reply(200, page(values, ctx.query, ctx.emu.config.page_size, ctx.base_url, ctx.path))


def cancel_job(ctx: Ctx) -> Reply:
    job = ctx.emu.state.cancel_job(ctx.params["ws"], ctx.params["item"], ctx.params["job"])
    headers = {
        "Location": _instance_url(ctx, job.workspace_id, job.item_id, job.id),
        "Retry-After": ctx.retry_after(),
    }
    return Reply(202, None, headers)
