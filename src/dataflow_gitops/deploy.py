"""The facade of the GitOps loop (stages ③–⑦ wired): environment → Plan → ApplyResult + record.

``dfg plan``, ``apply``, ``show`` and ``history`` call these; ``api.py`` re-exports them. A
:class:`Deployment` is one connected environment (project, overlay, live target, record store);
:func:`plan` reads source and live and returns the Plan; :func:`apply` carries a Plan out and
records it. Nothing here prints: progress goes through a :class:`Reporter`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from dataflow_gitops.config import (
    Environment,
    Project,
    environment_at,
    environment_names,
    load_environment,
    load_project,
)
from dataflow_gitops.config.project import overlay_path
from dataflow_gitops.errors import PlanError, PlanFileError, RecordError
from dataflow_gitops.fabric.gateway import LiveLookup
from dataflow_gitops.pipeline.definition.reading import read_mashups
from dataflow_gitops.pipeline.definition.render import render_all
from dataflow_gitops.pipeline.definition.source import read_ref, read_working_tree
from dataflow_gitops.pipeline.model import (
    DATAFLOW_TYPE,
    ApplyResult,
    LiveDataflow,
    LiveWorkspace,
    Plan,
    Snapshot,
)
from dataflow_gitops.pipeline.plan.applier import apply_plan
from dataflow_gitops.pipeline.plan.planfile import dump_plan, load_plan
from dataflow_gitops.pipeline.plan.planner import build_plan
from dataflow_gitops.pipeline.ports import NullReporter, Reporter
from dataflow_gitops.pipeline.release.record_stores import git_user_name, open_store
from dataflow_gitops.pipeline.release.records import (
    DeploymentRecord,
    RecordStore,
    detect_actor,
    record_from_result,
    unpublished_ids,
)
from dataflow_gitops.target import Target, connect

OBSERVE = "observe"
READ_CONCURRENCY = 32
_QUIET = NullReporter()


@dataclass(frozen=True, slots=True)
class Deployment:
    """One environment, connected: what plan and apply need."""

    project: Project
    environment: Environment
    target: Target
    records: RecordStore

    @property
    def workspace_id(self) -> str:
        return self.target.workspace_id


@dataclass(frozen=True, slots=True)
class Applied:
    result: ApplyResult
    record: DeploymentRecord | None
    """None when nothing changed and the latest record already names this commit."""
    record_location: str | None
    """The tag name or file the record went to."""
    record_error: RecordError | None = None
    """Set when the apply ran but its record could not be written (the result still stands)."""


@contextlib.contextmanager
def deployment(project_dir: Path, env: str, *, concurrency: int = 8) -> Iterator[Deployment]:
    """Load ``env``'s overlay and connect to its workspace for the duration of the block."""
    project = load_project(project_dir)
    environment = load_environment(project, env)
    # Reads (getDefinition per dataflow, each an LRO that waits out Retry-After) dominate a
    # plan and change nothing, so they fan out wider than writes; ``concurrency`` still bounds
    # the writes apply() makes. Under a quota the shared per-identity throttle paces them all.
    with connect(project, environment, concurrency=max(concurrency, READ_CONCURRENCY)) as target:
        yield Deployment(project, environment, target, open_store(project.root))


def plan(
    dep: Deployment,
    *,
    targets: Sequence[str] = (),
    ref: str | None = None,
    reporter: Reporter = _QUIET,
) -> Plan:
    """Source (working tree or ``ref``) × live workspace → the Plan for ``dep``'s environment."""
    project, env = dep.project, dep.environment
    snapshot = snapshot_at(project, ref)
    read_mashups(project.root, snapshot.dataflows)
    warnings: tuple[str, ...] = ()
    if ref is not None:
        at_ref = environment_at(project, env, ref)
        if at_ref is None:
            warnings = (f"{env.path} did not exist at {ref}: rendered with the working tree's overlay",)
        else:
            env = at_ref
    ws = dep.workspace_id
    gateway = dep.target.gateway
    items = tuple(gateway.list_items(ws))
    latest = dep.records.latest(env.name)
    id_map = _recorded_ids(dep, latest)
    desired = render_all(snapshot, env, LiveLookup(ws, items), id_map=id_map)
    dataflows = [i for i in items if i.type == DATAFLOW_TYPE]
    reporter.start(OBSERVE, len(dataflows))

    def on_read(live: LiveDataflow) -> None:
        reporter.advance(OBSERVE, live.display_name)

    live = gateway.read_dataflows(ws, dataflows, on_read=on_read)
    reporter.finish(OBSERVE)
    read_mashups(project.root, live)
    the_plan = build_plan(
        desired,
        LiveWorkspace(ws, items, tuple(live)),
        environment=env.name,
        policy=env.policy(targets),
        managed_ids=latest.item_ids() if latest else frozenset(),
        commit=snapshot.commit,
        dirty=snapshot.dirty,
        ref=snapshot.ref,
        overlay_hash=env.overlay_hash,
        secrets=secrets_of(env),
    )
    the_plan = replace(the_plan, warnings=(*warnings, *the_plan.warnings))
    return _with_unpublished_warnings(the_plan, latest)


def _recorded_ids(dep: Deployment, latest: DeploymentRecord | None) -> dict[str, str]:
    """Item id → repository name from every environment's latest record.

    Fabric Git sync writes references with the real ids of the workspace it syncs (usually
    dev); what dev's record knows lets a test or prod plan resolve them to repository dataflows.
    The target environment's own record wins on a clash.
    """
    ids: dict[str, str] = {}
    for name in environment_names(dep.project):
        record = dep.records.latest(name) if name != dep.environment.name else None
        if record is not None:
            ids.update({i.item_id: i.name for i in record.items})
    if latest is not None:
        ids.update({i.item_id: i.name for i in latest.items})
    return ids


def _with_unpublished_warnings(the_plan: Plan, latest: DeploymentRecord | None) -> Plan:
    """Say which dataflows an earlier apply wrote but could not publish, and how to retry."""
    waiting = unpublished_ids(latest)
    names = sorted(a.display_name for a in the_plan.actions if a.item_id in waiting and not a.is_change)
    if not names:
        return the_plan
    warning = (
        f"written by an earlier apply but not published (ApplyChanges failed): {', '.join(names)}; "
        f"`dfg apply -e {the_plan.environment} --publish` publishes them"
    )
    return replace(the_plan, warnings=(*the_plan.warnings, warning))


def apply(
    dep: Deployment,
    the_plan: Plan,
    *,
    concurrency: int = 8,
    publish: bool = False,
    allow_delete: bool = False,
    check_stale: bool = True,
    reporter: Reporter = _QUIET,
) -> Applied:
    """Carry ``the_plan`` out and record what is live afterwards (even when some actions failed).

    ``check_stale`` re-reads live first and refuses (StalePlanError, nothing written) when an
    item moved since the plan; a plan made moments ago in the same process may skip it.
    """
    env = dep.environment
    if the_plan.environment != env.name:
        raise PlanError(
            f"the plan was made for environment {the_plan.environment!r}, not {env.name!r}",
            where=env.path,
            hint=f"apply it with -e {the_plan.environment}, or plan again for {env.name}",
        )
    gateway = dep.target.gateway
    previous = dep.records.latest(env.name)
    result = apply_plan(
        the_plan,
        reader=gateway,
        writer=gateway,
        concurrency=concurrency,
        publish=publish,
        allow_delete=allow_delete,
        reporter=reporter,
        check_stale=check_stale,
        # Written earlier but never published (ApplyChanges failed): publish them now.
        republish=unpublished_ids(previous) if publish else (),
    )
    published_again = any(o.published is not None for o in result.outcomes)
    if (
        not the_plan.has_changes
        and not published_again
        and previous is not None
        and previous.commit == the_plan.commit
    ):
        return Applied(result, None, None)
    root = dep.project.root
    record = record_from_result(
        result,
        the_plan,
        actor=detect_actor(git_user=lambda: git_user_name(root)),
        previous=previous,
    )
    try:
        location = dep.records.write(record)
    except RecordError as exc:
        return Applied(result, record, None, exc)
    return Applied(result, record, location)


def secrets_of(env: Environment, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variable → value for every secret the overlay substituted (masked in output)."""
    source = os.environ if environ is None else environ
    return {name: source.get(name, "") for name in env.secret_env}


def save_plan(the_plan: Plan, env: Environment, path: Path) -> None:
    """Write the plan file (secret values as ``${env:NAME}`` references)."""
    text = dump_plan(the_plan, secrets=secrets_of(env))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PlanFileError(
            f"cannot write the plan file: {exc.strerror}", path=str(path), hint="check the path"
        ) from None


def load_saved_plan(
    path: Path, environ: Mapping[str, str] | None = None, *, resolve_secrets: bool = True
) -> Plan:
    """Read a plan file ``dfg plan --out`` wrote; secret references resolve from ``environ``.

    ``resolve_secrets=False`` reads it for showing only (the secrets need not be set).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise PlanFileError(
            f"cannot read the plan file: {reason}",
            path=str(path),
            hint="pass the file `dfg plan --out` wrote",
        ) from None
    return load_plan(
        text,
        path=str(path),
        environ=os.environ if environ is None else environ,
        resolve_secrets=resolve_secrets,
    )


def history(project_dir: Path, env: str) -> tuple[DeploymentRecord, ...]:
    """Every deployment record of ``env``, newest first."""
    project = load_project(project_dir)
    overlay_path(project, env)  # an unknown environment is an error, not an empty history
    return open_store(project.root).history(env)


def snapshot_at(project: Project, ref: str | None) -> Snapshot:
    """The source at ``ref``, or the working tree when ``ref`` is None."""
    if ref is None:
        return read_working_tree(project.root, project.dataflows_dir)
    return read_ref(project.root, ref, project.dataflows_dir)
