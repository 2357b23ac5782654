"""Writing files inside a folder, never through a symlink that leads out of it.

A repository can commit symlinks (``schemas -> /etc``, ``.gitignore -> ~/.bashrc``,
``.dataflow-gitops -> /tmp/x``): a tool that writes "into the project" would follow them and
write anywhere the user can. Every file dfg writes into a project, an export or a render folder
goes through :func:`write_inside` (or :func:`inside` first, for writers that open the file
themselves: SQLite, a lock), which resolves the path with every symlink followed and refuses
one that ends up outside ``root``. A symlink that stays inside is fine (git sync never writes
one, but a user may).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from dataflow_gitops.errors import UnsafePathError

# Most file systems allow 255 bytes per name (ext4, APFS, NTFS counts UTF-16 units).
NAME_MAX_BYTES = 255


def inside(root: Path, path: Path, *, what: str = "file") -> Path:
    """``path`` with its symlinks resolved, checked to be within ``root`` (resolved too).

    Both are paths as ``open`` takes them (a relative one from the current directory). Raises
    UnsafePathError naming the link when it is not. Parent folders may be missing.
    """
    base = root.resolve()
    target = path
    resolved = target.resolve()
    if resolved != base and not resolved.is_relative_to(base):
        link = _first_link(base, root, target) or target
        raise UnsafePathError(
            f"{_shown(root, link)} is a symlink to {link.resolve()}, outside of {base}; "
            f"refusing to write the {what} {_shown(root, target)} through it",
            hint="replace the symlink by a real file or folder",
        )
    return resolved


def write_inside(
    root: Path, path: Path, data: bytes | str, *, append: bool = False, what: str = "file"
) -> Path:
    """Write (or append) ``data`` to ``path`` inside ``root``, creating its folders; return it.

    OS errors surface as UnsafePathError too, with the reason in words (one line).
    """
    resolved = inside(root, path, what=what)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        resolved.parent.mkdir(parents=True, exist_ok=True)
        # The folders just made may have raced with a symlink swap; check once more.
        resolved = inside(root, path, what=what)
        with resolved.open("ab" if append else "wb") as handle:
            handle.write(raw)
    except OSError as exc:
        raise write_error(exc, path, what=what) from None
    return resolved


def make_dirs_inside(root: Path, path: Path, *, what: str = "folder") -> Path:
    resolved = inside(root, path, what=what)
    try:
        resolved.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(exc, path, what=what) from None
    return inside(root, path, what=what)


def write_error(exc: OSError, path: Path, *, what: str) -> UnsafePathError:
    """One line for an OS error while writing ``path``; a name too long says which part."""
    if exc.errno == errno.ENAMETOOLONG or (os.name == "nt" and exc.errno == errno.EINVAL):
        longest = max(path.parts, key=lambda p: len(p.encode("utf-8")), default=str(path))
        return UnsafePathError(
            f"cannot write the {what}: the name {longest[:60]!r}… is "
            f"{len(longest.encode('utf-8'))} bytes, more than this file system allows",
            where=str(path),
            hint="shorten the name",
        )
    return UnsafePathError(
        f"cannot write the {what}: {exc.strerror or exc}",
        where=str(path),
        hint="check the path and its permissions",
    )


def _first_link(base: Path, root: Path, target: Path) -> Path | None:
    """The first component of ``target`` (below ``root``) that is a symlink."""
    try:
        relative = target.relative_to(root)
    except ValueError:
        return None
    current = root
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def _shown(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
