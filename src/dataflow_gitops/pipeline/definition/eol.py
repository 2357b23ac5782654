"""② source, line endings: the working tree read as git stores it.

A Windows checkout with ``core.autocrlf=true`` (or ``eol=crlf`` attributes) has CRLF in the
working tree for files git stores with LF. What dfg deploys must not depend on the checkout: the
commit deployed from Linux and the same commit on Windows plan no change against each other. So
a file git would convert back on commit is read with git's conversion applied (CRLF → LF), and a
file stored with CRLF stays as it is. Git decides (``git ls-files --eol``); where there is no git,
or no CRLF at all (almost always off Windows), nothing runs. ``dfg export`` goes the other way:
it writes files the way this checkout has them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import git

CRLF = b"\r\n"


def converted_on_commit(root: Path, folder: str) -> frozenset[str] | None:
    """Paths under ``folder`` (relative to ``root``, posix) whose working-tree CRLF git turns into
    LF on commit; None when ``root`` is not in a git work tree (or git is missing)."""
    try:
        # Read through git itself (as the source stage reads commits): it knows the attributes.
        listing = git.Git(root).ls_files(
            "--eol",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            folder,
            stdout_as_string=False,
        )
    except (git.GitError, OSError):
        return None
    autocrlf = _config(root, "core.autocrlf") in ("true", "input")
    paths = set()
    for entry in listing.split(b"\0"):
        info, tab, name = entry.partition(b"\t")
        if not tab:
            continue
        index, worktree, attributes = (info.split() + [b"", b"", b""])[:3]
        if worktree not in (b"w/crlf", b"w/mixed"):
            continue
        if index == b"i/lf" or (index == b"i/" and _text_on_commit(attributes, autocrlf)):
            paths.add(name.decode("utf-8", errors="surrogateescape"))
    return frozenset(paths)


def _text_on_commit(attributes: bytes, autocrlf: bool) -> bool:
    """An untracked file: would ``git add`` normalise its line endings?"""
    attribute = attributes.removeprefix(b"attr/")
    if attribute in (b"-text", b"binary"):
        return False
    return autocrlf or attribute.startswith((b"text", b"eol="))


def _config(root: Path, key: str) -> str:
    try:
        value = git.Git(root).config("--get", key, with_exceptions=False)
    except (git.GitError, OSError):
        return ""
    return str(value).strip().lower()


def as_committed(root: Path, folders: dict[str, dict[str, bytes]]) -> dict[str, dict[str, bytes]]:
    """``folders`` (folder relative to ``root`` → relative path → bytes), each file git converts
    on commit replaced by what git would store; returned, changed in place."""
    if not any(CRLF in data for files in folders.values() for data in files.values()):
        return folders
    # One listing for the whole project, not one per folder: nested workspace folders would be
    # listed again under each of their ancestors.
    converted = converted_on_commit(root, ".")
    if not converted:
        return folders
    for folder, files in folders.items():
        for relative, data in files.items():
            if f"{folder}/{relative}" in converted:
                files[relative] = data.replace(CRLF, b"\n")
    return folders


def checkout_writes_crlf(base: Path) -> Callable[[Path], bool]:
    """For files written under ``base`` (``dfg export``): whether this checkout has them with CRLF,
    as git would check them out. A file there now keeps its style if git converts it (CRLF in the
    working tree, LF stored); a new one gets CRLF when ``core.autocrlf`` is true. Outside git, or
    off such a checkout, never."""
    converted = converted_on_commit(base, ".") if base.is_dir() else None
    if converted is None:
        return lambda path: False
    autocrlf = _config(base, "core.autocrlf") == "true"
    resolved = base.resolve()

    def crlf(path: Path) -> bool:
        relative = path.resolve().relative_to(resolved).as_posix()
        return relative in converted or (autocrlf and not path.exists())

    return crlf


def as_checked_out(data: bytes, crlf: bool) -> bytes:
    """``data`` with CRLF line ends when the checkout has them (text only; already-CRLF text and
    binary data unchanged)."""
    if not crlf or CRLF in data or b"\0" in data:
        return data
    return data.replace(b"\n", CRLF)
