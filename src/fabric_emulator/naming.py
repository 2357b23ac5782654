"""Naming rules: request values → checked display names, descriptions and canonical item types
(`InvalidInput`, `InvalidItemType`), shared by every create and update."""

from __future__ import annotations

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
