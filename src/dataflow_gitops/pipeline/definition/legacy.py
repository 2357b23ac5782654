"""① source, old formats: detection, and ``dfg migrate`` (legacy folder → current parts).

Two older Dataflow Gen2 definition formats still turn up (fabric-api-notes §5.5):

- the earliest preview's single part ``dataflow-content.json`` (``editingSessionMashup`` with the
  whole M document as the string ``mashupDocument``);
- ``queryMetadata.json`` with ``formatVersion "202412"`` (everything nested in
  ``dataflowOptions``).

Both convert to ``queryMetadata.json`` 202502 + ``mashup.pq`` (+ the ``.platform`` Git sync writes).
``queryMetadata.json`` 202409 (the ``editingSession`` shape) is read as written, and converts too
(:func:`.formats.to_current`, nothing lost).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataflow_gitops.errors import SourceError
from dataflow_gitops.pipeline.definition import formats
from dataflow_gitops.pipeline.definition.parts import (
    decode_text,
    fabric_json,
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


@dataclass(frozen=True, slots=True)
class Migration:
    """What ``dfg migrate`` found in a folder and what converting it writes."""

    found: str
    """The shape found, as the user reads it (``queryMetadata.json formatVersion "202409"``)."""
    writes: Mapping[str, bytes] = field(default_factory=dict)
    """New file contents by name; empty: nothing to migrate."""
    removes: tuple[str, ...] = ()
    """Files to delete once the new ones are written."""
    notes: tuple[str, ...] = ()
    """Where values without a place in the current shape were kept."""

    @property
    def written(self) -> tuple[str, ...]:
        return tuple(self.writes)


def migration(path: Path, files: Mapping[str, bytes]) -> Migration:
    """What converting the old dataflow folder ``path`` (holding ``files``) writes and removes,
    and what it was. Pure: the adapter (:func:`adapters.files.migrate_folder`) does the writing.

    ``dataflow-content.json`` is removed once its content lives in the new parts. A current
    folder needs nothing; a folder that holds no Dataflow Gen2 definition dfg knows (empty, a
    ``model.json`` export, an unknown formatVersion) is a SourceError that says what it holds.
    """
    if LEGACY_CONTENT_PATH in files:
        return _from_single_part(path, files)
    if METADATA_PATH not in files:
        raise SourceError(_nothing_known(files), path=str(path), hint=_UNKNOWN_HINT)
    old = load_json(files[METADATA_PATH], path=str(path / METADATA_PATH))
    version = formats.version_of(old)
    found = f'{METADATA_PATH} formatVersion "{version}"'
    if version == CURRENT_FORMAT_VERSION:
        return Migration(found)
    if version == LEGACY_FORMAT_VERSION:
        options = old.get("dataflowOptions") or {}
        if not isinstance(options, dict):
            raise SourceError("dataflowOptions must be an object", path=str(path / METADATA_PATH))
        name = str(options.get("name") or _folder_name(path))
        return _finish(path, files, found, name, _metadata(name, options), None, ())
    if version == formats.EDITING_SESSION and isinstance(old, dict):
        formats.check(
            old, decode_text(files[METADATA_PATH], path=METADATA_PATH), str(path / METADATA_PATH)
        )
        metadata, notes = formats.to_current(old, _folder_name(path))
        return _finish(path, files, found, str(metadata["name"]), metadata, None, notes)
    raise SourceError(
        f"{found}: a shape dfg does not know",
        path=str(path / METADATA_PATH),
        hint=f'dfg reads "{CURRENT_FORMAT_VERSION}" and "{formats.EDITING_SESSION}" and migrates '
        f'"{formats.EDITING_SESSION}", "{LEGACY_FORMAT_VERSION}" and {LEGACY_CONTENT_PATH} '
        "(docs/formats.md)",
    )


_UNKNOWN_HINT = (
    "a Dataflow Gen2 folder holds queryMetadata.json and mashup.pq (or the older "
    f"{LEGACY_CONTENT_PATH}); see docs/formats.md"
)


def _nothing_known(files: Mapping[str, bytes]) -> str:
    if not files:
        return "the folder is empty: no Dataflow Gen2 definition to migrate"
    shown = ", ".join(sorted(files)[:5]) + (", …" if len(files) > 5 else "")
    if "model.json" in files:
        return (
            f"found {shown}: model.json is a Power BI dataflow (Gen1) export, a shape dfg does not know"
        )
    return f"found {shown}: no {METADATA_PATH} or {LEGACY_CONTENT_PATH}, a shape dfg does not know"


def _from_single_part(path: Path, files: Mapping[str, bytes]) -> Migration:
    content = load_json(files[LEGACY_CONTENT_PATH], path=str(path / LEGACY_CONTENT_PATH))
    session = content.get("editingSessionMashup") if isinstance(content, dict) else None
    if not isinstance(session, dict) or not isinstance(session.get("mashupDocument"), str):
        raise SourceError(
            "no editingSessionMashup.mashupDocument string",
            path=str(path / LEGACY_CONTENT_PATH),
            hint="this does not look like a Dataflow Gen2 definition",
        )
    name = str(session.get("mashupName") or _folder_name(path))
    found = f"the single-part {LEGACY_CONTENT_PATH}"
    return _finish(path, files, found, name, _metadata(name, session), session["mashupDocument"], ())


def _finish(
    path: Path,
    files: Mapping[str, bytes],
    found: str,
    name: str,
    metadata: Mapping[str, Any],
    mashup: str | None,
    notes: tuple[str, ...],
) -> Migration:
    writes = {METADATA_PATH: fabric_json(metadata)}
    if mashup is not None:
        writes[MASHUP_PATH] = mashup.encode("utf-8")  # exact text, no newline translation
    if PLATFORM_PATH not in files:
        platform = Platform(type=DATAFLOW_TYPE, display_name=name, logical_id=str(uuid.uuid4()))
        writes[PLATFORM_PATH] = platform_part(platform).data
    else:
        parse_platform(files[PLATFORM_PATH], path=str(path / PLATFORM_PATH))
    removes = (LEGACY_CONTENT_PATH,) if LEGACY_CONTENT_PATH in files else ()
    return Migration(found, writes, removes, notes)


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
        connection_id = formats.connection_id_of(override) if isinstance(override, dict) else None
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
