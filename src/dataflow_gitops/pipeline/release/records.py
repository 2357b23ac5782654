"""⑦ apply, afterwards: ApplyResult + Plan → DeploymentRecord, kept as a git tag or a file.

A record says what one apply left live in one environment: which commit, by whom, when, and
per dataflow its item id, logicalId and fingerprint. ``history``, ``drift`` (the "last applied"
side of the three-way compare), ``promote`` (the commit to ship) and the planner's prune rule
(:func:`managed_ids`) read them. Records hold no payloads and no secrets: names, ids and hashes.

In a git repository a record is an annotated tag ``dfg/<env>/<yyyymmddThhmmssZ>`` on the deployed
commit, its message the record as JSON, so CI can share it with
``git push origin 'refs/tags/dfg/*'`` (and must ``git fetch --tags`` before reading). Outside git
it is one JSON line per apply in ``.dataflow-gitops/records/<env>.jsonl``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from secrets import token_hex
from typing import Any, Protocol

from dataflow_gitops import __version__
from dataflow_gitops.config.project import environment_name_problem
from dataflow_gitops.errors import RecordError
from dataflow_gitops.pipeline.model import ActionKind, ApplyResult, OutcomeStatus, Plan
from dataflow_gitops.secret_mask import MIN_LENGTH, fingerprint

FORMAT_VERSION = 1
RECORDS_DIR = Path(".dataflow-gitops") / "records"


@dataclass(frozen=True, slots=True)
class RecordedItem:
    """One dataflow the tool manages, as the apply left it live."""

    name: str
    """Repository name (for a dataflow kept from an earlier record, the name it had then)."""
    item_id: str
    logical_id: str
    fingerprint: str
    """:func:`pipeline.parts.fingerprint` of the definition written: compare with live for drift."""
    published: bool | None = None
    """False when the definition was written but its ApplyChanges job failed: the next
    ``apply --publish`` publishes it even though its plan is a no-op. True once published; None
    when no apply asked to publish it."""
    folder: str | None = None
    """The workspace folder path it was left in ("" = root); None in records made before
    dfg knew folders."""


@dataclass(frozen=True, slots=True)
class DeploymentRecord:
    environment: str
    workspace_id: str
    commit: str | None
    dirty: bool
    time: str
    """UTC, ISO 8601 with a ``Z``: ``2026-11-28T12:00:00Z``."""
    actor: str
    tool_version: str
    items: tuple[RecordedItem, ...]
    ok: bool = True
    """False when some action failed or was skipped: the environment is not wholly at ``commit``."""
    dirty_paths: tuple[str, ...] = ()
    """The uncommitted render inputs that made it ``dirty`` (project-relative)."""
    secret_salt: str = ""
    """The environment's salt for :attr:`secret_fingerprints` (kept from record to record)."""
    secret_fingerprints: tuple[tuple[str, str], ...] = ()
    """(variable, salted sha256) of each secret value substituted into this apply, never the
    value: lets export recognise a value rotated since that is still live."""
    interrupted: bool = False
    """Ctrl-C or SIGTERM stopped the apply part way (``ok`` is False): the items it lists are
    what completed; the rest stayed as the record before said."""

    def item_ids(self) -> frozenset[str]:
        return frozenset(i.item_id for i in self.items)


class RecordStore(Protocol):
    def write(self, record: DeploymentRecord) -> str:
        """Store the record; return where (a tag name or a file path) for the user."""
        ...

    def latest(self, environment: str) -> DeploymentRecord | None: ...

    def history(self, environment: str) -> tuple[DeploymentRecord, ...]:
        """Every record of the environment, newest first."""
        ...


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def detect_actor(
    environ: Mapping[str, str] = os.environ, *, git_user: Callable[[], str | None] = lambda: None
) -> str:
    """Who deployed: the CI user (GitHub Actions, Azure DevOps), else git's user.name, else $USER."""
    for name in ("GITHUB_ACTOR", "BUILD_REQUESTEDFOR"):
        if environ.get(name):
            return environ[name]
    return git_user() or environ.get("USER") or environ.get("USERNAME") or "unknown"


def record_from_result(
    result: ApplyResult,
    plan: Plan,
    *,
    actor: str,
    time: str | None = None,
    previous: DeploymentRecord | None = None,
    tool_version: str = __version__,
    secret_salt: str = "",
    secret_fingerprints: tuple[tuple[str, str], ...] = (),
) -> DeploymentRecord:
    """The record of one apply.

    Items are every dataflow now live that the tool manages: the previous record's items, then
    each succeeded create/update (with the fingerprint actually written, late bindings included)
    and no-op (the live fingerprint it was planned against), minus succeeded deletes. An item
    whose action failed keeps its previous entry, so a ``--target`` apply or a partial failure
    never makes the tool forget what it manages. ``published`` comes from the outcome; a no-op
    that was not published again keeps the previous entry's.
    """
    items = {i.item_id: i for i in (previous.items if previous else ())}
    for outcome in result.outcomes:
        action = outcome.action
        if outcome.status is not OutcomeStatus.SUCCEEDED or not outcome.item_id:
            continue
        if action.kind is ActionKind.DELETE:
            items.pop(outcome.item_id, None)
        elif action.desired is not None:
            desired = action.desired
            # A no-op wrote nothing: what is live is what it was planned against, which differs
            # from desired when ignore rules hid a difference.
            recorded = desired.fingerprint
            published = outcome.published
            if action.kind is ActionKind.NOOP:
                if action.live_fingerprint:
                    recorded = action.live_fingerprint
                if published is None and outcome.item_id in items:
                    published = items[outcome.item_id].published
            items[outcome.item_id] = RecordedItem(
                desired.name,
                outcome.item_id,
                desired.logical_id,
                recorded,
                published,
                desired.folder_path,
            )
    return DeploymentRecord(
        environment=plan.environment,
        workspace_id=plan.workspace_id,
        commit=plan.commit,
        dirty=plan.dirty,
        dirty_paths=plan.dirty_paths,
        time=time or utc_now(),
        actor=actor,
        tool_version=tool_version,
        items=tuple(sorted(items.values(), key=lambda i: (i.name, i.item_id))),
        ok=all(o.status is OutcomeStatus.SUCCEEDED for o in result.outcomes),
        secret_salt=secret_salt,
        secret_fingerprints=secret_fingerprints,
        interrupted=result.interrupted is not None,
    )


@dataclass(frozen=True, slots=True)
class Applied:
    """An apply's result, and what became of its record."""

    result: ApplyResult
    record: DeploymentRecord | None
    """None when nothing changed and the latest record already names this commit."""
    record_location: str | None
    """The tag name or file the record went to."""
    record_error: RecordError | None = None
    """Set when the apply ran but its record could not be written (the result still stands)."""


def record_apply(
    store: RecordStore,
    result: ApplyResult,
    plan: Plan,
    *,
    previous: DeploymentRecord | None,
    actor: Callable[[], str],
    secrets: Mapping[str, str],
) -> Applied:
    """Write the record of an apply where one is worth writing (:func:`worth_recording`;
    ``previous``: the latest record when the apply began); a record that cannot be written is
    reported in the result, not raised, since the apply itself stands."""
    if not worth_recording(result, plan, previous):
        return Applied(result, None, None)
    record = record_of_apply(
        result,
        plan,
        actor=actor(),
        # Read again: a run elsewhere (another machine) may have recorded meanwhile; building
        # on its record keeps what it deployed managed.
        previous=store.latest(plan.environment) or previous,
        secrets=secrets,
    )
    try:
        return Applied(result, record, store.write(record))
    except RecordError as exc:
        return Applied(result, record, None, exc)


def worth_recording(result: ApplyResult, plan: Plan, previous: DeploymentRecord | None) -> bool:
    """Whether an apply leaves something a record must say: not when nothing changed and the
    latest record (``previous``) already names this commit, nor when nothing was written (live
    is as the latest record says, and a record of this run would only hide it)."""
    published_again = any(o.published is not None for o in result.outcomes)
    if not (plan.has_changes or published_again) and previous and previous.commit == plan.commit:
        return False
    return not plan.has_changes or any(
        o.status is OutcomeStatus.SUCCEEDED and (o.action.is_change or o.published is not None)
        for o in result.outcomes
    )


def record_of_apply(
    result: ApplyResult,
    plan: Plan,
    *,
    actor: str,
    previous: DeploymentRecord | None,
    secrets: Mapping[str, str],
    new_salt: Callable[[], str] = lambda: token_hex(16),
) -> DeploymentRecord:
    """:func:`record_from_result` with the fingerprints of the secrets written (never values:
    export recognises them once rotated), salted with the environment's salt (kept from record
    to record; ``new_salt`` for the first)."""
    salt = previous.secret_salt if previous and previous.secret_salt else new_salt()
    return record_from_result(
        result,
        plan,
        actor=actor,
        previous=previous,
        secret_salt=salt,
        secret_fingerprints=secret_fingerprints(secrets, salt),
    )


def secret_fingerprints(secrets: Mapping[str, str], salt: str) -> tuple[tuple[str, str], ...]:
    """(variable, salted fingerprint) of every secret value long enough to recognise."""
    return tuple(
        sorted(
            (name, fingerprint(value, salt))
            for name, value in secrets.items()
            if len(value) >= MIN_LENGTH
        )
    )


def unpublished_ids(record: DeploymentRecord | None) -> frozenset[str]:
    """Item ids written but not published (their ApplyChanges failed): ``apply --publish`` retries."""
    if record is None:
        return frozenset()
    return frozenset(i.item_id for i in record.items if i.published is False)


def managed_ids(store: RecordStore, environment: str) -> frozenset[str]:
    """Item ids the latest record says this tool deployed (what prune may delete by default)."""
    record = store.latest(environment)
    return record.item_ids() if record else frozenset()


def record_to_json(record: DeploymentRecord) -> str:
    data = {"format_version": FORMAT_VERSION, **asdict(record)}
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def record_from_json(text: str, *, source: str) -> DeploymentRecord:
    """Parse a record; anything malformed is a RecordError naming ``source`` (a tag or file:line)."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unknown format_version {data.get('format_version')!r}")
        items = tuple(_item(i) for i in data["items"])
        return DeploymentRecord(
            environment=_str(data["environment"]),
            workspace_id=_str(data["workspace_id"]),
            commit=None if data["commit"] is None else _str(data["commit"]),
            dirty=bool(data["dirty"]),
            time=_str(data["time"]),
            actor=_str(data["actor"]),
            tool_version=_str(data["tool_version"]),
            items=items,
            ok=bool(data.get("ok", True)),
            interrupted=bool(data.get("interrupted", False)),
            dirty_paths=tuple(_str(p) for p in data.get("dirty_paths", ())),
            secret_salt=_str(data.get("secret_salt", "")),
            secret_fingerprints=tuple(
                (_str(n), _str(h)) for n, h in data.get("secret_fingerprints", ())
            ),
        )
    except (ValueError, TypeError, KeyError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc).split("\n")[0]
        raise RecordError(
            f"corrupt deployment record ({detail})",
            where=source,
            hint="delete or repair it; records are written by `dfg apply`",
        ) from None


def _item(data: Any) -> RecordedItem:
    if not isinstance(data, dict):
        raise TypeError("an item is not a JSON object")
    published = data.get("published")
    if published is not None and not isinstance(published, bool):
        raise TypeError(f"published is {type(published).__name__}, not a boolean")
    folder = data.get("folder")
    return RecordedItem(
        _str(data["name"]),
        _str(data["item_id"]),
        _str(data["logical_id"]),
        _str(data["fingerprint"]),
        published,
        None if folder is None else _str(folder),
    )


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def check_environment_name(environment: str) -> str:
    problem = environment_name_problem(environment)
    if problem is not None:
        raise RecordError(f"{environment!r} cannot be an environment name", hint=problem)
    return environment
