"""`dfg history`: the deployment records of an environment, newest first."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from dataflow_gitops import api
from dataflow_gitops.cli.commands.options import env_option, project_dir
from dataflow_gitops.cli.output.words import plural
from dataflow_gitops.cli.records_note import records_from_before_git
from dataflow_gitops.pipeline.release.records import DeploymentRecord


@click.command("history")
@env_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-n", "--limit", type=click.IntRange(min=1), help="Show only the newest N records.")
def command(env: str, fmt: str, limit: int | None) -> int:
    """List what was applied to ENV: when, by whom, which commit, how many dataflows.

    Records are annotated git tags dfg/ENV/<time> (share them with
    `git push origin 'refs/tags/dfg/*'`), or .dataflow-gitops/records/ENV.jsonl outside git.

    \b
    Examples:
      dfg history -e prod
      dfg history -e prod --format json -n 1
    """
    root = project_dir()
    records = api.history(root, env)[:limit]
    before_path, before = records_from_before_git(root, env)
    if fmt == "json":
        # Records from before git come last: older than any tag, and without a commit.
        every = [*records, *before][:limit]
        click.echo(json.dumps([asdict(r) for r in every], indent=2))
        return 0
    if not records and not before:
        click.echo(f"No deployments recorded for environment {env!r}.")
        return 0
    for record in records:
        click.echo(_line(record))
    if before:
        shown = before_path.relative_to(root).as_posix()
        click.echo(f"Recorded before this was a git repository (in {shown}):")
        for record in before:
            click.echo(_line(record))
    return 0


def _line(record: DeploymentRecord) -> str:
    commit = (record.commit or "no commit")[:12] + (" (dirty)" if record.dirty else "")
    status = (
        ""
        if record.ok
        else "  incomplete: interrupted"
        if record.interrupted
        else "  incomplete: some actions failed"
    )
    return (
        f"{record.time}  {commit}  {record.actor}  {plural(len(record.items), 'dataflow')}  "
        f"workspace {record.workspace_id}{status}"
    )
