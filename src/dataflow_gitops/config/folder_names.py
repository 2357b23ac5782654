"""Workspace folder names as Fabric accepts them, and as a Windows checkout can hold them.

The rules (learn.microsoft.com, "Create folders in workspaces", *Folder name requirements*; the
Folders API answers ``InvalidFolderDisplayName`` / ``FolderDepthOutOfRange``): no C0/C1 control
codes, no leading or trailing space, none of ``~"#.&*:<>?/\\{|}``, not
``$recycle.bin``/``recycled``/``recycler``, at most 255 characters, at most 10 levels deep. The
overlay's ``folder:`` and the git folders of the dataflows (``pipeline/definition/folders.py``)
are both held to them.
"""

from __future__ import annotations

import re

from dataflow_gitops.errors import ConfigError

MAX_DEPTH = 10
MAX_NAME = 255
_FORBIDDEN = re.compile(r'[~"#.&*:<>?/\\{|}\x00-\x1f\x7f-\x9f]')
_RESERVED = frozenset({"$recycle.bin", "recycled", "recycler"})
_DEVICE = re.compile(r"(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|(COM|LPT)[0-9\u00b9\u00b2\u00b3])", re.I)
_ENTITY = re.compile(r"&#(\d+);")


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


def hint(name: str) -> str:
    entity = _ENTITY.search(name)
    if entity is not None:
        char = chr(int(entity.group(1)))
        return (
            f"{entity.group()} is how Fabric Git sync writes {char!r} in an item folder's name; "
            "a workspace folder name can hold neither: rename the folder"
        )
    return "rename the folder (see docs/folders.md)"


def overlay_folder(raw: object, *, path: str, line: int | None) -> str:
    """The overlay's ``folder:`` (at ``path``:``line``) as a workspace folder path, each name held
    to Fabric's rules; "" for none."""
    if raw is None:
        return ""
    names = str(raw).strip("/").split("/")
    names = [] if names == [""] else names
    if len(names) > MAX_DEPTH:
        raise ConfigError(
            f"folder {raw!r} is {len(names)} levels deep; Fabric allows {MAX_DEPTH}",
            path=path,
            line=line,
        )
    for name in names:
        problem = name_problem(name)
        if problem is not None:
            raise ConfigError(
                f"folder: {name!r} {problem}",
                path=path,
                line=line,
                hint="name a workspace folder like `Team A/Dataflows` (names separated by /)",
            )
    return "/".join(names)
