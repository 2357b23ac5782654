"""Definition parts: wire codec, ``.platform``, canonical forms and fingerprints.

Wire (``[{path, payload, payloadType: InlineBase64}]``) ⇄ :class:`Part` (path + raw bytes);
``.platform`` bytes ⇄ :class:`Platform`; parts → canonical bytes → sha256 fingerprint.

Parts keep the exact bytes we send. Only :func:`fingerprint` looks at canonical forms, so that
two definitions that differ in JSON key order, indentation, a BOM or line endings compare equal.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dataflow_gitops import utf8
from dataflow_gitops.errors import SourceError
from dataflow_gitops.pipeline.model import DATAFLOW_TYPE, PLATFORM_PATH, ZERO_GUID, Part, Platform
from dataflow_gitops.utf8 import TEXT_ENCODING

PLATFORM_SCHEMA = "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/platformProperties/2.0.0/schema.json"
PAYLOAD_TYPE = "InlineBase64"
# Parts whose content is JSON (compared structurally); everything else is text.
JSON_SUFFIXES = (".json", ".platform", ".mdf", ".schedules")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_guid(value: object) -> bool:
    return isinstance(value, str) and bool(_GUID.match(value))


# What a Windows checkout cannot hold (the repository must check out everywhere): device names
# (`CON`, `nul.json` open the device), characters NTFS refuses or reads as a stream (`a:b`), and
# names ending in a dot or space (Windows drops those, so two parts would share one file).
_WINDOWS_DEVICE = re.compile(
    r"(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|(COM|LPT)[0-9\u00b9\u00b2\u00b3])", re.I
)
_WINDOWS_CHARS = re.compile(r'[<>:"|?*\x00-\x1f]')


def _windows_problem(path: str) -> str | None:
    for segment in path.split("/"):
        found = _WINDOWS_CHARS.search(segment)
        if found:
            return f"has {found.group()!r}, which Windows does not allow in a file name"
        if segment.endswith((".", " ")):
            return "has a name ending in a dot or space, which Windows drops"
        if _WINDOWS_DEVICE.fullmatch(segment.split(".", 1)[0].rstrip(" ")):
            return f"names the Windows device {segment.split('.', 1)[0]!r}"
    return None


def safe_part_path(path: str) -> str:
    """Return ``path`` if it is a relative posix path that stays inside the item folder.

    Part paths come from the service or from files; they become file names on disk, so
    absolute paths, ``..``, backslashes and NUL are refused (DESIGN §6), and so is what a
    Windows checkout cannot hold (device names, ``:`` and the other reserved characters).
    """
    problem = None
    if not path:
        problem = "is empty"
    elif "\x00" in path:
        problem = "contains a NUL character"
    elif "\\" in path:
        problem = "contains a backslash"
    elif path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        problem = "is absolute"
    elif any(segment in ("", ".", "..") for segment in path.split("/")):
        problem = "has an empty, '.' or '..' segment"
    else:
        problem = _windows_problem(path)
    if problem:
        raise SourceError(
            f"unsafe part path {path!r}: it {problem}",
            hint="part paths must be relative names inside the dataflow folder",
        )
    return path


def decode_parts(wire: Sequence[Mapping[str, Any]]) -> tuple[Part, ...]:
    """Decode ``definition.parts`` from the API into parts sorted by path."""
    parts: list[Part] = []
    for entry in wire:
        path = safe_part_path(str(entry.get("path", "")))
        payload_type = entry.get("payloadType", PAYLOAD_TYPE)
        if payload_type != PAYLOAD_TYPE:
            raise SourceError(
                f"part {path!r} has payloadType {payload_type!r}",
                hint=f"only {PAYLOAD_TYPE} is supported",
            )
        payload = entry.get("payload", "")
        try:
            data = base64.b64decode(str(payload), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SourceError(f"part {path!r} is not valid base64 ({exc})") from None
        parts.append(Part(path, data))
    return tuple(sorted(parts, key=lambda p: p.path))


def encode_parts(parts: Iterable[Part]) -> list[dict[str, str]]:
    return [
        {
            "path": safe_part_path(p.path),
            "payload": base64.b64encode(p.data).decode("ascii"),
            "payloadType": PAYLOAD_TYPE,
        }
        for p in parts
    ]


def line_of(text: str, needle: str) -> int | None:
    """1-based line of the first occurrence of ``needle`` in ``text`` (for error locations)."""
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1


def json_document(text: str) -> Any:
    """``json.loads``, where every unreadable document is a JSONDecodeError: also one nested past
    the interpreter's recursion limit and a number of more than 4300 digits (which escape as
    RecursionError and ValueError, and would otherwise end the run with a traceback)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("the document is nested too deeply", text, 0) from None
    except ValueError as exc:
        raise json.JSONDecodeError(str(exc).split(":")[0], text, 0) from None


def load_json(data: bytes, *, path: str) -> Any:
    """Parse a JSON part; errors name ``path:line``."""
    text = decode_text(data, path=path)
    try:
        return json_document(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"invalid JSON: {exc.msg} (column {exc.colno})",
            path=path,
            line=exc.lineno,
            hint="fix the JSON syntax",
        ) from None


# Everything that reads a part's text goes through decode_text (strict, the one rule of
# dataflow_gitops.utf8) or lenient_text (display, search).
decode_text = utf8.decode_text


def without_bom(data: bytes) -> bytes:
    """The bytes of a part as we send them: the same rule, so a BOM never reaches Fabric."""
    return data.removeprefix(codecs.BOM_UTF8)


def lenient_text(data: bytes) -> str:
    """The text of a part for display and searching: like :func:`decode_text`, but a bad byte
    becomes U+FFFD instead of an error (the source stage has already reported it)."""
    return data.decode(TEXT_ENCODING, errors="replace")


def parse_platform(data: bytes, *, path: str) -> Platform:
    """Read a ``.platform`` file (schema platformProperties 2.x) into a :class:`Platform`."""
    doc = load_json(data, path=path)
    text = decode_text(data, path=path)
    if not isinstance(doc, dict):
        raise SourceError("`.platform` must be a JSON object", path=path, line=1)
    metadata = doc.get("metadata")
    config = doc.get("config")
    if not isinstance(metadata, dict):
        raise SourceError(
            "`.platform` has no `metadata` object",
            path=path,
            line=1,
            hint='add "metadata": {"type": "Dataflow", "displayName": …}',
        )
    if not isinstance(config, dict):
        raise SourceError(
            "`.platform` has no `config` object",
            path=path,
            line=1,
            hint='add "config": {"version": "2.0", "logicalId": "<guid>"}',
        )
    item_type = metadata.get("type")
    if item_type != DATAFLOW_TYPE:
        raise SourceError(
            f"`.platform` metadata.type is {item_type!r}, not {DATAFLOW_TYPE!r}",
            path=path,
            line=line_of(text, '"type"') or 1,
            hint="only Dataflow items belong in a *.Dataflow folder (the type is case-sensitive)",
        )
    display_name = metadata.get("displayName")
    if not isinstance(display_name, str) or not display_name.strip():
        raise SourceError(
            "`.platform` metadata.displayName is missing or empty",
            path=path,
            line=line_of(text, '"metadata"') or 1,
            hint="set the dataflow's display name",
        )
    description = metadata.get("description", "")
    if not isinstance(description, str):
        raise SourceError(
            "`.platform` metadata.description must be a string",
            path=path,
            line=line_of(text, '"description"') or 1,
        )
    logical_id = config.get("logicalId")
    if logical_id is None:
        raise SourceError(
            "`.platform` has no config.logicalId",
            path=path,
            line=line_of(text, '"config"') or 1,
            hint="add a unique GUID as config.logicalId (Fabric Git sync writes one)",
        )
    if not is_guid(logical_id) or logical_id == ZERO_GUID:
        shown = logical_id if isinstance(logical_id, str) else repr(logical_id)
        raise SourceError(
            f"`.platform` config.logicalId {shown!r} is empty, all zeros or not a GUID",
            path=path,
            line=line_of(text, '"logicalId"') or 1,
            hint="set a unique GUID (e.g. from `python -c 'import uuid; print(uuid.uuid4())'`)",
        )
    return Platform(
        type=item_type, display_name=display_name, logical_id=str(logical_id), description=description
    )


def fabric_json(doc: Any) -> bytes:
    """JSON as Fabric serialises a definition file: 2-space indent, non-ASCII as is, and no final
    newline (an added one is a diff against Fabric Git sync on every round trip)."""
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")


def platform_part(platform: Platform) -> Part:
    """The ``.platform`` file as Fabric Git sync writes it (2-space JSON, no final newline)."""
    metadata: dict[str, str] = {"type": platform.type, "displayName": platform.display_name}
    if platform.description:
        metadata["description"] = platform.description
    doc = {
        "$schema": PLATFORM_SCHEMA,
        "metadata": metadata,
        "config": {"version": "2.0", "logicalId": platform.logical_id},
    }
    return Part(PLATFORM_PATH, fabric_json(doc))


def canonical_bytes(part: Part) -> bytes:
    """The form two parts are compared in: sorted compact JSON, or normalised text.

    A JSON part's is kept with the part (:class:`~.model.Derived`): the fingerprints of both
    sides and the diff each ask for it.
    """
    derived = part.derived
    found = derived.canonical
    if found is not None:
        return found
    if not part.path.endswith(JSON_SUFFIXES):
        # Cheap on the bytes, and usually the bytes themselves: kept only then (a normalised copy
        # of every 50 KB mashup would double what the parts hold).
        found = _normal_bytes(part.data)
        if found is part.data:
            derived.canonical = found
        return found
    found = derived.canonical = _canonical_json(part.data)
    return found


def _normal_bytes(data: bytes) -> bytes:
    """``data`` as normalised text (one final LF, no CR, no BOM, bad bytes as U+FFFD).

    Valid UTF-8 without CR or BOM is normalised on the bytes themselves: decoding a 50 KB mashup
    to text and encoding it again only to trim its final newlines costs ten times as much.
    """
    if b"\r" not in data and not data.startswith(codecs.BOM_UTF8):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass  # the lenient decode replaces bad bytes: normalised as text below
        else:
            if data.endswith(b"\n") and not data.endswith(b"\n\n"):
                return data  # the common case, without a copy
            return data.rstrip(b"\n") + b"\n"
    return _normal_text(lenient_text(data))


def _normal_text(text: str) -> bytes:
    text = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n") + "\n"
    return text.encode("utf-8")


def _canonical_json(data: bytes) -> bytes:
    text = lenient_text(data)
    try:
        doc = json_document(text)
    except json.JSONDecodeError:
        return _normal_text(text)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fingerprint(parts: Iterable[Part], *, display_name: str, description: str) -> str:
    """sha256 over the canonical parts except ``.platform``, plus the name and description.

    ``.platform`` is left out because the service rewrites it (the logicalId and schema stay, the
    formatting does not); the two properties it carries that matter are hashed explicitly.
    """
    digest = hashlib.sha256()
    for field in (display_name, description):
        encoded = field.encode("utf-8")
        digest.update(b"%d:" % len(encoded) + encoded)
    for part in sorted(parts, key=lambda p: p.path):
        if part.path == PLATFORM_PATH:
            continue
        body = canonical_bytes(part)
        path = part.path.encode("utf-8")
        digest.update(b"%d:" % len(path) + path + b"%d:" % len(body) + body)
    return digest.hexdigest()


# folder layout ------------------------------------------------------------------------------

# Characters Fabric Git sync writes as HTML numeric entities in folder names (fabric-api-notes §5.6).
_UNSAFE_FOLDER_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
# Windows device names: a folder `CON.Dataflow` or `nul.x.Dataflow` opens the device instead, so
# such a checkout fails there. Git sync's documented rules do not cover them; the same entity
# encoding of the name's last character keeps the folder readable and safe everywhere.
_DEVICE_NAME = re.compile(r"(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|(COM|LPT)[0-9\u00b9\u00b2\u00b3])", re.I)


def folder_name(display_name: str, item_type: str = "Dataflow") -> str:
    """``<display name>.<type>`` with unsafe characters as ``&#NN;``, the way Git sync names it.

    A Windows device name (``CON``, ``nul``, ``COM1``…) before the first dot gets its last
    character encoded too (``CO&#78;.Dataflow``).
    """
    name = _UNSAFE_FOLDER_CHARS.sub(lambda m: f"&#{ord(m.group())};", display_name)
    if name.startswith(" "):
        name = "&#32;" + name[1:]
    if name.endswith((" ", ".")):
        name = name[:-1] + f"&#{ord(name[-1])};"
    stem, dot, rest = name.partition(".")
    device = _DEVICE_NAME.fullmatch(stem.rstrip(" "))
    if device is not None:
        word = device.group()
        stem = word[:-1] + f"&#{ord(word[-1])};" + stem[len(word) :]
        name = stem + dot + rest
    return f"{name}.{item_type}"
