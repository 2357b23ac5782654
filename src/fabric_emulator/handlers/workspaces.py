"""Handlers for /v1/workspaces[/{ws}]: list (paged), get, create."""

from __future__ import annotations

from fabric_emulator.errors import bad_request
from fabric_emulator.exchange import Ctx, Reply
from fabric_emulator.paging import page

ROLES = ("Admin", "Member", "Contributor", "Viewer")


def list_workspaces(ctx: Ctx) -> Reply:
    # The caller holds every role on every emulated workspace, so a valid filter keeps them all.
    bad = [r for r in ctx.query.get("roles", "").split(",") if r.strip() and r.strip() not in ROLES]
    if bad:
        raise bad_request(
            "InvalidParameter", f"Unknown workspace role(s) {', '.join(bad)}; use {', '.join(ROLES)}."
        )
    values = [w.to_json() for w in ctx.emu.state.list_workspaces()]
    return Reply(200, page(values, ctx.query, ctx.emu.config.page_size, ctx.base_url, ctx.path))


def get_workspace(ctx: Ctx) -> Reply:
    ws = ctx.emu.state.workspace(ctx.params["ws"])
    body = ws.to_json()
    body["capacityAssignmentProgress"] = "Completed"
    return Reply(200, body)


def create_workspace(ctx: Ctx) -> Reply:
    body = ctx.object_body()
    ws = ctx.emu.state.create_workspace(
        body.get("displayName"), body.get("description"), capacity_id=body.get("capacityId")
    )
    return Reply(201, ws.to_json(), {"Location": f"{ctx.base_url}/v1/workspaces/{ws.id}"})
