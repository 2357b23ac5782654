"""Export, which and where: a :class:`Workspace` + the NAMEs asked for → one
:class:`ExportedDataflow` per live dataflow to write, in its repository folder.

Live dataflows the repository holds go back to their own item folder, placed at their live
workspace folder path (below the overlay's ``folder:``): a dataflow moved in the workspace moves
in git too. One that exists only live (asked for by NAME) gets the folder Git sync would give
it. Nothing here touches the disk: the folders already there and each source's ``.platform``
bytes come in as values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from dataflow_gitops.config.folder_names import name_problem
from dataflow_gitops.confined import NAME_MAX_BYTES
from dataflow_gitops.errors import RenderError
from dataflow_gitops.pipeline.definition.folders import folder_path, join, within
from dataflow_gitops.pipeline.definition.parts import folder_name
from dataflow_gitops.pipeline.model import DATAFLOW_TYPE, LiveDataflow, SourceDataflow
from dataflow_gitops.pipeline.release.unrender import (
    ExportedDataflow,
    learn_reverse_ids,
    pair_live,
    repository_name,
    unrender,
    wanted_ids,
)
from dataflow_gitops.pipeline.workspace import Workspace


@dataclass(frozen=True, slots=True)
class ExportResult:
    directory: Path
    dataflows: tuple[ExportedDataflow, ...]
    written: tuple[Path, ...]
    """Files created or changed (unchanged files are not rewritten)."""
    deleted: tuple[Path, ...]
    not_exported: tuple[str, ...]
    """Live dataflows the repository does not hold and no NAME asked for."""


def export_set(
    workspace: Workspace,
    names: Sequence[str],
    *,
    existing: set[str],
    platform_bytes: Callable[[SourceDataflow], bytes | None],
    dataflows_dir: str = "dataflows",
) -> tuple[tuple[ExportedDataflow, ...], tuple[str, ...]]:
    """What to write (folders relative to the export directory) and, without ``names``, the
    live dataflows left out because the repository does not hold them.

    ``existing`` holds the folder names already in the export directory, casefolded. A dataflow
    the repository holds goes back to its own item folder below ``dataflows_dir``, at its live
    workspace folder path: unchanged, an environment exports onto a Fabric-synced tree byte for
    byte; moved in the workspace, its git folder moves too (``moved_from``).
    """
    env, live = workspace.environment, workspace.live or ()
    rendered = {d.name: d for d in workspace.desired}
    sources = {d.name: d for d in workspace.snapshot.dataflows}
    reverse = learn_reverse_ids([(sources[n], d) for n, d in rendered.items()])
    pairs = pair_live(rendered, live)
    wanted = wanted_ids(names, pairs, live)
    held = {n: _relative(sources[n].folder, dataflows_dir) for n in pairs.values()}
    used = {h.casefold() for h in held.values()} | existing
    exported: list[ExportedDataflow] = []
    for one in live:
        if not (one.id in wanted or (not names and one.id in pairs)):
            continue
        name = pairs.get(one.id)
        if name is None:
            guess = repository_name(env, one.display_name) or one.display_name
            if guess in sources:
                raise RenderError(
                    f"{guess!r} is in the repository but outside {env.name}'s scope",
                    where=env.path,
                    hint="export it from an environment whose scope includes it",
                )
            place = git_folder(one, env.folder)
            folder = free_folder(guess, one, used, parent=place)
            exported.append(unrender(one, env, reverse, folder=folder))
            continue
        source = sources[name]
        now = join(git_folder(one, env.folder), PurePosixPath(source.folder).name)
        written = unrender(
            one,
            env,
            reverse,
            source=source,
            rendered=rendered[name],
            folder=now,
            platform_bytes=platform_bytes(source),
        )
        if now.casefold() != held[name].casefold():
            written = replace(written, moved_from=held[name])
        exported.append(written)
    skipped = () if names else tuple(sorted(d.display_name for d in live if d.id not in pairs))
    return tuple(exported), skipped


def free_folder(name: str, live: LiveDataflow, used: set[str], *, parent: str = "") -> str:
    """Git sync's folder name under ``parent``; the logicalId when that is taken
    (fabric-api-notes §5.6).

    ``used`` holds the folders already there or chosen (relative paths), casefolded: on
    Windows and macOS ``Sales`` and ``sales`` are one folder. Also the logicalId when the name
    is too long for a file name.
    """
    folder = join(parent, folder_name(name, DATAFLOW_TYPE))
    # A display name may be 256 characters, and with entities and the suffix the folder can
    # outgrow the 255 bytes a file system allows (ENAMETOOLONG): it gets the logicalId folder.
    too_long = len(folder_name(name, DATAFLOW_TYPE).encode("utf-8")) > NAME_MAX_BYTES
    if folder.casefold() in used or too_long:
        folder = join(parent, f"{live.logical_id or live.id}.{DATAFLOW_TYPE}")
    used.add(folder.casefold())
    return folder


def git_folder(live: LiveDataflow, base: str) -> str:
    """The git folder path (below the dataflows root) for ``live``'s workspace folder: its path
    below the overlay's ``folder:`` (the full path for an item someone moved outside it).

    Folder names come from the service: each one must also be a folder name on every system
    (no ``..``, nothing Windows cannot hold) before anything is written.
    """
    path = live.item.folder_path
    if base and within(path, base):
        path = path[len(base) :].strip("/")
    for name in path.split("/") if path else ():
        problem = name_problem(name)
        if problem is not None:
            raise RenderError(
                f"the live folder {live.item.folder_path!r} of {live.display_name!r} cannot be a "
                f"git folder: {name!r} {problem}",
                dataflow=live.display_name,
                hint="rename the folder in the workspace, then export again",
            )
    return path


def _relative(folder: str, root: str) -> str:
    """A source folder relative to the dataflows root (the export directory)."""
    return join(folder_path(folder, root), PurePosixPath(folder).name)
