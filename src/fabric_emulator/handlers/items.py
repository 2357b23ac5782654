"""Handlers for /v1/workspaces/{ws}/items[/{item}] and the /dataflows aliases on the same store."""

from __future__ import annotations

from fabric_emulator.exchange import Ctx, Reply, maybe_lro
from fabric_emulator.paging import page


def list_items(ctx: Ctx) -> Reply:
    item_type = ctx.item_type or ctx.query.get("type")
    items = ctx.emu.state.list_items(
        ctx.params["ws"], item_type, ctx.flag("recursive", True), ctx.query.get("rootFolderId")
    )
    values = [i.to_json() for i in items]
    return Reply(200, page(values, ctx.query, ctx.emu.config.page_size, ctx.base_url, ctx.path))


def create_item(ctx: Ctx) -> Reply:
    body = dict(ctx.object_body())
    if ctx.item_type:
        body["type"] = ctx.item_type
    state = ctx.emu.state
    return maybe_lro(
        ctx,
        lambda: state.create_item(ctx.params["ws"], body, identity=ctx.identity).to_json(),
        sync_status=201,
        has_result=True,
    )


def get_item(ctx: Ctx) -> Reply:
    item = ctx.emu.state.item(ctx.params["ws"], ctx.params["item"], ctx.item_type)
    return Reply(200, item.to_json())


def update_item(ctx: Ctx) -> Reply:
    item = ctx.emu.state.update_item(
        ctx.params["ws"], ctx.params["item"], ctx.object_body(), ctx.item_type
    )
    return Reply(200, item.to_json())


def delete_item(ctx: Ctx) -> Reply:
    ctx.flag("hardDelete")  # validated; soft-deleted items are not listed either way
    reserve = ctx.emu.config.name_reservation_s
    ctx.emu.state.delete_item(ctx.params["ws"], ctx.params["item"], ctx.item_type, reserve)
    return Reply(200)
