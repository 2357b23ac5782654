"""① source, old formats: detection, and ``dfg migrate`` (legacy folder → current parts).

Two older Dataflow Gen2 definition formats still turn up (fabric-api-notes §5.5):

- the earliest preview's single part ``dataflow-content.json`` (``editingSessionMashup`` with the
  whole M document as the string ``mashupDocument``);
- ``queryMetadata.json`` with ``formatVersion "202412"`` (everything nested in
  ``dataflowOptions``).

Both convert to ``queryMetadata.json`` 202502 + ``mashup.pq`` (+ the ``.platform`` Git sync writes).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dataflow_gitops.errors import SourceError
from dataflow_gitops.pipeline.definition.parts import (
    decode_text,
    load_json,
    parse_platform,
    platform_part,
)
from dataflow_gitops.pipeline.model import (
    DATAFLOW_TYPE,
    MASHUP_PATH,
    METADATA_PATH,
    PLATFORM_PATH,
    Platform,
)

LEGACY_CONTENT_PATH = "dataflow-content.json"
LEGACY_FORMAT_VERSION = "202412"
CURRENT_FORMAT_VERSION = "202502"

# queryMetadata.json 202502 fields that carry over unchanged from the older shapes.
_COPIED = (
    "documentLocale",
    "gatewayObjectId",
    "fastCombine",
    "allowNativeQueries",
    "skipAutomaticTypeAndHeaderDetection",
)
_QUERY_FIELDS = ("queryId", "queryName", "queryGroupId", "isHidden", "loadEnabled")


def legacy_problem(files: Mapping[str, bytes]) -> str | None:
    """Describe the legacy format of a folder's files, or None when it is current (or broken)."""
    if LEGACY_CONTENT_PATH in files:
        return f"legacy single-part format ({LEGACY_CONTENT_PATH})"
    data = files.get(METADATA_PATH)
    if data is None:
        return None
    try:
        doc = json.loads(decode_text(data, path=METADATA_PATH))
    except (SourceError, json.JSONDecodeError):
        return None  # reported as a plain part error by source.py
    if isinstance(doc, dict) and doc.get("formatVersion") == LEGACY_FORMAT_VERSION:
        return f'legacy formatVersion "{LEGACY_FORMAT_VERSION}"'
    return None


def migrate_folder(path: Path) -> list[str]:
    """Convert a legacy dataflow folder in place; return the files written (relative names).

    ``dataflow-content.json`` is removed once its content lives in the new parts. A current
    folder is left alone (empty list).
    """
    if not path.is_dir():
        raise SourceError("not a folder", path=str(path), hint="name a <Name>.Dataflow folder")
    files = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
    if legacy_problem(files) is None:
        return []
    if LEGACY_CONTENT_PATH in files:
        content = load_json(files[LEGACY_CONTENT_PATH], path=str(path / LEGACY_CONTENT_PATH))
        session = content.get("editingSessionMashup") if isinstance(content, dict) else None
        if not isinstance(session, dict) or not isinstance(session.get("mashupDocument"), str):
            raise SourceError(
                "no editingSessionMashup.mashupDocument string",
                path=str(path / LEGACY_CONTENT_PATH),
                hint="this does not look like a Dataflow Gen2 definition",
            )
        name = str(session.get("mashupName") or _folder_name(path))
        metadata = _metadata(name, session)
        mashup: str | None = session["mashupDocument"]
    else:
        old = load_json(files[METADATA_PATH], path=str(path / METADATA_PATH))
        options = old.get("dataflowOptions") or {}
        if not isinstance(options, dict):
            raise SourceError("dataflowOptions must be an object", path=str(path / METADATA_PATH))
        name = str(options.get("name") or _folder_name(path))
        metadata = _metadata(name, options)
        mashup = None  # the 202412 format already keeps mashup.pq as its own part
    written = [METADATA_PATH]
    (path / METADATA_PATH).write_text(
        json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if mashup is not None:
        (path / MASHUP_PATH).write_bytes(mashup.encode("utf-8"))  # exact text, no newline translation
        written.append(MASHUP_PATH)
    if PLATFORM_PATH not in files:
        platform = Platform(type=DATAFLOW_TYPE, display_name=name, logical_id=str(uuid.uuid4()))
        (path / PLATFORM_PATH).write_bytes(platform_part(platform).data)
        written.append(PLATFORM_PATH)
    else:
        parse_platform(files[PLATFORM_PATH], path=str(path / PLATFORM_PATH))
    if LEGACY_CONTENT_PATH in files:
        (path / LEGACY_CONTENT_PATH).unlink()
    return written


def _folder_name(path: Path) -> str:
    return path.name.removesuffix(".Dataflow")


def _metadata(name: str, old: Mapping[str, Any]) -> dict[str, Any]:
    """queryMetadata.json 202502 from the fields both legacy shapes share."""
    settings = old.get("computeEngineSettings")
    doc: dict[str, Any] = {
        "formatVersion": CURRENT_FORMAT_VERSION,
        "computeEngineSettings": settings if isinstance(settings, dict) else {},
        "name": name,
        "queryGroups": list(old.get("queryGroups") or []),
    }
    for key in _COPIED:
        if old.get(key) is not None:
            doc[key] = old[key]
    queries = old.get("queriesMetadata") or {}
    if isinstance(queries, dict):
        doc["queriesMetadata"] = {
            key: {f: q[f] for f in _QUERY_FIELDS if f in q}
            for key, q in queries.items()
            if isinstance(q, dict)
        }
    connections = []
    for override in old.get("connectionOverrides") or []:
        connection_id = _connection_id(override) if isinstance(override, dict) else None
        if connection_id:
            connections.append(
                {
                    "path": override.get("path", ""),
                    "kind": override.get("kind", ""),
                    "connectionId": connection_id,
                }
            )
    doc["connections"] = connections
    return doc


def _connection_id(override: Mapping[str, Any]) -> str | None:
    # The preview wrote Fabric connections as a ClusterId/DatasourceId JSON string in
    # connectionName; the current format keeps that string as the connectionId.
    value = override.get("connectionId") or override.get("connectionName")
    if isinstance(value, str) and (override.get("connectionId") or value.startswith('{"ClusterId"')):
        return value
    return None
