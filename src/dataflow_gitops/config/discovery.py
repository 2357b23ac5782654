"""Where the project is (config layer): from a directory, up to the folder that holds it.

Like git and terraform, dfg works from any subfolder of a project: it looks in the directory and
each one above it for the project file, or the ``dataflows/`` and ``environments/`` folders, and
stops at the root of the git repository (a project never spans repositories).
"""

from __future__ import annotations

from pathlib import Path

from dataflow_gitops.config.project import PROJECT_FILE
from dataflow_gitops.errors import ConfigError

MARKERS = ("dataflows", "environments")


class NotAProject(ConfigError):
    """No project in the directory or above it (or the directory does not exist)."""


def is_project_root(directory: Path) -> bool:
    return (directory / PROJECT_FILE).is_file() or any((directory / m).is_dir() for m in MARKERS)


def find_project_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` that holds a project; NotAProject if none."""
    start = start.resolve()
    if not start.is_dir():
        problem = "is a file, not a directory" if start.exists() else "no such directory"
        raise NotAProject(problem, path=str(start), hint="pass -C with the project's directory")
    for directory in (start, *start.parents):
        if is_project_root(directory):
            return directory
        if (directory / ".git").exists():
            break
    raise NotAProject(
        f"not a dataflow-gitops project: no {PROJECT_FILE}, dataflows/ or environments/ here "
        "or in a folder above",
        path=str(start),
        hint="run `dfg init` to create one, or pass -C with the project's directory",
    )
