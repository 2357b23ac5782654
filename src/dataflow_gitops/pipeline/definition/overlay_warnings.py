"""② render, the overlay's leftovers: Snapshot + Environment → warnings for entries that change nothing.

``dfg validate`` warns about bindings whose source id no in-scope dataflow spells, replace rules
that match nothing and set rules whose JSONPath selects nothing: likely typos, or entries left
over after the dataflows changed. Read one dataflow at a time, so a thousand mashups are never
all held as text at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from dataflow_gitops.config import Binding, Environment, jsonpath, matches
from dataflow_gitops.pipeline.definition.parts import lenient_text
from dataflow_gitops.pipeline.definition.render import JSON_PARTS
from dataflow_gitops.pipeline.model import Snapshot


def overlay_warnings(snapshot: Snapshot, env: Environment) -> tuple[str, ...]:
    """Overlay entries that change nothing in any in-scope dataflow (likely typos or leftovers):
    bindings whose source id appears nowhere, replace rules that never match, set rules whose
    path selects nothing. Each line starts with the overlay's ``file:line``."""
    chosen = [d for d in snapshot.dataflows if env.in_scope(d.name)]
    overlays = [(None, env.bindings)] + [(o.name, o.bindings) for o in env.dataflows]
    bindings = [
        (scope_name, kind, binding)
        for scope_name, scoped in overlays
        for kind in ("workspaces", "lakehouses", "warehouses")
        for binding in getattr(scoped, kind)
    ]
    # An empty source is found in any text, even in none.
    found = [binding.source == "" for _, _, binding in bindings]
    replaced = [False] * len(env.replace)
    selected = [False] * len(env.set_rules)
    if bindings or env.replace or env.set_rules:
        # One dataflow's texts at a time: all of them at once (joined and lowered besides) were
        # three copies of every mashup of the repository, the peak memory of `dfg validate`.
        for dataflow in chosen:
            texts = {p.path: lenient_text(p.data) for p in dataflow.parts}
            _find_bindings(dataflow.name, texts, bindings, found)
            _match_rules(dataflow.name, texts, env, replaced, selected)
    warnings = [
        f"{binding.where}: {kind} binding for {binding.source} matches no dataflow in scope"
        for (_, kind, binding), hit in zip(bindings, found, strict=True)
        if not hit
    ]
    warnings += [
        f"{rule.where}: replace rule {rule.find!r} matches nothing"
        for rule, hit in zip(env.replace, replaced, strict=True)
        if not hit
    ]
    warnings += [
        f"{rule.where}: set rule {rule.path} selects nothing"
        for rule, hit in zip(env.set_rules, selected, strict=True)
        if not hit
    ]
    return tuple(env.redact(w) for w in warnings)


def _find_bindings(
    name: str,
    texts: Mapping[str, str],
    bindings: Sequence[tuple[str | None, str, Binding]],
    found: list[bool],
) -> None:
    """Mark the bindings (environment-wide, or scoped to dataflow ``name``) whose source id one of
    its parts spells, in any case."""
    wanted = [
        i for i, (scope_name, _, _) in enumerate(bindings) if not found[i] and scope_name in (None, name)
    ]
    if not wanted:
        return
    haystack = "\n".join(texts.values()).lower()
    for i in wanted:
        found[i] = bindings[i][2].source.lower() in haystack


def _match_rules(
    name: str, texts: Mapping[str, str], env: Environment, replaced: list[bool], selected: list[bool]
) -> None:
    """Mark the replace rules that match and the set rules that select something in ``texts``."""
    for i, rule in enumerate(env.replace):
        if replaced[i] or not matches(name, rule.dataflows):
            continue
        replaced[i] = any(
            (re.search(rule.find, text) if rule.regex else rule.find in text)
            for path, text in texts.items()
            if matches(path, rule.parts)
        )
    for i, set_rule in enumerate(env.set_rules):
        if selected[i] or not matches(name, set_rule.dataflows):
            continue
        for path, text in texts.items():
            if matches(path, (set_rule.part,)) and path.endswith(JSON_PARTS):
                try:
                    selected[i] = selected[i] or bool(jsonpath.find(json.loads(text), set_rule.path))
                except (json.JSONDecodeError, jsonpath.JsonPathError):
                    continue
