"""⑥→⑦ the stale-plan guard: a plan applies only to the live state it was planned against.

Each action of a plan carries the live fingerprint (and folder) it was planned against; before
anything is written :func:`check_preconditions` compares them with a fresh read of the
workspace (sqlmesh's ConflictingPlanError, Terraform's stale plan). The guard covers folders
too: an item moved to another folder since the plan is stale.
"""

from __future__ import annotations

from dataflow_gitops.errors import PlanError, StalePlanError
from dataflow_gitops.pipeline.model import ZERO_GUID, LiveWorkspace, Plan


def check_preconditions(plan: Plan, live: LiveWorkspace) -> None:
    """Raise StalePlanError naming every item whose live state moved since ``plan`` was made."""
    if live.workspace_id != plan.workspace_id:
        raise PlanError(
            f"the plan was made for workspace {plan.workspace_id}, not {live.workspace_id}",
            where=plan.environment,
            hint="apply the plan to the environment it was made for",
        )
    by_id = {d.id: d for d in live.dataflows}
    stale: list[str] = []
    for action in plan.actions:
        if not action.is_change:
            continue
        if action.live_fingerprint is None:
            logical_id = action.desired.logical_id if action.desired else ""
            found = next(
                (
                    d
                    for d in live.dataflows
                    if d.display_name == action.display_name
                    or (logical_id not in ("", ZERO_GUID) and d.logical_id == logical_id)
                ),
                None,
            )
            if found is not None:
                stale.append(f'"{action.name}" (planned as absent, now exists as item {found.id})')
            continue
        current = by_id.get(action.item_id or "")
        if current is None:
            stale.append(f'"{action.name}" (item {action.item_id} no longer exists)')
        elif current.fingerprint != action.live_fingerprint:
            stale.append(f'"{action.name}" (live definition changed)')
        elif (
            action.live_folder is not None
            and current.item.folder_path.casefold() != action.live_folder.casefold()
        ):
            stale.append(
                f'"{action.name}" (moved from {action.live_folder or "/"} to '
                f"{current.item.folder_path or '/'} since the plan)"
            )
    if stale:
        raise StalePlanError(stale, where=plan.environment)
