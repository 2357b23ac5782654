"""YAML with positions (config layer): file text → plain values + a pointer → "file:line" map.

Overlays are loaded through ``yaml.compose`` rather than ``yaml.safe_load`` so that every later
error (schema, ``${env:…}``, render) can name the line of the offending key or value.
Timestamps stay strings (a date parameter is formatted by the M writer, not by PyYAML), and a
key given twice is an error instead of a silent last-one-wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dataflow_gitops.errors import ConfigError

Pointer = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type (dates stay text)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True, slots=True)
class Located:
    """A loaded document and where each of its parts came from."""

    value: Any
    path: str
    """The file as users should see it, e.g. ``environments/prod.yaml``."""
    value_lines: Mapping[Pointer, int] = field(default_factory=dict)
    key_lines: Mapping[Pointer, int] = field(default_factory=dict)

    fallback: Located | None = None
    """Where values this document merged in from elsewhere (project defaults) came from."""

    def where(self, pointer: Pointer, *, key: bool = False) -> str:
        """``file:line`` of the value at ``pointer`` (of its key with ``key=True``), or of the
        nearest enclosing value that is known."""
        path, line = self.locate(pointer, key=key)
        return f"{path}:{line}"

    def locate(self, pointer: Pointer, *, key: bool = False) -> tuple[str, int]:
        lines = self.key_lines if key else self.value_lines
        if pointer not in lines and pointer not in self.value_lines and self.fallback is not None:
            fallback = self.fallback
            if pointer in fallback.value_lines:
                return fallback.path, fallback.line(pointer, key=key)
        return self.path, self.line(pointer, key=key)

    def line(self, pointer: Pointer, *, key: bool = False) -> int:
        p = pointer
        while True:
            if key and p in self.key_lines:
                return self.key_lines[p]
            if p in self.value_lines:
                return self.value_lines[p]
            if not p:
                return 1
            p = p[:-1]


def load_yaml(text: str, *, path: str) -> Located:
    """Parse one YAML document; YAML errors become ConfigError at the reported line."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        if node is None:
            return Located(None, path)
        converter = _Converter(path)
        value = converter.convert(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"invalid YAML: {problem}", path=path, line=line, hint="fix the YAML syntax"
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError(
            f"invalid YAML: {str(exc).splitlines()[0]}",
            path=path,
            line=line,
            hint="remove the control character",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"invalid YAML: {str(exc).splitlines()[0]}", path=path, hint="fix the YAML syntax"
        ) from None
    except RecursionError:
        raise ConfigError(
            "the YAML document is nested too deeply", path=path, hint="flatten the structure"
        ) from None
    return Located(value, path, converter.value_lines, converter.key_lines)


_constructor = SafeConstructor()
# Aliases can make a tiny file expand enormously ("billion laughs"); overlays are small.
_MAX_NODES = 50_000
# Overlays are a few levels deep; a limit keeps every later recursive walk (schema, merge) safe.
_MAX_DEPTH = 40


class _Converter:
    def __init__(self, path: str) -> None:
        self.path = path
        self.value_lines: dict[Pointer, int] = {}
        self.key_lines: dict[Pointer, int] = {}
        self._active: set[int] = set()
        self._count = 0

    def convert(self, node: Node, pointer: Pointer) -> Any:
        line = node.start_mark.line + 1
        self._count += 1
        if self._count > _MAX_NODES:
            raise ConfigError(
                "the document is too large (do its aliases expand recursively?)",
                path=self.path,
                line=line,
            )
        if len(pointer) > _MAX_DEPTH:
            raise ConfigError(
                "the YAML document is nested too deeply",
                path=self.path,
                line=line,
                hint="flatten the structure",
            )
        if id(node) in self._active:
            raise ConfigError(
                "a YAML alias refers to itself",
                path=self.path,
                line=line,
                hint="remove the recursive alias",
            )
        self.value_lines[pointer] = line
        if isinstance(node, MappingNode):
            self._active.add(id(node))
            try:
                return self._mapping(node, pointer)
            finally:
                self._active.discard(id(node))
        if isinstance(node, SequenceNode):
            self._active.add(id(node))
            try:
                return [self.convert(child, (*pointer, i)) for i, child in enumerate(node.value)]
            finally:
                self._active.discard(id(node))
        try:
            return _constructor.construct_object(node)
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"invalid YAML value: {exc}".splitlines()[0], path=self.path, line=line
            ) from None
        except ValueError:
            # Python refuses int() of more than 4300 digits (CVE-2020-10735): no number is that long.
            raise ConfigError(
                f"the value has {len(str(node.value))} characters and cannot be read as a number",
                path=self.path,
                line=line,
                hint="quote it if it is text, or shorten it",
            ) from None

    def _mapping(self, node: MappingNode, pointer: Pointer) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConfigError(
                    "YAML merge keys ('<<') are not supported",
                    path=self.path,
                    line=line,
                    hint="write the keys out",
                )
            if not isinstance(key_node, ScalarNode):
                raise ConfigError("a mapping key must be a plain value", path=self.path, line=line)
            # `1: x` or `true: x` as a key is almost always meant as a name: keep the text.
            key = str(key_node.value)
            if key in out:
                raise ConfigError(
                    f"key {key!r} is given twice", path=self.path, line=line, hint="remove one of them"
                )
            self.key_lines[(*pointer, key)] = line
            out[key] = self.convert(value_node, (*pointer, key))
        return out
