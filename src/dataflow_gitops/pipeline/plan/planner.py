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

Actions come out in apply order: dependencies before dependants, deletes last with dependants
first. Each action carries the live fingerprint it was planned against (None when planned as
absent), the precondition a saved plan is checked with before apply.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from dataflow_gitops.errors import MSyntaxError, PlanError
from dataflow_gitops.pipeline.definition import jsonpath
from dataflow_gitops.pipeline.definition.mlang import apply_edits
from dataflow_gitops.pipeline.definition.parts import canonical_bytes, fingerprint
from dataflow_gitops.pipeline.model import (
    KNOWN_AFTER_APPLY,
    MASHUP_PATH,
    METADATA_PATH,
    PLATFORM_PATH,
    Action,
    ActionKind,
    DesiredDataflow,
    IgnoreRule,
    Impact,
    LiveDataflow,
    LiveWorkspace,
    Part,
    Plan,
    PlanPolicy,
)
from dataflow_gitops.pipeline.plan.diff import diff_dataflow, parse_mashup, rule_matches
from dataflow_gitops.pipeline.plan.impact import assess
from dataflow_gitops.pipeline.plan.ordering import delete_order, dependency_order, real_logical_id

KEPT = "live value kept"
# A definition without these is not a dataflow: never dropped because live lacks them.
_REQUIRED_PARTS = (MASHUP_PATH, METADATA_PATH)


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
        actions=(*dependency_order(writes), *delete_order(deletes, pairing.orphans)),
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


# ignore rules: what an ignore rule covers is written as live has it ----------------------------


def keep_ignored_live(
    desired: DesiredDataflow, live: LiveDataflow | None, ignore: Sequence[IgnoreRule]
) -> tuple[DesiredDataflow, tuple[str, ...]]:
    """``desired`` with the live value at every place an ignore rule covers, and a note for each
    place where that changed the payload (``queryMetadata.json: $.x (live value kept)``).

    A create has nothing live to keep. The fingerprint is recomputed, and expressions still
    pending are only those whose token survived.
    """
    if live is None:
        return desired, ()
    rules = [r for r in ignore if rule_matches(r, desired, live)]
    if not rules:
        return desired, ()
    notes: list[str] = []
    new = {p.path: p for p in desired.parts}
    old = {p.path: p for p in live.parts if p.path != PLATFORM_PATH}
    for path in sorted((new.keys() | old.keys()) - {PLATFORM_PATH}):
        part_rules = [r for r in rules if any(fnmatchcase(path, g) for g in r.parts)]
        if not part_rules:
            continue
        mine, theirs = new.get(path), old.get(path)
        if any(not r.json_paths and not r.queries for r in part_rules):
            if theirs is not None and (mine is None or canonical_bytes(mine) != canonical_bytes(theirs)):
                new[path] = theirs
                notes.append(f"{path}: whole part ({KEPT})")
            elif theirs is None and mine is not None and path not in _REQUIRED_PARTS:
                del new[path]
                notes.append(f"{path}: whole part (not live: not written)")
            continue
        if mine is None or theirs is None:
            continue
        if path == MASHUP_PATH:
            globs = tuple(g for r in part_rules for g in r.queries)
            data = _keep_queries(mine.text(), theirs.text(), globs, notes) if globs else None
        else:
            exprs = tuple(e for r in part_rules for e in r.json_paths)
            data = _keep_json(path, mine.data, theirs.data, exprs, notes) if exprs else None
        if data is not None:
            new[path] = Part(path, data)
    if not notes:
        return desired, ()
    parts = tuple(new[p] for p in sorted(new))
    return (
        replace(
            desired,
            parts=parts,
            fingerprint=fingerprint(
                parts, display_name=desired.display_name, description=desired.description
            ),
            pending=tuple(
                e
                for e in desired.pending
                if any((KNOWN_AFTER_APPLY % e).encode("utf-8") in p.data for p in parts)
            ),
        ),
        tuple(notes),
    )


def _keep_queries(mine: str, theirs: str, globs: tuple[str, ...], notes: list[str]) -> bytes | None:
    """The desired mashup with each ignored query's live source (appended if only live has it)."""
    try:
        new_doc, old_doc = parse_mashup(mine), parse_mashup(theirs)
    except MSyntaxError:
        return None  # the diff falls back to a text diff and says why
    edits: list[tuple[tuple[int, int], str]] = []
    appended: list[str] = []
    for member in old_doc.members:
        if not any(fnmatchcase(member.name, g) for g in globs):
            continue
        current = new_doc.member(member.name)
        if current is None:
            appended.append(member.source)
        elif current.source.strip() != member.source.strip():
            edits.append(((current.start, current.end), member.source))
        else:
            continue
        notes.append(f'{MASHUP_PATH}: query "{member.name}" ({KEPT})')
    if not edits and not appended:
        return None
    text = apply_edits(mine, edits)
    if appended:
        text = text.rstrip() + "\n" + "".join(f"\n{source}\n" for source in appended)
    return text.encode("utf-8")


def _keep_json(
    path: str, mine: bytes, theirs: bytes, exprs: tuple[str, ...], notes: list[str]
) -> bytes | None:
    try:
        doc, live_doc = json.loads(mine.decode("utf-8-sig")), json.loads(theirs.decode("utf-8-sig"))
    except ValueError:
        return None
    original = json.dumps(doc, sort_keys=True)
    for expr in exprs:
        try:
            wanted = dict(jsonpath.find(live_doc, expr))
            present = dict(jsonpath.find(doc, expr))
        except jsonpath.JsonPathError as exc:
            raise PlanError(
                f"ignore rule for {path}: {exc}", hint="fix the JSONPath in the overlay's ignore rules"
            ) from None
        before = json.dumps(doc, sort_keys=True)
        for where, value in wanted.items():
            _put(doc, where, value)
        # Values only the repository has are dropped where live holds the container without them.
        gone = [w for w in present if w not in wanted and w and _at(live_doc, w[:-1]) is not _MISSING]
        for where in sorted(
            gone, key=lambda w: (len(w), w[-1] if isinstance(w[-1], int) else -1), reverse=True
        ):
            _remove(doc, where)
        if json.dumps(doc, sort_keys=True) != before:
            notes.append(f"{path}: {expr} ({KEPT})")
    if json.dumps(doc, sort_keys=True) == original:
        return None
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


_MISSING = object()


def _at(doc: Any, where: tuple[str | int, ...]) -> Any:
    """The node at ``where`` in a JSON document, or ``_MISSING``."""
    node = doc
    for key in where:
        found = (isinstance(node, dict) and isinstance(key, str) and key in node) or (
            isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)
        )
        if not found:
            return _MISSING
        node = node[key]
    return node


def _put(doc: Any, where: tuple[str | int, ...], value: Any) -> None:
    """Set ``value`` at ``where`` when its container exists in ``doc`` (nothing is created)."""
    if not where:
        return
    parent, key = _at(doc, where[:-1]), where[-1]
    if isinstance(parent, dict) or _at(parent, (key,)) is not _MISSING:
        parent[key] = value


def _remove(doc: Any, where: tuple[str | int, ...]) -> None:
    if where and _at(doc, where) is not _MISSING:
        del _at(doc, where[:-1])[where[-1]]


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
