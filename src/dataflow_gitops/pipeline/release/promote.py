"""Promotion, before ② render: environment A's latest DeploymentRecord + live A → the commit B gets.

What ships to B is what A ran: the commit of A's last record, and only while live A still holds
exactly what that record says was written (per-item fingerprints; a difference that A's own
``ignore`` rules hide, e.g. engine tuning, is not a change, as in ``dfg drift``), and only if A
ran that commit in full (an ``apply --target`` leaves the other dataflows at older versions).

The checks here are pure: :func:`source_environment` settles ``--from`` against B's
``promote_from`` and the project's ``promotion_order``; :func:`verify_source` compares the
record with live A and returns the commit, or raises naming every drifted or untested
dataflow. Rendering that commit with B's overlay and planning it is the ordinary plan
(``deploy.plan(ref=commit)``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dataflow_gitops.config import Environment, Project
from dataflow_gitops.errors import PlanError
from dataflow_gitops.pipeline.model import DesiredDataflow, IgnoreRule, LiveDataflow
from dataflow_gitops.pipeline.release.drift import live_changes
from dataflow_gitops.pipeline.release.records import DeploymentRecord, RecordedItem


@dataclass(frozen=True, slots=True)
class PromotionSource:
    """The release to promote: A's name, its last record and the commit that record names."""

    environment: str
    record: DeploymentRecord
    commit: str


def source_environment(target: Environment, project: Project, requested: str | None) -> str:
    """The environment to promote ``target`` from.

    ``requested`` (``--from``) must agree with ``target.promote_from`` when the overlay declares
    one: promoting prod from dev by mistake would skip test, so a disagreement is refused rather
    than warned about. Without ``--from``, ``promote_from`` is used, else the environment before
    ``target`` in ``promotion_order``.
    """
    declared = target.promote_from
    if requested is not None and declared is not None and requested != declared:
        raise PlanError(
            f"{target.name} is promoted from {declared!r} (promote_from), not from {requested!r}",
            where=target.path,
            hint=f"run `dfg promote --from {declared} --to {target.name}`, or change promote_from",
        )
    if requested is not None:
        if requested == target.name:
            raise PlanError(
                f"cannot promote {target.name!r} from itself", hint="pass another environment to --from"
            )
        _check_order(project, requested, target.name)
        return requested
    if declared is not None:
        return declared
    order = project.promotion_order
    if target.name in order and order.index(target.name) > 0:
        return order[order.index(target.name) - 1]
    raise PlanError(
        f"no environment to promote {target.name!r} from",
        where=target.path,
        hint="pass --from ENV, or set promote_from in the overlay",
    )


def _check_order(project: Project, source: str, target: str) -> None:
    order = project.promotion_order
    if source in order and target in order and order.index(source) > order.index(target):
        raise PlanError(
            f"{source!r} comes after {target!r} in promotion_order ({' → '.join(order)})",
            where="dataflow-gitops.yaml",
            hint="promote along the order, or use `dfg apply --ref` for a deliberate rollback",
        )


def verify_source(
    environment: str,
    record: DeploymentRecord | None,
    live: Sequence[LiveDataflow],
    *,
    ships: Callable[[str], bool] = lambda name: True,
    last_applied: Mapping[str, DesiredDataflow] | None = None,
    ignore: Sequence[IgnoreRule] = (),
) -> PromotionSource:
    """A's release, when live A still equals its last record; PlanError naming what moved.

    ``ships`` says which dataflows the target receives (its scope, ``--target``): a hand edit in
    a dataflow the target never gets does not block the promotion. ``last_applied`` is the
    record's commit rendered again for A: with it, A's ``ignore`` rules let a difference they
    hide pass, and a commit A ran only in part (``apply --target``) is refused for the dataflows
    A never ran at that commit. Empty when it could not be rendered: fingerprints alone decide.
    """
    if record is None:
        raise PlanError(
            f"{environment} has no deployment record, so there is nothing tested to promote",
            where=f"environment {environment}",
            hint=f"apply to {environment} first (`dfg apply -e {environment}`); "
            "in CI, `git fetch --tags` so the dfg/* record tags are present",
        )
    if not record.commit:
        raise PlanError(
            f"the last apply to {environment} names no commit",
            where=f"record of {environment} at {record.time}",
            hint=f"apply a committed state to {environment} first",
        )
    if record.dirty:
        raise PlanError(
            f"the last apply to {environment} was made from uncommitted files, "
            f"so commit {record.commit[:12]} is not what runs there",
            where=f"record of {environment} at {record.time}",
            hint=f"commit, apply to {environment} again, then promote",
        )
    if not record.ok:
        raise PlanError(
            f"the last apply to {environment} did not complete (some actions failed)",
            where=f"record of {environment} at {record.time}",
            hint=f"fix it and apply to {environment} again before promoting",
        )
    moved = drifted_items(record, live, last_applied=last_applied, ignore=ignore)
    drifted = [name for name in moved if ships(name.removesuffix(" (deleted)"))]
    if drifted:
        raise PlanError(
            f"live {environment} no longer matches what was last applied there: {', '.join(drifted)}",
            where=f"environment {environment}",
            hint=f"see `dfg drift -e {environment}`; re-apply {environment} or bring the "
            "change into git (`dfg export`) before promoting",
        )
    check_complete(environment, record, last_applied or {}, live, ignore=ignore, ships=ships)
    return PromotionSource(environment, record, record.commit)


def check_complete(
    environment: str,
    record: DeploymentRecord,
    rendered: Mapping[str, DesiredDataflow],
    live: Sequence[LiveDataflow] = (),
    *,
    ignore: Sequence[IgnoreRule] = (),
    ships: Callable[[str], bool] = lambda name: True,
) -> None:
    """PlanError naming the shipped dataflows the record's commit has that A never ran at it."""
    partial = [
        name
        for name in untested_items(record, rendered, live, ignore)
        if ships(name.removesuffix(" (never applied)"))
    ]
    if partial:
        raise PlanError(
            f"commit {(record.commit or '')[:12]} was applied to {environment} only in part; "
            f"{environment} never ran its version of: {', '.join(partial)}",
            where=f"record of {environment} at {record.time}",
            hint=f"apply that commit to {environment} in full (`dfg apply -e {environment}`), "
            "or promote only what it ran (--target)",
        )


def pick_release(
    environment: str, history: Sequence[DeploymentRecord], commit: str, ref: str
) -> DeploymentRecord:
    """The newest complete record of ``environment`` at ``commit`` (``--ref``: an earlier release
    the source environment ran, e.g. to roll the target back); PlanError if it never ran it."""
    for record in history:
        if record.commit == commit and record.ok and not record.dirty:
            return record
    raise PlanError(
        f"{ref} ({commit[:12]}) was never applied completely to {environment}, so it is untested there",
        where=f"environment {environment}",
        hint=f"see `dfg history -e {environment}` for the commits it ran",
    )


def drifted_items(
    record: DeploymentRecord,
    live: Sequence[LiveDataflow],
    *,
    last_applied: Mapping[str, DesiredDataflow] | None = None,
    ignore: Sequence[IgnoreRule] = (),
) -> list[str]:
    """Recorded dataflows whose live definition differs from the record, or that are gone."""
    by_id = {d.id: d for d in live}
    drifted: list[str] = []
    for item in record.items:
        found = by_id.get(item.item_id)
        if found is None:
            drifted.append(f"{item.name} (deleted)")
        elif found.fingerprint != item.fingerprint and not _only_ignored(
            item, found, last_applied or {}, ignore
        ):
            drifted.append(item.name)
    return sorted(drifted)


def untested_items(
    record: DeploymentRecord,
    rendered: Mapping[str, DesiredDataflow],
    live: Sequence[LiveDataflow],
    ignore: Sequence[IgnoreRule] = (),
) -> list[str]:
    """Dataflows of the record's commit (rendered for A) that A did not run at that commit.

    After ``apply --target`` the record names the new commit but keeps the other dataflows'
    older entries: their version at this commit was never written to A. A recorded fingerprint
    that is live's (a no-op whose difference ``ignore`` rules hid) still counts as run.
    """
    recorded = {i.name: i for i in record.items}
    live_by_id = {d.id: d for d in live}
    untested: list[str] = []
    for name, want in rendered.items():
        item = recorded.get(name)
        if item is None:
            untested.append(f"{name} (never applied)")
            continue
        if want.fingerprint == item.fingerprint:
            continue
        found = live_by_id.get(item.item_id)
        if (
            ignore
            and found is not None
            and found.fingerprint == item.fingerprint
            and not live_changes(want, found, ignore).changed
        ):
            continue
        untested.append(name)
    return sorted(untested)


def _only_ignored(
    item: RecordedItem,
    found: LiveDataflow,
    last_applied: Mapping[str, DesiredDataflow],
    ignore: Sequence[IgnoreRule],
) -> bool:
    """True when live differs from the record only where ``ignore`` rules look away.

    The re-rendered definition is trusted only when it reproduces the record's fingerprint:
    otherwise (the overlay changed since) it is not what was applied, and the check stays strict.
    """
    before = last_applied.get(item.name)
    if not ignore or before is None or before.fingerprint != item.fingerprint:
        return False
    return not live_changes(before, found, ignore).changed
