"""② render, the id-rewriting steps: parts + an environment's bindings → parts with target ids.

- ``mashup.pq``: ``workspaceId`` / ``lakehouseId`` / ``warehouseId`` text literals (destinations,
  Lakehouse/Warehouse sources) are replaced by their binding; references to other dataflows of
  the repository point at the target workspace and at the target dataflow's id.
- ``queryMetadata.json``: ``connections[].connectionId`` (GUID or ClusterId/DatasourceId string,
  compared structurally) and ``gatewayObjectId``.

Values are resolved by a callable that render supplies (it knows the Lookup and what is pending).
An id known only after apply stays a pending token until :func:`bind_pending` (the applier,
once the dependency exists).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from dataflow_gitops.config import Binding, Bindings
from dataflow_gitops.pipeline.definition import formats
from dataflow_gitops.pipeline.definition.mlang import (
    SectionDocument,
    dataflow_references,
    field_literals,
    format_literal,
)
from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.model import KNOWN_AFTER_APPLY, DataflowReference, DesiredDataflow, Part

Resolve = Callable[[str, str, str], str]
"""(value with ``${…}`` expressions, overlay file:line, what is being bound) → resolved value."""

_ID_FIELDS = {"workspaceId": "workspaces", "lakehouseId": "lakehouses", "warehouseId": "warehouses"}


def mashup_edits(
    doc: SectionDocument,
    bindings: Bindings,
    references: Sequence[DataflowReference],
    *,
    resolve: Resolve,
    target_workspace: Callable[[], str],
    dataflow_id: Callable[[str], str],
) -> list[tuple[tuple[int, int], str]]:
    """The span edits that rewrite bound ids and repository references in ``doc``, sorted.

    ``references`` come from the source stage (with ``target`` resolved to a repository name);
    ``dataflow_id(target)`` gives the id (or pending token) of that dataflow in the target.
    """
    edits: list[tuple[tuple[int, int], str]] = []
    reference_spans: set[tuple[int, int]] = set()
    for raw in dataflow_references(doc):
        reference_spans.update((raw.workspace_span, raw.dataflow_span))
        target = _target_of(raw.query, raw.workspace_id, raw.dataflow_id, references)
        if target is None:
            continue  # a dataflow outside the repository: left as written
        edits.append((raw.workspace_span, format_literal(target_workspace(), "text")))
        edits.append((raw.dataflow_span, format_literal(dataflow_id(target), "text")))
    for literal in field_literals(doc, _ID_FIELDS):
        if literal.span in reference_spans:
            continue
        table: tuple[Binding, ...] = getattr(bindings, _ID_FIELDS[literal.field])
        binding = _find(table, literal.value)
        if binding is None or binding.target is None:
            continue
        value = resolve(binding.target, binding.where, f"{literal.field} in query {literal.member!r}")
        edits.append((literal.span, format_literal(value, "text")))
    edits.sort()
    return edits


def _target_of(
    query: str, workspace_id: str, dataflow_id: str, references: Sequence[DataflowReference]
) -> str | None:
    for ref in references:
        if (
            ref.query == query
            and ref.workspace_id.lower() == workspace_id.lower()
            and ref.dataflow_id.lower() == dataflow_id.lower()
        ):
            return ref.target
    return None


def _find(table: Sequence[Binding], source: str) -> Binding | None:
    key = source.strip().lower()
    return next((b for b in table if b.source.strip().lower() == key), None)


def connection_key(value: str) -> str:
    """A comparable form of a connection id: the GUID, or the sorted ClusterId/DatasourceId JSON."""
    text = value.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            return text
        if isinstance(doc, dict):
            return json.dumps({k: str(v).lower() for k, v in doc.items()}, sort_keys=True)
    return text.lower()


def rewrite_metadata(doc: dict[str, Any], bindings: Bindings, *, resolve: Resolve) -> bool:
    """Rewrite connections and gateway of a decoded ``queryMetadata.json`` in place; True if changed."""
    changed = False
    by_key = {connection_key(b.source): b for b in bindings.connections}
    # 202502 keeps them in `connections`, 202409 in editingSessionMashup.connectionOverrides.
    settings = formats.mashup_settings(doc)
    connections = doc.get("connections", settings.get("connectionOverrides"))
    if isinstance(connections, list):
        for connection in connections:
            if not isinstance(connection, dict) or not isinstance(connection.get("connectionId"), str):
                continue
            binding = by_key.get(connection_key(connection["connectionId"]))
            if binding is None or binding.target is None:
                continue
            what = f"connection {connection.get('path', '')!r}".replace(" ''", "")
            value = resolve(binding.target, binding.where, what)
            if value != connection["connectionId"]:
                connection["connectionId"] = value
                changed = True
    gateway = bindings.gateway
    place = settings if isinstance(settings, dict) else doc
    if gateway is not None:
        if gateway.target is None:
            if "gatewayObjectId" in place:
                del place["gatewayObjectId"]
                changed = True
        else:
            value = resolve(gateway.target, gateway.where, "gatewayObjectId")
            if place.get("gatewayObjectId") != value:
                place["gatewayObjectId"] = value
                changed = True
    return changed


def pending_token(expression: str) -> str:
    return KNOWN_AFTER_APPLY % expression


def bind_pending(desired: DesiredDataflow, values: Mapping[str, str]) -> DesiredDataflow:
    """``desired`` with the KNOWN_AFTER_APPLY tokens of ``values`` (expression → id) replaced and
    the fingerprint recomputed; the applier calls it once the dependencies exist."""
    bound = [e for e in desired.pending if e in values]
    if not bound:
        return desired
    parts = []
    for part in desired.parts:
        data = part.data
        for expression in bound:
            data = data.replace(
                pending_token(expression).encode("utf-8"), values[expression].encode("utf-8")
            )
        parts.append(Part(part.path, data))
    return replace(
        desired,
        parts=tuple(parts),
        pending=tuple(e for e in desired.pending if e not in values),
        fingerprint=fingerprint(
            parts, display_name=desired.display_name, description=desired.description
        ),
    )
