"""Stand-in for ``pipeline.render.bind_pending`` until render.py lands (then: the real one).

Installed into ``sys.modules`` only when the real module is missing, so the applier imports.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from dataclasses import replace

from dataflow_gitops.pipeline.model import KNOWN_AFTER_APPLY, DesiredDataflow, Part
from dataflow_gitops.pipeline.parts import fingerprint


def _bind_pending(desired: DesiredDataflow, values: Mapping[str, str]) -> DesiredDataflow:
    parts = []
    for part in desired.parts:
        data = part.data
        for expression, value in values.items():
            data = data.replace((KNOWN_AFTER_APPLY % expression).encode(), value.encode())
        parts.append(Part(part.path, data))
    return replace(
        desired,
        parts=tuple(parts),
        pending=tuple(p for p in desired.pending if p not in values),
        fingerprint=fingerprint(
            parts, display_name=desired.display_name, description=desired.description
        ),
    )


try:
    from dataflow_gitops.pipeline.render import bind_pending
except ModuleNotFoundError:
    _module = types.ModuleType("dataflow_gitops.pipeline.render")
    _module.bind_pending = _bind_pending  # type: ignore[attr-defined]
    sys.modules[_module.__name__] = _module
    bind_pending = _bind_pending

__all__ = ["bind_pending"]
