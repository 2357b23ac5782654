"""Handlers for /v1/workspaces/{ws}/folders[/{folder}] and item move."""

from __future__ import annotations

from fabric_emulator.exchange import Ctx, Reply
from fabric_emulator.paging import page


def list_folders(ctx: Ctx) -> Reply:
    folders = ctx.emu.state.list_folders(
        ctx.params["ws"], ctx.query.get("rootFolderId"), ctx.flag("recursive", True)
    )
    values = [f.to_json() for f in folders]
    return Reply(200, page(values, ctx.query, ctx.emu.config.page_size, ctx.base_url, ctx.path))


def create_folder(ctx: Ctx) -> Reply:
    body = ctx.object_body()
    folder = ctx.emu.state.create_folder(
        ctx.params["ws"], body.get("displayName"), body.get("parentFolderId")
    )
    location = f"{ctx.base_url}/v1/workspaces/{folder.workspace_id}/folders/{folder.id}"
    return Reply(201, folder.to_json(), {"Location": location})


def get_folder(ctx: Ctx) -> Reply:
    return Reply(200, ctx.emu.state.folder(ctx.params["ws"], ctx.params["folder"]).to_json())


def delete_folder(ctx: Ctx) -> Reply:
    ctx.emu.state.delete_folder(ctx.params["ws"], ctx.params["folder"])
    return Reply(200)


def move_item(ctx: Ctx) -> Reply:
    body = ctx.object_body(required=False)
    item = ctx.emu.state.move_item(ctx.params["ws"], ctx.params["item"], body.get("targetFolderId"))
    return Reply(200, {"value": [item.to_json()]})
