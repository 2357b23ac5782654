"""What the environment's ``ignore`` rules cover in one dataflow, read once for diff and plan.

The diff (④) leaves those places out of the changes it shows; the planner (⑤) writes live's
value there (see :mod:`.planner`). Both ask :func:`part_ignores`, so a rule means the same to
both: it applies to a dataflow by repository, desired or live name, to its parts by path glob,
and within a part to whole parts (a rule with neither ``queries`` nor ``json_paths``), to the
queries of ``mashup.pq`` by name glob, or to JSON values by path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from dataflow_gitops.pipeline.model import DesiredDataflow, IgnoreRule, LiveDataflow


@dataclass(frozen=True, slots=True)
class PartIgnore:
    """What the rules cover in one part."""

    whole: bool
    queries: tuple[str, ...] = ()
    """Query-name globs (``mashup.pq``)."""
    json_paths: tuple[str, ...] = ()
    """JSONPath expressions (JSON parts)."""


def rule_matches(rule: IgnoreRule, desired: DesiredDataflow, live: LiveDataflow) -> bool:
    """Whether ``rule`` applies to this dataflow (its repository, desired or live name)."""
    names = (desired.name, desired.display_name, live.display_name)
    return any(fnmatchcase(n, g) for g in rule.dataflows for n in names)


def part_ignores(
    ignore: Sequence[IgnoreRule],
    desired: DesiredDataflow,
    live: LiveDataflow,
    paths: Iterable[str],
) -> dict[str, PartIgnore]:
    """Part path → what the rules cover there, for each of ``paths`` some rule covers."""
    rules = [r for r in ignore if rule_matches(r, desired, live)]
    covered: dict[str, PartIgnore] = {}
    if not rules:
        return covered
    for path in paths:
        part_rules = [r for r in rules if any(fnmatchcase(path, g) for g in r.parts)]
        if part_rules:
            covered[path] = PartIgnore(
                whole=any(not r.json_paths and not r.queries for r in part_rules),
                queries=tuple(g for r in part_rules for g in r.queries),
                json_paths=tuple(e for r in part_rules for e in r.json_paths),
            )
    return covered
