"""Config fixtures: overlays written into a throwaway project and loaded the way dfg loads them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from dataflow_gitops.config import Environment, load_environment, load_project

WS = "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13"

LoadOverlay = Callable[..., Environment]


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "environments").mkdir(parents=True)
    (root / "dataflows").mkdir()
    return root


@pytest.fixture
def load_overlay(project_dir: Path) -> LoadOverlay:
    """Write ``text`` (dedented) as environments/<name>.yaml and load it."""

    def load(text: str, name: str = "test") -> Environment:
        (project_dir / "environments" / f"{name}.yaml").write_text(
            textwrap.dedent(text).lstrip("\n"), encoding="utf-8"
        )
        return load_environment(load_project(project_dir), name)

    return load
