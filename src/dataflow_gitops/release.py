"""The release-flow facade: a connected environment → promotion plan, drift report, export, jobs.

``dfg promote``, ``drift``, ``export``, ``run`` and ``jobs`` call these; the pure work is in
``pipeline/{promote,drift,export}.py``; connecting, planning and applying are ``deploy``'s.
Nothing here prints: job progress goes through a callback.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataflow_gitops.api import folder_name
from dataflow_gitops.config import Project, load_environment
from dataflow_gitops.deploy import Deployment, plan
from dataflow_gitops.errors import (
    BadRequest,
    DataflowGitopsError,
    JobFailed,
    NotFound,
    OperationTimeout,
    RenderError,
)
from dataflow_gitops.fabric.gateway import LiveLookup
from dataflow_gitops.pipeline.drift import DriftReport, compare
from dataflow_gitops.pipeline.export import (
    ExportedDataflow,
    learn_reverse_ids,
    repository_name,
    unrender,
)
from dataflow_gitops.pipeline.model import (
    DATAFLOW_TYPE,
    PLATFORM_PATH,
    DesiredDataflow,
    LiveDataflow,
    LiveItem,
    Plan,
    Snapshot,
)
from dataflow_gitops.pipeline.parts import safe_part_path
from dataflow_gitops.pipeline.ports import NullReporter, Reporter
from dataflow_gitops.pipeline.promote import (
    PromotionSource,
    pick_release,
    source_environment,
    verify_source,
)
from dataflow_gitops.pipeline.render import render_all
from dataflow_gitops.pipeline.source import read_ref, read_working_tree
from dataflow_gitops.target import connect

Json = dict[str, Any]
JOB_TYPES = {"execute": "Execute", "apply-changes": "ApplyChanges"}
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

    The source environment's live workspace is read first and must equal its record. ``ref``
    picks an earlier release the source ran instead (a rollback); live is not compared then,
    since the source has moved on since.
    """
    name = source_environment(to.environment, to.project, from_env)
    source_env = load_environment(to.project, name)
    if ref is not None:
        commit = _snapshot(to.project, ref).commit or ref
        history = to.records.history(name)
        chosen = pick_release(name, history, commit, ref)
        if chosen is not history[0]:
            verified = PromotionSource(name, chosen, commit)
            the_plan = plan(to, targets=targets, ref=commit, reporter=reporter)
            return Promotion(verified, the_plan, live_checked=False)
    record = to.records.latest(name)
    with connect(to.project, source_env) as source:
        items = source.gateway.list_items(source.workspace_id)
        live = source.gateway.read_dataflows(source.workspace_id, items)
    verified = verify_source(name, record, live, ships=to.environment.in_scope)
    return Promotion(verified, plan(to, targets=targets, ref=verified.commit, reporter=reporter))


# drift ------------------------------------------------------------------------------------------


def drift(dep: Deployment, *, ref: str | None = None) -> DriftReport:
    """Desired (working tree, or ``ref``) × the latest record × live, per dataflow."""
    env, ws, gateway = dep.environment, dep.workspace_id, dep.target.gateway
    items = tuple(gateway.list_items(ws))
    record = dep.records.latest(env.name)
    id_map = {i.item_id: i.name for i in record.items} if record else {}
    lookup = LiveLookup(ws, items)
    snapshot = _snapshot(dep.project, ref)
    desired = render_all(snapshot, env, lookup, id_map=id_map)
    live = gateway.read_dataflows(ws, items)
    applied: dict[str, DesiredDataflow] = {}
    if record is not None and record.commit:
        with contextlib.suppress(DataflowGitopsError):  # no diff then; the status stays right
            then = read_ref(dep.project.root, record.commit, dep.project.dataflows_dir)
            applied = {d.name: d for d in render_all(then, env, lookup, id_map=id_map)}
    return compare(
        desired,
        record,
        live,
        environment=env.name,
        workspace_id=ws,
        last_applied=applied,
        ignore=env.ignore,
        head_commit=snapshot.commit,
        head_dirty=snapshot.dirty,
    )


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
    pairs = _pair(rendered, live)
    wanted = _wanted(names, pairs, live)
    base = (out_dir or project.dataflows_path).resolve()
    exported: list[ExportedDataflow] = []
    used = {Path(sources[n].folder).name for n in pairs.values()}
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


def _pair(rendered: Mapping[str, DesiredDataflow], live: Sequence[LiveDataflow]) -> dict[str, str]:
    """Live item id → repository name: by logicalId, then by (rendered) display name."""
    by_logical = {d.logical_id.lower(): d.name for d in rendered.values()}
    by_display = {d.display_name: d.name for d in rendered.values()}
    pairs: dict[str, str] = {}
    for one in live:
        name = by_logical.get((one.logical_id or "").lower()) or by_display.get(one.display_name)
        if name is not None and name not in pairs.values():
            pairs[one.id] = name
    return pairs


def _wanted(names: Sequence[str], pairs: Mapping[str, str], live: Sequence[LiveDataflow]) -> set[str]:
    wanted: set[str] = set()
    for name in names:
        found = [d.id for d in live if d.display_name == name or pairs.get(d.id) == name]
        if not found:
            known = ", ".join(sorted(d.display_name for d in live)) or "none"
            raise RenderError(
                f"no live dataflow named {name!r}", where="export", hint=f"live dataflows: {known}"
            )
        wanted.update(found)
    return wanted


def _free_folder(base: Path, name: str, live: LiveDataflow, used: set[str]) -> str:
    """Git sync's folder name; the logicalId when that is taken (fabric-api-notes §5.6)."""
    folder = folder_name(name, DATAFLOW_TYPE)
    if folder in used or (base / folder).exists():
        folder = f"{live.logical_id or live.id}.{DATAFLOW_TYPE}"
    used.add(folder)
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


def _snapshot(project: Project, ref: str | None) -> Snapshot:
    if ref is None:
        return read_working_tree(project.root, project.dataflows_dir)
    return read_ref(project.root, ref, project.dataflows_dir)


# run / jobs -------------------------------------------------------------------------------------


def find_dataflow(dep: Deployment, name: str) -> LiveItem:
    """The live dataflow ``name`` names: a repository name (display-name template applied) or a
    live display name."""
    items = [i for i in dep.target.gateway.list_items(dep.workspace_id) if i.type == DATAFLOW_TYPE]
    shown = dep.environment.display_name_for(name)
    found = next((i for i in items if i.display_name == shown), None)
    found = found or next((i for i in items if i.display_name == name), None)
    if found is None:
        known = ", ".join(sorted(i.display_name for i in items)) or "none"
        raise RenderError(
            f"no dataflow named {name!r} in the workspace of {dep.environment.name}",
            where=f"workspace {dep.workspace_id}",
            hint=f"live dataflows: {known}",
        )
    return found


def run_job(
    dep: Deployment, item: LiveItem, *, job: str = "execute", params: Mapping[str, str] | None = None
) -> str:
    """Start the job on ``item`` and return the job instance id.

    ``execute`` publishes first when needed (``ApplyChangesIfNeeded``: an apply writes a
    definition without publishing it); ``params`` are typed from the dataflow's discovered
    public parameters.
    """
    job_type = JOB_TYPES[job]
    params = params or {}
    client, ws = dep.target.client, dep.workspace_id
    if job_type != "Execute":
        if params:
            raise RenderError(
                f"--param applies to the execute job, not {job}",
                where=item.display_name,
                hint="drop --param, or use --job execute",
            )
        return client.run_job(ws, item.id, job_type)
    values = typed_parameters(item, params, _discover(dep, item) if params else None)
    return client.run_job(
        ws,
        item.id,
        job_type,
        execution_data={"executeOption": "ApplyChangesIfNeeded"},
        parameters=values or None,
    )


def _discover(dep: Deployment, item: LiveItem) -> list[Json] | None:
    try:
        return dep.target.client.list_dataflow_parameters(dep.workspace_id, item.id)
    except (BadRequest, NotFound):
        return None  # not parametric, or the route is unavailable: send the values untyped


_CASTS: dict[str, Callable[[str], Any]] = {
    "integer": int,
    "number": float,
    "boolean": lambda v: {"true": True, "false": False}[v.strip().lower()],
}


def typed_parameters(
    item: LiveItem, params: Mapping[str, str], discovered: Sequence[Json] | None
) -> list[Json]:
    """``--param K=V`` values as job parameters, each cast to the discovered parameter's type."""
    types = {str(p.get("name")): str(p.get("type", "")) for p in discovered or ()}
    out: list[Json] = []
    for key, text in params.items():
        value: Any = text
        if discovered is not None:
            if key not in types:
                known = ", ".join(sorted(types)) or "none"
                raise RenderError(
                    f"{item.display_name} has no public parameter {key!r}",
                    where=item.display_name,
                    hint=f"its parameters: {known}",
                )
            cast = _CASTS.get(types[key].lower())
            try:
                value = cast(text) if cast else text
            except (ValueError, KeyError):
                raise RenderError(
                    f"parameter {key} is of type {types[key]}; {text!r} is not one",
                    where=item.display_name,
                    hint="e.g. --param DaysBack=30, --param Flag=true",
                ) from None
        out.append({"name": key, "type": "Automatic", "value": value})
    return out


def wait_job(
    dep: Deployment,
    item: LiveItem,
    job_id: str,
    *,
    timeout_s: float,
    on_poll: Callable[[Json], None] | None = None,
) -> Json:
    """Poll the job to its end; cancel it on timeout or Ctrl-C; JobFailed on Failed/Cancelled."""
    client, ws = dep.target.client, dep.workspace_id
    with _cancel_on_abort(dep, item, job_id):
        final = client.wait_job(ws, item.id, job_id, timeout_s=timeout_s, on_poll=on_poll)
    status = str(final.get("status", ""))
    if status.lower() not in ("completed", "deduped"):
        raise JobFailed(
            job_id=job_id,
            status=status,
            failure_reason=final.get("failureReason"),
            where=item.display_name,
        )
    return final


@contextlib.contextmanager
def _cancel_on_abort(dep: Deployment, item: LiveItem, job_id: str) -> Iterator[None]:
    try:
        yield
    except OperationTimeout as exc:
        cancel_job(dep, item, job_id)
        raise OperationTimeout(
            f"{exc.message}; the job was cancelled",
            where=item.display_name,
            hint="run again with a longer --timeout",
        ) from None
    except KeyboardInterrupt:
        with contextlib.suppress(DataflowGitopsError):
            cancel_job(dep, item, job_id)
        raise


def cancel_job(dep: Deployment, item: LiveItem, job_id: str) -> None:
    dep.target.client.cancel_job(dep.workspace_id, item.id, job_id)


def list_jobs(dep: Deployment, item: LiveItem) -> list[Json]:
    """The item's job instances, newest first."""
    jobs = dep.target.client.list_jobs(dep.workspace_id, item.id)
    return sorted(jobs, key=lambda j: str(j.get("startTimeUtc") or "9999"), reverse=True)


def failure_text(reason: Mapping[str, Any] | None) -> str:
    """The service's failureReason, as it gave it (compact JSON)."""
    return json.dumps(dict(reason), ensure_ascii=False) if reason else "(no failureReason given)"
