"""⑤ plan for one environment: a :class:`Workspace` (stages ①–③) + ``--target`` → the Plan.

The policy (prune, scope, ignore) is the workspace's environment's, which is always the working
tree's, also under ``--ref`` (see :func:`dataflow_gitops.config.environment_at`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dataflow_gitops.pipeline.model import LiveWorkspace, Plan
from dataflow_gitops.pipeline.plan.planner import build_plan
from dataflow_gitops.pipeline.release.records import DeploymentRecord, unpublished_ids
from dataflow_gitops.pipeline.workspace import Workspace, secrets_of


def plan_environment(workspace: Workspace, targets: Sequence[str] = ()) -> Plan:
    """What apply would do to make the live workspace match the desired one."""
    if workspace.workspace_id is None or workspace.live is None:
        raise ValueError("planning needs the live workspace (read_workspace with live=…)")
    env, snapshot, latest = workspace.environment, workspace.snapshot, workspace.latest
    the_plan = build_plan(
        workspace.desired,
        LiveWorkspace(workspace.workspace_id, workspace.items, workspace.live),
        environment=env.name,
        policy=env.policy(targets),
        managed_ids=latest.item_ids() if latest else frozenset(),
        commit=snapshot.commit,
        dirty=snapshot.dirty,
        dirty_paths=snapshot.dirty_paths,
        ref=snapshot.ref,
        overlay_hash=env.overlay_hash,
        secrets=secrets_of(env),
    )
    the_plan = replace(the_plan, warnings=(*workspace.warnings, *the_plan.warnings))
    return _with_unpublished_warnings(the_plan, latest)


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
