"""Files on disk: rendered dataflows, exported dataflows, plan files, migrated legacy folders.

Every path written is checked to stay inside its folder (:func:`parts.safe_part_path`), so a
part named ``../x`` in a definition never writes outside it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from dataflow_gitops.confined import NAME_MAX_BYTES, make_dirs_inside, write_inside
from dataflow_gitops.confined import inside as confined_inside
from dataflow_gitops.errors import PlanFileError, RenderError, SourceError, UnsafePathError
from dataflow_gitops.pipeline.definition.eol import as_checked_out, checkout_writes_crlf
from dataflow_gitops.pipeline.definition.legacy import Migration, migration
from dataflow_gitops.pipeline.definition.parts import folder_name, safe_part_path
from dataflow_gitops.pipeline.model import DesiredDataflow, Plan
from dataflow_gitops.pipeline.plan.planfile import dump_plan, load_plan
from dataflow_gitops.pipeline.release.unrender import ExportedDataflow


def write_rendered(desired: Sequence[DesiredDataflow], out_dir: Path) -> list[Path]:
    """Write each dataflow in the Fabric Git layout under ``out_dir`` (in its workspace folder
    path, as Git sync nests them); return the files written."""
    written: list[Path] = []
    base = out_dir.resolve()
    for dataflow in desired:
        name = folder_name(dataflow.display_name)
        if len(name.encode("utf-8")) > NAME_MAX_BYTES and dataflow.logical_id:
            name = f"{dataflow.logical_id}.Dataflow"  # as export names it (export_set.free_folder)
        relative = "/".join(p for p in (dataflow.folder_path, name) if p)
        folder = _within(base, relative, dataflow.name)
        for part in dataflow.parts:
            target = inside(folder, part.path, dataflow.name)
            write_inside(base, target, part.data, what="rendered part")
            written.append(target)
    return written


def existing_folders(base: Path) -> set[str]:
    """The folder names already in ``base``, casefolded (a new folder must not clash)."""
    return {p.name.casefold() for p in base.iterdir()} if base.is_dir() else set()


def read_optional(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def export_changes(
    base: Path, exported: Sequence[ExportedDataflow]
) -> dict[str, tuple[tuple[Path, bytes | None], ...]]:
    """What writing ``exported`` would change, per dataflow: (file, new bytes or None to delete),
    unchanged files left out. Nothing is written.

    Bytes are as this checkout holds them (CRLF in a ``core.autocrlf`` checkout). A dataflow moved
    to another workspace folder is compared with what its old git folder holds, since
    :func:`write_exported` moves that folder, every file in it, before writing.
    """
    crlf = checkout_writes_crlf(base)
    changes: dict[str, tuple[tuple[Path, bytes | None], ...]] = {}
    for dataflow in exported:
        folder = _within(base, dataflow.folder, dataflow.name)
        now = _moving_from(base, dataflow) or folder
        found: list[tuple[Path, bytes | None]] = []
        for part in dataflow.files:
            there = inside(now, part.path, dataflow.name)
            data = as_checked_out(part.data, crlf(there))
            if not (there.is_file() and there.read_bytes() == data):
                found.append((inside(folder, part.path, dataflow.name), data))
        for path in dataflow.removed:
            if inside(now, path, dataflow.name).is_file():
                found.append((inside(folder, path, dataflow.name), None))
        changes[dataflow.name] = tuple(found)
    return changes


def write_exported(
    base: Path,
    exported: Sequence[ExportedDataflow],
    changes: Mapping[str, Sequence[tuple[Path, bytes | None]]],
) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Carry out :func:`export_changes`: the files written, and the files deleted.

    A dataflow moved to another workspace folder has its git folder moved first, with every
    file in it (files dfg does not write survive), and the folders it leaves empty removed.
    """
    for dataflow in exported:
        old = _moving_from(base, dataflow)
        if old is not None:
            folder = _within(base, dataflow.folder, dataflow.name)
            make_dirs_inside(base, folder.parent, what="export folder")
            shutil.move(old, folder)
            _prune_empty(old.parent, base)
    written: list[Path] = []
    deleted: list[Path] = []
    for found in changes.values():
        for target, data in found:
            if data is None:
                target.unlink()
                deleted.append(target)
            else:
                write_inside(base, target, data, what="exported part")
                written.append(target)
    return tuple(written), tuple(deleted)


def _moving_from(base: Path, dataflow: ExportedDataflow) -> Path | None:
    """The git folder a hand-moved dataflow leaves, when it is there to move."""
    if dataflow.moved_from is None:
        return None
    old = _within(base, dataflow.moved_from, dataflow.name)
    new = _within(base, dataflow.folder, dataflow.name)
    return old if old.is_dir() and not new.exists() else None


def _within(base: Path, relative: str, name: str) -> Path:
    """``base / relative`` for an item folder, refused when it leaves ``base``: by its path, or
    through a symlink on the way (:func:`confined.inside` names the link)."""
    folder = Path(os.path.normpath(base / relative))
    if folder == base or not folder.is_relative_to(base):
        raise RenderError(f"folder {relative!r} would leave the export directory", dataflow=name)
    return confined_inside(base, folder, what="folder")


def _prune_empty(folder: Path, base: Path) -> None:
    """Remove ``folder`` and its parents up to ``base`` while they are empty."""
    while folder != base and folder.is_relative_to(base) and folder.is_dir():
        if any(folder.iterdir()):
            return
        folder.rmdir()
        folder = folder.parent


def inside(folder: Path, path: str, name: str) -> Path:
    """``folder / path``, refused when it leaves ``folder``.

    Not resolved: a symlink on the way is judged by :func:`confined.write_inside` when writing.
    """
    target = folder / safe_part_path(path)
    if not target.resolve().is_relative_to(folder.resolve()):
        raise RenderError(f"part path {path!r} leaves the dataflow folder", dataflow=name)
    return target


def save_plan(the_plan: Plan, path: Path, *, secrets: Mapping[str, str]) -> None:
    """Write the plan file (secret values as ``${env:NAME}`` references)."""
    text = dump_plan(the_plan, secrets=secrets)
    try:
        write_inside(path.parent, path, text, what="plan file")
    except UnsafePathError as exc:
        raise PlanFileError(exc.message, path=str(path), hint=exc.hint) from None


def load_saved_plan(path: Path, environ: Mapping[str, str], *, resolve_secrets: bool) -> Plan:
    """Read a plan file ``dfg plan --out`` wrote; secret references resolve from ``environ``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise PlanFileError(
            f"cannot read the plan file: {reason}",
            path=str(path),
            hint="pass the file `dfg plan --out` wrote",
        ) from None
    return load_plan(text, path=str(path), environ=environ, resolve_secrets=resolve_secrets)


def migrate(path: Path) -> Migration:
    """Convert an old dataflow folder in place (:func:`legacy.migration`), and say what it was."""
    if not path.is_dir():
        raise SourceError("not a folder", path=str(path), hint="name a <Name>.Dataflow folder")
    present = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
    result = migration(path, present)
    for name, data in result.writes.items():
        write_inside(path, path / name, data, what="migrated part")
    for name in result.removes:
        (path / name).unlink()
    return result


def migrate_folder(path: Path) -> list[str]:
    """:func:`migrate`, the files written (relative names), empty for a current folder."""
    return list(migrate(path).written)
