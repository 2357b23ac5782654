"""Handlers for /v1/operations/{op} (state; polling advances it) and /result."""

from __future__ import annotations

from fabric_emulator.exchange import Ctx, Reply


def get_operation(ctx: Ctx) -> Reply:
    state = ctx.emu.state
    op = state.poll_operation(ctx.params["op"])
    now = state.now()
    status = op.status(now)
    headers = {"x-ms-operation-id": op.id, "Retry-After": ctx.retry_after()}
    if status in ("NotStarted", "Running"):
        headers["Location"] = ctx.operation_url(op.id)
    elif status == "Succeeded" and op.result is not None:
        headers["Location"] = ctx.operation_url(op.id) + "/result"
    return Reply(200, op.to_json(now), headers)


def get_operation_result(ctx: Ctx) -> Reply:
    return Reply(200, ctx.emu.state.operation_result(ctx.params["op"]))
