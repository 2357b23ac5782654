"""① source, dataflow → dataflow references: Snapshot → references per dataflow → write order.

A query that reads another dataflow navigates ``PowerPlatform.Dataflows([])`` by
``workspaceId`` then ``dataflowId``. Two forms occur:

- portable: workspace ``00000000-…`` + the target's ``.platform`` logicalId (what fabric-cicd
  rewrites to, and what this repository's examples use);
- Git-sync: the real workspace and item id of the environment the repository was synced from.
  Those resolve through ``id_map`` (item id → repository name, e.g. from deployment records) or,
  failing that, a logicalId match.

An unresolved reference keeps ``target=None``: it may read a dataflow this repository does not
manage, which validate reports as a warning, not an error.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from dataflow_gitops.errors import DependencyError
from dataflow_gitops.pipeline.definition.mashups import part_document
from dataflow_gitops.pipeline.definition.mlang import dataflow_references
from dataflow_gitops.pipeline.model import (
    MASHUP_PATH,
    ZERO_GUID,
    DataflowReference,
    Snapshot,
    SourceDataflow,
)

NO_IDS: Mapping[str, str] = MappingProxyType({})


def find_references(
    snapshot: Snapshot, *, id_map: Mapping[str, str] = NO_IDS
) -> dict[str, tuple[DataflowReference, ...]]:
    """Every dataflow's references (an entry for each dataflow, empty when it reads none).

    Raises MSyntaxError when a ``mashup.pq`` does not parse.
    """
    by_logical_id = {d.platform.logical_id.lower(): d.name for d in snapshot.dataflows}
    known_ids = {k.lower(): v for k, v in id_map.items()}
    # A dataflow outside --target/scope is identified, not parsed: it reads nothing here.
    return {
        dataflow.name: references_of(dataflow, by_logical_id, known_ids) if dataflow.checked else ()
        for dataflow in snapshot.dataflows
    }


def references_of(
    dataflow: SourceDataflow, by_logical_id: Mapping[str, str], id_map: Mapping[str, str] = NO_IDS
) -> tuple[DataflowReference, ...]:
    part = dataflow.part(MASHUP_PATH)
    if part is None:
        return ()
    path = f"{dataflow.folder}/{MASHUP_PATH}"
    doc = part_document(part, path=path)
    found = []
    for raw in dataflow_references(doc):
        target_id = raw.dataflow_id.lower()
        if raw.workspace_id == ZERO_GUID:
            target = by_logical_id.get(target_id)
        else:
            target = id_map.get(target_id) or by_logical_id.get(target_id)
        found.append(
            DataflowReference(
                query=raw.query,
                workspace_id=raw.workspace_id,
                dataflow_id=raw.dataflow_id,
                target=target,
            )
        )
    return tuple(found)


def dependency_edges(
    references: Mapping[str, Iterable[DataflowReference]],
) -> dict[str, tuple[str, ...]]:
    """name → the resolved names it reads, deduplicated in first-seen order (a dataflow that
    reads itself keeps that edge, so it is reported as a cycle)."""
    edges: dict[str, tuple[str, ...]] = {}
    for name, refs in references.items():
        targets = [r.target for r in refs if r.target is not None]
        edges[name] = tuple(dict.fromkeys(targets))
    return edges


def dependency_order(names: Sequence[str], edges: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """Topological order of ``names``: every dataflow after those it reads.

    Stable: among dataflows whose dependencies are met, the order of ``names`` wins. Targets not
    in ``names`` are ignored (they are not being written). A cycle raises DependencyError naming
    it, ``A → B → A``.
    """
    wanted = set(names)
    pending = {n: [t for t in edges.get(n, ()) if t in wanted] for n in names}
    # Kahn's algorithm over positions in `names`: the ready dataflow listed first goes next, one
    # at a time, so the result depends only on `names` order (and a thousand names stay cheap).
    position: dict[str, int] = {}
    for i, n in enumerate(names):
        position.setdefault(n, i)
    waiting = {n: len(set(pending[n])) for n in pending}
    readers: dict[str, list[str]] = {n: [] for n in pending}
    for n, targets in pending.items():
        for t in dict.fromkeys(targets):
            readers[t].append(n)
    ready = [position[n] for n in pending if waiting[n] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for reader in readers[name]:
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, position[reader])
    if len(order) < len(pending):
        done = set(order)
        cycle = _find_cycle(pending, [n for n in names if n not in done])
        raise DependencyError(
            f"dataflow references form a cycle: {' → '.join(cycle)}",
            cycle=cycle,
            where=cycle[0],
            hint="a dataflow cannot (indirectly) read itself; remove one of these references",
        )
    return tuple(order)


def _find_cycle(pending: Mapping[str, Sequence[str]], remaining: Sequence[str]) -> list[str]:
    # Every remaining node still waits for another remaining node, so walking "first unmet
    # dependency" edges from any of them must revisit a node: that loop is the cycle.
    left = set(remaining)
    path: list[str] = []
    on_path: dict[str, int] = {}
    node = remaining[0]
    while node not in on_path:
        on_path[node] = len(path)
        path.append(node)
        node = next(t for t in pending[node] if t in left)
    return path[on_path[node] :] + [node]
