"""`dfg jobs`: a dataflow's job instances (newest first), or cancel one."""

from __future__ import annotations

import click

from dataflow_gitops import api
from dataflow_gitops.cli.commands.options import env_option, project_dir


@click.command("jobs")
@env_option
@click.argument("name")
@click.option("--cancel", "cancel", metavar="JOB_ID", help="Cancel this job instance.")
def command(env: str, name: str, cancel: str | None) -> int:
    """List the job instances of dataflow NAME in ENV, or cancel one.

    \b
    Examples:
      dfg jobs -e test "Sales Orders"
      dfg jobs -e test "Sales Orders" --cancel 4b2e…
    """
    with api.deployment(project_dir(), env) as dep:
        item = api.find_dataflow(dep.connection, name)
        if cancel is not None:
            api.cancel_job(dep.connection, item, cancel)
            click.echo(f"cancel requested for job {cancel} of {item.display_name!r}")
            return 0
        instances = api.list_jobs(dep.connection, item)
    if not instances:
        click.echo(f"no job instances for {item.display_name!r}")
        return 0
    click.echo(f"{'JOB ID':<38} {'TYPE':<13} {'STATUS':<11} {'STARTED (UTC)':<28} FAILURE")
    for job in instances:
        reason = job.get("failureReason")
        failure = api.failure_text(reason) if reason else ""
        click.echo(
            f"{job.get('id', ''):<38} {job.get('jobType', ''):<13} {job.get('status', ''):<11} "
            f"{job.get('startTimeUtc') or '':<28} {failure}".rstrip()
        )
    return 0
