"""CLI fixtures: the example project in tmp, and `dfg` run in-process through the real boundary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import git
import pytest

from dataflow_gitops.cli.main import run


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def project(example_copy: Path) -> Path:
    """The project `dfg` runs on: the example copied to tmp (tests/conftest.py), no git."""
    return example_copy


@pytest.fixture
def git_repo(project: Path) -> Iterator[git.Repo]:
    """Turn ``project`` into a git repository with the example committed."""
    repo = git.Repo.init(project, initial_branch="main")
    repo.git.add("-A")
    repo.index.commit("example project")
    yield repo
    repo.close()


@pytest.fixture
def dfg(project: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``dfg -C <project> ARGS…`` and capture its exit code and output."""

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = run(["--no-color", "-C", str(project), *args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
