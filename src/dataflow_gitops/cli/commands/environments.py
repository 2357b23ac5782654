"""`dfg environments`: the project's environments, for people or as a CI matrix (JSON)."""

from __future__ import annotations

import fnmatch
import json
import os

import click

from dataflow_gitops.cli.commands.options import project_dir
from dataflow_gitops.integrations.matrix import azure_matrix, environment_matrix, github_matrix


@click.command("environments")
@click.option("--json", "as_json", is_flag=True, help="Print a CI matrix as one line of JSON.")
@click.option(
    "--matrix",
    "dialect",
    type=click.Choice(["github", "azure"]),
    default="github",
    show_default=True,
    help="With --json: GitHub Actions' {\"include\": [...]} or Azure Pipelines' {name: {...}}.",
)
@click.option(
    "--match",
    "patterns",
    multiple=True,
    metavar="GLOB",
    help="Only environments whose name matches (repeatable), e.g. --match 'prod-*'.",
)
@click.option(
    "--skip-embedded", is_flag=True, help="Leave out environments with `api: embedded` (local emulator)."
)
def command(as_json: bool, dialect: str, patterns: tuple[str, ...], skip_embedded: bool) -> int:
    """List the environments in promotion order: workspace, protection, where each is promoted from.

    No secret is needed: unset ${env:NAME} references stay as written.

    \b
    Examples:
      dfg environments
      dfg environments --json --skip-embedded    # GitHub Actions: strategy.matrix: ${{ fromJSON(...) }}
      dfg environments --json --matrix azure     # Azure Pipelines: strategy.matrix: $[ ... ]
      dfg environments --json --match 'prod-*'   # one wave of a large estate
    """
    project = project_dir()
    entries = environment_matrix(project, os.environ, include_embedded=not skip_embedded)
    if patterns:
        entries = tuple(
            e for e in entries if any(fnmatch.fnmatchcase(e.environment, p) for p in patterns)
        )
    if as_json:
        matrix = github_matrix(entries) if dialect == "github" else azure_matrix(entries)
        click.echo(json.dumps(matrix, separators=(",", ":")))
        return 0
    if not entries:
        click.echo("No environments (add environments/<name>.yaml).")
        return 0
    width = max(len(e.environment) for e in entries)
    for e in entries:
        target = "embedded emulator" if e.embedded else e.workspace_id or f"name {e.workspace_name!r}"
        flags = [f"from {e.promote_from}"] if e.promote_from else []
        if e.protected:
            flags.append("protected")
        suffix = f"  ({', '.join(flags)})" if flags else ""
        click.echo(f"{e.environment.ljust(width)}  {target}{suffix}")
    return 0
