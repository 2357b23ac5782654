"""⑤ plan: desired dataflows × live workspace + deployment records + policy → ordered Plan.

Pairing follows Fabric Git integration: a desired dataflow is the live item with the same
``.platform`` logicalId, else the live dataflow with the same display name. Same logicalId under
another name is a rename in place (one UPDATE carrying ``rename_from``), never delete + create,
so the item id and everything pointing at it survive. Live dataflows nobody claims are deleted
only when the environment prunes and the item is ours (a deployment record lists its id, or the
environment prunes unrecorded items too); the rest are listed as unmanaged and never touched.

Where an ``ignore`` rule covers a value, the action's payload carries the LIVE value
(:func:`pipeline.diff.keep_ignored_live`): an update made for another reason never overwrites it.
A create changes nothing existing, so its impact is ``none`` (shown as "new").

Actions come out in apply order: dependencies before dependants, deletes last with dependants
first. Each action carries the live fingerprint it was planned against (None when planned as
absent), the precondition a saved plan is checked with before apply.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fnmatch import fnmatchcase

from dataflow_gitops.errors import DependencyError, MSyntaxError, PlanError
from dataflow_gitops.pipeline.diff import diff_dataflow, keep_ignored_live, parse_mashup
from dataflow_gitops.pipeline.impact import assess
from dataflow_gitops.pipeline.mlang import dataflow_references
from dataflow_gitops.pipeline.model import (
    MASHUP_PATH,
    ZERO_GUID,
    Action,
    ActionKind,
    DesiredDataflow,
    Impact,
    LiveDataflow,
    LiveWorkspace,
    Plan,
    PlanPolicy,
)


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
    secrets: Mapping[str, str] | None = None,
) -> Plan:
    """The Plan that would make ``live`` match ``desired`` under ``policy``.

    ``secrets`` (environment variable → value) are masked as ``${env:NAME}`` in every diff line.
    """
    _check_targets(desired, live, policy.targets)
    _check_unique_names(desired)
    pairing = _pair(desired, live)
    in_scope = [d for d in desired if _targeted(policy.targets, d.name, d.display_name)]
    warnings: list[str] = []
    writes = [_write_action(d, pairing.paired.get(d.name), policy, secrets or {}) for d in in_scope]
    names = {a.name for a in writes}
    writes = [_with_deps(a, names) for a in writes]
    warnings += _missing_dependency_warnings(in_scope, names, pairing, desired)
    warnings += _rename_collisions(writes, live)
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
    return Plan(
        environment=environment,
        workspace_id=live.workspace_id,
        actions=(*_dependency_order(writes), *_delete_order(deletes, pairing.orphans)),
        commit=commit,
        dirty=dirty,
        ref=ref,
        overlay_hash=overlay_hash,
        created_at=created_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        unmanaged=tuple(sorted(unmanaged)),
        warnings=tuple(warnings),
    )


# pairing --------------------------------------------------------------------------------------


def _check_unique_names(desired: Sequence[DesiredDataflow]) -> None:
    seen: dict[str, str] = {}
    for d in desired:
        other = seen.setdefault(d.display_name, d.name)
        if other != d.name:
            raise PlanError(
                f'"{other}" and "{d.name}" both become the display name "{d.display_name}"',
                where=d.name,
                hint="display names are unique per workspace: change one .platform displayName or "
                "the environment's display-name template",
            )


def _pair(desired: Sequence[DesiredDataflow], live: LiveWorkspace) -> _Pairing:
    paired: dict[str, LiveDataflow] = {}
    claimed: set[str] = set()
    by_logical: dict[str, LiveDataflow] = {}
    for item in live.dataflows:
        if _real_logical_id(item.logical_id):
            by_logical.setdefault(item.logical_id or "", item)
    for d in desired:
        match = by_logical.get(d.logical_id) if _real_logical_id(d.logical_id) else None
        if match is not None and match.id not in claimed:
            paired[d.name] = match
            claimed.add(match.id)
    for d in desired:
        if d.name in paired:
            continue
        same_name = [
            i for i in live.dataflows if i.display_name == d.display_name and i.id not in claimed
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
    orphans = tuple(i for i in live.dataflows if i.id not in claimed)
    return _Pairing(paired, orphans)


def _real_logical_id(logical_id: str | None) -> bool:
    return bool(logical_id) and logical_id != ZERO_GUID


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
    diff = diff_dataflow(desired, live, policy.ignore, secrets=secrets)
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
    return replace(
        action,
        kind=ActionKind.UPDATE if diff.changed else ActionKind.NOOP,
        item_id=live.id,
        live_fingerprint=live.fingerprint,
        rename_from=rename_from,
        reason="; ".join(reasons),
    )


def _with_deps(action: Action, names: set[str]) -> Action:
    deps = tuple(d for d in action.depends_on if d in names and d != action.name)
    return action if deps == action.depends_on else replace(action, depends_on=deps)


def _delete_reason(orphan: LiveDataflow, policy: PlanPolicy, managed: set[str]) -> str | None:
    if not policy.prune:
        return None
    if any(fnmatchcase(orphan.display_name, g) for g in policy.prune_exclude):
        return None
    if orphan.id in managed:
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


# ordering -------------------------------------------------------------------------------------


def _dependency_order(actions: Sequence[Action]) -> list[Action]:
    """Topological order (dependencies first); ties keep the input order, so plans are stable."""
    by_name = {a.name: a for a in actions}
    done: set[str] = set()
    visiting: list[str] = []
    ordered: list[Action] = []

    def visit(action: Action) -> None:
        if action.name in done:
            return
        if action.name in visiting:
            cycle = [*visiting[visiting.index(action.name) :], action.name]
            raise DependencyError(
                f"dataflows read each other in a cycle: {' → '.join(cycle)}",
                cycle=cycle,
                hint="break the cycle: one of them must not read the other",
            )
        visiting.append(action.name)
        for dep in action.depends_on:
            if dep in by_name:
                visit(by_name[dep])
        visiting.pop()
        done.add(action.name)
        ordered.append(action)

    for action in actions:
        visit(action)
    return ordered


def _delete_order(deletes: Sequence[Action], orphans: Sequence[LiveDataflow]) -> list[Action]:
    """Deletes with dependants first: a dataflow that reads another goes before the one it reads."""
    if len(deletes) < 2:
        return list(deletes)
    by_id = {o.id: o for o in orphans}
    # References name the item id, or the logicalId once fabric-cicd-style rewriting happened.
    key_to_name: dict[str, str] = {}
    for action in deletes:
        item = by_id[action.item_id or ""]
        key_to_name[item.id] = action.name
        if _real_logical_id(item.logical_id):
            key_to_name[item.logical_id or ""] = action.name
    readers: dict[str, set[str]] = {a.name: set() for a in deletes}
    for action in deletes:
        for read in _reads(by_id[action.item_id or ""]):
            target = key_to_name.get(read)
            if target is not None and target != action.name:
                readers[target].add(action.name)
    # A dataflow is deleted after every dataflow that reads it: model that as a dependency.
    as_deps = [replace(a, depends_on=tuple(sorted(readers[a.name]))) for a in deletes]
    try:
        return _dependency_order(as_deps)
    except DependencyError:
        return list(deletes)  # live items reading each other in a cycle: no order is better


def _reads(item: LiveDataflow) -> set[str]:
    part = item.part(MASHUP_PATH)
    if part is None:
        return set()
    try:
        doc = parse_mashup(part.text())
    except MSyntaxError:
        return set()
    return {r.dataflow_id for r in dataflow_references(doc)}
