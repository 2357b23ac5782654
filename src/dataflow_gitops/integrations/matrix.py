"""CI fan-out (integration layer): project → its environments as a CI matrix, in promotion order.

Organisations with dozens of workspaces run one CI job per environment; the CI system is the
engine that spreads the work. ``dfg environments --json`` prints this for GitHub Actions'
``strategy.matrix`` (``fromJSON``) and Azure Pipelines' ``matrix``.

The matrix job usually holds no secrets, so an overlay's ``${env:NAME}`` references that are not
set do not fail here (the value shows as null); values that come from variables are masked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dataflow_gitops.config import (
    Environment,
    environment_names,
    load_project,
    parse_environment,
)
from dataflow_gitops.config.environment import read_overlay


@dataclass(frozen=True, slots=True)
class MatrixEntry:
    environment: str
    workspace_id: str | None
    workspace_name: str | None
    protected: bool
    promote_from: str | None
    embedded: bool
    """``api: embedded`` (the local emulator): workflows usually skip these."""


class _Lenient(Mapping[str, str]):
    """The process environment, where an unset variable reads as its own reference."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def __getitem__(self, name: str) -> str:
        return self._environ.get(name, "${env:" + name + "}")

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


def environment_matrix(
    project_dir: Path, environ: Mapping[str, str], *, include_embedded: bool = True
) -> tuple[MatrixEntry, ...]:
    """Every environment of the project (promotion order first), read without needing secrets."""
    project = load_project(project_dir)
    entries = []
    for name in environment_names(project):
        data, shown = read_overlay(project, name)
        env = parse_environment(name, data, path=shown, project=project, environ=_Lenient(environ))
        if env.embedded and not include_embedded:
            continue
        entries.append(
            MatrixEntry(
                environment=name,
                workspace_id=_shown(env.workspace_id, env),
                workspace_name=_shown(env.workspace_name, env),
                protected=env.protected,
                promote_from=env.promote_from,
                embedded=env.embedded,
            )
        )
    return tuple(entries)


def _shown(value: str | None, env: Environment) -> str | None:
    """A value for the matrix: None if it is an unset reference, masked if it came from a secret
    (compared ignoring case: workspace ids are stored lower-cased)."""
    if not value or "${env:" in value.lower():
        return None
    if value.lower() in {s.lower() for s in env.secret_values}:
        return "***"
    return env.redact(value)


def github_matrix(entries: tuple[MatrixEntry, ...]) -> dict[str, Any]:
    """``{"include": [...]}``: what ``strategy.matrix: ${{ fromJSON(...) }}`` expects."""
    return {"include": [asdict(e) for e in entries]}


def azure_matrix(entries: tuple[MatrixEntry, ...]) -> dict[str, Any]:
    """``{name: {variables}}``: what an Azure Pipelines ``strategy.matrix`` expression expects
    (values are strings there)."""
    return {
        e.environment: {
            k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in asdict(e).items()
        }
        for e in entries
    }
