"""Files on disk: rendered dataflows, exported dataflows, plan files, migrated legacy folders.

Every path written is checked to stay inside its folder (:func:`parts.safe_part_path`), so a
part named ``../x`` in a definition never writes outside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from dataflow_gitops.confined import NAME_MAX_BYTES, write_inside
from dataflow_gitops.errors import PlanFileError, RenderError, SourceError, UnsafePathError
from dataflow_gitops.pipeline.definition.legacy import migration
from dataflow_gitops.pipeline.definition.parts import folder_name, safe_part_path
from dataflow_gitops.pipeline.model import DesiredDataflow, Plan
from dataflow_gitops.pipeline.plan.planfile import dump_plan, load_plan
from dataflow_gitops.pipeline.release.export import ExportedDataflow


def write_rendered(desired: Sequence[DesiredDataflow], out_dir: Path) -> list[Path]:
    """Write each dataflow in the Fabric Git layout under ``out_dir``; return the files written."""
    written: list[Path] = []
    base = out_dir.resolve()
    for dataflow in desired:
        name = folder_name(dataflow.display_name)
        if len(name.encode("utf-8")) > NAME_MAX_BYTES and dataflow.logical_id:
            name = f"{dataflow.logical_id}.Dataflow"  # as export names it (export_set.free_folder)
        folder = base / name
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


def write_exported(
    base: Path, exported: Sequence[ExportedDataflow]
) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Write the exported parts (unchanged files are not rewritten) and delete removed ones."""
    written: list[Path] = []
    deleted: list[Path] = []
    for dataflow in exported:
        folder = (base / dataflow.folder).resolve()
        if folder.parent != base:
            raise RenderError(
                f"folder {dataflow.folder!r} would leave the export directory",
                dataflow=dataflow.name,
            )
        for part in dataflow.files:
            target = inside(folder, part.path, dataflow.name)
            if target.is_file() and target.read_bytes() == part.data:
                continue
            write_inside(base, target, part.data, what="exported part")
            written.append(target)
        for path in dataflow.removed:
            target = inside(folder, path, dataflow.name)
            if target.is_file():
                target.unlink()
                deleted.append(target)
    return tuple(written), tuple(deleted)


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


def migrate_folder(path: Path) -> list[str]:
    """Convert a legacy dataflow folder in place (:func:`legacy.migration`); the files written
    (relative names), empty for a current folder."""
    if not path.is_dir():
        raise SourceError("not a folder", path=str(path), hint="name a <Name>.Dataflow folder")
    present = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
    writes, removes = migration(path, present)
    for name, data in writes.items():
        write_inside(path, path / name, data, what="migrated part")
    for name in removes:
        (path / name).unlink()
    return list(writes)
