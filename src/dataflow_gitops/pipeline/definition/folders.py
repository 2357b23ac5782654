"""① source → workspace folders: an item folder's place in git is its folder in the workspace.

Fabric Git sync mirrors workspace folders as nested git folders (``Bronze/IBMI/Orders.Dataflow``
is the dataflow ``Orders`` in the folder ``IBMI`` inside ``Bronze``), so the directories between
the dataflows root and the item folder are its workspace folder path. :func:`folder_path` is the
one place that rule lives; :func:`check_folder_path` holds the folder names to what Fabric
accepts (``config/folder_names.py``), each problem one located error (discovery refuses what a
Windows checkout cannot hold).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from dataflow_gitops.config.folder_names import MAX_DEPTH, hint, name_problem
from dataflow_gitops.errors import DataflowGitopsError, SourceError


def folder_path(folder: str, dataflows_dir: str) -> str:
    """The workspace folder path of the item folder ``folder`` (project-relative posix): its
    parent relative to the dataflows root ``dataflows_dir``; "" for an item at the root."""
    parent = PurePosixPath(folder).parent
    root = PurePosixPath(dataflows_dir.strip("/") or ".")
    if root == PurePosixPath("."):
        relative = parent
    else:
        try:
            relative = parent.relative_to(root)
        except ValueError:
            return ""  # not under the root: only a hand-made Snapshot can say so
    return "" if relative == PurePosixPath(".") else relative.as_posix()


def join(*paths: str) -> str:
    """Folder paths joined with ``/`` ("" parts dropped): the overlay's folder + the item's."""
    return "/".join(p.strip("/") for p in paths if p.strip("/"))


def within(path: str, base: str) -> bool:
    """``path`` is ``base`` or inside it (folder names compare case-insensitively in Fabric)."""
    if not base:
        return True
    p, b = path.casefold(), base.casefold()
    return p == b or p.startswith(b + "/")


def check_folder_path(path: str, *, where: str) -> None:
    """Raise SourceError (located at ``where``) when ``path`` is no valid workspace folder path."""
    names = path.split("/") if path else []
    if len(names) > MAX_DEPTH:
        raise SourceError(
            f"workspace folder {path!r} is {len(names)} levels deep; Fabric allows {MAX_DEPTH}",
            path=where,
            hint="move the dataflow to a shallower folder",
        )
    for name in names:
        problem = name_problem(name)
        if problem is not None:
            raise SourceError(
                f"folder name {name!r} {problem}",
                path=where,
                hint=hint(name),
            )


def check_folders(folders: Iterable[tuple[str, str]]) -> list[DataflowGitopsError]:
    """Problems of the item folders ``(project-relative folder, workspace folder path)`` as
    Fabric folders. (Discovery already refuses what a Windows checkout cannot hold and two
    paths that differ only in case: one folder on Windows, and one in Fabric.)"""
    errors: list[DataflowGitopsError] = []
    for folder, path in folders:
        try:
            check_folder_path(path, where=folder)
        except SourceError as exc:
            errors.append(exc)
    return errors
