"""Export, which and where: a :class:`Workspace` + the NAMEs asked for → one
:class:`ExportedDataflow` per live dataflow to write, in its repository folder.

Live dataflows the repository holds go back to their own folder; one that exists only live
(asked for by NAME) gets the folder Git sync would give it. Nothing here touches the disk: the
folders already there and each source's ``.platform`` bytes come in as values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dataflow_gitops.confined import NAME_MAX_BYTES
from dataflow_gitops.errors import RenderError
from dataflow_gitops.pipeline.definition.parts import folder_name
from dataflow_gitops.pipeline.model import DATAFLOW_TYPE, LiveDataflow, SourceDataflow
from dataflow_gitops.pipeline.release.export import (
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
) -> tuple[tuple[ExportedDataflow, ...], tuple[str, ...]]:
    """What to write (folders relative to the export directory) and, without ``names``, the
    live dataflows left out because the repository does not hold them.

    ``existing`` holds the folder names already in the export directory, casefolded.
    """
    env, live = workspace.environment, workspace.live or ()
    rendered = {d.name: d for d in workspace.desired}
    sources = {d.name: d for d in workspace.snapshot.dataflows}
    reverse = learn_reverse_ids([(sources[n], d) for n, d in rendered.items()])
    pairs = pair_live(rendered, live)
    wanted = wanted_ids(names, pairs, live)
    used = {PurePosixPath(sources[n].folder).name.casefold() for n in pairs.values()} | existing
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
            folder = free_folder(guess, one, used)
            exported.append(unrender(one, env, reverse, folder=folder))
            continue
        source = sources[name]
        exported.append(
            unrender(
                one,
                env,
                reverse,
                source=source,
                rendered=rendered[name],
                folder=PurePosixPath(source.folder).name,
                platform_bytes=platform_bytes(source),
            )
        )
    skipped = () if names else tuple(sorted(d.display_name for d in live if d.id not in pairs))
    return tuple(exported), skipped


def free_folder(name: str, live: LiveDataflow, used: set[str]) -> str:
    """Git sync's folder name; the logicalId when that is taken (fabric-api-notes §5.6).

    Also the logicalId when the name is too long for a file name. ``used`` holds the folders
    already there or chosen, casefolded: on Windows and macOS
    ``Sales`` and ``sales`` are one folder.
    """
    folder = folder_name(name, DATAFLOW_TYPE)
    # A display name may be 256 characters, and with entities and the suffix the folder can
    # outgrow the 255 bytes a file system allows (ENAMETOOLONG): it gets the logicalId folder.
    if folder.casefold() in used or len(folder.encode("utf-8")) > NAME_MAX_BYTES:
        folder = f"{live.logical_id or live.id}.{DATAFLOW_TYPE}"
    used.add(folder.casefold())
    return folder
