"""⑤ plan: desired dataflows × live workspace + deployment records + policy → ordered Plan.

Pairing follows Fabric Git integration: a desired dataflow is the live item with the same
``.platform`` logicalId, else the live dataflow with the same display name. Same logicalId under
another name is a rename in place (one UPDATE carrying ``rename_from``), never delete + create,
so the item id and everything pointing at it survive. Live dataflows nobody claims are deleted
only when the environment prunes and the item is ours (a deployment record lists its id, or the
environment prunes unrecorded items too); the rest are listed as unmanaged and never touched.

Where an ``ignore`` rule covers a value, the action's payload carries the LIVE value
(:func:`keep_ignored_live`), a decision recorded for issue 4: updateDefinition replaces the whole
definition, so writing the repository's value for another reason would overwrite what the rule
protects, unseen. The plan then holds exactly what will be written, its fingerprint and
preconditions stay true, and a dataflow that differs only in ignored places is a no-op. Where
live has nothing to keep (a query or part only the repository has, a JSON value under a
container live lacks) the repository's value is written.
A create changes nothing existing, so its impact is ``none`` (shown as "new").

Folders: pairing ignores them, so a dataflow whose folder changed is an UPDATE that moves it
(``live_folder`` → ``desired.folder_path``), never a delete + create, with prune on or off.
Folder creates and the folders a plan leaves empty come from :mod:`pipeline.plan.folders`. With
an overlay ``folder:`` the deployment owns only that part of a shared workspace: live dataflows
outside it pair by logicalId only, and are never deleted or listed as unmanaged.

Actions come out in apply order: dependencies before dependants, deletes last with dependants
first. Each action carries the live fingerprint it was planned against (None when planned as
absent), the precondition a saved plan is checked with before apply.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fnmatch import fnmatchcase

from dataflow_gitops.errors import PlanError
from dataflow_gitops.pipeline.definition.folders import within
from dataflow_gitops.pipeline.definition.render_checks import display_name_clash
from dataflow_gitops.pipeline.model import (
    Action,
    ActionKind,
    DesiredDataflow,
    ExternalReference,
    Impact,
    LiveDataflow,
    LiveWorkspace,
    Plan,
    PlanPolicy,
    ReferenceStatus,
)
from dataflow_gitops.pipeline.plan.diff import diff_dataflow
from dataflow_gitops.pipeline.plan.folders import place_workspace, plan_folders
from dataflow_gitops.pipeline.plan.impact import assess
from dataflow_gitops.pipeline.plan.keep_live import keep_ignored_live
from dataflow_gitops.pipeline.plan.ordering import delete_order, dependency_order, real_logical_id
from dataflow_gitops.pipeline.plan.schedules import keep_live_schedules, kept_schedule_warnings


@dataclass(frozen=True, slots=True)
class _Pairing:
    paired: dict[str, LiveDataflow]
    """desired name → its live counterpart."""
    orphans: tuple[LiveDataflow, ...]
    """Live dataflows no desired dataflow claims, in listing order."""


def build_plan(
    desired: Sequence[DesiredDataflow],
    live: LiveWorkspace,
    *,
    environment: str,
    policy: PlanPolicy,
    managed_ids: Collection[str] = (),
    commit: str | None = None,
    dirty: bool = False,
    ref: str | None = None,
    overlay_hash: str = "",
    created_at: str | None = None,
    dirty_paths: Sequence[str] = (),
    secrets: Mapping[str, str] | None = None,
    references: Mapping[tuple[str, str], ReferenceStatus] | None = None,
) -> Plan:
    """The Plan that would make ``live`` match ``desired`` under ``policy``.

    ``secrets`` (environment variable → value) are masked as ``${env:NAME}`` in every diff line.
    ``references``: (workspace id, dataflow id), lowercase → what observe found for each
    reference outside the repository; one not found there stays unverified.
    """
    live = place_workspace(live)
    _check_targets(desired, live, policy.targets)
    _check_unique_names(desired)
    pairing = _pair(desired, live, policy.folder)
    in_scope = [d for d in desired if _targeted(policy.targets, d.name, d.display_name)]
    warnings: list[str] = []
    checked = references or {}
    writes = [
        _write_action(_checked(d, checked), pairing.paired.get(d.name), policy, secrets or {})
        for d in in_scope
    ]
    names = {a.name for a in writes}
    writes = [_with_deps(a, names) for a in writes]
    warnings += _missing_dependency_warnings(in_scope, names, pairing, desired)
    warnings += _rename_collisions(writes, live)
    warnings += _outside_collisions(writes, live, policy.folder)
    warnings += _missing_references(writes)
    warnings += kept_schedule_warnings(writes)
    deletes: list[Action] = []
    unmanaged: list[str] = []
    managed = set(managed_ids)
    for orphan in pairing.orphans:
        verdict = _delete_reason(orphan, policy, managed)
        if verdict is None:
            unmanaged.append(orphan.display_name)
        elif _targeted(policy.targets, orphan.display_name):
            deletes.append(
                Action(
                    kind=ActionKind.DELETE,
                    name=orphan.display_name,
                    display_name=orphan.display_name,
                    item_id=orphan.id,
                    live_fingerprint=orphan.fingerprint,
                    impact=Impact.BREAKING,
                    reason=verdict,
                )
            )
    folders, empty = plan_folders(writes, deletes, live, prune=policy.prune, base=policy.folder)
    return Plan(
        environment=environment,
        workspace_id=live.workspace_id,
        actions=(*dependency_order(writes), *delete_order(deletes, pairing.orphans)),
        folders=folders,
        empty_folders=empty,
        commit=commit,
        dirty=dirty,
        ref=ref,
        overlay_hash=overlay_hash,
        created_at=created_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        unmanaged=tuple(sorted(unmanaged)),
        warnings=tuple(warnings),
        dirty_paths=tuple(dirty_paths),
    )


# pairing --------------------------------------------------------------------------------------


def _check_unique_names(desired: Sequence[DesiredDataflow]) -> None:
    clash = display_name_clash(desired)
    if clash is not None:
        other, d = clash
        raise PlanError(
            f'"{other}" and "{d.name}" both become the display name "{d.display_name}"',
            where=d.name,
            hint="display names are unique per workspace: change one .platform displayName or "
            "the environment's display-name template",
        )


def _pair(desired: Sequence[DesiredDataflow], live: LiveWorkspace, base: str = "") -> _Pairing:
    paired: dict[str, LiveDataflow] = {}
    claimed: set[str] = set()
    by_logical: dict[str, LiveDataflow] = {}
    for item in live.dataflows:
        if real_logical_id(item.logical_id):
            by_logical.setdefault(item.logical_id or "", item)
    for d in desired:
        match = by_logical.get(d.logical_id) if real_logical_id(d.logical_id) else None
        if match is not None and match.id not in claimed:
            paired[d.name] = match
            claimed.add(match.id)
    for d in desired:
        if d.name in paired:
            continue
        same_name = [
            i
            for i in live.dataflows
            if i.display_name == d.display_name
            and i.id not in claimed
            and within(i.item.folder_path, base)
        ]
        if len(same_name) > 1:
            ids = ", ".join(i.id for i in same_name)
            raise PlanError(
                f'{len(same_name)} live dataflows are named "{d.display_name}" ({ids})',
                where=d.name,
                hint="rename or delete the extra ones in the workspace, then plan again",
            )
        if same_name:
            paired[d.name] = same_name[0]
            claimed.add(same_name[0].id)
    # Outside the deployment's folder the items belong to others (a shared workspace).
    orphans = tuple(
        i for i in live.dataflows if i.id not in claimed and within(i.item.folder_path, base)
    )
    return _Pairing(paired, orphans)


# actions --------------------------------------------------------------------------------------


def _write_action(
    desired: DesiredDataflow,
    live: LiveDataflow | None,
    policy: PlanPolicy,
    secrets: Mapping[str, str],
) -> Action:
    # Ignored places keep their live value in what is written (see pipeline.diff): the action
    # carries that payload, so a saved plan and its fingerprint describe the real write.
    desired, kept = keep_ignored_live(desired, live, policy.ignore)
    diff = diff_dataflow(desired, live, policy.ignore, secrets=secrets, prune=policy.prune)
    # A live schedule prune may not remove stays in what is written (the part replaces them).
    desired = keep_live_schedules(desired, live, diff.schedules)
    if kept:
        diff = replace(diff, ignored=(*kept, *diff.ignored))
    assessment = assess(diff, desired, live)
    action = Action(
        kind=ActionKind.CREATE,
        name=desired.name,
        display_name=desired.display_name,
        desired=desired,
        diff=diff,
        impact=assessment.impact,
        depends_on=desired.depends_on,
        reason="not in the live workspace",
    )
    if live is None:
        return action
    rename_from = live.display_name if live.display_name != desired.display_name else None
    reasons = list(assessment.reasons)
    if rename_from is not None:
        reasons.insert(0, f'renamed from "{rename_from}" (same logicalId: the item id is kept)')
    action = replace(
        action,
        item_id=live.id,
        live_fingerprint=live.fingerprint,
        rename_from=rename_from,
        live_folder=live.item.folder_path,
    )
    moved = action.moves_from is not None
    if moved and not diff.changed and action.impact is Impact.NONE:
        action = replace(action, impact=Impact.METADATA_ONLY)
    return replace(
        action,
        kind=ActionKind.UPDATE if diff.changed or moved else ActionKind.NOOP,
        reason="; ".join(reasons),
    )


def shown_folder(path: str) -> str:
    """A folder path as the plan shows it: ``Bronze/IBMI/``, or ``/`` for the workspace root."""
    return f"{path}/" if path else "/"


def _checked(
    desired: DesiredDataflow, found: Mapping[tuple[str, str], ReferenceStatus]
) -> DesiredDataflow:
    if not desired.external:
        return desired
    external = tuple(
        replace(
            r,
            status=found.get(
                (r.workspace_id.lower(), r.dataflow_id.lower()), ReferenceStatus.UNVERIFIED
            ),
        )
        for r in desired.external
    )
    return replace(desired, external=external)


def _missing_references(writes: Sequence[Action]) -> list[str]:
    missing: list[tuple[str, ExternalReference]] = [
        (a.name, r)
        for a in writes
        if a.desired is not None
        for r in a.desired.external
        if r.status is ReferenceStatus.MISSING
    ]
    return [
        f'"{name}": query "{r.query}" reads dataflow {r.dataflow_id} in workspace '
        f"{r.workspace_id}, which the deploying identity can see and which holds no such "
        f"dataflow: the query will fail when it runs"
        for name, r in missing
    ]


def _outside_collisions(writes: Sequence[Action], live: LiveWorkspace, base: str) -> list[str]:
    """Display names are unique per workspace, folders or not: a create fails on a name taken
    by a dataflow outside the deployment's folder."""
    if not base:
        return []
    return [
        f'"{a.display_name}" is to be created, but a dataflow outside {shown_folder(base)} '
        f"({other.id}, in {shown_folder(other.item.folder_path)}) has that name: the create fails "
        f"unless one of them is renamed"
        for a in writes
        if a.kind is ActionKind.CREATE
        for other in live.dataflows
        if other.display_name == a.display_name and not within(other.item.folder_path, base)
    ]


def _with_deps(action: Action, names: set[str]) -> Action:
    deps = tuple(d for d in action.depends_on if d in names and d != action.name)
    return action if deps == action.depends_on else replace(action, depends_on=deps)


def _delete_reason(orphan: LiveDataflow, policy: PlanPolicy, managed: set[str]) -> str | None:
    return delete_reason(orphan.display_name, orphan.id, policy, managed)


def delete_reason(
    display_name: str, item_id: str, policy: PlanPolicy, managed: Collection[str]
) -> str | None:
    """Why ``policy`` deletes this live dataflow the repository lacks; None: it must not."""
    if not policy.prune:
        return None
    if any(fnmatchcase(display_name, g) for g in policy.prune_exclude):
        return None
    if item_id in managed:
        return "no longer in the repository; deployed by dataflow-gitops before (prune is on)"
    if policy.prune_unrecorded:
        return "not in the repository (prune is on, including unrecorded items)"
    return None


# scope ----------------------------------------------------------------------------------------


def _targeted(targets: Sequence[str], *names: str) -> bool:
    return not targets or any(n in targets for n in names)


def _check_targets(
    desired: Sequence[DesiredDataflow], live: LiveWorkspace, targets: Sequence[str]
) -> None:
    valid = {d.name for d in desired} | {d.display_name for d in desired}
    valid |= {i.display_name for i in live.dataflows}
    unknown = [t for t in targets if t not in valid]
    if unknown:
        listed = ", ".join(sorted(valid)) or "(none)"
        raise PlanError(
            f"unknown --target {', '.join(repr(t) for t in unknown)}",
            hint=f"valid names: {listed}",
        )


def _missing_dependency_warnings(
    in_scope: Sequence[DesiredDataflow],
    names: set[str],
    pairing: _Pairing,
    desired: Sequence[DesiredDataflow],
) -> list[str]:
    known = {d.name for d in desired}
    return [
        f'"{d.name}" reads "{dep}", which is not in this plan (--target) and not live yet'
        for d in in_scope
        for dep in d.depends_on
        if dep in known and dep not in names and dep not in pairing.paired
    ]


def _rename_collisions(writes: Sequence[Action], live: LiveWorkspace) -> list[str]:
    """Display names are unique per workspace: a rename onto a taken name fails at apply."""
    return [
        f'"{a.rename_from}" is renamed to "{a.display_name}", a name another live dataflow '
        f"({other.id}) still has: the rename fails unless that one is renamed or deleted first"
        for a in writes
        if a.rename_from is not None
        for other in live.dataflows
        if other.display_name == a.display_name and other.id != a.item_id
    ]
