"""The release-flow facade: a connected environment → promotion plan, drift report, export.

``dfg promote``, ``drift`` and ``export`` call these; the pure work is in
``pipeline/{promote,drift,export}.py``; connecting, planning and applying are ``deploy``'s;
``run``/``jobs`` are in ``jobs.py``. Nothing here prints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dataflow_gitops.api import folder_name
from dataflow_gitops.config import Environment, Project, environment_at, load_environment
from dataflow_gitops.deploy import Deployment, plan, secrets_of, snapshot_at
from dataflow_gitops.errors import DataflowGitopsError, RenderError
from dataflow_gitops.fabric.gateway import LiveLookup
from dataflow_gitops.pipeline.definition.parts import safe_part_path
from dataflow_gitops.pipeline.definition.reading import read_mashups
from dataflow_gitops.pipeline.definition.render import render_all
from dataflow_gitops.pipeline.definition.source import read_ref, read_working_tree
from dataflow_gitops.pipeline.model import (
    DATAFLOW_TYPE,
    PLATFORM_PATH,
    DesiredDataflow,
    LiveDataflow,
    Plan,
)
from dataflow_gitops.pipeline.ports import NullReporter, Reporter
from dataflow_gitops.pipeline.release.drift import DriftReport, compare
from dataflow_gitops.pipeline.release.export import (
    ExportedDataflow,
    learn_reverse_ids,
    pair_live,
    repository_name,
    unrender,
    wanted_ids,
)
from dataflow_gitops.pipeline.release.promote import (
    PromotionSource,
    check_complete,
    pick_release,
    source_environment,
    verify_source,
)
from dataflow_gitops.pipeline.release.records import DeploymentRecord
from dataflow_gitops.target import connect

_QUIET = NullReporter()


# promote ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Promotion:
    source: PromotionSource
    plan: Plan
    live_checked: bool = True
    """False for an earlier release (``ref``): the source has moved on, so live is not compared."""


def plan_promotion(
    to: Deployment,
    from_env: str | None = None,
    *,
    targets: Sequence[str] = (),
    ref: str | None = None,
    reporter: Reporter = _QUIET,
) -> Promotion:
    """The plan that brings ``to`` to the commit last applied to the source environment.

    The source environment's live workspace is read first and must equal its record, except
    where the source's own ``ignore`` rules let it differ. ``ref`` picks an earlier release the
    source ran instead (a rollback); live is not compared then, since the source has moved on,
    but the source must have run that commit in full (not a ``--target`` apply).
    """
    name = source_environment(to.environment, to.project, from_env)
    source_env = load_environment(to.project, name)

    def ships(dataflow: str) -> bool:
        # --target names a repository or a display name in the target, as for plan
        named = {dataflow, to.environment.display_name_for(dataflow)}
        return to.environment.in_scope(dataflow) and (not targets or bool(named & set(targets)))

    earlier = None
    if ref is not None:
        commit = snapshot_at(to.project, ref).commit or ref
        history = to.records.history(name)
        chosen = pick_release(name, history, commit, ref)
        earlier = chosen if chosen is not history[0] else None
    with connect(to.project, source_env) as source:
        items = tuple(source.gateway.list_items(source.workspace_id))
        lookup = LiveLookup(source.workspace_id, items)
        live = source.gateway.read_dataflows(source.workspace_id, items)
    if earlier is not None:
        # An earlier release: live has moved on, but the source must have run it in full.
        rendered = _applied(to.project, source_env, earlier, lookup)
        check_complete(name, earlier, rendered, live, ignore=source_env.ignore, ships=ships)
        verified = PromotionSource(name, earlier, str(earlier.commit))
        the_plan = plan(to, targets=targets, ref=verified.commit, reporter=reporter)
        return Promotion(verified, the_plan, live_checked=False)
    record = to.records.latest(name)
    verified = verify_source(
        name,
        record,
        live,
        ships=ships,
        last_applied=_applied(to.project, source_env, record, lookup),
        ignore=source_env.ignore,
    )
    return Promotion(verified, plan(to, targets=targets, ref=verified.commit, reporter=reporter))


# drift ------------------------------------------------------------------------------------------


def drift(dep: Deployment, *, ref: str | None = None) -> DriftReport:
    """Desired (working tree, or ``ref``) × the latest record × live, per dataflow."""
    env, ws, gateway = dep.environment, dep.workspace_id, dep.target.gateway
    items = tuple(gateway.list_items(ws))
    record = dep.records.latest(env.name)
    id_map = {i.item_id: i.name for i in record.items} if record else {}
    lookup = LiveLookup(ws, items)
    snapshot = snapshot_at(dep.project, ref)
    read_mashups(dep.project.root, snapshot.dataflows)
    # --ref is a whole release, overlay included (as for plan --ref)
    at_ref = environment_at(dep.project, env, ref) if ref is not None else None
    desired = render_all(snapshot, at_ref or env, lookup, id_map=id_map)
    live = gateway.read_dataflows(ws, items)
    read_mashups(dep.project.root, live)
    return compare(
        desired,
        record,
        live,
        environment=env.name,
        workspace_id=ws,
        last_applied=_applied(dep.project, env, record, lookup),
        ignore=env.ignore,
        head_commit=snapshot.commit,
        head_dirty=snapshot.dirty,
        secrets=secrets_of(env),
    )


def _applied(
    project: Project, env: Environment, record: DeploymentRecord | None, lookup: LiveLookup
) -> dict[str, DesiredDataflow]:
    """The record's commit rendered again for ``env``, with the overlay of that commit:
    repository name → what was applied.

    Empty when that is impossible (no record, the commit is gone, or it no longer renders);
    callers then fall back to comparing fingerprints only.
    """
    if record is None or not record.commit:
        return {}
    id_map = {i.item_id: i.name for i in record.items}
    with contextlib.suppress(DataflowGitopsError):
        then = read_ref(project.root, record.commit, project.dataflows_dir)
        env = environment_at(project, env, record.commit) or env  # the overlay it was applied with
        return {d.name: d for d in render_all(then, env, lookup, id_map=id_map)}
    return {}


# export -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportResult:
    directory: Path
    dataflows: tuple[ExportedDataflow, ...]
    written: tuple[Path, ...]
    """Files created or changed (unchanged files are not rewritten)."""
    deleted: tuple[Path, ...]
    not_exported: tuple[str, ...]
    """Live dataflows the repository does not hold and no NAME asked for."""


def export(dep: Deployment, names: Sequence[str] = (), *, out_dir: Path | None = None) -> ExportResult:
    """Live dataflows → repository files in ``out_dir`` (default: the project's dataflows folder).

    Without ``names``, every live dataflow the repository holds; a NAME (repository or live
    display name) also exports a dataflow that exists only live.
    """
    project, env, ws, gateway = dep.project, dep.environment, dep.workspace_id, dep.target.gateway
    snapshot = read_working_tree(project.root, project.dataflows_dir)
    items = tuple(gateway.list_items(ws))
    record = dep.records.latest(env.name)
    id_map = {i.item_id: i.name for i in record.items} if record else {}
    rendered = {d.name: d for d in render_all(snapshot, env, LiveLookup(ws, items), id_map=id_map)}
    sources = {d.name: d for d in snapshot.dataflows}
    reverse = learn_reverse_ids([(sources[n], d) for n, d in rendered.items()])
    live = gateway.read_dataflows(ws, items)
    pairs = pair_live(rendered, live)
    wanted = wanted_ids(names, pairs, live)
    base = (out_dir or project.dataflows_path).resolve()
    exported: list[ExportedDataflow] = []
    used = {Path(sources[n].folder).name.casefold() for n in pairs.values()}
    used |= {p.name.casefold() for p in base.iterdir()} if base.is_dir() else set()
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
            folder = _free_folder(base, guess, one, used)
            exported.append(unrender(one, env, reverse, folder=folder))
            continue
        source = sources[name]
        platform = project.root / source.folder / PLATFORM_PATH
        exported.append(
            unrender(
                one,
                env,
                reverse,
                source=source,
                rendered=rendered[name],
                folder=Path(source.folder).name,
                platform_bytes=platform.read_bytes() if platform.is_file() else None,
            )
        )
    written, deleted = _write(base, exported)
    skipped = () if names else tuple(sorted(d.display_name for d in live if d.id not in pairs))
    return ExportResult(base, tuple(exported), written, deleted, skipped)


def _free_folder(base: Path, name: str, live: LiveDataflow, used: set[str]) -> str:
    """Git sync's folder name; the logicalId when that is taken (fabric-api-notes §5.6).

    ``used`` holds the folders already there or chosen, casefolded: on Windows and macOS
    ``Sales`` and ``sales`` are one folder.
    """
    folder = folder_name(name, DATAFLOW_TYPE)
    if folder.casefold() in used:
        folder = f"{live.logical_id or live.id}.{DATAFLOW_TYPE}"
    used.add(folder.casefold())
    return folder


def _write(
    base: Path, exported: Sequence[ExportedDataflow]
) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
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
            target = _inside(folder, part.path, dataflow.name)
            if target.is_file() and target.read_bytes() == part.data:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(part.data)
            written.append(target)
        for path in dataflow.removed:
            target = _inside(folder, path, dataflow.name)
            if target.is_file():
                target.unlink()
                deleted.append(target)
    return tuple(written), tuple(deleted)


def _inside(folder: Path, path: str, name: str) -> Path:
    target = (folder / safe_part_path(path)).resolve()
    if not target.is_relative_to(folder):
        raise RenderError(f"part path {path!r} leaves the dataflow folder", dataflow=name)
    return target
