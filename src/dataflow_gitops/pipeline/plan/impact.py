"""④→⑤ impact: DataflowDiff (+ both definitions) → Impact with the reasons behind it.

Breaking means something downstream can stop working: a query removed or renamed (a rename
shows as one query removed and one added), a data destination removed or pointed at another
target, a public parameter removed or its type changed, a loaded query no longer loaded.
Any other definition change is non-breaking; a change of display name or description alone is
metadata-only. A create changes nothing that exists, so it has no impact class (``none``; the
outputs call it "new"). Reviewers can gate on the class (sqlmesh separates data and metadata hashes for
the same reason).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dataflow_gitops.errors import MSyntaxError
from dataflow_gitops.pipeline.definition import formats
from dataflow_gitops.pipeline.definition.mashups import part_document
from dataflow_gitops.pipeline.definition.mlang import SectionDocument, field_literals, parameters
from dataflow_gitops.pipeline.model import (
    MASHUP_PATH,
    METADATA_PATH,
    ChangeKind,
    DataflowDiff,
    DesiredDataflow,
    Impact,
    LiveDataflow,
    Part,
    ScheduleChangeKind,
)


@dataclass(frozen=True, slots=True)
class Assessment:
    impact: Impact
    reasons: tuple[str, ...] = ()


def assess(
    diff: DataflowDiff | None, desired: DesiredDataflow | None, live: LiveDataflow | None
) -> Assessment:
    """Classify one dataflow's change; ``reasons`` explain a breaking verdict."""
    if desired is None:
        return Assessment(Impact.BREAKING, ("dataflow deleted",))
    if live is None:
        return Assessment(Impact.NONE)
    if diff is None or not diff.changed:
        return Assessment(Impact.NONE)
    if not diff.definition_changed:
        return Assessment(Impact.METADATA_ONLY)
    reasons = [
        f'query "{q.name}" removed or renamed' for q in diff.queries if q.kind is ChangeKind.REMOVED
    ]
    old_doc, new_doc = _document(live.part(MASHUP_PATH)), _document(desired.part(MASHUP_PATH))
    if old_doc is not None and new_doc is not None:
        reasons += _parameter_reasons(old_doc, new_doc)
        reasons += _destination_reasons(old_doc, new_doc)
    reasons += _load_reasons(live.part(METADATA_PATH), desired.part(METADATA_PATH))
    reasons += [
        f"{s.job_type} schedule {s.kind.value}d ({s.schedule}): it no longer runs"
        for s in diff.schedules
        if not s.kept and s.kind in (ScheduleChangeKind.DISABLE, ScheduleChangeKind.REMOVE)
    ]
    if reasons:
        return Assessment(Impact.BREAKING, tuple(reasons))
    return Assessment(Impact.NON_BREAKING)


def _document(part: Part | None) -> SectionDocument | None:
    if part is None:
        return None
    try:
        return part_document(part)
    except MSyntaxError:
        return None  # the diff already reports an unparsable document


def _parameter_reasons(old: SectionDocument, new: SectionDocument) -> list[str]:
    before = {p.name: p.type_name for p in parameters(old)}
    after = {p.name: p.type_name for p in parameters(new)}
    reasons = []
    for name, type_name in before.items():
        if name not in after:
            reasons.append(f'parameter "{name}" removed')
        elif after[name] != type_name:
            reasons.append(f'parameter "{name}" type changed from {type_name} to {after[name]}')
    return reasons


def _destination_reasons(old: SectionDocument, new: SectionDocument) -> list[str]:
    old_targets = _destinations(old)
    if not old_targets:
        return []  # nothing had a destination: none can be removed or changed
    new_targets = _destinations(new)
    # The bare member text: split_queries also carries neighbouring comments, and a comment
    # next to a destination query does not change where the data goes.
    old_q = {m.name: m.source for m in old.members}
    new_q = {m.name: m.source for m in new.members}
    reasons = []
    for name, targets in old_targets.items():
        now = new_targets.get(name, ())
        if not now:
            reasons.append(f'data destination of query "{name}" removed')
        elif set(targets) != set(now) or any(
            _same(old_q.get(t)) != _same(new_q.get(t)) for t in targets
        ):
            reasons.append(f'data destination of query "{name}" changed target')
    return reasons


def _destinations(doc: SectionDocument) -> dict[str, tuple[str, ...]]:
    """Query → the hidden navigation queries its DataDestinations attribute names.

    ``[DataDestinations = {[Definition = [Kind = "Reference", QueryName = "X_DataDestination"]…]}]``
    """
    spans = {
        m.name: (m.start, m.start + len(m.attribute_text))
        for m in doc.members
        if m.attribute is not None and m.attribute_text and m.attribute.get("DataDestinations")
    }
    found: dict[str, tuple[str, ...]] = {}
    if not spans:
        return found  # no query has a destination (most): no id literal needs finding
    for lit in field_literals(doc, {"QueryName"}):
        span = spans.get(lit.member)
        if span is not None and span[0] <= lit.span[0] < span[1]:
            found[lit.member] = (*found.get(lit.member, ()), lit.value)
    return found


def _same(source: str | None) -> str | None:
    return None if source is None else " ".join(source.split())


def _load_reasons(old: Part | None, new: Part | None) -> list[str]:
    if old is not None and new is not None and old.data == new.data:
        return []  # the same queryMetadata.json (bindings rarely touch it): nothing was unloaded
    before, after = _loaded(old), _loaded(new)
    return [
        f'query "{name}" is no longer loaded (loadEnabled false)'
        for name, loaded in before.items()
        if loaded and after.get(name) is False
    ]


def _loaded(part: Part | None) -> dict[str, bool]:
    """queryName → loadEnabled (default true) from queryMetadata.json's queriesMetadata."""
    if part is None:
        return {}
    try:
        doc: Any = json.loads(part.data.decode("utf-8-sig"))
    except ValueError:
        return {}
    entries = formats.queries_metadata(doc) if isinstance(doc, dict) else {}
    result = {}
    for key, entry in entries.items():
        if isinstance(entry, dict):
            # The key and queryName can differ (the spec example keys "query" for "Query").
            name = entry.get("queryName") if isinstance(entry.get("queryName"), str) else key
            result[str(name)] = entry.get("loadEnabled", True) is not False
    return result


_SEVERITY = (Impact.NONE, Impact.METADATA_ONLY, Impact.NON_BREAKING, Impact.BREAKING)


def most_severe(impacts: Iterable[Impact]) -> Impact:
    """The gate value of a whole plan: ``most_severe(a.impact for a in plan.actions)``."""
    return max(impacts, key=_SEVERITY.index, default=Impact.NONE)
