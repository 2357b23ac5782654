"""`dfg run`: start a dataflow's job on demand (execute or apply-changes), optionally wait."""

from __future__ import annotations

import click

from dataflow_gitops import api
from dataflow_gitops.cli.commands.options import env_option, project_dir
from dataflow_gitops.errors import JobFailed


def _params(values: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not K=V", param_hint="--param")
        params[key.strip()] = text
    return params


@click.command("run")
@env_option
@click.argument("name")
@click.option(
    "--job",
    type=click.Choice(sorted(api.JOB_TYPES)),
    default="execute",
    show_default=True,
    help="execute runs (refreshes) the dataflow, publishing first if needed; "
    "apply-changes only publishes it.",
)
@click.option("--param", "params", multiple=True, metavar="K=V", help="Public parameter value.")
@click.option("--wait", is_flag=True, help="Wait for the job to end; exit 1 if it fails.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=3600.0,
    show_default=True,
    help="With --wait: seconds before the job is cancelled.",
)
def command(env: str, name: str, job: str, params: tuple[str, ...], wait: bool, timeout: float) -> int:
    """Run dataflow NAME in ENV's workspace.

    --param values are typed from the dataflow's public parameters (`GET …/parameters`).
    --wait polls (honouring Retry-After), shows each status change, cancels the job on
    timeout or Ctrl-C, and exits 1 on Failed or Cancelled with the service's failureReason.

    \b
    Examples:
      dfg run -e test "Sales Orders" --wait
      dfg run -e test "Sales Orders" --param DaysBack=3 --wait --timeout 900
      dfg run -e prod "Sales Orders" --job apply-changes --wait
    """
    values = _params(params)
    with api.deployment(project_dir(), env) as dep:
        item = api.find_dataflow(dep.connection, name)
        job_id = api.run_job(dep.connection, item, job=job, params=values)
        click.echo(f"started {job} job {job_id} on {item.display_name!r}")
        if not wait:
            click.echo(f"follow it with: dfg jobs -e {env} {name!r}")
            return 0
        seen: list[str] = []

        def on_poll(instance: dict[str, object]) -> None:
            status = str(instance.get("status", ""))
            if not seen or seen[-1] != status:
                seen.append(status)
                click.echo(f"  {job_id}: {status}", err=True)

        try:
            final = api.wait_job(dep.connection, item, job_id, timeout_s=timeout, on_poll=on_poll)
        except JobFailed as exc:
            click.echo(f"job {job_id} ended {exc.status}", err=True)
            click.echo(f"failureReason: {api.failure_text(exc.failure_reason)}", err=True)
            return 1
    click.echo(f"job {job_id} {final.get('status')} at {final.get('endTimeUtc') or '?'}")
    return 0
