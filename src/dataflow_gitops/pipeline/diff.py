"""④ diff: DesiredDataflow × LiveDataflow | None → DataflowDiff.

Each part is compared by meaning, not by bytes: JSON parts (``*.json``, ``*.mdf``) structurally
after parsing (deepdiff, so key order and formatting never count), ``mashup.pq`` member by member
(a unified diff of each changed query only), other text parts line by line after newline
normalisation. ``.platform`` is never compared as a part: its display name and description become
:class:`PropertyChange` values, which PATCH can apply without touching the definition. ``ignore``
rules drop values, queries or whole parts from both sides first; what they hid is recorded in
``DataflowDiff.ignored`` so the plan can say so.

An ignored value is owned by the live workspace, yet updateDefinition replaces the whole
definition: writing the repository's value for another reason would overwrite it unseen. So
before diffing, :func:`keep_ignored_live` carries the live value of every ignored JSON path,
query and part into the desired payload (decision recorded for issue 4): the plan then holds
exactly what will be written, its fingerprint and preconditions stay true, and a dataflow that
differs only in ignored places is a no-op. Where live has nothing to keep (a query or part only
the repository has, a JSON value under a container live lacks), the repository's value is written
and the note says so.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent

from dataflow_gitops.errors import MSyntaxError, PlanError
from dataflow_gitops.pipeline import jsonpath
from dataflow_gitops.pipeline.mlang import SectionDocument, apply_edits, parse_section, split_queries
from dataflow_gitops.pipeline.model import (
    KNOWN_AFTER_APPLY,
    MASHUP_PATH,
    METADATA_PATH,
    PLATFORM_PATH,
    ChangeKind,
    DataflowDiff,
    DesiredDataflow,
    IgnoreRule,
    LiveDataflow,
    Part,
    PartChange,
    PropertyChange,
    QueryChange,
)
from dataflow_gitops.pipeline.parts import canonical_bytes, fingerprint

JSON_SUFFIXES = (".json", ".mdf")
KNOWN_AFTER_APPLY_TEXT = "(known after apply)"
_PENDING = re.compile(r"\$\{known-after-apply:[^}]*\}")
_MAX_VALUE_CHARS = 120
KEPT = "live value kept"
# A definition without these is not a dataflow: never dropped because live lacks them.
_REQUIRED_PARTS = (MASHUP_PATH, METADATA_PATH)


def diff_dataflow(
    desired: DesiredDataflow,
    live: LiveDataflow | None,
    ignore: Sequence[IgnoreRule] = (),
    *,
    secrets: Mapping[str, str] | None = None,
) -> DataflowDiff:
    """What would change in ``live`` if ``desired`` were written; empty when nothing would.

    ``secrets`` (environment variable → value) are shown as ``${env:NAME}`` in every line.
    """
    if live is None:
        return _creation(desired)
    secrets = secrets or {}
    rules = [r for r in ignore if _rule_matches_dataflow(r, desired, live)]
    ignored: list[str] = []
    part_changes: list[PartChange] = []
    query_changes: list[QueryChange] = []
    new = {p.path: p for p in desired.parts if p.path != PLATFORM_PATH}
    old = {p.path: p for p in live.parts if p.path != PLATFORM_PATH}
    for path in sorted(new.keys() | old.keys()):
        part_rules = [r for r in rules if any(fnmatchcase(path, g) for g in r.parts)]
        if any(not r.json_paths and not r.queries for r in part_rules):
            if path not in new or path not in old or _canonical(new[path]) != _canonical(old[path]):
                ignored.append(f"{path}: whole part ignored")
            continue
        if path not in old:
            part_changes.append(PartChange(path, ChangeKind.ADDED))
        elif path not in new:
            part_changes.append(PartChange(path, ChangeKind.REMOVED))
        elif _canonical(new[path]) == _canonical(old[path]):
            continue
        elif path == MASHUP_PATH:
            globs = tuple(g for r in part_rules for g in r.queries)
            queries, details = _diff_mashup(old[path].text(), new[path].text(), globs, ignored)
            query_changes.extend(queries)
            if details:
                part_changes.append(PartChange(path, ChangeKind.MODIFIED, details))
        else:
            exprs = tuple(e for r in part_rules for e in r.json_paths)
            details = _diff_other(path, old[path], new[path], exprs, ignored, secrets)
            if details:
                part_changes.append(PartChange(path, ChangeKind.MODIFIED, details))
    diff = DataflowDiff(
        name=desired.name,
        parts=tuple(part_changes),
        queries=tuple(query_changes),
        properties=_property_changes(desired, live),
        ignored=tuple(ignored),
    )
    return mask_diff(diff, secrets)


# ignore rules: keep the live value -------------------------------------------------------------


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
    rules = [r for r in ignore if _rule_matches_dataflow(r, desired, live)]
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
            if theirs is not None and (mine is None or _canonical(mine) != _canonical(theirs)):
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
        elif _normal_text(current.source) != _normal_text(member.source):
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
        doc, live_doc = _load_json(mine), _load_json(theirs)
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
        gone = [w for w in present if w not in wanted and w and _exists(live_doc, w[:-1])]
        for where in sorted(
            gone, key=lambda w: (len(w), w[-1] if isinstance(w[-1], int) else -1), reverse=True
        ):
            _remove(doc, where)
        if json.dumps(doc, sort_keys=True) != before:
            notes.append(f"{path}: {expr} ({KEPT})")
    if json.dumps(doc, sort_keys=True) == original:
        return None
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _has(node: Any, key: str | int) -> bool:
    if isinstance(node, dict):
        return isinstance(key, str) and key in node
    return isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)


def _exists(doc: Any, where: tuple[str | int, ...]) -> bool:
    node = doc
    for key in where:
        if not _has(node, key):
            return False
        node = node[key]
    return True


def _put(doc: Any, where: tuple[str | int, ...], value: Any) -> None:
    """Set ``value`` at ``where`` when its container exists in ``doc`` (nothing is created)."""
    if not where or not _exists(doc, where[:-1]):
        return
    parent: Any = doc
    for key in where[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) or _has(parent, where[-1]):
        parent[where[-1]] = value


def _remove(doc: Any, where: tuple[str | int, ...]) -> None:
    if not _exists(doc, where):
        return
    parent: Any = doc
    for key in where[:-1]:
        parent = parent[key]
    del parent[where[-1]]


def _creation(desired: DesiredDataflow) -> DataflowDiff:
    """A new dataflow: every part and query is added (bodies are not repeated in the plan)."""
    parts = tuple(
        PartChange(p.path, ChangeKind.ADDED)
        for p in desired.parts
        if p.path not in (PLATFORM_PATH, MASHUP_PATH)
    )
    mashup = desired.part(MASHUP_PATH)
    queries: tuple[QueryChange, ...] = ()
    if mashup is not None:
        try:
            names = split_queries(parse_mashup(mashup.text()))
            queries = tuple(QueryChange(name, ChangeKind.ADDED) for name in names)
        except MSyntaxError:
            parts = (PartChange(MASHUP_PATH, ChangeKind.ADDED), *parts)
    return DataflowDiff(name=desired.name, parts=parts, queries=queries)


def _property_changes(desired: DesiredDataflow, live: LiveDataflow) -> tuple[PropertyChange, ...]:
    changes = []
    if desired.display_name != live.display_name:
        changes.append(PropertyChange("displayName", live.display_name, desired.display_name))
    if desired.description != live.item.description:
        changes.append(PropertyChange("description", live.item.description, desired.description))
    return tuple(changes)


def _rule_matches_dataflow(rule: IgnoreRule, desired: DesiredDataflow, live: LiveDataflow) -> bool:
    names = (desired.name, desired.display_name, live.display_name)
    return any(fnmatchcase(n, g) for g in rule.dataflows for n in names)


def _canonical(part: Part) -> bytes:
    return canonical_bytes(part)


def _load_json(data: bytes) -> Any:
    return json.loads(data.decode("utf-8-sig"))


# mashup.pq ----------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def parse_mashup(text: str) -> SectionDocument:
    """Parse a mashup once per plan: diff, impact and the planner all read the same texts.

    SectionDocument is immutable, so sharing it is safe; MSyntaxError is raised again each time.
    """
    return parse_section(text, path=MASHUP_PATH)


def _diff_mashup(
    old_text: str, new_text: str, ignore_globs: tuple[str, ...], ignored: list[str]
) -> tuple[list[QueryChange], tuple[str, ...]]:
    """Per-query changes plus detail lines for section-level changes (name, attribute)."""
    try:
        old_doc, new_doc = parse_mashup(old_text), parse_mashup(new_text)
    except MSyntaxError as exc:
        # A live document we cannot parse is still worth showing: fall back to a text diff.
        note = f"not comparable query by query ({exc.message}); text diff:"
        return [], (note, *_unified(old_text, new_text, "live", "desired"))
    old_q = {n: _normal_text(s) for n, s in split_queries(old_doc).items()}
    new_q = {n: _normal_text(s) for n, s in split_queries(new_doc).items()}
    changes: list[QueryChange] = []
    for name in [*new_q, *(n for n in old_q if n not in new_q)]:
        before, after = old_q.get(name), new_q.get(name)
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
    """``diff`` with every secret value replaced by its ``${env:NAME}`` reference."""
    if not any(secrets.values()):
        return diff
    return replace(
        diff,
        parts=tuple(replace(p, details=tuple(mask(d, secrets) for d in p.details)) for p in diff.parts),
        queries=tuple(replace(q, diff=mask(q.diff, secrets)) for q in diff.queries),
        properties=tuple(
            replace(c, old=mask(c.old, secrets), new=mask(c.new, secrets)) for c in diff.properties
        ),
    )


def mask(text: str, secrets: Mapping[str, str]) -> str:
    """Replace each secret value (longest first) by ``${env:NAME}``."""
    for name, value in sorted(secrets.items(), key=lambda kv: -len(kv[1])):
        if value:
            text = text.replace(value, "${env:" + name + "}")
    return text
