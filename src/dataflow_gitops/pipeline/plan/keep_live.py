"""⑤ plan, ignore rules: what an ``ignore`` rule covers is written as live has it.

updateDefinition replaces the whole definition, so writing the repository's value at an ignored
place would overwrite what the rule protects, unseen (the decision recorded for issue 4): the
action's payload carries the LIVE value there. Where live has nothing to keep (a query or part
only the repository has, a JSON value under a container live lacks) the repository's value is
written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from fnmatch import fnmatchcase
from typing import Any

from dataflow_gitops.config import jsonpath
from dataflow_gitops.errors import MSyntaxError, PlanError, SourceError
from dataflow_gitops.pipeline.definition.mashups import part_document
from dataflow_gitops.pipeline.definition.mlang import apply_edits
from dataflow_gitops.pipeline.definition.parts import canonical_bytes, fingerprint
from dataflow_gitops.pipeline.model import (
    KNOWN_AFTER_APPLY,
    MASHUP_PATH,
    METADATA_PATH,
    PLATFORM_PATH,
    DesiredDataflow,
    IgnoreRule,
    LiveDataflow,
    Part,
)
from dataflow_gitops.pipeline.plan.ignoring import part_ignores

KEPT = "live value kept"
# A definition without these is not a dataflow: never dropped because live lacks them.
_REQUIRED_PARTS = (MASHUP_PATH, METADATA_PATH)


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
    notes: list[str] = []
    new = {p.path: p for p in desired.parts}
    old = {p.path: p for p in live.parts if p.path != PLATFORM_PATH}
    paths = sorted((new.keys() | old.keys()) - {PLATFORM_PATH})
    for path, rule in part_ignores(ignore, desired, live, paths).items():
        mine, theirs = new.get(path), old.get(path)
        if rule.whole:
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
            data = _keep_queries(mine, theirs, rule.queries, notes) if rule.queries else None
        else:
            exprs = rule.json_paths
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


def _keep_queries(mine: Part, theirs: Part, globs: tuple[str, ...], notes: list[str]) -> bytes | None:
    """The desired mashup with each ignored query's live source (appended if only live has it)."""
    try:
        new_doc, old_doc = part_document(mine), part_document(theirs)
    except (MSyntaxError, SourceError):
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
    text = apply_edits(new_doc.text, edits)
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
