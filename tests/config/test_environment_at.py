"""``environment_at``: under ``--ref`` the overlay's content keys come from the commit, its policy
keys (where to deploy, what is allowed) from the working tree. A real git repository."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dataflow_gitops.config import Environment, environment_at, load_project
from dataflow_gitops.config.environment import CONTENT_KEYS, POLICY_KEYS

WS = "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13"
LoadOverlay = Callable[..., Environment]

OLD = f"""
workspace_id: {WS}
api: https://old.example.net
parameters: {{DaysBack: 30}}
display_name: "{{name}} [OLD]"
replace: [{{find: a, with: b}}]
scope: {{include: ["*"]}}
protected: false
prune: {{enabled: true, unrecorded: true}}
ignore: [{{parts: [".schedules"]}}]
"""
NOW = f"""
workspace_id: {WS}
parameters: {{DaysBack: 90}}
scope: {{include: ["Sales*"]}}
protected: true
"""


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def test_content_from_the_ref_policy_from_the_working_tree(
    project_dir: Path, load_overlay: LoadOverlay
) -> None:
    load_overlay(OLD)
    _git(project_dir, "init", "-q", "-b", "main")
    _git(project_dir, "add", "-A")
    _git(project_dir, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "-m", "old")
    now = load_overlay(NOW)

    at = environment_at(load_project(project_dir), now, "HEAD")

    assert at is not None
    assert [(p.name, p.value) for p in at.parameters] == [("DaysBack", 30)]
    assert at.display_name == "{name} [OLD]"
    assert [r.find for r in at.replace] == ["a"]
    assert at.path == "environments/test.yaml@HEAD"
    # policy and connection: today's
    assert (at.api, at.protected, at.prune, at.ignore) == (now.api, True, now.prune, ())
    assert at.scope == now.scope
    assert not at.prune.enabled


def test_content_and_policy_keys_cover_the_overlay_schema() -> None:
    from dataflow_gitops.config import load_schema

    keys = set(load_schema("environment.schema.json")["properties"]) - {"$schema"}
    assert set(CONTENT_KEYS) | set(POLICY_KEYS) == keys
    assert not set(CONTENT_KEYS) & set(POLICY_KEYS)


def test_a_secret_only_the_ref_substitutes_is_still_masked(
    project_dir: Path, load_overlay: LoadOverlay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DFG_OLD_PASSWORD", "hunter2-at-the-ref")
    load_overlay(f"workspace_id: {WS}\nparameters: {{Password: '${{env:DFG_OLD_PASSWORD}}'}}\n")
    _git(project_dir, "init", "-q", "-b", "main")
    _git(project_dir, "add", "-A")
    _git(project_dir, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "-m", "old")
    now = load_overlay(NOW)  # today's overlay substitutes nothing

    at = environment_at(load_project(project_dir), now, "HEAD")

    assert at is not None
    assert "hunter2-at-the-ref" in [p.value for p in at.parameters]
    assert at.redact("rendered: hunter2-at-the-ref") == "rendered: ${env:DFG_OLD_PASSWORD}"
    assert "hunter2-at-the-ref" not in repr(at)
