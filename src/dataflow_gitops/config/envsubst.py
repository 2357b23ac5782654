"""``${env:NAME}`` substitution (config layer): located document → document + secret names/values.

Runs at load time, before the schema check, so a substituted value is validated like a written
one. Every substituted value is a secret from then on: its name is kept for plan files and its
value for masking (:mod:`secret_mask`, which also remembers it for the CLI's output);
neither an error nor a repr ever shows the value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dataflow_gitops import secret_mask as secrets
from dataflow_gitops.config.schema import format_pointer
from dataflow_gitops.config.yamlpos import Located, Pointer
from dataflow_gitops.errors import ConfigError

ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_MALFORMED = re.compile(r"\$\{env:(?![A-Za-z_][A-Za-z0-9_]*\})")


@dataclass(frozen=True, slots=True)
class Substituted:
    value: Any
    names: tuple[str, ...]
    values: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...] = ()
    """(name, value) of every non-empty substitution."""


def substitute(doc: Located, environ: Mapping[str, str] | None = None) -> Substituted:
    env = os.environ if environ is None else environ
    names: list[str] = []
    values: list[str] = []
    pairs: list[tuple[str, str]] = []

    def walk(node: Any, pointer: Pointer) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, (*pointer, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*pointer, i)) for i, v in enumerate(node)]
        if not isinstance(node, str) or "${env:" not in node:
            return node
        if _MALFORMED.search(node):
            raise ConfigError(
                f"{format_pointer(pointer)}: malformed ${{env:NAME}} reference",
                path=doc.path,
                line=doc.line(pointer),
                hint="write ${env:NAME} with a variable name of letters, digits and _",
            )

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigError(
                    f"environment variable {name} is not set (used by {format_pointer(pointer)})",
                    path=doc.path,
                    line=doc.line(pointer),
                    hint=f"export {name} before running dfg",
                )
            if name not in names:
                names.append(name)
            if env[name]:
                values.append(env[name])
                pairs.append((name, env[name]))
                secrets.remember(name, env[name])
            return env[name]

        return ENV_REF.sub(one, node)

    value = walk(doc.value, ())
    return Substituted(value, tuple(names), tuple(dict.fromkeys(values)), tuple(dict.fromkeys(pairs)))
