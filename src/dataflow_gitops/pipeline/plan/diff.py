"""④ diff: DesiredDataflow × LiveDataflow | None → DataflowDiff.

Each part is compared by meaning, not by bytes: JSON parts (``*.json``, ``*.mdf``) structurally
after parsing (deepdiff, so key order and formatting never count), ``mashup.pq`` member by member
(a unified diff of each changed query only), other text parts line by line after newline
normalisation. ``.platform`` is never compared as a part: its display name and description become
:class:`PropertyChange` values, which PATCH can apply without touching the definition. ``ignore``
rules drop values, queries or whole parts from both sides first; what they hid is recorded in
``DataflowDiff.ignored`` so the plan can say so.

The planner first carries the live value of every ignored place into the desired payload
(:func:`pipeline.plan.keep_live.keep_ignored_live`), so an ignored difference is never written either.

Secret values are shown as ``${env:NAME}``; the value a line held before (read from live, and
unknown once the secret is rotated) is hidden wherever the new line holds a reference.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent

from dataflow_gitops.config import jsonpath
from dataflow_gitops.errors import MSyntaxError, PlanError
from dataflow_gitops.pipeline.definition.mashups import part_document
from dataflow_gitops.pipeline.definition.mlang import split_queries
from dataflow_gitops.pipeline.definition.parts import canonical_bytes
from dataflow_gitops.pipeline.model import (
    MASHUP_PATH,
    PLATFORM_PATH,
    SCHEDULES_PATH,
    ChangeKind,
    DataflowDiff,
    DesiredDataflow,
    IgnoreRule,
    LiveDataflow,
    Part,
    PartChange,
    PropertyChange,
    QueryChange,
    ScheduleChange,
)
from dataflow_gitops.pipeline.plan.ignoring import PartIgnore, part_ignores
from dataflow_gitops.pipeline.plan.schedules import diff_schedules
from dataflow_gitops.secret_mask import mask as secrets_mask

# .schedules (Fabric's schedules in Git) is JSON too: compared by meaning, not spacing.
JSON_SUFFIXES = (".json", ".mdf", ".schedules")
KNOWN_AFTER_APPLY_TEXT = "(known after apply)"
_PENDING = re.compile(r"\$\{known-after-apply:[^}]*\}")
_MAX_VALUE_CHARS = 120


def diff_dataflow(
    desired: DesiredDataflow,
    live: LiveDataflow | None,
    ignore: Sequence[IgnoreRule] = (),
    *,
    secrets: Mapping[str, str] | None = None,
    prune: bool = True,
) -> DataflowDiff:
    """What would change in ``live`` if ``desired`` were written; empty when nothing would.

    ``secrets`` (environment variable → value) are shown as ``${env:NAME}`` in every line.
    The ``.schedules`` part is compared schedule by schedule (:mod:`pipeline.plan.schedules`);
    without ``prune`` a live schedule the repository lacks is kept, not removed.
    """
    if live is None:
        return _creation(desired)
    secrets = secrets or {}
    ignored: list[str] = []
    part_changes: list[PartChange] = []
    query_changes: list[QueryChange] = []
    new = {p.path: p for p in desired.parts if p.path != PLATFORM_PATH}
    old = {p.path: p for p in live.parts if p.path != PLATFORM_PATH}
    schedules: tuple[ScheduleChange, ...] = ()
    paths = sorted(new.keys() | old.keys())
    covered = part_ignores(ignore, desired, live, paths)
    for path in paths:
        rule = covered.get(path, _NOTHING)
        if rule.whole:
            if path not in new or path not in old or _canonical(new[path]) != _canonical(old[path]):
                ignored.append(f"{path}: whole part ignored")
            continue
        if path == SCHEDULES_PATH:
            schedules = diff_schedules(new.get(path), old.get(path), prune=prune)
            continue
        if path not in old:
            part_changes.append(PartChange(path, ChangeKind.ADDED))
        elif path not in new:
            part_changes.append(PartChange(path, ChangeKind.REMOVED))
        elif _canonical(new[path]) == _canonical(old[path]):
            continue
        elif path == MASHUP_PATH:
            queries, details = _diff_mashup(old[path], new[path], rule.queries, ignored)
            query_changes.extend(queries)
            if details:
                part_changes.append(PartChange(path, ChangeKind.MODIFIED, details))
        else:
            details = _diff_other(path, old[path], new[path], rule.json_paths, ignored, secrets)
            if details:
                part_changes.append(PartChange(path, ChangeKind.MODIFIED, details))
    diff = DataflowDiff(
        name=desired.name,
        parts=tuple(part_changes),
        queries=tuple(query_changes),
        properties=_property_changes(desired, live),
        ignored=tuple(ignored),
        schedules=schedules,
    )
    return mask_diff(diff, secrets)


def _creation(desired: DesiredDataflow) -> DataflowDiff:
    """A new dataflow: every part and query is added (bodies are not repeated in the plan)."""
    parts = tuple(
        PartChange(p.path, ChangeKind.ADDED)
        for p in desired.parts
        if p.path not in (PLATFORM_PATH, MASHUP_PATH, SCHEDULES_PATH)
    )
    schedules = diff_schedules(desired.part(SCHEDULES_PATH), None)
    mashup = desired.part(MASHUP_PATH)
    queries: tuple[QueryChange, ...] = ()
    if mashup is not None:
        try:
            names = split_queries(part_document(mashup))
            queries = tuple(QueryChange(name, ChangeKind.ADDED) for name in names)
        except MSyntaxError:
            parts = (PartChange(MASHUP_PATH, ChangeKind.ADDED), *parts)
    return DataflowDiff(name=desired.name, parts=parts, queries=queries, schedules=schedules)


def _property_changes(desired: DesiredDataflow, live: LiveDataflow) -> tuple[PropertyChange, ...]:
    changes = []
    if desired.display_name != live.display_name:
        changes.append(PropertyChange("displayName", live.display_name, desired.display_name))
    if desired.description != live.item.description:
        changes.append(PropertyChange("description", live.item.description, desired.description))
    return tuple(changes)


def _canonical(part: Part) -> bytes:
    return canonical_bytes(part)


def _load_json(data: bytes) -> Any:
    return json.loads(data.decode("utf-8-sig"))


_NOTHING = PartIgnore(whole=False)


# mashup.pq ----------------------------------------------------------------------------------


def _diff_mashup(
    old: Part, new: Part, ignore_globs: tuple[str, ...], ignored: list[str]
) -> tuple[list[QueryChange], tuple[str, ...]]:
    """Per-query changes plus detail lines for section-level changes (name, attribute)."""
    try:
        old_doc, new_doc = part_document(old), part_document(new)
    except MSyntaxError as exc:
        # A live document we cannot parse is still worth showing: fall back to a text diff.
        note = f"not comparable query by query ({exc.message}); text diff:"
        return [], (note, *_unified(old.text(), new.text(), "live", "desired"))
    old_q, new_q = split_queries(old_doc), split_queries(new_doc)
    changes: list[QueryChange] = []
    for name in [*new_q, *(n for n in old_q if n not in new_q)]:
        raw_before, raw_after = old_q.get(name), new_q.get(name)
        if raw_before == raw_after:
            continue  # most queries of a plan: equal as written, so equal once normalised
        before = None if raw_before is None else _normal_text(raw_before)
        after = None if raw_after is None else _normal_text(raw_after)
        if before == after:
            continue
        if any(fnmatchcase(name, g) for g in ignore_globs):
            ignored.append(f'{MASHUP_PATH}: query "{name}"')
            continue
        kind = (
            ChangeKind.ADDED
            if before is None
            else ChangeKind.REMOVED
            if after is None
            else ChangeKind.MODIFIED
        )
        lines = _unified(before or "", after or "", f"live/{name}", f"desired/{name}")
        changes.append(QueryChange(name, kind, "\n".join(lines)))
    details: list[str] = []
    if old_doc.section_name != new_doc.section_name:
        details.append(f"section name: {old_doc.section_name} → {new_doc.section_name}")
    if _strip(old_doc.attribute_text) != _strip(new_doc.attribute_text):
        details.append(
            f"section attribute: {_strip(old_doc.attribute_text) or '(none)'} → "
            f"{_strip(new_doc.attribute_text) or '(none)'}"
        )
    return changes, tuple(details)


def _strip(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def _normal_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")


def _unified(old: str, new: str, old_name: str, new_name: str) -> list[str]:
    lines = difflib.unified_diff(
        _normal_text(old).splitlines() if old else [],
        _normal_text(new).splitlines() if new else [],
        fromfile=old_name,
        tofile=new_name,
        lineterm="",
    )
    return [show_pending(line) for line in lines]


def show_pending(text: str) -> str:
    """Replace KNOWN_AFTER_APPLY tokens with the reader's ``(known after apply)``."""
    return _PENDING.sub(KNOWN_AFTER_APPLY_TEXT, text)


# other parts ----------------------------------------------------------------------------------


def _diff_other(
    path: str,
    old: Part,
    new: Part,
    ignore_exprs: tuple[str, ...],
    ignored: list[str],
    secrets: Mapping[str, str],
) -> tuple[str, ...]:
    if path.endswith(JSON_SUFFIXES):
        try:
            old_doc, new_doc = _load_json(old.data), _load_json(new.data)
        except ValueError:
            pass
        else:
            return _diff_json(path, old_doc, new_doc, ignore_exprs, ignored, secrets)
    return tuple(_unified(old.text(), new.text(), f"live/{path}", f"desired/{path}"))


def _diff_json(
    path: str,
    old: Any,
    new: Any,
    ignore_exprs: tuple[str, ...],
    ignored: list[str],
    secrets: Mapping[str, str],
) -> tuple[str, ...]:
    for expr in ignore_exprs:
        try:
            hidden_old, hidden_new = jsonpath.find(old, expr), jsonpath.find(new, expr)
            old, new = jsonpath.delete(old, expr), jsonpath.delete(new, expr)
        except jsonpath.JsonPathError as exc:
            raise PlanError(
                f"ignore rule for {path}: {exc}", hint="fix the JSONPath in the overlay's ignore rules"
            ) from None
        if hidden_old != hidden_new:
            ignored.append(f"{path}: {expr}")
    return tuple(json_changes(old, new, secrets=secrets))


def json_changes(old: Any, new: Any, *, secrets: Mapping[str, str] | None = None) -> list[str]:
    """Human lines ``connections[0].connectionId: "a" → "b"`` for every structural difference.

    Values are masked before long ones are shortened, so a cut never leaves half a secret.
    """
    tree = DeepDiff(old, new, view="tree", verbose_level=2)
    lines: list[tuple[str, str]] = []
    for levels in tree.values():
        for level in levels:
            where = jsonpath.format_path(tuple(level.path(output_format="list")))
            where = where.removeprefix("$").removeprefix(".") or "(document)"
            old_value, new_value = _value(level.t1, secrets), _value(level.t2, secrets)
            lines.append((where, f"{where}: {old_value} → {new_value}"))
    if not lines and _sorted_json(old) != _sorted_json(new):
        # deepdiff equates true with 1 inside lists; the fingerprint does not, so show the text.
        return _unified(_sorted_json(old), _sorted_json(new), "live", "desired")
    return [show_pending(text) for _, text in sorted(lines)]


def _sorted_json(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)


def _value(value: Any, secrets: Mapping[str, str] | None) -> str:
    if isinstance(value, NotPresent):
        return "(absent)"
    text = mask(json.dumps(value, ensure_ascii=False, sort_keys=True), secrets or {})
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


def mask_diff(diff: DataflowDiff, secrets: Mapping[str, str]) -> DataflowDiff:
    """``diff`` with every secret value replaced by its ``${env:NAME}`` reference. The previous
    value, read from live, is unknown to ``secrets`` once rotated: it is hidden where the new line
    holds a reference (see :func:`_hide_previous`)."""
    if not any(secrets.values()):
        return diff
    refs = tuple("${env:" + n + "}" for n, v in secrets.items() if v)

    def lines(texts: Sequence[str]) -> tuple[str, ...]:
        return _hide_previous([mask(t, secrets) for t in texts], refs)

    return replace(
        diff,
        parts=tuple(replace(p, details=lines(p.details)) for p in diff.parts),
        queries=tuple(replace(q, diff="\n".join(lines(q.diff.split("\n")))) for q in diff.queries),
        properties=tuple(
            replace(c, old=mask(c.old, secrets), new=mask(c.new, secrets)) for c in diff.properties
        ),
    )


def _hide_previous(lines: list[str], refs: tuple[str, ...]) -> tuple[str, ...]:
    """A JSON line ``path: old → ${env:N}`` hides ``old``. In a diff block of ``-`` lines then
    ``+`` lines holding a reference, the k-th ``-`` line pairs with the k-th ``+`` line: the
    reference replaces the old value where the rest matches, else the whole line is hidden."""
    out = list(lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith(("-", "+", " ", "@")) and " → " in line:
            where, _, change = line.partition(": ")
            new = change.rpartition(" → ")[2]
            if any(r in new for r in refs):
                out[i] = f"{where}: (previous value hidden) → {new}"
        start = i
        while i < len(lines) and _is_change(lines[i], "-"):
            i += 1
        minus_end = i
        while i < len(lines) and _is_change(lines[i], "+"):
            i += 1
        plus = lines[minus_end:i]
        if any(r in p for p in plus for r in refs):
            for k in range(start, minus_end):
                paired = plus[k - start] if k - start < len(plus) else ""
                out[k] = _old_line(lines[k], paired, refs)
        i = max(i, start + 1)
    return tuple(out)


def _is_change(line: str, sign: str) -> bool:
    return line.startswith(sign) and not line.startswith(sign * 3)


def _old_line(old: str, new: str, refs: tuple[str, ...]) -> str:
    pattern = "(" + "|".join(re.escape(r) for r in refs) + ")"
    pieces = re.split(pattern, new[1:])
    if len(pieces) > 1:
        template = "".join(re.escape(p) if n % 2 == 0 else "(.+?)" for n, p in enumerate(pieces))
        if re.fullmatch(template, old[1:], flags=re.S):
            return "-" + "".join(pieces)
    return "-(line hidden: it may hold the previous value of a secret)"


def mask(text: str, secrets: Mapping[str, str]) -> str:
    """Replace each secret value (longest first) by ``${env:NAME}`` (:func:`secret_mask.mask`)."""
    return secrets_mask(text, secrets)
