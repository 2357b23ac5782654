"""Files on disk: rendered dataflows, exported dataflows, plan files, migrated legacy folders.

Every path written is checked to stay inside its folder (:func:`parts.safe_part_path`), so a
part named ``../x`` in a definition never writes outside it.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from dataflow_gitops.errors import PlanFileError, RenderError, SourceError
from dataflow_gitops.pipeline.definition.legacy import Migration, migration
from dataflow_gitops.pipeline.definition.parts import folder_name, safe_part_path
from dataflow_gitops.pipeline.model import DesiredDataflow, Plan
from dataflow_gitops.pipeline.plan.planfile import dump_plan, load_plan
from dataflow_gitops.pipeline.release.export import ExportedDataflow


def write_rendered(desired: Sequence[DesiredDataflow], out_dir: Path) -> list[Path]:
    """Write each dataflow in the Fabric Git layout under ``out_dir`` (in its workspace folder
    path, as Git sync nests them); return the files written."""
    written: list[Path] = []
    base = out_dir.resolve()
    for dataflow in desired:
        relative = "/".join(p for p in (dataflow.folder_path, folder_name(dataflow.display_name)) if p)
        folder = _within(base, relative, dataflow.name)
        for part in dataflow.parts:
            target = inside(folder, part.path, dataflow.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(part.data)
            written.append(target)
    return written


def existing_folders(base: Path) -> set[str]:
    """The folder names already in ``base``, casefolded (a new folder must not clash)."""
    return {p.name.casefold() for p in base.iterdir()} if base.is_dir() else set()


def read_optional(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def write_exported(
    base: Path, exported: Sequence[ExportedDataflow]
) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Write the exported parts (unchanged files are not rewritten) and delete removed ones.

    A dataflow moved to another workspace folder has its git folder moved first, with every
    file in it (files dfg does not write survive), and the folders it leaves empty removed.
    """
    written: list[Path] = []
    deleted: list[Path] = []
    for dataflow in exported:
        folder = _within(base, dataflow.folder, dataflow.name)
        if dataflow.moved_from is not None:
            old = _within(base, dataflow.moved_from, dataflow.name)
            if old.is_dir() and not folder.exists():
                folder.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(old, folder)
                _prune_empty(old.parent, base)
        for part in dataflow.files:
            target = inside(folder, part.path, dataflow.name)
            if target.is_file() and target.read_bytes() == part.data:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(part.data)
            written.append(target)
        for path in dataflow.removed:
            target = inside(folder, path, dataflow.name)
            if target.is_file():
                target.unlink()
                deleted.append(target)
    return tuple(written), tuple(deleted)


def _within(base: Path, relative: str, name: str) -> Path:
    """``base / relative`` for an item folder, refused when it leaves ``base``."""
    folder = (base / relative).resolve()
    if folder == base or not folder.is_relative_to(base):
        raise RenderError(f"folder {relative!r} would leave the export directory", dataflow=name)
    return folder


def _prune_empty(folder: Path, base: Path) -> None:
    """Remove ``folder`` and its parents up to ``base`` while they are empty."""
    while folder != base and folder.is_relative_to(base) and folder.is_dir():
        if any(folder.iterdir()):
            return
        folder.rmdir()
        folder = folder.parent


def inside(folder: Path, path: str, name: str) -> Path:
    """``folder / path``, refused when it leaves ``folder``."""
    target = (folder.resolve() / safe_part_path(path)).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise RenderError(f"part path {path!r} leaves the dataflow folder", dataflow=name)
    return target


def save_plan(the_plan: Plan, path: Path, *, secrets: Mapping[str, str]) -> None:
    """Write the plan file (secret values as ``${env:NAME}`` references)."""
    text = dump_plan(the_plan, secrets=secrets)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PlanFileError(
            f"cannot write the plan file: {exc.strerror}", path=str(path), hint="check the path"
        ) from None


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
        (path / name).write_bytes(data)
    for name in result.removes:
        (path / name).unlink()
    return result


def migrate_folder(path: Path) -> list[str]:
    """:func:`migrate`, the files written (relative names), empty for a current folder."""
    return list(migrate(path).written)
