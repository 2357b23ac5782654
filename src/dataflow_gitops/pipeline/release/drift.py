"""Drift, a three-way compare: desired (git) × last applied (record) × live → :class:`DriftReport`.

Per dataflow the fingerprints say which side moved:

==================  =========================  ==========================================
status              fingerprints               meaning
==================  =========================  ==========================================
in-sync             desired = record = live    nothing to do
pending             desired ≠ record = live    a git change not yet applied (plan shows it)
live-drift          desired = record ≠ live    a hand edit in the portal (hot-fix)
both                desired ≠ record ≠ live    a git change *and* a hand edit
missing-live        recorded, not live         deleted outside the tool
not-deployed        in git, never recorded     a new dataflow waiting for apply (pending)
unrecorded          in git and live, no record deployed by hand or by another tool
unmanaged           live only                  not in the repository; never touched
==================  =========================  ==========================================

Folders count as well (``live`` must be placed in its folders): a dataflow moved by hand in the
workspace is live drift, one moved in git and not applied yet is pending. A record made before
dfg knew folders counts as recording the git folder.

A live difference that ``ignore`` rules hide (diffed against the last applied definition) counts
as in sync. For live drift the report carries the diff *from* the last applied definition *to*
live, query by query, when the caller could render the recorded commit.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from dataflow_gitops.pipeline.model import (
    DATAFLOW_TYPE,
    PLATFORM_PATH,
    DataflowDiff,
    DesiredDataflow,
    IgnoreRule,
    LiveDataflow,
    LiveItem,
)
from dataflow_gitops.pipeline.plan.diff import diff_dataflow
from dataflow_gitops.pipeline.release.records import DeploymentRecord, RecordedItem
from dataflow_gitops.pipeline.workspace import Workspace, secrets_of


class DriftStatus(enum.StrEnum):
    IN_SYNC = "in-sync"
    PENDING = "pending"
    LIVE_DRIFT = "live-drift"
    BOTH = "both"
    MISSING_LIVE = "missing-live"
    NOT_DEPLOYED = "not-deployed"
    UNRECORDED = "unrecorded"
    UNMANAGED = "unmanaged"


LIVE_MOVED = frozenset({DriftStatus.LIVE_DRIFT, DriftStatus.BOTH, DriftStatus.MISSING_LIVE})


@dataclass(frozen=True, slots=True)
class DataflowDrift:
    name: str
    display_name: str
    status: DriftStatus
    item_id: str | None = None
    desired: str | None = None
    """Fingerprints of the three sides (None where that side has no such dataflow)."""
    recorded: str | None = None
    live: str | None = None
    diff: DataflowDiff | None = None
    """Last applied → live, for live drift (None when the recorded commit could not be rendered)."""
    note: str = ""
    live_folder: str | None = None
    """The workspace folder path live has it in; ``desired_folder`` where git puts it."""
    desired_folder: str | None = None

    @property
    def live_drifted(self) -> bool:
        return self.status in LIVE_MOVED


@dataclass(frozen=True, slots=True)
class DriftReport:
    environment: str
    workspace_id: str
    dataflows: tuple[DataflowDrift, ...]
    record_commit: str | None = None
    record_time: str | None = None
    head_commit: str | None = None
    head_dirty: bool = False
    """The desired side includes uncommitted changes of the working tree."""

    @property
    def live_drifted(self) -> bool:
        return any(d.live_drifted for d in self.dataflows)

    def with_status(self, *statuses: DriftStatus) -> tuple[DataflowDrift, ...]:
        return tuple(d for d in self.dataflows if d.status in statuses)


def workspace_drift(
    workspace: Workspace, last_applied: Mapping[str, DesiredDataflow] | None = None
) -> DriftReport:
    """:func:`compare` for an environment read by stages ①–③ (live included): its desired
    dataflows × its latest record × live; ``last_applied`` as :func:`compare` takes it."""
    return compare(
        workspace.desired,
        workspace.latest,
        workspace.live or (),
        environment=workspace.environment.name,
        workspace_id=workspace.workspace_id or "",
        last_applied=last_applied,
        ignore=workspace.environment.ignore,
        head_commit=workspace.snapshot.commit,
        head_dirty=workspace.snapshot.dirty,
        secrets=secrets_of(workspace.environment),
    )


def compare(
    desired: Sequence[DesiredDataflow],
    record: DeploymentRecord | None,
    live: Sequence[LiveDataflow],
    *,
    environment: str,
    workspace_id: str,
    last_applied: Mapping[str, DesiredDataflow] | None = None,
    ignore: Sequence[IgnoreRule] = (),
    head_commit: str | None = None,
    head_dirty: bool = False,
    secrets: Mapping[str, str] | None = None,
) -> DriftReport:
    """Classify every dataflow of git, the record and live (see the module docstring).

    ``last_applied`` (repository name → the recorded commit rendered again) gives the diffs and
    lets ``ignore`` rules apply; it is trusted only where its fingerprint equals the record's.
    ``secrets`` (environment variable → value) appear as ``${env:NAME}`` in the diffs.
    """
    recorded = {i.item_id: i for i in (record.items if record else ())}
    live_by_id = {d.id: d for d in live}
    by_name = {d.display_name: d for d in live}
    by_logical = {d.logical_id.lower(): d for d in live if d.logical_id}
    applied = last_applied or {}
    rows: list[DataflowDrift] = []
    claimed: set[str] = set()
    for want in desired:
        item = _recorded_item(want, list(recorded.values()))
        if item is not None:
            claimed.add(item.item_id)
            found = live_by_id.get(item.item_id)
            rows.append(_three_way(want, item, found, applied, ignore, secrets or {}))
            continue
        found = by_logical.get(want.logical_id.lower()) or by_name.get(want.display_name)
        if found is None:
            rows.append(
                DataflowDrift(
                    want.name, want.display_name, DriftStatus.NOT_DEPLOYED, desired=want.fingerprint
                )
            )
        else:
            claimed.add(found.id)
            rows.append(
                DataflowDrift(
                    want.name,
                    want.display_name,
                    DriftStatus.UNRECORDED,
                    item_id=found.id,
                    desired=want.fingerprint,
                    live=found.fingerprint,
                    note="live exists but no deployment record names it",
                )
            )
    for item in recorded.values():
        if item.item_id in claimed:
            continue
        claimed.add(item.item_id)
        found = live_by_id.get(item.item_id)
        note = "removed from git; apply with prune to delete it"
        if found is None:
            rows.append(
                DataflowDrift(
                    item.name,
                    item.name,
                    DriftStatus.MISSING_LIVE,
                    item_id=item.item_id,
                    recorded=item.fingerprint,
                    note=note,
                )
            )
        else:
            status = DriftStatus.PENDING if found.fingerprint == item.fingerprint else DriftStatus.BOTH
            rows.append(
                DataflowDrift(
                    item.name,
                    found.display_name,
                    status,
                    item_id=item.item_id,
                    recorded=item.fingerprint,
                    live=found.fingerprint,
                    note=note,
                )
            )
    for other in live:
        if other.id not in claimed:
            rows.append(
                DataflowDrift(
                    other.display_name,
                    other.display_name,
                    DriftStatus.UNMANAGED,
                    item_id=other.id,
                    live=other.fingerprint,
                )
            )
    return DriftReport(
        environment=environment,
        workspace_id=workspace_id,
        dataflows=tuple(rows),
        record_commit=record.commit if record else None,
        record_time=record.time if record else None,
        head_commit=head_commit,
        head_dirty=head_dirty,
    )


def _recorded_item(want: DesiredDataflow, items: Sequence[RecordedItem]) -> RecordedItem | None:
    by_logical = next((i for i in items if i.logical_id.lower() == want.logical_id.lower()), None)
    return by_logical or next((i for i in items if i.name == want.name), None)


def _three_way(
    want: DesiredDataflow,
    item: RecordedItem,
    found: LiveDataflow | None,
    applied: Mapping[str, DesiredDataflow],
    ignore: Sequence[IgnoreRule],
    secrets: Mapping[str, str],
) -> DataflowDrift:
    git_moved = want.fingerprint != item.fingerprint
    if found is None:
        return DataflowDrift(
            want.name,
            want.display_name,
            DriftStatus.MISSING_LIVE,
            item_id=item.item_id,
            desired=want.fingerprint,
            recorded=item.fingerprint,
            note="deleted outside dataflow-gitops",
        )
    diff: DataflowDiff | None = None
    live_moved = found.fingerprint != item.fingerprint
    before = applied.get(want.name)
    note = ""
    if live_moved and before is not None and before.fingerprint == item.fingerprint:
        diff = live_changes(before, found, ignore, secrets=secrets)
        if not diff.changed:
            live_moved, diff = False, None
            note = "live differs only where ignore rules apply"
    elif live_moved:
        note = "the recorded commit could not be rendered again; no diff shown"
    recorded_folder = want.folder_path if item.folder is None else item.folder
    live_folder = found.item.folder_path
    if live_folder.casefold() != recorded_folder.casefold():
        live_moved = True
        note = _joined(
            note, f"moved by hand: in {_shown(live_folder)}, git has {_shown(want.folder_path)}"
        )
    if want.folder_path.casefold() != recorded_folder.casefold():
        git_moved = True
        note = _joined(
            note, f"moved in git: {_shown(recorded_folder)} → {_shown(want.folder_path)}, not applied"
        )
    if live_moved and git_moved:
        status = DriftStatus.BOTH
    elif live_moved:
        status = DriftStatus.LIVE_DRIFT
    elif git_moved:
        status = DriftStatus.PENDING
    else:
        status = DriftStatus.IN_SYNC
    return DataflowDrift(
        want.name,
        found.display_name,
        status,
        item_id=item.item_id,
        desired=want.fingerprint,
        recorded=item.fingerprint,
        live=found.fingerprint,
        diff=diff,
        note=note,
        live_folder=live_folder,
        desired_folder=want.folder_path,
    )


def _shown(path: str) -> str:
    return f"{path}/" if path else "/"


def _joined(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def live_changes(
    applied: DesiredDataflow,
    live: LiveDataflow,
    ignore: Sequence[IgnoreRule] = (),
    *,
    secrets: Mapping[str, str] | None = None,
) -> DataflowDiff:
    """What changed from ``applied`` to ``live`` (old = last applied, new = live).

    ``diff_dataflow`` answers "what would writing desired do to live"; swapping the roles makes
    its lines read in the order a reviewer of a hot-fix expects.
    """
    as_desired = DesiredDataflow(
        name=applied.name,
        display_name=live.display_name,
        description=live.item.description,
        logical_id=live.logical_id or applied.logical_id,
        parts=live.parts,
        fingerprint=live.fingerprint,
    )
    as_live = LiveDataflow(
        item=LiveItem(live.id, DATAFLOW_TYPE, applied.display_name, applied.description),
        logical_id=applied.logical_id,
        parts=tuple(p for p in applied.parts if p.path != PLATFORM_PATH),
        fingerprint=applied.fingerprint,
    )
    diff = diff_dataflow(as_desired, as_live, ignore, secrets=secrets)
    return replace(diff, queries=tuple(replace(q, diff=_relabel(q.diff)) for q in diff.queries))


def _relabel(text: str) -> str:
    """The unified-diff headers named for this direction: last applied → live."""
    lines = text.split("\n")
    headers = (("--- live/", "--- last-applied/"), ("+++ desired/", "+++ live/"))
    for index, (old, new) in enumerate(headers):
        if len(lines) > index and lines[index].startswith(old):
            lines[index] = new + lines[index][len(old) :]
    return "\n".join(lines)
