"""Handlers for /v1/workspaces/{ws}/folders[/{folder}] and item move."""

from __future__ import annotations

from fabric_emulator.errors import checked_uuid
from fabric_emulator.exchange import Ctx, Reply
from fabric_emulator.paging import page


def list_folders(ctx: Ctx) -> Reply:
    folders = ctx.emu.state.list_folders(
        ctx.params["ws"], ctx.uuid_query("rootFolderId"), ctx.flag("recursive", True)
    )
    values = [f.to_json() for f in folders]
    return Reply(200, page(values, ctx.query, ctx.emu.config.page_size, ctx.base_url, ctx.path))


def create_folder(ctx: Ctx) -> Reply:
    body = ctx.object_body()
    checked_uuid(body.get("parentFolderId") or None, "parentFolderId")
    folder = ctx.emu.state.create_folder(
        ctx.params["ws"], body.get("displayName"), body.get("parentFolderId")
    )
    location = f"{ctx.base_url}/v1/workspaces/{folder.workspace_id}/folders/{folder.id}"
    return Reply(201, folder.to_json(), {"Location": location})


def get_folder(ctx: Ctx) -> Reply:
    return Reply(200, ctx.emu.state.folder(ctx.params["ws"], ctx.params["folder"]).to_json())


def update_folder(ctx: Ctx) -> Reply:
    body = ctx.object_body()
    folder = ctx.emu.state.rename_folder(ctx.params["ws"], ctx.params["folder"], body.get("displayName"))
    return Reply(200, folder.to_json())


def move_folder(ctx: Ctx) -> Reply:
    target = _target(ctx)
    folder = ctx.emu.state.move_folder(ctx.params["ws"], ctx.params["folder"], target)
    return Reply(200, folder.to_json())


def delete_folder(ctx: Ctx) -> Reply:
    ctx.emu.state.delete_folder(ctx.params["ws"], ctx.params["folder"])
    return Reply(200)


def move_item(ctx: Ctx) -> Reply:
    item = ctx.emu.state.move_item(ctx.params["ws"], ctx.params["item"], _target(ctx))
    return Reply(200, {"value": [item.to_json()]})


def _target(ctx: Ctx) -> str | None:
    """`targetFolderId` of a move body (required, as the spec says; `{}` moves to the workspace).
    An empty id means the workspace too: fabric-cicd sends "" for it."""
    target = ctx.object_body().get("targetFolderId")
    checked_uuid(target or None, "targetFolderId")
    return target or None
