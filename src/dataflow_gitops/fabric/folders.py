"""Fabric client layer — a workspace folder (``common/definitions.json#Folder``) as a value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Folder:
    """One folder; ``parent_folder_id`` is None for a folder at the workspace root."""

    id: str
    display_name: str
    workspace_id: str
    parent_folder_id: str | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Folder:
        return cls(
            id=str(body.get("id", "")),
            display_name=str(body.get("displayName", "")),
            workspace_id=str(body.get("workspaceId", "")),
            parent_folder_id=str(body["parentFolderId"]) if body.get("parentFolderId") else None,
        )
