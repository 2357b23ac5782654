"""Test support: the one loopback emulator a test session shares (one per xdist worker; the
``emulator`` fixture in tests/conftest.py), and the generated projects the reliability, security and
fuzz suites point at it.

A suite takes the shared emulator only through `fresh`: an empty tenant, the suite's knobs and the
suite's workspaces, whatever an earlier test of any suite left behind (items, faults, the request
log, a moved clock, changed knobs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from benchmarks.generate import ENV as GENERATED_ENV
from benchmarks.generate import TOKEN_ENV as GENERATED_TOKEN_ENV
from benchmarks.generate import write_project

ASYNC = {"lro": "always", "latencyMs": 0, "retryAfterS": 0, "lroPolls": 1, "pageSize": 4}
"""Knobs: every create and definition call is a long-running operation that is done at the first
poll, with no wait; lists come in pages of four."""

Workspaces = Sequence[tuple[str, str]]
"""(id, display name) of each workspace a suite's tests expect to find."""


def fresh(url: str, config: Mapping[str, Any] | None = None, workspaces: Workspaces = ()) -> str:
    """Reset the emulator at ``url`` to an empty tenant with default knobs, then set ``config``
    (control-plane names: ``lro``, ``retryAfterS``…) and create ``workspaces``; return ``url``."""
    with httpx.Client(base_url=f"{url}/_emulator", timeout=10) as plane:
        plane.post("/reset").raise_for_status()
        if config:
            plane.post("/config", json=dict(config)).raise_for_status()
        if workspaces:
            seed = {"workspaces": [{"id": ws, "displayName": name} for ws, name in workspaces]}
            plane.post("/seed", json=seed).raise_for_status()
    return url


def generated_project(
    root: Path,
    count: int,
    *,
    url: str,
    workspace: str,
    env: str,
    token_env: str,
    target_bytes: int,
) -> Path:
    """The benchmark generator's project of ``count`` dataflows in ``root``, its one overlay named
    ``env`` and reading the token from ``token_env``; return ``root``."""
    write_project(root, count, api=url, workspace_id=workspace, target_bytes=target_bytes)
    generated = root / "environments" / f"{GENERATED_ENV}.yaml"
    text = generated.read_text(encoding="utf-8").replace(GENERATED_TOKEN_ENV, token_env)
    generated.unlink()
    (root / "environments" / f"{env}.yaml").write_text(text, encoding="utf-8")
    return root
