"""Handlers for /v1/workspaces[/{ws}]: list (paged), get, create."""

from __future__ import annotations

from typing import Any

from fabric_emulator.errors import bad_request, checked_uuid
from fabric_emulator.exchange import Ctx, Reply
from fabric_emulator.model import Workspace
from fabric_emulator.paging import page

ROLES = ("Admin", "Member", "Contributor", "Viewer")


def list_workspaces(ctx: Ctx) -> Reply:
    # The caller holds every role on every emulated workspace, so a valid filter keeps them all.
    bad = [r for r in ctx.query.get("roles", "").split(",") if r.strip() and r.strip() not in ROLES]
    if bad:
        raise bad_request(
            "InvalidParameter", f"Unknown workspace role(s) {', '.join(bad)}; use {', '.join(ROLES)}."
        )
    values = [_shown(ctx, w) for w in ctx.emu.state.list_workspaces()]
    return Reply(200, page(values, ctx.query, ctx.emu.config.page_size, ctx.base_url, ctx.path))


def get_workspace(ctx: Ctx) -> Reply:
    ws = ctx.emu.state.workspace(ctx.params["ws"])
    body = _shown(ctx, ws)
    body["capacityAssignmentProgress"] = "Completed"
    return Reply(200, body)


def _shown(ctx: Ctx, ws: Workspace) -> dict[str, Any]:
    """The workspace, with `apiEndpoint` when asked for workspace-specific endpoints: this
    emulator's own origin, which serves every workspace (Fabric's is a per-workspace host)."""
    body = ws.to_json()
    if ctx.flag("preferWorkspaceSpecificEndpoints"):
        body["apiEndpoint"] = ctx.base_url
    return body


def create_workspace(ctx: Ctx) -> Reply:
    body = ctx.object_body()
    checked_uuid(body.get("capacityId"), "capacityId")
    checked_uuid(body.get("domainId"), "domainId")
    ws = ctx.emu.state.create_workspace(
        body.get("displayName"),
        body.get("description"),
        capacity_id=body.get("capacityId"),
        domain_id=body.get("domainId"),
    )
    return Reply(201, ws.to_json(), {"Location": f"{ctx.base_url}/v1/workspaces/{ws.id}"})
