"""Handlers for getDefinition / updateDefinition (200 or 202) and Dataflow parameter discovery."""

from __future__ import annotations

from fabric_emulator.errors import bad_request
from fabric_emulator.exchange import Ctx, Reply, maybe_lro
from fabric_emulator.mashup import MashupSyntaxError, parameters
from fabric_emulator.paging import page


def get_definition(ctx: Ctx) -> Reply:
    state = ctx.emu.state
    ws, item = ctx.params["ws"], ctx.params["item"]
    state.item(ws, item, ctx.item_type)  # 404 before any operation starts
    return maybe_lro(
        ctx, lambda: state.get_definition(ws, item, ctx.item_type), sync_status=200, has_result=True
    )


def update_definition(ctx: Ctx) -> Reply:
    state = ctx.emu.state
    ws, item = ctx.params["ws"], ctx.params["item"]
    body = ctx.object_body()
    if "definition" not in body:
        raise bad_request("InvalidRequest", "The request body needs a 'definition' object.")
    update_metadata = ctx.flag("updateMetadata")
    state.item(ws, item, ctx.item_type)
    definition = body["definition"]
    return maybe_lro(
        ctx,
        lambda: state.update_definition(
            ws, item, definition, update_metadata, ctx.item_type, ctx.identity
        ),
        sync_status=200,
        has_result=False,
    )


def discover_parameters(ctx: Ctx) -> Reply:
    item = ctx.emu.state.item(ctx.params["ws"], ctx.params["item"], "Dataflow")
    mashup = item.part("mashup.pq")
    try:
        found = parameters(mashup.text()) if mashup else []
    except MashupSyntaxError as exc:
        raise bad_request(
            "InvalidDefinitionParts", f"mashup.pq of '{item.display_name}' does not parse: {exc}"
        ) from None
    if not found:
        raise bad_request(
            "DataflowNotParametricError", f"Dataflow '{item.display_name}' has no public parameters."
        )
    values = [p.to_json() for p in found]
    return Reply(200, page(values, ctx.query, ctx.emu.config.page_size, ctx.base_url, ctx.path))
