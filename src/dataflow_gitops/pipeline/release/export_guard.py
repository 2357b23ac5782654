"""Export, before anything is written: nothing a user has is lost, no secret reaches a file.

- :func:`exportable` is :func:`export_set` with the secrets taken out (below).
- :func:`check_export_safe` refuses to overwrite uncommitted work (a file export would change
  has uncommitted edits) or to undo a committed change not applied yet (drift's *pending*: the
  source moved since the commit last applied, :func:`unapplied_changes`), unless told which side wins
  (``--overwrite-local``, ``--discard-pending``). The refusal names every file or dataflow.
- :func:`live_with_current_secrets` and :func:`without_secrets` keep secret values out of the
  files: a past value (rotated since, still live), recognised by the salted fingerprints each
  apply keeps in its deployment record, is first read as the current one, so an unchanged query
  goes back to the repository's text; any value left is written as ``${env:NAME}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.pipeline.model import (
    PLATFORM_PATH,
    LiveDataflow,
    Part,
    Snapshot,
    SourceDataflow,
)
from dataflow_gitops.pipeline.release.export_set import export_set
from dataflow_gitops.pipeline.release.records import DeploymentRecord
from dataflow_gitops.pipeline.release.unrender import ExportedDataflow
from dataflow_gitops.pipeline.workspace import Workspace
from dataflow_gitops.secret_mask import MIN_LENGTH, fingerprint, mask, reference

_M_STRING = re.compile(r'"((?:[^"]|"")*)"')
_TOKEN = re.compile(r"[^\s\"'(),;{}\[\]<>/*]{4,}")


def exportable(
    workspace: Workspace,
    names: Sequence[str],
    *,
    history: Sequence[DeploymentRecord],
    existing: set[str],
    platform_bytes: Callable[[SourceDataflow], bytes | None],
    dataflows_dir: str,
) -> tuple[tuple[ExportedDataflow, ...], tuple[str, ...]]:
    """:func:`export_set` with no secret value in it, current or rotated since (recognised by
    the fingerprints in ``history``, the environment's records)."""
    current = dict(workspace.environment.secret_pairs)
    past = past_fingerprints(history)
    live = live_with_current_secrets(workspace.live or (), current=current, past=past)
    exported, skipped = export_set(
        replace(workspace, live=live),
        names,
        existing=existing,
        platform_bytes=platform_bytes,
        dataflows_dir=dataflows_dir,
    )
    return without_secrets(exported, current=current, past=past), skipped


def check_export_safe(
    changes: Mapping[str, Sequence[tuple[Path, bytes | None]]],
    *,
    root: Path,
    environment: str,
    now: Snapshot,
    applied: Snapshot | None,
    overwrite_local: bool,
    discard_pending: bool,
) -> None:
    """``changes``: dataflow → the files export would write or delete (under ``root``, the
    project); ``now`` the source it reads, ``applied`` the source last applied (None: unknown,
    or an export outside the repository's dataflows folder)."""
    base = root.resolve()
    relative = {
        name: [p.relative_to(base).as_posix() if p.is_relative_to(base) else str(p) for p, _ in found]
        for name, found in changes.items()
    }
    dirty = set(now.dirty_paths)
    uncommitted = sorted({p for paths in relative.values() for p in paths if p in dirty})
    if uncommitted and not overwrite_local:
        raise DataflowGitopsError(
            f"export would overwrite uncommitted changes in {', '.join(uncommitted)}; "
            "nothing was written",
            where=f"dfg export -e {environment}",
            hint="commit or stash them first, or pass --overwrite-local to let live win",
        )
    pending = unapplied_changes(now, applied)
    undone = sorted(name for name, paths in relative.items() if paths and name in pending)
    if undone and not discard_pending:
        raise DataflowGitopsError(
            f"export would undo git changes not yet applied to {environment} in "
            f"{', '.join(undone)} (drift calls them pending); nothing was written",
            where=f"dfg export -e {environment}",
            hint=f"apply them first (dfg apply -e {environment}), or pass --discard-pending to "
            "let live win",
        )


def unapplied_changes(now: Snapshot, applied: Snapshot | None) -> frozenset[str]:
    """Dataflows with a committed change since the commit last applied (``applied``; None when
    unknown): what an export of live would undo. Files with uncommitted edits are left to
    :func:`check_export_safe`'s first rule, which names them."""
    if applied is None:
        return frozenset()
    dirty = set(now.dirty_paths)
    then = {d.name: d for d in applied.dataflows}
    return frozenset(
        d.name
        for d in now.dataflows
        if any(f"{d.folder}/{path}" not in dirty for path in _changed_files(d, then.get(d.name)))
    )


def _changed_files(now: SourceDataflow, then: SourceDataflow | None) -> set[str]:
    if then is None:
        return {p.path for p in now.parts} | {PLATFORM_PATH}
    before = {p.path: p.data for p in then.parts}
    after = {p.path: p.data for p in now.parts}
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    return changed | ({PLATFORM_PATH} if now.platform != then.platform else set())


def live_with_current_secrets(
    live: Sequence[LiveDataflow],
    *,
    current: Mapping[str, str],
    past: Mapping[str, Mapping[str, str]],
) -> tuple[LiveDataflow, ...]:
    """``live`` with each recognised past secret value as the current one (or its reference
    when unset), so that unrender sees an unchanged query as unchanged after a rotation."""
    if not past:
        return tuple(live)
    result: list[LiveDataflow] = []
    for dataflow in live:
        parts: list[Part] = []
        for part in dataflow.parts:
            try:
                text = part.data.decode("utf-8")
            except UnicodeDecodeError:
                parts.append(part)
                continue
            swapped = text
            for value, name in list(_past_values(text, part.path, past)):
                swapped = swapped.replace(value, current.get(name) or reference(name))
            # an untouched part keeps what was derived from it (its parsed M document)
            parts.append(part if swapped == text else Part(part.path, swapped.encode("utf-8")))
        changed = any(a is not b for a, b in zip(parts, dataflow.parts, strict=True))
        result.append(replace(dataflow, parts=tuple(parts)) if changed else dataflow)
    return tuple(result)


def past_fingerprints(history: Sequence[DeploymentRecord]) -> dict[str, dict[str, str]]:
    """salt → fingerprint → variable, from every record of the environment."""
    known: dict[str, dict[str, str]] = {}
    for record in history:
        if record.secret_salt:
            table = known.setdefault(record.secret_salt, {})
            for name, digest in record.secret_fingerprints:
                table.setdefault(digest, name)
    return known


def without_secrets(
    exported: Sequence[ExportedDataflow],
    *,
    current: Mapping[str, str],
    past: Mapping[str, Mapping[str, str]],
) -> tuple[ExportedDataflow, ...]:
    """``exported`` with every current or recognised past secret value as ``${env:NAME}``."""
    return tuple(_one(d, current, past) for d in exported)


def _one(
    dataflow: ExportedDataflow, current: Mapping[str, str], past: Mapping[str, Mapping[str, str]]
) -> ExportedDataflow:
    files: list[Part] = []
    notes = list(dataflow.notes)
    for part in dataflow.files:
        try:
            text = part.data.decode("utf-8")
        except UnicodeDecodeError:
            files.append(part)
            continue
        hidden = mask(text, {n: v for n, v in current.items() if len(v) >= MIN_LENGTH})
        for value, name in _past_values(hidden, part.path, past):
            hidden = hidden.replace(value, reference(name))
        if hidden != text:
            names = sorted(set(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", hidden)))
            notes.append(
                f"{part.path} held the value of a secret ({', '.join(names)}), current or "
                "rotated since; written as its ${env:…} reference: review it"
            )
            files.append(Part(part.path, hidden.encode("utf-8")))
        else:
            files.append(part)
    return replace(dataflow, files=tuple(files), notes=tuple(notes))


def _past_values(
    text: str, path: str, past: Mapping[str, Mapping[str, str]]
) -> Iterator[tuple[str, str]]:
    if not past:
        return
    seen: set[str] = set()
    for candidate in _strings(text, path):
        if len(candidate) < MIN_LENGTH or candidate in seen:
            continue
        seen.add(candidate)
        for salt, table in past.items():
            name = table.get(fingerprint(candidate, salt))
            if name is not None:
                yield candidate, name
                break


def _strings(text: str, path: str) -> Iterator[str]:
    """The values a secret could have been substituted as: M text literals, JSON strings, each
    one's words, and any run of characters that punctuation does not break (a comment, an
    identifier). Hashing them all costs milliseconds even for a large mashup."""
    yield from _TOKEN.findall(text)
    found: list[str] = []
    if path.endswith((".json", ".mdf")):
        try:
            found = list(_json_strings(json.loads(text)))
        except ValueError:
            found = []
    else:
        found = [m.group(1).replace('""', '"') for m in _M_STRING.finditer(text)]
    for value in found:
        yield value
        yield from value.split()


def _json_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _json_strings(item)
