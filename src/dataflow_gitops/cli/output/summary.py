"""CLI output, shared by every format: the summary line and how an action is named."""

from __future__ import annotations

from dataflow_gitops.cli.output.words import plural
from dataflow_gitops.pipeline.model import (
    Action,
    ActionKind,
    ActionOutcome,
    ApplyResult,
    ExternalReference,
    FolderAction,
    FolderActionKind,
    OutcomeStatus,
    Plan,
    ReferenceStatus,
)

NO_CHANGES = "No changes. Live workspace matches the desired state."
KNOWN_AFTER_APPLY = "(known after apply)"


def summary_line(plan: Plan) -> str:
    """``Plan: X to create, Y to update, Z to delete.`` (renames count as updates)."""
    if not plan.has_changes:
        return NO_CHANGES
    line = (
        f"Plan: {plan.count(ActionKind.CREATE)} to create, {plan.count(ActionKind.UPDATE)} to update, "
        f"{plan.count(ActionKind.DELETE)} to delete."
    )
    extra = []
    if plan.moves:
        extra.append(f"{plan.moves} to move")
    made = sum(1 for f in plan.folders if f.kind is FolderActionKind.CREATE)
    if made:
        extra.append(f"{plural(made, 'folder')} to create")
    removed = len(plan.folders) - made
    if removed:
        extra.append(f"{plural(removed, 'empty folder')} to remove")
    return f"{line} ({', '.join(extra)})" if extra else line


def shown_folder(path: str) -> str:
    """``Bronze/IBMI/``, or ``/`` for the workspace root."""
    return f"{path}/" if path else "/"


def move_line(action: Action) -> str | None:
    """``→ moves from Bronze/ to Bronze/IBMI/`` when the action moves the item, else None."""
    if action.moves_from is None or action.desired is None:
        return None
    return (
        f"→ moves from {shown_folder(action.moves_from)} to {shown_folder(action.desired.folder_path)}"
    )


def folder_title(action: FolderAction) -> str:
    if action.kind is FolderActionKind.CREATE:
        return f"+ folder {shown_folder(action.path)}"
    return f"- folder {shown_folder(action.path)} ({action.reason})"


def reference_line(ref: ExternalReference) -> str:
    """How the plan shows a reference to a dataflow in another workspace."""
    what = {
        ReferenceStatus.UNVERIFIED: "external, unverified (the identity cannot see that "
        "workspace; kept as written)",
        ReferenceStatus.EXISTS: "external, exists",
        ReferenceStatus.MISSING: "external, MISSING from that workspace",
    }[ref.status]
    return (
        f'query "{ref.query}" reads dataflow {ref.dataflow_id} in workspace {ref.workspace_id}: {what}'
    )


def verb(action: Action) -> str:
    """create / update / rename / delete / no-op: what a reviewer calls the action."""
    if action.kind is ActionKind.UPDATE and action.rename_from is not None:
        return "rename"
    return "no-op" if action.kind is ActionKind.NOOP else action.kind.value


def symbol(action: Action) -> str:
    return {ActionKind.CREATE: "+", ActionKind.UPDATE: "~", ActionKind.DELETE: "-"}.get(action.kind, " ")


def title(action: Action) -> str:
    """``~ rename "Old" → "New"`` or ``+ create "Name"``."""
    if action.rename_from is not None and action.kind is ActionKind.UPDATE:
        return f'{symbol(action)} rename "{action.rename_from}" → "{action.display_name}"'
    return f'{symbol(action)} {verb(action)} "{action.display_name}"'


def pending(action: Action) -> tuple[str, ...]:
    """Values of this action only known once an earlier action has run."""
    return action.desired.pending if action.desired is not None else ()


def quiet_noop(outcome: ActionOutcome) -> bool:
    """A no-op that did nothing: left out of apply results (a retried publish is shown)."""
    return (
        outcome.action.kind is ActionKind.NOOP
        and outcome.status is OutcomeStatus.SUCCEEDED
        and outcome.published is None
    )


def published_again(result: ApplyResult) -> int:
    """No-ops whose earlier failed publish was retried in this apply."""
    return sum(
        1 for o in result.outcomes if o.action.kind is ActionKind.NOOP and o.published is not None
    )


def apply_counts(result: ApplyResult) -> dict[str, int]:
    counts = {status.value: 0 for status in OutcomeStatus}
    for status in (*(o.status for o in result.outcomes), *(f.status for f in result.folders)):
        counts[status.value] += 1
    return counts


def apply_summary(result: ApplyResult) -> str:
    done = {kind: 0 for kind in ActionKind}
    for outcome in result.outcomes:
        if outcome.status is OutcomeStatus.SUCCEEDED:
            done[outcome.action.kind] += 1
    counts = apply_counts(result)
    head = "Apply complete" if result.ok else "Apply finished with errors"
    text = (
        f"{head}: {done[ActionKind.CREATE]} created, {done[ActionKind.UPDATE]} updated, "
        f"{done[ActionKind.DELETE]} deleted"
    )
    moved = sum(
        1
        for o in result.outcomes
        if o.status is OutcomeStatus.SUCCEEDED and o.action.moves_from is not None
    )
    if moved:
        text += f" ({moved} moved)"
    folders = [f for f in result.folders if f.status is OutcomeStatus.SUCCEEDED]
    if folders:
        text += f"; {plural(len(folders), 'folder change')}"
    if counts["failed"] or counts["skipped"]:
        text += f"; {counts['failed']} failed, {counts['skipped']} skipped"
    retried = sum(1 for o in result.outcomes if o.action.kind is ActionKind.NOOP and o.published is True)
    if retried:
        text += f"; {retried} published after an earlier failure"
    unpublished = sum(1 for o in result.outcomes if o.published is False)
    if unpublished:
        text += f"; {unpublished} failed to publish"
    return text + "."
