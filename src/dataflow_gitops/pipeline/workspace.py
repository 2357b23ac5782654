"""Stages ①–③ in one place: an environment → one :class:`Workspace` every command consumes.

``plan``, ``apply``, ``drift``, ``export``, ``promote`` (its source check and its target plan)
and ``render`` (offline: nothing live) all start from :func:`read_workspace`, so they read the
same inputs the same way:

- ① the source at ``ref`` or the working tree (dirty = any uncommitted render input), read
  ahead so every mashup part carries its document before the stages that need it;
- the overlay: under ``ref`` its *content* keys come from that commit and its *policy* keys
  from the working tree (:func:`dataflow_gitops.config.environment_at`);
- the id map (:func:`recorded_ids`: one rule for every command);
- ② render against the live listing (or offline placeholders);
- ③ the live read (:mod:`.plan.observe`) through the reader port, read ahead as well.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from dataflow_gitops.config import Environment, Project, environment_at, environment_names
from dataflow_gitops.config.project import PROJECT_FILE, overlay_path
from dataflow_gitops.errors import DataflowGitopsError, RenderError
from dataflow_gitops.pipeline.definition.reading import read_mashups
from dataflow_gitops.pipeline.definition.references import find_references
from dataflow_gitops.pipeline.definition.render import OfflineLookup, render_all
from dataflow_gitops.pipeline.definition.source import read_ref, read_working_tree
from dataflow_gitops.pipeline.model import (
    DesiredDataflow,
    LiveDataflow,
    LiveFolder,
    LiveItem,
    LiveWorkspace,
    ReferenceStatus,
    Snapshot,
)
from dataflow_gitops.pipeline.plan.observe import (
    LiveLookup,
    check_references,
    list_placed,
    read_live,
)
from dataflow_gitops.pipeline.ports import LiveReader, Lookup, ReadAhead, Reporter
from dataflow_gitops.pipeline.release.records import DeploymentRecord, RecordStore


@dataclass(frozen=True, slots=True)
class Live:
    """Where stage ③ reads: a reader port and the workspace it reads."""

    reader: LiveReader
    workspace_id: str


@dataclass(frozen=True, slots=True)
class Workspace:
    """One environment as the pipeline sees it after stages ①–③."""

    environment: Environment
    """The overlay rendered with (under ``ref``: content of that commit, today's policy)."""
    snapshot: Snapshot
    desired: tuple[DesiredDataflow, ...]
    latest: DeploymentRecord | None
    """The environment's latest deployment record (None without records or before the first)."""
    id_map: Mapping[str, str] = field(default_factory=dict)
    """Item id → repository name (:func:`recorded_ids`), as render resolved references with."""
    workspace_id: str | None = None
    """None offline."""
    items: tuple[LiveItem, ...] = ()
    live: tuple[LiveDataflow, ...] | None = None
    """None offline (render); otherwise every live dataflow, in listing order."""
    warnings: tuple[str, ...] = ()
    folders: tuple[LiveFolder, ...] = ()
    """The workspace's folders; ``items`` and ``live`` are placed in them (``folder_path``)."""
    references: Mapping[tuple[str, str], ReferenceStatus] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """What observe found for each reference to a dataflow of another workspace."""

    @property
    def live_workspace(self) -> LiveWorkspace:
        """The live side as the planner takes it (empty offline)."""
        return LiveWorkspace(self.workspace_id or "", self.items, self.live or (), self.folders)

    def named(self, names: Sequence[str], *, where: str) -> tuple[DesiredDataflow, ...]:
        """The desired dataflows ``names`` asks for (all when empty); RenderError for a name the
        source does not hold (``where``: its folder) or the environment does not deploy."""
        unknown = [n for n in names if self.snapshot.by_name(n) is None]
        if unknown:
            known = ", ".join(sorted(d.name for d in self.snapshot.dataflows))
            raise RenderError(
                f"no dataflow named {unknown[0]!r}", where=where, hint=f"known dataflows: {known}"
            )
        outside = [n for n in names if not self.environment.in_scope(n)]
        if outside:
            # Asked for by name but never deployed there: say so instead of printing nothing.
            raise RenderError(
                f"dataflow {outside[0]!r} is out of scope for environment {self.environment.name!r}",
                where=self.environment.path,
                hint="see `scope:` (include/exclude) in the overlay",
            )
        return tuple(d for d in self.desired if not names or d.name in set(names))

    @property
    def lookup(self) -> Lookup:
        """What render resolved dynamic values with: the live listing, or offline placeholders."""
        if self.workspace_id is None:
            return OfflineLookup(self.environment)
        return LiveLookup(self.workspace_id, self.items)


def read_workspace(
    project: Project,
    environment: Environment,
    *,
    ref: str | None = None,
    records: RecordStore | None = None,
    live: Live | None = None,
    reporter: Reporter | None = None,
    read_ahead: ReadAhead | None = None,
    strict: bool = True,
    targets: Sequence[str] = (),
) -> Workspace:
    """Stages ①–③ for ``environment``: source (``ref`` or the working tree) × overlay × id map →
    desired; and, given ``live``, the workspace's items and dataflows.

    ``strict=False`` is for a commit that may no longer read or render (promote's check of what
    the source environment runs): then ``desired`` is empty, with a warning, and the live side
    is read all the same. A dataflow outside ``targets`` (when given) or the environment's scope
    is identified but not parsed, so a broken folder there cannot block the others.
    """
    latest = records.latest(environment.name) if records is not None else None
    id_map = recorded_ids(project, environment.name, records)
    items, folders = list_placed(live.reader, live.workspace_id) if live is not None else ((), ())
    try:
        snapshot, env, warnings = _overlay_at(
            project, environment, ref, read_ahead, targets=targets, id_map=id_map
        )
        lookup: Lookup = OfflineLookup(env) if live is None else LiveLookup(live.workspace_id, items)
        desired = render_all(snapshot, env, lookup, id_map=id_map)
    except DataflowGitopsError as exc:
        if strict:
            raise
        snapshot, env, desired = Snapshot((), commit=None, ref=ref), environment, ()
        warnings = (f"{ref or 'the working tree'} does not render for {environment.name}: {exc}",)
    if live is None:
        return Workspace(env, snapshot, desired, latest, id_map, warnings=warnings)
    dataflows = read_live(live.reader, live.workspace_id, items, reporter=reporter)
    read_mashups(dataflows, read_ahead, desired=desired)
    return Workspace(
        env,
        snapshot,
        desired,
        latest,
        id_map,
        live.workspace_id,
        items,
        dataflows,
        warnings,
        folders=folders,
        references=check_references(live.reader, desired),
    )


def _overlay_at(
    project: Project,
    environment: Environment,
    ref: str | None,
    read_ahead: ReadAhead | None,
    *,
    targets: Sequence[str] = (),
    id_map: Mapping[str, str] | None = None,
) -> tuple[Snapshot, Environment, tuple[str, ...]]:
    """① the source, and the overlay it renders with (content at ``ref``, policy of today)."""
    snapshot = read_source(project, environment, ref, read_ahead, targets=targets, id_map=id_map)
    if ref is None:
        return snapshot, environment, ()
    at_ref = environment_at(project, environment, ref)
    if at_ref is None:
        shown = environment.path
        return (
            snapshot,
            environment,
            (f"{shown} did not exist at {ref}: rendered with the working tree's overlay",),
        )
    return snapshot, at_ref, ()


def read_source(
    project: Project,
    environment: Environment,
    ref: str | None,
    read_ahead: ReadAhead | None = None,
    *,
    targets: Sequence[str] = (),
    id_map: Mapping[str, str] | None = None,
) -> Snapshot:
    """① the dataflows at ``ref`` (or the working tree), every mashup read ahead.

    Only those in ``environment``'s scope and in ``targets`` (when given; with the dataflows they
    read, transitively) are checked; the others are identified by their ``.platform``
    (:attr:`SourceDataflow.checked` False), so a broken folder there blocks nothing.

    The working tree is dirty when any uncommitted file changes what render produces: the
    dataflows folder, this environment's overlay, the project file.
    """
    chosen = set(targets)
    extra: set[str] = set()

    def wanted(name: str) -> bool:
        # --target takes repository or display names (as the planner does).
        return environment.in_scope(name) and (
            not chosen or name in chosen or environment.display_name_for(name) in chosen or name in extra
        )

    def read() -> Snapshot:
        if ref is not None:
            return read_ref(project.root, ref, project.dataflows_dir, wanted=wanted)
        overlay = overlay_path(project, environment.name)
        inputs = (project.display(overlay), PROJECT_FILE)
        return read_working_tree(project.root, project.dataflows_dir, inputs=inputs, wanted=wanted)

    snapshot = read()
    read_mashups([d for d in snapshot.dataflows if d.checked], read_ahead)
    # The dataflows the targets read are checked too (transitively): the plan must know them.
    while chosen:
        unchecked = {d.name for d in snapshot.dataflows if not d.checked}
        needed = {
            r.target
            for refs in find_references(snapshot, id_map=id_map or {}).values()
            for r in refs
            if r.target is not None and r.target in unchecked and environment.in_scope(r.target)
        }
        if not needed:
            break
        extra.update(needed)
        snapshot = read()
        read_mashups([d for d in snapshot.dataflows if d.checked], read_ahead)
    return snapshot


def recorded_ids(project: Project, environment: str, records: RecordStore | None) -> dict[str, str]:
    """The id map: item id → repository name, from every environment's latest record, the
    environment's own winning on a clash.

    One rule for every command, because they must render the same desired state: a plan, the
    drift that later compares against it, the export that reverses it and the promote that
    checks it. Every environment's records, because Fabric Git sync writes references with the
    real ids of the workspace it syncs (usually dev): dev's record turns them into repository
    names for a test or prod render. An item id names one item in one workspace for its whole
    life, so another environment's record cannot mislead; the environment's own record wins
    only for the (shared-workspace) case where two records name one item differently.
    """
    if records is None:
        return {}
    ids: dict[str, str] = {}
    for name in environment_names(project):
        record = records.latest(name) if name != environment else None
        if record is not None:
            ids.update({i.item_id: i.name for i in record.items})
    own = records.latest(environment)
    if own is not None:
        ids.update({i.item_id: i.name for i in own.items})
    return ids


def last_applied(
    project: Project,
    workspace: Workspace,
    record: DeploymentRecord | None,
    read_ahead: ReadAhead | None = None,
) -> dict[str, DesiredDataflow]:
    """``record``'s commit rendered again for the workspace's environment (content as of that
    commit, as it was applied): repository name → what was applied.

    Empty when that is impossible (no record, the commit is gone, or it no longer renders);
    callers then compare fingerprints only.
    """
    if record is None or not record.commit:
        return {}
    try:
        then, env, _ = _overlay_at(project, workspace.environment, record.commit, read_ahead)
        rendered = render_all(then, env, workspace.lookup, id_map=workspace.id_map)
    except DataflowGitopsError:
        return {}
    return {d.name: d for d in rendered}


def applied_source(project: Project, workspace: Workspace) -> Snapshot | None:
    """① the sources of the commit last applied (the workspace's latest record); None when no
    record says, or the commit is gone."""
    commit = workspace.latest.commit if workspace.latest else None
    if commit is None:
        return None
    try:
        return read_source(project, workspace.environment, commit)
    except DataflowGitopsError:
        return None


def secrets_of(env: Environment, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variable → value for every secret the overlay substituted (masked in output)."""
    source = os.environ if environ is None else environ
    return {name: source.get(name, "") for name in env.secret_env}
