"""Handlers for the job scheduler: run (generic, old `?jobType=` and /dataflows forms), get, list,
cancel. Jobs are not LROs: 202 + `Location` of the job instance."""

from __future__ import annotations

from typing import Any

from fabric_emulator.errors import EmulatorError, bad_request
from fabric_emulator.exchange import Ctx, Reply
from fabric_emulator.paging import page


def _instance_url(ctx: Ctx, ws: str, item: str, job: str) -> str:
    return f"{ctx.base_url}/v1/workspaces/{ws}/items/{item}/jobs/instances/{job}"


EXECUTE_OPTIONS = ("SkipApplyChanges", "ApplyChangesIfNeeded")
# ItemJobParameterType (common/job_scheduling.json) for `parameters`; a Dataflow's
# executionData.parameters (ItemJobParameter) take "Automatic" only.
PARAMETER_TYPES = (
    "VariableReference",
    "Integer",
    "Number",
    "Text",
    "Boolean",
    "DateTime",
    "Guid",
    "Automatic",
)


def _checked(raw: Any, key: str, types: tuple[str, ...], where: str) -> list[str]:
    """The names of a parameter list whose entries have the spec's three required fields."""
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise bad_request("InvalidRequest", f"'{where}' must be a list of objects.")
    for p in raw:
        name = p.get(key)
        if not isinstance(name, str) or not name:
            raise bad_request("InvalidRequest", f"Every entry of '{where}' needs a non-empty '{key}'.")
        if p.get("type") not in types:
            raise bad_request(
                "InvalidRequest",
                f"Parameter '{name}' has type {p.get('type')!r}; use {', '.join(types)}.",
            )
        if "value" not in p:
            raise bad_request("InvalidRequest", f"Parameter '{name}' has no 'value'.")
    return [str(p[key]) for p in raw]


def _parameter_names(body: dict[str, Any], dataflow: bool) -> list[str]:
    """Names from the generic `parameters[].name` or the Dataflow `executionData.parameters[]`."""
    names: list[str] = []
    if body.get("parameters") is not None:
        names += _checked(body["parameters"], "name", PARAMETER_TYPES, "parameters")
    execution = body.get("executionData")
    if execution is None:
        return names
    if not isinstance(execution, dict):
        raise bad_request("InvalidRequest", "'executionData' must be an object.")
    if not dataflow:
        return names  # "defined by the specific item job type": no shape to check
    option = execution.get("executeOption")
    if option is not None and option not in EXECUTE_OPTIONS:
        raise bad_request(
            "InvalidRequest",
            f"'executionData.executeOption' {option!r} is not one of {', '.join(EXECUTE_OPTIONS)}.",
        )
    if execution.get("parameters") is not None:
        where = "executionData.parameters"
        names += _checked(execution["parameters"], "parameterName", ("Automatic",), where)
    return names


def run_job(ctx: Ctx) -> Reply:
    owner = ctx.emu.state.item(ctx.params["ws"], ctx.params["item"], ctx.item_type)
    names = _parameter_names(ctx.object_body(required=False), owner.type == "Dataflow")
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
