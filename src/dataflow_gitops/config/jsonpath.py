"""A small JSONPath subset for overlay ``set`` rules (② render) and ``ignore`` rules (④ diff).

expression → steps → matches over a decoded JSON document. Supported: ``$``, ``.name``,
``['key with space']`` / ``["key"]``, ``[0]`` (negative indexes too), ``[*]`` / ``.*`` and the
recursive descent ``..name`` / ``..*``. Documents are never mutated: :func:`set_values` and
:func:`delete` return new ones.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PathKey = str | int
Path = tuple[PathKey, ...]

_WILDCARD = "*"


class JsonPathError(ValueError):
    """The expression is outside the supported subset; the message names the offset."""


@dataclass(frozen=True, slots=True)
class _Step:
    key: PathKey  # a field name, an index, or _WILDCARD
    recursive: bool = False
    wildcard: bool = False


def parse(expr: str) -> tuple[_Step, ...]:
    """Split ``expr`` into steps; raises JsonPathError with the offending offset."""
    text = expr.strip()
    if not text.startswith("$"):
        raise JsonPathError(f"JSONPath {expr!r} must start with '$'")
    steps: list[_Step] = []
    i = 1
    while i < len(text):
        recursive = False
        if text.startswith("..", i):
            recursive = True
            i += 2
            if i < len(text) and text[i] == "[":
                step, i = _bracket(text, i, recursive=True)
                steps.append(step)
                continue
            name, i = _name(text, i)
            steps.append(_Step(name, recursive=True, wildcard=name == _WILDCARD))
        elif text[i] == ".":
            name, i = _name(text, i + 1)
            steps.append(_Step(name, recursive=recursive, wildcard=name == _WILDCARD))
        elif text[i] == "[":
            step, i = _bracket(text, i, recursive=False)
            steps.append(step)
        else:
            raise JsonPathError(f"JSONPath {expr!r}: unexpected {text[i]!r} at offset {i}")
    return tuple(steps)


def _name(text: str, i: int) -> tuple[str, int]:
    start = i
    while i < len(text) and text[i] not in ".[":
        i += 1
    name = text[start:i]
    if not name:
        raise JsonPathError(f"JSONPath {text!r}: empty name at offset {start}")
    return name, i


def _bracket(text: str, i: int, *, recursive: bool) -> tuple[_Step, int]:
    quote = text[i + 1 : i + 2]
    if quote in ("'", '"'):
        key, j = [], i + 2
        while j < len(text) and text[j] != quote:
            if text[j] == "\\" and j + 1 < len(text):
                j += 1
            key.append(text[j])
            j += 1
        if not text.startswith(quote + "]", j):
            raise JsonPathError(f"JSONPath {text!r}: unterminated quoted key at offset {i}")
        return _Step("".join(key), recursive=recursive), j + 2
    close = text.find("]", i)
    if close < 0:
        raise JsonPathError(f"JSONPath {text!r}: missing ']' after offset {i}")
    inner = text[i + 1 : close].strip()
    if inner == _WILDCARD:
        return _Step(_WILDCARD, recursive=recursive, wildcard=True), close + 1
    try:
        return _Step(int(inner), recursive=recursive), close + 1
    except ValueError:
        raise JsonPathError(
            f"JSONPath {text!r}: {inner!r} at offset {i} is neither an index, '*' nor a quoted key"
        ) from None


def _children(node: Any) -> Iterator[tuple[PathKey, Any]]:
    if isinstance(node, dict):
        yield from node.items()
    elif isinstance(node, list):
        yield from enumerate(node)


def _descendants(node: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    yield path, node
    for key, child in _children(node):
        yield from _descendants(child, (*path, key))


def _apply(step: _Step, path: Path, node: Any) -> Iterator[tuple[Path, Any]]:
    if step.wildcard:
        for key, child in _children(node):
            yield (*path, key), child
    elif isinstance(step.key, int):
        if isinstance(node, list) and -len(node) <= step.key < len(node):
            index = step.key % len(node)
            yield (*path, index), node[index]
    elif isinstance(node, dict) and step.key in node:
        yield (*path, step.key), node[step.key]


def find(doc: Any, expr: str) -> list[tuple[Path, Any]]:
    """Every (path, value) the expression selects, in document order."""
    current: list[tuple[Path, Any]] = [((), doc)]
    for step in parse(expr):
        nxt: list[tuple[Path, Any]] = []
        for path, node in current:
            bases = _descendants(node, path) if step.recursive else iter([(path, node)])
            for base_path, base in bases:
                nxt.extend(_apply(step, base_path, base))
        current = _unique(nxt)
    return current


def _unique(matches: list[tuple[Path, Any]]) -> list[tuple[Path, Any]]:
    seen: set[Path] = set()
    out = []
    for path, value in matches:
        if path not in seen:
            seen.add(path)
            out.append((path, value))
    return out


def set_values(doc: Any, expr: str, value: Any) -> Any:
    """A copy of ``doc`` with every selected value replaced by ``value`` (nothing is created)."""
    result = copy.deepcopy(doc)
    for path, _ in find(result, expr):
        if not path:
            return copy.deepcopy(value)
        parent = _at(result, path[:-1])
        parent[path[-1]] = copy.deepcopy(value)
    return result


def delete(doc: Any, expr: str) -> Any:
    """A copy of ``doc`` without the selected values (deleting ``$`` itself yields None)."""
    result = copy.deepcopy(doc)
    paths = [path for path, _ in find(result, expr)]
    if () in paths:
        return None
    # Deepest and highest list indexes first, so earlier deletions never shift later paths.
    for path in sorted(paths, key=_delete_order, reverse=True):
        try:
            parent = _at(result, path[:-1])
        except (KeyError, IndexError, TypeError):
            continue  # already removed with an ancestor
        key = path[-1]
        if isinstance(parent, dict):
            parent.pop(key, None)
        elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
            del parent[key]
    return result


def _delete_order(path: Path) -> tuple[int, tuple[tuple[int, str], ...]]:
    return len(path), tuple((k, "") if isinstance(k, int) else (-1, k) for k in path)


def _at(doc: Any, path: Path) -> Any:
    node = doc
    for key in path:
        node = node[key]
    return node


def format_path(path: Path) -> str:
    """``("a", 0, "b c")`` → ``$.a[0]['b c']`` (how diff output names a location)."""
    out = "$"
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        elif key.isidentifier():
            out += f".{key}"
        else:
            out += "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out
