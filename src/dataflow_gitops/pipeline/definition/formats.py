"""① source, ``queryMetadata.json`` shapes: which one a file is, its checks, and 202409 → 202502.

Fabric has written two shapes of ``queryMetadata.json`` beside ``mashup.pq`` for Dataflow Gen2
with CI/CD, and dfg reads, validates, diffs, deploys and exports both as written
(docs/formats.md lists the facts that define each):

- ``"202502"`` (current): the settings at the top level, ``connections`` a list;
- ``"202409"`` (Fabric Git sync through spring 2025): ``{formatVersion, lastModified,
  editingSession: {computeEngineSettings, editingSessionMashup: {mashupName, queryGroups,
  documentLocale, queriesMetadata, connectionOverrides, trustedConnections, …}}}``; a query entry
  may carry its data destinations as ``jsonOutputDestinations``.

:func:`to_current` converts 202409 to 202502 without losing anything (``dfg migrate``): a value
the current shape has a place for moves there; every other value is kept, under its own key, in
the same place of the new document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dataflow_gitops.errors import SourceError
from dataflow_gitops.pipeline.definition.parts import is_guid, line_of

CURRENT = "202502"
EDITING_SESSION = "202409"
READ_AS_WRITTEN = (CURRENT, EDITING_SESSION)
SESSION = "editingSession"
SESSION_MASHUP = "editingSessionMashup"
DESTINATIONS = "jsonOutputDestinations"

# 202502 fields whose JSON type matters to the service (fabric-api-notes §5.2).
_CURRENT_TYPES: dict[str, tuple[type, str]] = {
    "name": (str, "a string"),
    "computeEngineSettings": (dict, "an object"),
    "queryGroups": (list, "a list"),
    "queriesMetadata": (dict, "an object keyed by query name"),
    "connections": (list, "a list"),
    "documentLocale": (str, "a string"),
}
# editingSessionMashup fields of 202409 (null is how the service writes "none").
_SESSION_TYPES: dict[str, tuple[type, str]] = {
    "mashupName": (str, "a string"),
    "queryGroups": (list, "a list"),
    "queriesMetadata": (dict, "an object keyed by query name"),
    "connectionOverrides": (list, "a list"),
    "documentLocale": (str, "a string"),
}
# Settings both shapes have, under the same name.
_SHARED_SETTINGS = (
    "documentLocale",
    "gatewayObjectId",
    "fastCombine",
    "allowNativeQueries",
    "skipAutomaticTypeAndHeaderDetection",
)


def version_of(doc: object) -> object:
    return doc.get("formatVersion") if isinstance(doc, dict) else None


def mashup_settings(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object holding the mashup settings (``queriesMetadata``, ``queryGroups``, …)."""
    if version_of(doc) == EDITING_SESSION:
        session = doc.get(SESSION)
        inner = session.get(SESSION_MASHUP) if isinstance(session, dict) else None
        return inner if isinstance(inner, dict) else {}
    return doc


def queries_metadata(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    found = mashup_settings(doc).get("queriesMetadata")
    return found if isinstance(found, dict) else {}


def check(doc: Mapping[str, Any], text: str, location: str) -> None:
    """Raise a located SourceError for the first problem of a 202502 or 202409 document."""

    def fail(message: str, key: str, hint: str | None = None) -> SourceError:
        return SourceError(message, path=location, line=line_of(text, f'"{key}"') or 1, hint=hint)

    version = version_of(doc)
    if version == CURRENT:
        types, where = _CURRENT_TYPES, doc
    elif version == EDITING_SESSION:
        session = doc.get(SESSION)
        if not isinstance(session, dict) or not isinstance(session.get(SESSION_MASHUP), dict):
            raise fail(
                f"formatVersion {EDITING_SESSION} needs an `{SESSION}.{SESSION_MASHUP}` object",
                SESSION if SESSION in doc else "formatVersion",
                hint="restore the file from git, or re-sync it from Fabric",
            )
        settings = session.get("computeEngineSettings")
        if settings is not None and not isinstance(settings, dict):
            raise fail("`computeEngineSettings` must be an object", "computeEngineSettings")
        types, where = _SESSION_TYPES, session[SESSION_MASHUP]
    else:
        raise fail(
            f"unknown formatVersion {version!r}",
            "formatVersion",
            hint=f'Dataflow Gen2 with CI/CD uses "{CURRENT}" (or the older "{EDITING_SESSION}")',
        )
    for key, (kind, described) in types.items():
        if where.get(key) is not None and not isinstance(where[key], kind):
            raise fail(f"`{key}` must be {described}", key)
    if version == CURRENT and "name" in doc and doc["name"] is None:
        raise fail("`name` must be a string", "name")
    _check_queries(queries_metadata(doc), text, location)
    if version == CURRENT:
        _check_connections(doc.get("connections"), text, location)


def _check_queries(queries: Mapping[str, Any], text: str, location: str) -> None:
    for name, entry in queries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("queryId", ""), str):
            raise SourceError(
                f"queriesMetadata entry {name!r} must be an object with a string queryId",
                path=location,
                line=line_of(text, f'"{name}"') or 1,
            )
        query_id = entry.get("queryId")
        if query_id is not None and not is_guid(query_id):
            # Fabric keys a query's refresh history and schedules by this id (a GUID).
            raise SourceError(
                f"queriesMetadata entry {name!r}: queryId {query_id!r} is not a GUID",
                path=location,
                line=line_of(text, f'"{query_id}"') or line_of(text, f'"{name}"') or 1,
                hint="use a GUID (8-4-4-4-12 hex digits), e.g. from python's uuid.uuid4()",
            )


def _check_connections(connections: object, text: str, location: str) -> None:
    for index, connection in enumerate(connections if isinstance(connections, list) else ()):
        if not isinstance(connection, dict) or not isinstance(connection.get("connectionId"), str):
            raise SourceError(
                f"connections[{index}] must be an object with a string connectionId",
                path=location,
                line=line_of(text, '"connections"') or 1,
                hint='e.g. {"path": …, "kind": …, "connectionId": "<guid>"}',
            )


# 202409 → 202502 ---------------------------------------------------------------------------------


def to_current(doc: Mapping[str, Any], fallback_name: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A 202409 document as 202502, and what the conversion kept where (for ``dfg migrate``)."""
    session: Mapping[str, Any] = doc.get(SESSION) or {}
    mashup: Mapping[str, Any] = session.get(SESSION_MASHUP) or {}
    notes: list[str] = []
    settings = session.get("computeEngineSettings")
    out: dict[str, Any] = {
        "formatVersion": CURRENT,
        "computeEngineSettings": dict(settings) if isinstance(settings, dict) else {},
        "name": mashup.get("mashupName") or fallback_name,
        "queryGroups": list(mashup.get("queryGroups") or []),
    }
    for key in _SHARED_SETTINGS:
        if mashup.get(key) is not None:
            out[key] = mashup[key]
    queries = mashup.get("queriesMetadata") or {}
    # Every field of every entry is kept: the five 202502 defines, and the others as written.
    out["queriesMetadata"] = {key: dict(entry) for key, entry in queries.items()}
    for key, entry in queries.items():
        if isinstance(entry, dict) and entry.get(DESTINATIONS) not in (None, "", [], {}):
            notes.append(
                f"the data destinations of query {key!r} kept as written in "
                f"queriesMetadata.{key}.{DESTINATIONS}"
            )
    connections, unconverted = [], []
    for override in mashup.get("connectionOverrides") or []:
        connection_id = connection_id_of(override) if isinstance(override, dict) else None
        if connection_id is None:
            unconverted.append(override)
            continue
        path, kind = override.get("path", ""), override.get("kind", "")
        connections.append({"path": path, "kind": kind, "connectionId": connection_id})
    out["connections"] = connections
    if unconverted:
        out["connectionOverrides"] = unconverted
        notes.append(
            f"{len(unconverted)} connection override(s) without a connection id kept as written"
        )
    consumed = {"mashupName", "queryGroups", "queriesMetadata", "connectionOverrides", *_SHARED_SETTINGS}
    kept = [
        *((k, v) for k, v in doc.items() if k not in ("formatVersion", SESSION)),
        *((k, v) for k, v in session.items() if k not in ("computeEngineSettings", SESSION_MASHUP)),
        *((k, v) for k, v in mashup.items() if k not in consumed),
    ]
    for key, value in kept:
        if value is None or key in out:
            continue
        out[key] = value
        notes.append(f"{key} kept as written")
    return out, tuple(notes)


def connection_id_of(override: Mapping[str, Any]) -> str | None:
    """The connection id a connection override carries: ``connectionId``, or the preview's
    ``{"ClusterId":…,"DatasourceId":…}`` string in ``connectionName``."""
    value = override.get("connectionId") or override.get("connectionName")
    if isinstance(value, str) and (override.get("connectionId") or value.startswith('{"ClusterId"')):
        return value
    return None
