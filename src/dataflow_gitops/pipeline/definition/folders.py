"""① source → workspace folders: an item folder's place in git is its folder in the workspace.

Fabric Git sync mirrors workspace folders as nested git folders (``Bronze/IBMI/Orders.Dataflow``
is the dataflow ``Orders`` in the folder ``IBMI`` inside ``Bronze``), so the directories between
the dataflows root and the item folder are its workspace folder path. :func:`folder_path` is the
one place that rule lives; :func:`check_folder_path` holds the folder names to what Fabric
accepts, each problem one located error (discovery refuses what a Windows checkout cannot hold).

Folder name rules (learn.microsoft.com, "Create folders in workspaces", *Folder name
requirements*; the Folders API answers ``InvalidFolderDisplayName`` / ``FolderDepthOutOfRange``):
no C0/C1 control codes, no leading or trailing space, none of ``~"#.&*:<>?/\\{|}``, not
``$recycle.bin``/``recycled``/``recycler``, at most 255 characters, at most 10 levels deep.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from dataflow_gitops.errors import DataflowGitopsError, SourceError

MAX_DEPTH = 10
MAX_NAME = 255
_FORBIDDEN = re.compile(r'[~"#.&*:<>?/\\{|}\x00-\x1f\x7f-\x9f]')
_RESERVED = frozenset({"$recycle.bin", "recycled", "recycler"})
_DEVICE = re.compile(r"(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|(COM|LPT)[0-9\u00b9\u00b2\u00b3])", re.I)
_ENTITY = re.compile(r"&#(\d+);")


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
                hint=_hint(name),
            )


def name_problem(name: str) -> str | None:
    """Why Fabric (or a Windows checkout) refuses ``name`` as a folder name; None when fine."""
    if not name:
        return "is empty"
    if len(name) > MAX_NAME:
        return f"is {len(name)} characters long; Fabric allows {MAX_NAME}"
    if name != name.strip(" "):
        return "starts or ends with a space, which Fabric folder names cannot"
    bad = _FORBIDDEN.search(name)
    if bad is not None:
        char = bad.group()
        shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
        return f"contains {shown}, which Fabric folder names cannot contain"
    if name.casefold() in _RESERVED:
        return "is a name Fabric reserves"
    if _DEVICE.fullmatch(name):
        return "is a Windows device name: the folder cannot exist in a Windows checkout"
    return None


def _hint(name: str) -> str:
    entity = _ENTITY.search(name)
    if entity is not None:
        char = chr(int(entity.group(1)))
        return (
            f"{entity.group()} is how Fabric Git sync writes {char!r} in an item folder's name; "
            "a workspace folder name can hold neither: rename the folder"
        )
    return "rename the folder (see docs/folders.md)"


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
