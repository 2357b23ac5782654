"""The facade the CLI calls: project directory + environment name → pipeline results.

Every command that reads an environment goes through :func:`read_workspace` (stages ①–③ in one
place, one id-map rule); the stages live in ``pipeline/`` (pure), connecting in
``connection.py``, side effects in ``adapters/``. Nothing here prints: progress goes through a
:class:`Reporter`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
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
from dataflow_gitops.adapters.read_ahead import ProjectReadAhead
from dataflow_gitops.adapters.record_stores import git_user_name, open_store
from dataflow_gitops.config import Environment, Project, load_environment, load_project
from dataflow_gitops.config.project import overlay_path
from dataflow_gitops.connection import Connection, connect
from dataflow_gitops.errors import PlanError, RecordError
from dataflow_gitops.pipeline.definition.legacy import Migration
from dataflow_gitops.pipeline.definition.parts import folder_name
from dataflow_gitops.pipeline.definition.validate import ValidationReport
from dataflow_gitops.pipeline.definition.validate import validate as validate_project
from dataflow_gitops.pipeline.model import PLATFORM_PATH, ApplyResult, DesiredDataflow, Plan
from dataflow_gitops.pipeline.plan.applier import apply_plan
from dataflow_gitops.pipeline.plan.environment_plan import plan_environment
from dataflow_gitops.pipeline.ports import NullReporter, Reporter
from dataflow_gitops.pipeline.release.drift import DriftReport, compare
from dataflow_gitops.pipeline.release.export_set import ExportResult, export_set
from dataflow_gitops.pipeline.release.promote import Promotion, promotion_source
from dataflow_gitops.pipeline.release.records import (
    DeploymentRecord,
    RecordStore,
    detect_actor,
    record_from_result,
    unpublished_ids,
)
from dataflow_gitops.pipeline.workspace import Live, Workspace, last_applied, read_workspace, secrets_of

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


def validate(project_dir: Path, env: str | Sequence[str] | None = None) -> ValidationReport:
    """Everything ``dfg validate`` checks, offline; ``env`` None means every environment."""
    envs = [env] if isinstance(env, str) else env
    return validate_project(project_dir, envs, read_ahead=ProjectReadAhead(project_dir.resolve()))


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
def deployment(project_dir: Path, env: str, *, concurrency: int = 8) -> Iterator[Deployment]:
    """Load ``env``'s overlay and connect to its workspace for the duration of the block."""
    project = load_project(project_dir)
    environment = load_environment(project, env)
    # Reads (getDefinition per dataflow, each an LRO that waits out Retry-After) dominate a
    # plan and change nothing, so they fan out wider than writes; ``concurrency`` still bounds
    # the writes apply() makes. Under a quota the shared per-identity throttle paces them all.
    with connect(project, environment, concurrency=max(concurrency, READ_CONCURRENCY)) as conn:
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
    """Source (working tree or ``ref``) × live workspace → the Plan for ``dep``'s environment."""
    return plan_environment(workspace(dep, ref=ref, reporter=reporter, targets=targets), targets)


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
        reporter=reporter or NullReporter(),
    )
    published_again = any(o.published is not None for o in result.outcomes)
    if not (the_plan.has_changes or published_again) and previous and previous.commit == the_plan.commit:
        return Applied(result, None, None)
    root = dep.project.root
    actor = detect_actor(git_user=lambda: git_user_name(root))
    record = record_from_result(result, the_plan, actor=actor, previous=previous)
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


def export(dep: Deployment, names: Sequence[str] = (), *, out_dir: Path | None = None) -> ExportResult:
    """Live dataflows → repository files in ``out_dir`` (default: the project's dataflows folder).

    Without ``names``, every live dataflow the repository holds; a NAME (repository or live
    display name) also exports a dataflow that exists only live.
    """
    seen = workspace(dep)
    base = (out_dir or dep.project.dataflows_path).resolve()
    root = dep.project.root
    exported, skipped = export_set(
        seen,
        names,
        existing=files.existing_folders(base),
        platform_bytes=lambda source: files.read_optional(root / source.folder / PLATFORM_PATH),
        dataflows_dir=dep.project.dataflows_dir,
    )
    written, deleted = files.write_exported(base, exported)
    return ExportResult(base, exported, written, deleted, skipped)


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
