"""② render, what only the whole repository shows: an overlay entry that names nothing, and two
dataflows that would get one display name (:func:`render.render_all` checks both).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from dataflow_gitops.config import Environment
from dataflow_gitops.errors import DataflowGitopsError, RenderError
from dataflow_gitops.pipeline.definition.mashups import part_document
from dataflow_gitops.pipeline.definition.mlang import parameters
from dataflow_gitops.pipeline.model import MASHUP_PATH, DesiredDataflow, Snapshot


def display_name_clash(desired: Sequence[DesiredDataflow]) -> tuple[str, DesiredDataflow] | None:
    """The first dataflow of ``desired`` whose display name an earlier one (its name returned
    with it) already has; None when every display name is unique, as a workspace needs."""
    seen: dict[str, str] = {}
    for d in desired:
        other = seen.setdefault(d.display_name, d.name)
        if other != d.name:
            return other, d
    return None


def check_unique_display_names(desired: Sequence[DesiredDataflow], env: Environment) -> None:
    clash = display_name_clash(desired)
    if clash is not None:
        other, d = clash
        raise RenderError(
            f"{other!r} and {d.name!r} would both be named {d.display_name!r} in {env.name}",
            where=env.path,
            hint="display names must be unique per workspace; fix display_name",
        )


def check_overlay_names(snapshot: Snapshot, env: Environment) -> None:
    """RenderError at the overlay's line for a ``dataflows:`` entry naming no dataflow of the
    repository, or an environment-wide parameter no dataflow declares."""
    names = {d.name for d in snapshot.dataflows}
    for overlay in env.dataflows:
        if overlay.name not in names:
            close = difflib.get_close_matches(overlay.name, sorted(names), n=1)
            raise RenderError(
                f"dataflows: no dataflow named {overlay.name!r} in the repository",
                where=overlay.where,
                hint=f"did you mean {close[0]!r}?" if close else "check the name",
            )
    declared: set[str] = set()
    for dataflow in snapshot.dataflows:
        part = dataflow.part(MASHUP_PATH)
        if part is None:
            continue
        try:
            doc = part_document(
                part, path=f"{dataflow.folder}/{MASHUP_PATH}" if dataflow.folder else MASHUP_PATH
            )
        except DataflowGitopsError:
            if dataflow.checked:
                raise
            continue  # identified only (outside --target): its own problems are not this run's
        declared.update(p.name for p in parameters(doc))
    for setting in env.parameters:
        if setting.name not in declared:
            close = difflib.get_close_matches(setting.name, sorted(declared), n=1)
            raise RenderError(
                f"parameter {setting.name!r} is declared by no dataflow",
                where=setting.where,
                hint=f"did you mean {close[0]!r}?"
                if close
                else "remove it, or declare it in a "
                "mashup.pq as `shared X = … meta [IsParameterQuery = true, …]`",
            )
