"""Handlers for the Job Scheduler's schedules: /items/{item}/jobs/{jobType}/schedules[/{schedule}]
(list, create, get, update, delete) and the Dataflow create aliases /dataflows/{item}/jobs/execute/
schedules and …/applyChanges/schedules. Every answer is an `ItemSchedule`."""

from __future__ import annotations

from fabric_emulator.exchange import Ctx, Reply
from fabric_emulator.paging import page


def _location(ctx: Ctx, ws: str, item: str, job_type: str, schedule: str) -> str:
    return f"{ctx.base_url}/v1/workspaces/{ws}/items/{item}/jobs/{job_type}/schedules/{schedule}"


def list_schedules(ctx: Ctx) -> Reply:
    found = ctx.emu.state.list_schedules(ctx.params["ws"], ctx.params["item"], ctx.params["jobType"])
    values = [s.to_json() for s in found]
    return Reply(200, page(values, ctx.query, ctx.emu.config.page_size, ctx.base_url, ctx.path))


def create_schedule(ctx: Ctx) -> Reply:
    ws, item = ctx.params["ws"], ctx.params["item"]
    made = ctx.emu.state.create_schedule(
        ws, item, ctx.params["jobType"], ctx.object_body(), ctx.identity, ctx.item_type
    )
    owner = ctx.emu.state.item(ws, item)
    location = _location(ctx, owner.workspace_id, owner.id, made.job_type, made.id)
    return Reply(201, made.to_json(), {"Location": location})


def get_schedule(ctx: Ctx) -> Reply:
    p = ctx.params
    found = ctx.emu.state.schedule(p["ws"], p["item"], p["jobType"], p["schedule"])
    return Reply(200, found.to_json())


def update_schedule(ctx: Ctx) -> Reply:
    p = ctx.params
    updated = ctx.emu.state.update_schedule(
        p["ws"], p["item"], p["jobType"], p["schedule"], ctx.object_body(), ctx.identity
    )
    return Reply(200, updated.to_json())


def delete_schedule(ctx: Ctx) -> Reply:
    p = ctx.params
    ctx.emu.state.delete_schedule(p["ws"], p["item"], p["jobType"], p["schedule"])
    return Reply(200)
