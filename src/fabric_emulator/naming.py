"""Naming rules: request values → checked display names, descriptions and canonical item types
(`InvalidInput`, `InvalidItemType`), shared by every create and update; and the names of recently
deleted items that Fabric keeps reserved for a while (`ItemDisplayNameNotAvailableYet`)."""

from __future__ import annotations

import math
from typing import Any

from fabric_emulator.errors import bad_request
from fabric_emulator.model import ITEM_TYPES

MAX_NAME, MAX_DESCRIPTION = 256, 256
_TYPES_BY_LOWER = {t.lower(): t for t in ITEM_TYPES}


def checked_text(value: Any, field: str, *, required: bool = False, limit: int = MAX_NAME) -> str | None:
    """None when absent and optional; else a string within `limit` (non-blank when required)."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad_request("InvalidInput", f"'{field}' must be a non-empty string.")
    if len(value) > limit:
        raise bad_request("InvalidInput", f"'{field}' is longer than {limit} characters.")
    return value


def item_type_name(value: Any) -> str:
    """The spec's spelling of an item type, compared case-insensitively."""
    found = _TYPES_BY_LOWER.get(value.lower()) if isinstance(value, str) else None
    if found is None:
        raise bad_request("InvalidItemType", f"Item type '{value}' is not a Fabric item type.")
    return found


class NameReservations:
    """Display names of deleted items, held until a moment (not persisted: they are short-lived).
    The caller holds the state lock."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, str, str], float] = {}

    def hold(self, workspace_id: str, item_type: str, name: str, until: float) -> None:
        self._until[(workspace_id, item_type, name.lower())] = until

    def check(self, workspace_id: str, item_type: str, name: str, now: float) -> None:
        until = self._until.get((workspace_id, item_type, name.lower()))
        if until is None:
            return
        if now >= until:
            del self._until[(workspace_id, item_type, name.lower())]
            return
        raise bad_request(
            "ItemDisplayNameNotAvailableYet",
            f"Item display name '{name}' belonged to a {item_type} deleted recently and is not "
            f"available yet; retry in {math.ceil(until - now)} s.",
        )

    def clear(self) -> None:
        self._until.clear()
