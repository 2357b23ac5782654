"""③ observe → ⑤ plan: live workspace folders → folder paths, folders to create, folders left empty.

Observe lists the folders (Folders API, recursive) and :func:`place` gives every live item the
``/``-joined path of its ``folderId``. The planner pairs dataflows without looking at folders
(so moving one between folders is an update that moves it, never delete + create), and
:func:`plan_folders` then says which folders apply must create (parents first) and which
folders the plan's moves and deletes leave empty: removed (children first) only under prune,
otherwise listed. Folder names compare case-insensitively, as Fabric compares sibling names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from dataflow_gitops.pipeline.definition.folders import within
from dataflow_gitops.pipeline.model import (
    Action,
    ActionKind,
    FolderAction,
    FolderActionKind,
    LiveFolder,
    LiveItem,
    LiveWorkspace,
)


def folder_paths(folders: Sequence[LiveFolder]) -> dict[str, str]:
    """Folder id → its path from the workspace root (``Bronze/IBMI``)."""
    by_id = {f.id: f for f in folders}
    paths: dict[str, str] = {}

    def path_of(folder: LiveFolder, seen: frozenset[str]) -> str:
        if folder.id in paths:
            return paths[folder.id]
        parent = by_id.get(folder.parent_folder_id or "")
        # A parent the listing lacks (or a loop, which the service forbids) ends the walk.
        if parent is None or parent.id in seen:
            path = folder.display_name
        else:
            path = f"{path_of(parent, seen | {folder.id})}/{folder.display_name}"
        paths[folder.id] = path
        return path

    for folder in folders:
        path_of(folder, frozenset({folder.id}))
    return paths


def place(items: Iterable[LiveItem], folders: Sequence[LiveFolder]) -> tuple[LiveItem, ...]:
    """``items`` with ``folder_path`` set from their ``folder_id``."""
    paths = folder_paths(folders)
    return tuple(replace(i, folder_path=paths.get(i.folder_id, "")) if i.folder_id else i for i in items)


def place_workspace(live: LiveWorkspace) -> LiveWorkspace:
    """``live`` with every item (listing and dataflows) placed in its folder."""
    items = place(live.items, live.folders)
    by_id = {i.id: i for i in items}
    dataflows = tuple(
        replace(d, item=by_id.get(d.item.id, d.item)) if d.item.folder_id else d for d in live.dataflows
    )
    return replace(live, items=items, dataflows=dataflows)


def folder_ids(folders: Sequence[LiveFolder]) -> dict[str, str]:
    """Casefolded folder path → folder id ("" → None is the root, not listed)."""
    return {path.casefold(): fid for fid, path in folder_paths(folders).items()}


def plan_folders(
    writes: Sequence[Action],
    deletes: Sequence[Action],
    live: LiveWorkspace,
    *,
    prune: bool,
    base: str = "",
) -> tuple[tuple[FolderAction, ...], tuple[str, ...]]:
    """The folder creates and removes for these actions, and the folders left empty and kept.

    ``live`` must be placed (:func:`place_workspace`). Creates come in tree order (parents
    first); removes children first, after the items. Only folders inside ``base`` are ever removed.
    """
    paths = folder_paths(live.folders)
    existing = {p.casefold() for p in paths.values()}
    wanted: dict[str, str] = {}
    for action in writes:
        if action.desired is None:
            continue
        for prefix in _prefixes(action.desired.folder_path):
            wanted.setdefault(prefix.casefold(), prefix)
    creates = [
        FolderAction(FolderActionKind.CREATE, path, reason="not in the live workspace")
        for key, path in sorted(wanted.items(), key=lambda kv: kv[0].split("/"))
        if key not in existing
    ]
    before = _counts(i.folder_path for i in live.items)
    after_items = _after(writes, deletes, live)
    after = _counts(after_items)
    for key in wanted:
        after[key] = after.get(key, 0) + 1  # a folder something moves into is not left empty
    emptied = sorted(
        (p for p in paths.values() if within(p, base) and before.get(p.casefold(), 0) > 0),
        key=lambda p: (-p.count("/"), p.casefold()),
    )
    emptied = [p for p in emptied if after.get(p.casefold(), 0) == 0]
    if not prune:
        return tuple(creates), tuple(sorted(emptied, key=str.casefold))
    removed: set[str] = set()
    removes: list[FolderAction] = []
    kept: list[str] = []
    by_path = {p.casefold(): fid for fid, p in paths.items()}
    for path in emptied:
        children = [p for p in paths.values() if p.casefold().startswith(path.casefold() + "/")]
        # A folder that was empty before stays: removing the parent would need removing it too.
        if all(c.casefold() in removed for c in children):
            removed.add(path.casefold())
            removes.append(
                FolderAction(
                    FolderActionKind.DELETE,
                    path,
                    folder_id=by_path[path.casefold()],
                    reason="left empty by this plan; prune is on",
                )
            )
        else:
            kept.append(path)
    return (*creates, *removes), tuple(sorted(kept, key=str.casefold))


def _after(writes: Sequence[Action], deletes: Sequence[Action], live: LiveWorkspace) -> list[str]:
    """The folder path of every live item once the plan ran (deleted items gone)."""
    gone = {a.item_id for a in deletes if a.kind is ActionKind.DELETE}
    moved = {
        a.item_id: a.desired.folder_path
        for a in writes
        if a.item_id and a.desired is not None and a.moves_from is not None
    }
    return [moved.get(i.id, i.folder_path) for i in live.items if i.id not in gone]


def _counts(paths: Iterable[str]) -> dict[str, int]:
    """Casefolded folder path → items in it or below it."""
    counts: dict[str, int] = {}
    for path in paths:
        for prefix in _prefixes(path):
            key = prefix.casefold()
            counts[key] = counts.get(key, 0) + 1
    return counts


def _prefixes(path: str) -> list[str]:
    names = path.split("/") if path else []
    return ["/".join(names[: i + 1]) for i in range(len(names))]
