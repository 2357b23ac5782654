"""`dfg history`: the deployment records of an environment, newest first."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from dataflow_gitops import api
from dataflow_gitops.cli.commands.options import env_option, project_dir


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
    records = api.history(project_dir(), env)[:limit]
    if fmt == "json":
        click.echo(json.dumps([asdict(r) for r in records], indent=2))
        return 0
    if not records:
        click.echo(f"No deployments recorded for environment {env!r}.")
        return 0
    for record in records:
        commit = (record.commit or "no commit")[:12] + (" (dirty)" if record.dirty else "")
        status = (
            ""
            if record.ok
            else "  incomplete: interrupted"
            if record.interrupted
            else "  incomplete: some actions failed"
        )
        click.echo(
            f"{record.time}  {commit}  {record.actor}  {len(record.items)} dataflow(s)  "
            f"workspace {record.workspace_id}{status}"
        )
    return 0
