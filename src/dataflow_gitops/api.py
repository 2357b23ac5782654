"""The facade the CLI calls: project directory + environment name → pipeline results.

One function per operation, each a few lines: every command that reads an environment goes
through :func:`workspace` (stages ①–③ in one place, one id-map rule: ``pipeline/workspace.py``);
a connected environment is a :class:`Deployment` (``deployment.py``); the stages live in
``pipeline/`` (pure), side effects in ``adapters/``. Nothing here prints: progress goes
through a :class:`Reporter`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
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
from dataflow_gitops.config import Environment, load_project
from dataflow_gitops.config.project import overlay_path
from dataflow_gitops.deployment import (
    Deployment,
    deployment,
    offline_workspace,
    other_workspace,
    workspace,
)
from dataflow_gitops.pipeline.definition.legacy import Migration
from dataflow_gitops.pipeline.definition.parts import folder_name
from dataflow_gitops.pipeline.definition.validate import ValidationReport
from dataflow_gitops.pipeline.definition.validate import validate as validate_project
from dataflow_gitops.pipeline.model import PLATFORM_PATH, DesiredDataflow, Plan
from dataflow_gitops.pipeline.plan import proof
from dataflow_gitops.pipeline.plan.applier import apply_plan
from dataflow_gitops.pipeline.plan.environment_plan import plan_environment
from dataflow_gitops.pipeline.ports import NullReporter, Reporter
from dataflow_gitops.pipeline.release.drift import DriftReport, workspace_drift
from dataflow_gitops.pipeline.release.export_guard import check_export_safe, exportable
from dataflow_gitops.pipeline.release.export_set import ExportResult
from dataflow_gitops.pipeline.release.promote import Promotion, promotion_source
from dataflow_gitops.pipeline.release.records import (
    Applied,
    DeploymentRecord,
    detect_actor,
    managed_ids,
    record_apply,
    unpublished_ids,
)
from dataflow_gitops.pipeline.workspace import (
    Workspace,
    applied_source,
    last_applied,
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

write_rendered = files.write_rendered


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
    seen = offline_workspace(project, env, ref=ref)
    return seen.named(names, where=str(project.dataflows_dir))


def migrate(folder: Path) -> Migration:
    """Convert one old dataflow folder in place, and say what was found: the files written
    (none if current) and where values without a place in the current format were kept."""
    return files.migrate(folder)


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
    proof.verify_saved_plan(
        the_plan,
        dep.environment,
        workspace_id=dep.workspace_id,
        managed_ids=managed_ids(dep.records, dep.environment.name),
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
    env, gateway, quiet = dep.environment, dep.connection.gateway, reporter or NullReporter()
    proof.check_environment(the_plan, env.name, where=env.path)
    previous = dep.records.latest(env.name)
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
    return record_apply(
        dep.records,
        result,
        the_plan,
        previous=previous,
        actor=lambda: detect_actor(git_user=lambda: git_user_name(dep.project.root)),
        secrets=dict(env.secret_pairs),
    )


def drift(dep: Deployment, *, ref: str | None = None) -> DriftReport:
    """Desired (working tree, or ``ref``) × the latest record × live, per dataflow."""
    seen = workspace(dep, ref=ref)
    return workspace_drift(seen, last_applied(dep.project, seen, seen.latest, dep.read_ahead))


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
    source, live_checked = promotion_source(
        to.project,
        to.environment,
        to.records,
        from_env,
        targets=targets,
        ref=ref,
        read=lambda env, commit: other_workspace(to, env, commit),
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
    seen, root = workspace(dep), dep.project.root
    base = (out_dir or dep.project.dataflows_path).resolve()
    exported, skipped = exportable(
        seen,
        names,
        history=dep.records.history(dep.environment.name),
        existing=files.existing_folders(base),
        platform_bytes=lambda source: files.read_optional(root / source.folder / PLATFORM_PATH),
        dataflows_dir=dep.project.dataflows_dir,
    )
    changes = files.export_changes(base, exported)
    # Only the repository's own dataflows folder holds git work an export could undo.
    in_repository = base == dep.project.dataflows_path.resolve()
    check_export_safe(
        changes,
        root=root,
        environment=dep.environment.name,
        now=seen.snapshot,
        applied=applied_source(dep.project, seen) if in_repository else None,
        overwrite_local=overwrite_local,
        discard_pending=discard_pending,
    )
    written, deleted = files.write_exported(base, exported, changes)
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
