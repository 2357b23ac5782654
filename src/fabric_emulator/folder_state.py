"""State layer, folders: the workspace's folder tree (list with `rootFolderId`/`recursive`, create
under a parent, rename, move, delete only when empty) with Fabric's rules. Mixed into `State` (which
owns the lock and the tables)."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from typing import Any

from fabric_emulator.errors import bad_request, not_found
from fabric_emulator.model import Folder, Item, Workspace
from fabric_emulator.naming import checked_text

_FORBIDDEN = '"/\\:*?<>|'


class FolderState:
    """The folder half of `State`; `State` supplies these members."""

    _lock: threading.RLock
    folders: dict[str, Folder]
    items: dict[str, Item]

    def workspace(self, workspace_id: str) -> Workspace:
        raise NotImplementedError

    def _put(self, kind: str, obj: Any) -> None:
        raise NotImplementedError

    def _drop(self, kind: str, ident: str) -> None:
        raise NotImplementedError

    # -- folders -----------------------------------------------------------------------------
    def folder(self, workspace_id: str, folder_id: str) -> Folder:
        with self._lock:
            self.workspace(workspace_id)
            found = self.folders.get(folder_id.lower())
            if found is None or found.workspace_id != workspace_id.lower():
                raise not_found("FolderNotFound", "folder", folder_id)
            return found

    def _folder_or_root(self, workspace_id: str, folder_id: Any) -> str | None:
        if folder_id is None or folder_id == "":
            return None  # fabric-cicd sends "" for the workspace root
        if not isinstance(folder_id, str):
            raise bad_request("InvalidInput", "Folder ids must be strings.")
        return self.folder(workspace_id, folder_id).id

    def _subtree(self, workspace_id: str, root: str | None, recursive: bool) -> set[str | None]:
        """Folder ids (None = workspace root) whose direct children a listing shows."""
        if not recursive:
            return {root}
        found: set[str | None] = {root}
        frontier = [root]
        ws_folders = [f for f in self.folders.values() if f.workspace_id == workspace_id]
        while frontier:
            parent = frontier.pop()
            for f in ws_folders:
                if f.parent_folder_id == parent and f.id not in found:
                    found.add(f.id)
                    frontier.append(f.id)
        return found

    def list_folders(
        self, workspace_id: str, root_folder_id: str | None = None, recursive: bool = True
    ) -> list[Folder]:
        with self._lock:
            ws = self.workspace(workspace_id)
            root = self._folder_or_root(ws.id, root_folder_id)
            parents = self._subtree(ws.id, root, recursive)
            return [
                f
                for f in self.folders.values()
                if f.workspace_id == ws.id and f.parent_folder_id in parents
            ]

    def create_folder(
        self,
        workspace_id: str,
        display_name: Any,
        parent_folder_id: Any = None,
        folder_id: str | None = None,
    ) -> Folder:
        name = _folder_name(display_name)
        with self._lock:
            ws = self.workspace(workspace_id)
            parent = self._folder_or_root(ws.id, parent_folder_id)
            self._check_free(ws.id, parent, name, None)
            folder = Folder((folder_id or str(uuid.uuid4())).lower(), ws.id, name, parent)
            self._put("folder", folder)
            return folder

    def delete_folder(self, workspace_id: str, folder_id: str) -> None:
        with self._lock:
            folder = self.folder(workspace_id, folder_id)
            if any(f.parent_folder_id == folder.id for f in self.folders.values()) or any(
                i.folder_id == folder.id for i in self.items.values()
            ):
                raise bad_request("FolderNotEmpty", f"Folder '{folder.display_name}' is not empty.")
            self._drop("folder", folder.id)

    def rename_folder(self, workspace_id: str, folder_id: str, display_name: Any) -> Folder:
        name = _folder_name(display_name)
        with self._lock:
            folder = self.folder(workspace_id, folder_id)
            self._check_free(folder.workspace_id, folder.parent_folder_id, name, folder.id)
            folder = dataclasses.replace(folder, display_name=name)
            self._put("folder", folder)
            return folder

    def move_folder(self, workspace_id: str, folder_id: str, target_folder_id: Any) -> Folder:
        """Under `target_folder_id` (the workspace root when absent); never into itself."""
        with self._lock:
            folder = self.folder(workspace_id, folder_id)
            target = self._folder_or_root(folder.workspace_id, target_folder_id)
            if target in self._subtree(folder.workspace_id, folder.id, True):
                raise bad_request(
                    "FolderMoveInvalid",
                    f"Folder '{folder.display_name}' cannot move into itself or one of its folders.",
                )
            self._check_free(folder.workspace_id, target, folder.display_name, folder.id)
            folder = dataclasses.replace(folder, parent_folder_id=target)
            self._put("folder", folder)
            return folder

    def _check_free(self, ws: str, parent: str | None, name: str, except_id: str | None) -> None:
        if any(
            f.workspace_id == ws
            and f.parent_folder_id == parent
            and f.id != except_id
            and f.display_name.lower() == name.lower()
            for f in self.folders.values()
        ):
            raise bad_request(
                "FolderDisplayNameAlreadyInUse", f"A folder named '{name}' already exists there."
            )


def _folder_name(display_name: Any) -> str:
    name = checked_text(display_name, "displayName", required=True)
    assert name is not None
    if any(c in name for c in _FORBIDDEN) or name != name.strip():
        message = f"Folder name '{name}' contains characters that are not allowed."
        raise bad_request("InvalidFolderName", message)
    return name
