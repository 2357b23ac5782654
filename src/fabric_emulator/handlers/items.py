"""Handlers for /v1/workspaces/{ws}/items[/{item}] and the /dataflows aliases on the same store."""

from __future__ import annotations

from typing import Any

from fabric_emulator.exchange import Ctx, Reply, maybe_lro
from fabric_emulator.model import Item
from fabric_emulator.paging import page
from fabric_emulator.schedules import owner_id

INCLUDE = ("DefaultIdentity",)


def _shown(item: Item, include: set[str]) -> dict[str, Any]:
    body = item.to_json()
    if "DefaultIdentity" in include:
        # The identity that created the item stands in as its default identity.
        name = item.creator or "emulator-user"
        body["defaultIdentity"] = {
            "id": owner_id(item.creator),
            "displayName": name,
            "type": "User",
            "userDetails": {"userPrincipalName": f"{name}@fabric-emulator.invalid"},
        }
    return body


def list_items(ctx: Ctx) -> Reply:
    item_type = ctx.item_type or ctx.query.get("type")
    include = ctx.include(INCLUDE) if not ctx.item_type else set()
    items = ctx.emu.state.list_items(
        ctx.params["ws"], item_type, ctx.flag("recursive", True), ctx.uuid_query("rootFolderId")
    )
    values = [_shown(i, include) for i in items]
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
    include = ctx.include(INCLUDE) if not ctx.item_type else set()
    item = ctx.emu.state.item(ctx.params["ws"], ctx.params["item"], ctx.item_type)
    return Reply(200, _shown(item, include))


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
