"""Pipeline fixtures: a real git repository in tmp built from the example project (pre-commit style).

``git_project`` copies the example ``dataflows/`` (and ``environments/`` + ``dataflow-gitops.yaml``
when they exist) into a fresh repository and commits them; tests change files and commit again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import git
import pytest
from example_repo import copy_example


@dataclass
class GitProject:
    """A project directory that is also a git repository."""

    root: Path
    repo: git.Repo

    def path(self, relative: str) -> Path:
        return self.root / relative

    def folder(self, name: str) -> Path:
        """The folder of the example dataflow ``name`` (``dataflows/<name>.Dataflow``)."""
        return self.root / "dataflows" / f"{name}.Dataflow"

    def write(self, relative: str, content: str | bytes) -> Path:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def commit(self, message: str = "change") -> str:
        """Stage everything and commit; return the new sha."""
        self.repo.git.add("-A")
        self.repo.index.commit(message)
        return self.repo.head.commit.hexsha


@pytest.fixture
def make_git_project(tmp_path: Path) -> Iterator[Callable[..., GitProject]]:
    repos: list[git.Repo] = []

    def make(name: str = "repo", *, example: bool = True) -> GitProject:
        root = tmp_path / name
        if example:
            copy_example(root)
        else:
            root.mkdir(parents=True)
        repo = git.Repo.init(root, initial_branch="main")
        repos.append(repo)
        project = GitProject(root=root, repo=repo)
        if example:
            project.commit("example project")
        return project

    yield make
    for repo in repos:
        repo.close()


@pytest.fixture
def git_project(make_git_project: Callable[..., GitProject]) -> GitProject:
    """The example project in a fresh git repository with one commit."""
    return make_git_project()
