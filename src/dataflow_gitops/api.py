"""The facade the CLI calls: project directory + environment name → pipeline results.

Each function wires the stages together for one command; the stages themselves live in
``pipeline/`` (pure) and ``fabric/`` (HTTP). Nothing here prints.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from dataflow_gitops.config import environment_at, load_environment, load_project
from dataflow_gitops.deploy import (
    Applied,
    Deployment,
    apply,
    deployment,
    history,
    load_saved_plan,
    plan,
    save_plan,
)
from dataflow_gitops.errors import RenderError
from dataflow_gitops.pipeline.definition.legacy import migrate_folder
from dataflow_gitops.pipeline.definition.parts import safe_part_path
from dataflow_gitops.pipeline.definition.reading import read_mashups
from dataflow_gitops.pipeline.definition.render import OfflineLookup, render_all
from dataflow_gitops.pipeline.definition.source import read_ref, read_working_tree
from dataflow_gitops.pipeline.definition.validate import ValidationReport
from dataflow_gitops.pipeline.definition.validate import validate as validate_project
from dataflow_gitops.pipeline.model import DesiredDataflow

__all__ = [
    "Applied",
    "Deployment",
    "ValidationReport",
    "apply",
    "deployment",
    "folder_name",
    "history",
    "load_saved_plan",
    "migrate",
    "plan",
    "render",
    "save_plan",
    "validate",
    "write_rendered",
]


def validate(
    project_dir: Path, env: str | Sequence[str] | None = None, *, names: bool = False
) -> ValidationReport:
    """Everything ``dfg validate`` checks, offline; ``env`` None means every environment;
    ``names``: also warn about names in M that nothing defines (``dfg validate --names``)."""
    envs = [env] if isinstance(env, str) else env
    return validate_project(project_dir, envs, check_names=names)


def render(
    project_dir: Path, env: str, names: Sequence[str] = (), ref: str | None = None
) -> tuple[DesiredDataflow, ...]:
    """Render the dataflows (all, or ``names``) for ``env`` offline, in dependency order.

    Item ids that only the live workspace knows stay visible placeholders (``${items.…}``).
    """
    project = load_project(project_dir)
    if ref is None:
        snapshot = read_working_tree(project.root, project.dataflows_dir)
    else:
        snapshot = read_ref(project.root, ref, project.dataflows_dir)
    read_mashups(project.root, snapshot.dataflows)
    unknown = [n for n in names if snapshot.by_name(n) is None]
    if unknown:
        known = ", ".join(sorted(d.name for d in snapshot.dataflows))
        raise RenderError(
            f"no dataflow named {unknown[0]!r}",
            where=str(project.dataflows_dir),
            hint=f"known dataflows: {known}",
        )
    environment = load_environment(project, env)
    if ref is not None:
        environment = environment_at(project, environment, ref) or environment
    outside = [n for n in names if not environment.in_scope(n)]
    if outside:
        # Asked for by name but never deployed there: say so instead of printing nothing.
        raise RenderError(
            f"dataflow {outside[0]!r} is out of scope for environment {env!r}",
            where=environment.path,
            hint="see `scope:` (include/exclude) in the overlay",
        )
    desired = render_all(snapshot, environment, OfflineLookup(environment))
    if names:
        desired = tuple(d for d in desired if d.name in set(names))
    return desired


# Characters Fabric Git sync writes as HTML numeric entities in folder names (fabric-api-notes §5.6).
_UNSAFE_FOLDER_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
# Windows device names: a folder `CON.Dataflow` or `nul.x.Dataflow` opens the device instead, so
# such a checkout fails there. Git sync's documented rules do not cover them; the same entity
# encoding of the name's last character keeps the folder readable and safe everywhere.
_DEVICE_NAME = re.compile(r"(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|(COM|LPT)[0-9\u00b9\u00b2\u00b3])", re.I)


def folder_name(display_name: str, item_type: str = "Dataflow") -> str:
    """``<display name>.<type>`` with unsafe characters as ``&#NN;``, the way Git sync names it.

    A Windows device name (``CON``, ``nul``, ``COM1``…) before the first dot gets its last
    character encoded too (``CO&#78;.Dataflow``).
    """
    name = _UNSAFE_FOLDER_CHARS.sub(lambda m: f"&#{ord(m.group())};", display_name)
    if name.startswith(" "):
        name = "&#32;" + name[1:]
    if name.endswith((" ", ".")):
        name = name[:-1] + f"&#{ord(name[-1])};"
    stem, dot, rest = name.partition(".")
    device = _DEVICE_NAME.fullmatch(stem.rstrip(" "))
    if device is not None:
        word = device.group()
        stem = word[:-1] + f"&#{ord(word[-1])};" + stem[len(word) :]
        name = stem + dot + rest
    return f"{name}.{item_type}"


def write_rendered(desired: Sequence[DesiredDataflow], out_dir: Path) -> list[Path]:
    """Write each dataflow in the Fabric Git layout under ``out_dir``; return the files written."""
    written: list[Path] = []
    base = out_dir.resolve()
    for dataflow in desired:
        folder = base / folder_name(dataflow.display_name)
        for part in dataflow.parts:
            target = (folder / safe_part_path(part.path)).resolve()
            if not target.is_relative_to(folder):
                raise RenderError(
                    f"part path {part.path!r} leaves the dataflow folder", dataflow=dataflow.name
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(part.data)
            written.append(target)
    return written


def migrate(folder: Path) -> list[str]:
    """Convert one legacy dataflow folder in place; the files written (empty if current)."""
    return migrate_folder(folder)
