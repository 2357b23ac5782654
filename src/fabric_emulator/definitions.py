"""Item definition rules: request `definition` JSON → validated `Part`s (+ the `.platform` it carried),
and item → the `.platform` part that getDefinition always returns. No HTTP here."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fabric_emulator.errors import bad_request

PLATFORM = ".platform"
PLATFORM_SCHEMA = "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/platformProperties/2.0.0/schema.json"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
DATAFLOW_REQUIRED = ("queryMetadata.json", "mashup.pq")
LEGACY_DATAFLOW_PART = "dataflow-content.json"


@dataclass(frozen=True, slots=True)
class Part:
    path: str
    payload: str

    def text(self) -> str:
        padded = self.payload + "=" * (-len(self.payload) % 4)
        return base64.b64decode(padded).decode("utf-8", errors="replace")

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "payload": self.payload, "payloadType": "InlineBase64"}


@dataclass(frozen=True, slots=True)
class ParsedDefinition:
    parts: tuple[Part, ...]
    platform: dict[str, Any] | None
    format: str | None


def encode(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _check_path(path: Any) -> str:
    if not isinstance(path, str) or not path.strip():
        raise bad_request("InvalidDefinitionParts", "Every definition part needs a non-empty 'path'.")
    segments = path.split("/")
    if path.startswith("/") or "\\" in path or ".." in segments or ":" in path or "" in segments:
        raise bad_request(
            "InvalidDefinitionParts",
            f"Definition part path '{path}' is invalid: use a relative path with '/' separators, "
            "without '..', backslashes or drive letters.",
        )
    return path


def _decode(path: str, payload: Any) -> bytes:
    if not isinstance(payload, str):
        raise bad_request("InvalidDefinitionParts", f"Definition part '{path}' has no string 'payload'.")
    # The official examples carry unpadded payloads (e.g. "QW5vdGhlckJhc2U2NFN0cmluZw"); accept them.
    padded = payload + "=" * (-len(payload) % 4) if len(payload) % 4 != 1 else payload
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(
            "CorruptedPayload", f"The payload of definition part '{path}' is not valid base64."
        ) from None


def parse_definition(item_type: str, definition: Any) -> ParsedDefinition:
    """Validate a request's `definition` object; `.platform` is split off, not stored as a part."""
    if not isinstance(definition, Mapping) or not isinstance(definition.get("parts"), list):
        message = "The definition must be an object with a 'parts' array."
        raise bad_request("InvalidDefinitionParts", message)
    parts: list[Part] = []
    platform: dict[str, Any] | None = None
    seen: set[str] = set()
    for raw in definition["parts"]:
        if not isinstance(raw, Mapping):
            raise bad_request("InvalidDefinitionParts", "Every definition part must be an object.")
        path = _check_path(raw.get("path"))
        if path in seen:
            raise bad_request("InvalidDefinitionParts", f"Definition part '{path}' appears twice.")
        seen.add(path)
        if raw.get("payloadType", "InlineBase64") != "InlineBase64":
            raise bad_request(
                "UnsupportedPayloadType",
                f"Definition part '{path}' has payloadType '{raw.get('payloadType')}'; "
                "only 'InlineBase64' is supported.",
            )
        data = _decode(path, raw.get("payload"))
        if path == PLATFORM:
            platform = _platform(data)
            continue
        # Kept as the bytes it carries, so a part sent unpadded comes back as Fabric encodes it.
        parts.append(Part(path, base64.b64encode(data).decode("ascii")))
    if item_type == "Dataflow":
        _check_dataflow(parts)
    fmt = definition.get("format")
    return ParsedDefinition(tuple(parts), platform, fmt if isinstance(fmt, str) else None)


def _platform(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        doc = None
    if not isinstance(doc, dict):
        raise bad_request("InvalidPlatformFile", "The '.platform' part is not a JSON object.")
    return doc


def _check_dataflow(parts: list[Part]) -> None:
    paths = {p.path for p in parts}
    if LEGACY_DATAFLOW_PART in paths:
        raise bad_request(
            "InvalidDefinitionParts",
            f"'{LEGACY_DATAFLOW_PART}' is the retired single-part Dataflow format; send "
            "'queryMetadata.json' and 'mashup.pq' instead.",
        )
    missing = [p for p in DATAFLOW_REQUIRED if p not in paths]
    if missing:
        raise bad_request(
            "MissingDefinitionParts",
            f"The Dataflow definition lacks required parts: {', '.join(missing)}.",
        )
    meta = next(p for p in parts if p.path == "queryMetadata.json")
    try:
        json.loads(base64.b64decode(meta.payload).decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request(
            "InvalidDefinitionParts", "'queryMetadata.json' is not valid JSON (or nested too deeply)."
        ) from None


def platform_logical_id(platform: Mapping[str, Any] | None) -> str | None:
    config = platform.get("config") if platform else None
    value = config.get("logicalId") if isinstance(config, Mapping) else None
    if isinstance(value, str) and value and value != ZERO_GUID:
        return value
    return None


def platform_metadata(platform: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    meta = platform.get("metadata") if platform else None
    if not isinstance(meta, Mapping):
        return None, None
    name, desc = meta.get("displayName"), meta.get("description")
    return (name if isinstance(name, str) else None, desc if isinstance(desc, str) else None)


def platform_part(item_type: str, display_name: str, description: str, logical_id: str) -> Part:
    metadata: dict[str, str] = {"type": item_type, "displayName": display_name}
    if description:
        metadata["description"] = description
    doc = {
        "$schema": PLATFORM_SCHEMA,
        "metadata": metadata,
        "config": {"version": "2.0", "logicalId": logical_id},
    }
    return Part(PLATFORM, encode(json.dumps(doc, indent=2)))


def default_dataflow_parts(display_name: str) -> tuple[Part, ...]:
    """What a Dataflow created without a definition reports: an empty section document."""
    meta = {
        "formatVersion": "202502",
        "computeEngineSettings": {},
        "name": display_name,
        "queryGroups": [],
        "documentLocale": "en-US",
        "queriesMetadata": {},
        "connections": [],
    }
    return (
        Part("queryMetadata.json", encode(json.dumps(meta, indent=2))),
        Part("mashup.pq", encode("section Section1;\r\n")),
    )


def new_logical_id() -> str:
    return str(uuid.uuid4())
