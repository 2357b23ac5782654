"""The facade the CLI calls: project directory + environment name → pipeline results.

Every command that reads an environment goes through :func:`read_workspace` (stages ①–③ in one
place, one id-map rule); the stages live in ``pipeline/`` (pure), connecting in
``connection.py``, side effects in ``adapters/``. Nothing here prints: progress goes through a
:class:`Reporter`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from dataflow_gitops.adapters import files
from dataflow_gitops.adapters.jobs import (
    JOB_TYPES,
    cancel_job,
    failure_text,
    find_dataflow,
    list_jobs,
    run_job,
    typed_parameters,
    wait_job,
)
from dataflow_gitops.adapters.locks import environment_lock
from dataflow_gitops.adapters.read_ahead import ProjectReadAhead
from dataflow_gitops.adapters.record_stores import git_user_name, open_store
from dataflow_gitops.config import Environment, Project, load_environment, load_project
from dataflow_gitops.config.project import overlay_path
from dataflow_gitops.connection import Connection, connect
from dataflow_gitops.errors import DataflowGitopsError, PlanError, RecordError
from dataflow_gitops.pipeline.definition.legacy import Migration
from dataflow_gitops.pipeline.definition.parts import folder_name
from dataflow_gitops.pipeline.definition.validate import ValidationReport
from dataflow_gitops.pipeline.definition.validate import validate as validate_project
from dataflow_gitops.pipeline.model import (
    PLATFORM_PATH,
    ApplyResult,
    DesiredDataflow,
    OutcomeStatus,
    Plan,
    Snapshot,
)
from dataflow_gitops.pipeline.plan import proof
from dataflow_gitops.pipeline.plan.applier import apply_plan
from dataflow_gitops.pipeline.plan.environment_plan import plan_environment
from dataflow_gitops.pipeline.ports import NullReporter, Reporter
from dataflow_gitops.pipeline.release.drift import DriftReport, compare
from dataflow_gitops.pipeline.release.export_guard import (
    check_export_safe,
    live_with_current_secrets,
    past_fingerprints,
    secret_fingerprints,
    unapplied_changes,
    without_secrets,
)
from dataflow_gitops.pipeline.release.export_set import ExportResult, export_set
from dataflow_gitops.pipeline.release.promote import Promotion, promotion_source
from dataflow_gitops.pipeline.release.records import (
    DeploymentRecord,
    RecordStore,
    detect_actor,
    record_from_result,
    unpublished_ids,
)
from dataflow_gitops.pipeline.workspace import (
    Live,
    Workspace,
    last_applied,
    read_source,
    read_workspace,
    secrets_of,
)

__all__ = [
    "JOB_TYPES",
    "Applied",
    "Deployment",
    "ExportResult",
    "Promotion",
    "ValidationReport",
    "Workspace",
    "apply",
    "cancel_job",
    "deployment",
    "drift",
    "export",
    "failure_text",
    "find_dataflow",
    "folder_name",
    "history",
    "list_jobs",
    "load_saved_plan",
    "migrate",
    "plan",
    "plan_promotion",
    "render",
    "run_job",
    "save_plan",
    "typed_parameters",
    "validate",
    "verify_saved_plan",
    "wait_job",
    "workspace",
    "write_rendered",
]

READ_CONCURRENCY = 32
write_rendered = files.write_rendered


@dataclass(frozen=True, slots=True)
class Deployment:
    """One environment, connected: what plan, apply, drift, export and promote need."""

    project: Project
    environment: Environment
    connection: Connection
    records: RecordStore

    @property
    def workspace_id(self) -> str:
        return self.connection.workspace_id

    @property
    def live(self) -> Live:
        return Live(self.connection.gateway, self.connection.workspace_id)

    @property
    def read_ahead(self) -> ProjectReadAhead:
        return ProjectReadAhead(self.project.root)


@dataclass(frozen=True, slots=True)
class Applied:
    result: ApplyResult
    record: DeploymentRecord | None
    """None when nothing changed and the latest record already names this commit."""
    record_location: str | None
    """The tag name or file the record went to."""
    record_error: RecordError | None = None
    """Set when the apply ran but its record could not be written (the result still stands)."""


def validate(
    project_dir: Path, env: str | Sequence[str] | None = None, *, names: bool = True
) -> ValidationReport:
    """Everything ``dfg validate`` checks, offline; ``env`` None means every environment;
    ``names`` (the default): also warn about names in M that nothing defines (``dfg validate``;
    ``--no-names`` skips it)."""
    envs = [env] if isinstance(env, str) else env
    return validate_project(
        project_dir, envs, read_ahead=ProjectReadAhead(project_dir.resolve()), check_names=names
    )


def render(
    project_dir: Path, env: str, names: Sequence[str] = (), ref: str | None = None
) -> tuple[DesiredDataflow, ...]:
    """Render the dataflows (all, or ``names``) for ``env`` offline, in dependency order.

    Item ids that only the live workspace knows stay visible placeholders (``${items.…}``).
    """
    project = load_project(project_dir)
    seen = read_workspace(
        project,
        load_environment(project, env),
        ref=ref,
        records=open_store(project.root),
        read_ahead=ProjectReadAhead(project.root),
    )
    return seen.named(names, where=str(project.dataflows_dir))


def migrate(folder: Path) -> Migration:
    """Convert one old dataflow folder in place, and say what was found: the files written
    (none if current) and where values without a place in the current format were kept."""
    return files.migrate(folder)


@contextlib.contextmanager
def deployment(
    project_dir: Path,
    env: str,
    *,
    concurrency: int = 8,
    write: bool = False,
    timeout_s: float | None = None,
) -> Iterator[Deployment]:
    """Load ``env``'s overlay and connect to its workspace for the duration of the block.

    ``write`` (apply, promote) holds the environment's lock for the block, from the plan to the
    record, so a second writer is refused at once (LockedError naming the holder).
    ``timeout_s`` bounds each long-running operation and publish job (``--timeout``; None: the
    defaults of :func:`connection.connect`).
    """
    project = load_project(project_dir)
    environment = load_environment(project, env)
    with contextlib.ExitStack() as stack:
        if write:
            stack.enter_context(environment_lock(project.root, environment.name))
        # Reads (getDefinition per dataflow, each an LRO that waits out Retry-After) dominate a
        # plan and change nothing, so they fan out wider than writes; ``concurrency`` still
        # bounds the writes apply() makes. Under a quota the shared per-identity throttle paces
        # them all.
        conn = stack.enter_context(
            connect(
                project,
                environment,
                concurrency=max(concurrency, READ_CONCURRENCY),
                timeout_s=timeout_s,
            )
        )
        yield Deployment(project, environment, conn, open_store(project.root))


def workspace(
    dep: Deployment,
    *,
    ref: str | None = None,
    reporter: Reporter | None = None,
    targets: Sequence[str] = (),
) -> Workspace:
    """Stages ①–③ for ``dep``'s environment: desired (working tree or ``ref``) and live.

    With ``targets``, the other dataflows are identified but not parsed (a broken folder among
    them cannot block the targets).
    """
    live, read_ahead = dep.live, dep.read_ahead
    return read_workspace(
        dep.project,
        dep.environment,
        ref=ref,
        records=dep.records,
        live=live,
        reporter=reporter,
        targets=targets,
        read_ahead=read_ahead,
    )


def plan(
    dep: Deployment,
    *,
    targets: Sequence[str] = (),
    ref: str | None = None,
    reporter: Reporter | None = None,
) -> Plan:
    """Source (working tree or ``ref``) × live workspace → the Plan for ``dep``'s environment,
    stamped with where it goes and what it was made from (what a saved plan is checked by)."""
    seen = workspace(dep, ref=ref, reporter=reporter, targets=targets)
    return proof.stamp(plan_environment(seen, targets), dep.environment, seen.snapshot)


def verify_saved_plan(
    dep: Deployment, the_plan: Plan, *, allow_delete: bool, trust: bool = False
) -> None:
    """Refuse a saved plan (nothing written) that goes elsewhere than ``dep`` now resolves to,
    that today's overlay and flags do not allow, or (unless ``trust``) that its own source does
    not reproduce: a plan file is evidence, not authority (``pipeline/plan/proof.py``)."""
    latest = dep.records.latest(dep.environment.name)
    proof.verify_saved_plan(
        the_plan,
        dep.environment,
        workspace_id=dep.workspace_id,
        managed_ids=latest.item_ids() if latest else frozenset(),
        allow_delete=allow_delete,
        replan=lambda ref: plan(dep, ref=ref),
        trust=trust,
    )


def apply(
    dep: Deployment,
    the_plan: Plan,
    *,
    concurrency: int = 8,
    publish: bool = False,
    allow_delete: bool = False,
    check_stale: bool = True,
    reporter: Reporter | None = None,
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
    gateway = dep.connection.gateway
    previous = dep.records.latest(env.name)
    quiet = reporter or NullReporter()
    # A long operation or publish job shows that it is still running, through the same port.
    dep.connection.client.on_wait = lambda detail: quiet.waiting("apply", detail)
    result = apply_plan(
        the_plan,
        reader=gateway,
        writer=gateway,
        concurrency=concurrency,
        publish=publish,
        allow_delete=allow_delete,
        check_stale=check_stale,
        # Written earlier but never published (ApplyChanges failed): publish them now.
        republish=unpublished_ids(previous) if publish else (),
        reporter=quiet,
    )
    published_again = any(o.published is not None for o in result.outcomes)
    if not (the_plan.has_changes or published_again) and previous and previous.commit == the_plan.commit:
        return Applied(result, None, None)
    if the_plan.has_changes and not any(
        o.status is OutcomeStatus.SUCCEEDED and (o.action.is_change or o.published is not None)
        for o in result.outcomes
    ):
        # Nothing was written: live is as the latest record says, and a record of this run
        # would only hide that record (an "incomplete" one that forgot what is managed).
        return Applied(result, None, None)
    root = dep.project.root
    actor = detect_actor(git_user=lambda: git_user_name(root))
    # Read again: a run elsewhere (another machine) may have recorded meanwhile; building on
    # its record keeps what it deployed managed.
    previous = dep.records.latest(env.name) or previous
    # Fingerprints of the secrets written, never values: export recognises them once rotated.
    salt = previous.secret_salt if previous and previous.secret_salt else secrets.token_hex(16)
    record = record_from_result(
        result,
        the_plan,
        actor=actor,
        previous=previous,
        secret_salt=salt,
        secret_fingerprints=secret_fingerprints(dict(env.secret_pairs), salt),
    )
    try:
        location = dep.records.write(record)
    except RecordError as exc:
        return Applied(result, record, None, exc)
    return Applied(result, record, location)


def drift(dep: Deployment, *, ref: str | None = None) -> DriftReport:
    """Desired (working tree, or ``ref``) × the latest record × live, per dataflow."""
    seen = workspace(dep, ref=ref)
    return compare(
        seen.desired,
        seen.latest,
        seen.live or (),
        environment=seen.environment.name,
        workspace_id=dep.workspace_id,
        last_applied=last_applied(dep.project, seen, seen.latest, dep.read_ahead),
        ignore=seen.environment.ignore,
        head_commit=seen.snapshot.commit,
        head_dirty=seen.snapshot.dirty,
        secrets=secrets_of(seen.environment),
    )


def plan_promotion(
    to: Deployment,
    from_env: str | None = None,
    *,
    targets: Sequence[str] = (),
    ref: str | None = None,
    reporter: Reporter | None = None,
) -> Promotion:
    """The plan that brings ``to`` to the commit last applied to the source environment (or,
    with ``ref``, an earlier release it ran in full): see :func:`promotion_source`."""

    def read_source(env: Environment, commit: str) -> Workspace:
        with connect(to.project, env) as conn:
            live, read_ahead = Live(conn.gateway, conn.workspace_id), to.read_ahead
            return read_workspace(
                to.project,
                env,
                ref=commit,
                records=to.records,
                live=live,
                read_ahead=read_ahead,
                strict=False,
            )

    source, live_checked = promotion_source(
        to.project, to.environment, to.records, from_env, targets=targets, ref=ref, read=read_source
    )
    the_plan = plan(to, targets=targets, ref=source.commit, reporter=reporter)
    return Promotion(source, the_plan, live_checked=live_checked)


def export(
    dep: Deployment,
    names: Sequence[str] = (),
    *,
    out_dir: Path | None = None,
    overwrite_local: bool = False,
    discard_pending: bool = False,
) -> ExportResult:
    """Live dataflows → repository files in ``out_dir`` (default: the project's dataflows folder).

    Without ``names``, every live dataflow the repository holds; a NAME (repository or live
    display name) also exports a dataflow that exists only live. Refused (nothing written)
    where it would overwrite uncommitted work or undo a git change not yet applied, unless
    ``overwrite_local`` / ``discard_pending`` says live wins; no secret value, current or
    rotated, is written (``pipeline/release/export_guard.py``).
    """
    seen = workspace(dep)
    base = (out_dir or dep.project.dataflows_path).resolve()
    root = dep.project.root
    current = dict(dep.environment.secret_pairs)
    past = past_fingerprints(dep.records.history(dep.environment.name))
    seen = replace(seen, live=live_with_current_secrets(seen.live or (), current=current, past=past))
    exported, skipped = export_set(
        seen,
        names,
        existing=files.existing_folders(base),
        platform_bytes=lambda source: files.read_optional(root / source.folder / PLATFORM_PATH),
        dataflows_dir=dep.project.dataflows_dir,
    )
    exported = without_secrets(exported, current=current, past=past)
    changes = files.export_changes(base, exported)
    # Only the repository's own dataflows folder holds git work an export could undo.
    in_repository = base == dep.project.dataflows_path.resolve()
    applied = _applied_source(dep, seen) if in_repository else None
    check_export_safe(
        {name: [_relative(p, root) for p, _ in found] for name, found in changes.items()},
        environment=dep.environment.name,
        dirty_paths=seen.snapshot.dirty_paths,
        pending=unapplied_changes(seen.snapshot, applied),
        overwrite_local=overwrite_local,
        discard_pending=discard_pending,
    )
    written, deleted = files.write_exported(base, exported, changes)
    return ExportResult(base, exported, written, deleted, skipped)


def _applied_source(dep: Deployment, seen: Workspace) -> Snapshot | None:
    """The sources of the commit last applied; None when no record says, or it is gone."""
    commit = seen.latest.commit if seen.latest else None
    if commit is None:
        return None
    try:
        return read_source(dep.project, dep.environment, commit)
    except DataflowGitopsError:
        return None


def _relative(path: Path, root: Path) -> str:
    resolved = root.resolve()
    return path.relative_to(resolved).as_posix() if path.is_relative_to(resolved) else str(path)


def save_plan(the_plan: Plan, env: Environment, path: Path) -> None:
    """Write the plan file (secret values as ``${env:NAME}`` references)."""
    files.save_plan(the_plan, path, secrets=secrets_of(env))


def load_saved_plan(
    path: Path, environ: Mapping[str, str] | None = None, *, resolve_secrets: bool = True
) -> Plan:
    """Read a plan file ``dfg plan --out`` wrote; secret references resolve from ``environ``.

    ``resolve_secrets=False`` reads it for showing only (the secrets need not be set).
    """
    source = os.environ if environ is None else environ
    return files.load_saved_plan(path, source, resolve_secrets=resolve_secrets)


def history(project_dir: Path, env: str) -> tuple[DeploymentRecord, ...]:
    """Every deployment record of ``env``, newest first."""
    project = load_project(project_dir)
    overlay_path(project, env)  # an unknown environment is an error, not an empty history
    return open_store(project.root).history(env)
