"""Schema check (config layer): a located YAML document → nothing, or one ConfigError at its line.

The shipped JSON Schemas (Draft 2020-12) are the single definition of the overlay and project
file shapes; editors read the same files. This module turns jsonschema's errors into one line
each: what is wrong, ``file:line`` of the offending key or value, and what to do (for an unknown
key, the closest known one).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from referencing import Registry, Resource

from dataflow_gitops.config.yamlpos import Located, Pointer
from dataflow_gitops.errors import ConfigError

ENVIRONMENT_SCHEMA = "environment.schema.json"
PROJECT_SCHEMA = "project.schema.json"
_GUID_REF = "#/$defs/guid"


@cache
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("dataflow_gitops.schemas").joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    registry: Registry[Any] = Registry()
    for other in (ENVIRONMENT_SCHEMA, PROJECT_SCHEMA):
        schema = load_schema(other)
        resource = Resource.from_contents(schema)
        # Registered by file name: the schemas refer to each other relatively, like editors do.
        registry = registry.with_resource(other, resource)
    return jsonschema.Draft202012Validator(load_schema(name), registry=registry)


def format_pointer(pointer: Iterable[str | int]) -> str:
    """``("replace", 0, "find")`` → ``replace[0].find``."""
    out = ""
    for part in pointer:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        # A key with control characters or dots would garble the one-line message: quote it.
        name = part if part.isprintable() and "." not in part and part.strip() == part else repr(part)
        out += f".{name}" if out else name
    return out or "(top level)"


def validate(doc: Located, schema_name: str, *, redact: Callable[[str], str] = str) -> None:
    """Raise a ConfigError for the first (by line) schema violation of ``doc``."""
    errors = list(_validator(schema_name).iter_errors(doc.value))
    if not errors:
        return
    described = [_describe(e, doc) for e in errors]
    described.sort(key=lambda d: doc.locate(d[1], key=d[2]))
    message, pointer, key, hint = described[0]
    path, line = doc.locate(pointer, key=key)
    raise ConfigError(redact(message), path=path, line=line, hint=redact(hint) if hint else None)


def _describe(error: jsonschema.ValidationError, doc: Located) -> tuple[str, Pointer, bool, str | None]:
    pointer: Pointer = tuple(error.absolute_path)
    where = format_pointer(pointer)
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = sorted(schema.get("properties", {}))
        extra = sorted(
            (k for k in instance if k not in schema.get("properties", {})),
            key=lambda k: doc.line((*pointer, k), key=True),
        )
        if known and extra:
            name = extra[0]
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
            inside = f" in {where}" if pointer else ""
            return f"unknown key {name!r}{inside}", (*pointer, name), True, hint
    if error.validator == "required":
        return f"{where}: {error.message}", pointer, False, "add the missing key"
    if "propertyNames" in error.schema_path and isinstance(instance, str):
        suffix = " (nor a ClusterId/DatasourceId connection)" if "connections" in pointer else ""
        return (
            f"{where}: key {instance!r} is not a GUID{suffix}",
            (*pointer, instance),
            True,
            "key bindings by the id the repository holds",
        )
    if error.validator == "anyOf" and _mentions_guid(schema):
        return (
            f"{where}: {_short(instance)} is not a GUID"
            + (
                " or ${workspace.id} / ${items.<Type>.<name>.id}"
                if _mentions(schema, "dynamicId")
                else ""
            ),
            pointer,
            False,
            "use the id as 8-4-4-4-12 hex digits",
        )
    if error.validator == "pattern" and schema.get("pattern", "").startswith("^[0-9a-fA-F]{8}"):
        return f"{where}: {_short(instance)} is not a GUID", pointer, False, None
    if error.validator == "type":
        return (
            f"{where}: expected {_types(error.validator_value)}, got {_kind(instance)}",
            pointer,
            False,
            None,
        )
    if error.validator in ("enum", "const"):
        options = error.validator_value if error.validator == "enum" else [error.validator_value]
        return (
            f"{where}: {_short(instance)} is not one of {', '.join(map(repr, options))}",
            pointer,
            False,
            None,
        )
    if error.validator == "anyOf" and pointer[-1:] == ("api",):
        return (
            f"{where}: {_short(instance)} is neither 'embedded' nor an http(s) URL",
            pointer,
            False,
            "e.g. https://api.fabric.microsoft.com",
        )
    if error.validator == "pattern" and where.endswith("display_name"):
        return f"{where}: the template must contain {{name}}", pointer, False, "e.g. '{name} [TEST]'"
    return f"{where}: {error.message}", pointer, False, None


def _mentions(schema: dict[str, Any], name: str) -> bool:
    return any(name in json.dumps(option) for option in schema.get("anyOf", ()))


def _mentions_guid(schema: dict[str, Any]) -> bool:
    return _mentions(schema, _GUID_REF)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "nothing (null)",
    }
    return names.get(type(value), type(value).__name__)


def _types(expected: Any) -> str:
    names = {
        "object": "a mapping",
        "array": "a list",
        "string": "text",
        "boolean": "true/false",
        "number": "a number",
        "integer": "a whole number",
        "null": "null",
    }
    options = expected if isinstance(expected, list) else [expected]
    return " or ".join(names.get(str(o), str(o)) for o in options)
