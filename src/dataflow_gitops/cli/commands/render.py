"""`dfg render`: the definition each dataflow would get in an environment, as files or on stdout."""

from __future__ import annotations

import os
from pathlib import Path

import click

from dataflow_gitops import api
from dataflow_gitops.cli.commands.options import env_option, project_dir, use_color
from dataflow_gitops.cli.output.words import plural
from dataflow_gitops.pipeline.definition.parts import lenient_text
from dataflow_gitops.pipeline.model import DesiredDataflow
from dataflow_gitops.secret_mask import mask


@click.command("render")
@env_option
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the Fabric Git layout (<Name>.Dataflow/…) here instead of printing.",
)
@click.option("--ref", metavar="GITREF", help="Render the dataflows of this commit, branch or tag.")
def command(env: str, names: tuple[str, ...], out_dir: Path | None, ref: str | None) -> int:
    """Render dataflows for ENV offline: parameters, bindings, rules applied.

    Ids that only the live workspace knows (`${items.Lakehouse.X.id}`) stay visible as
    placeholders; `dfg plan` resolves them. Printed output shows values substituted from
    `${env:…}` as their references; the --out files hold the real values.

    \b
    Examples:
      dfg render -e test                      # every dataflow, printed
      dfg render -e prod "Sales Orders"       # one dataflow
      dfg render -e prod --out build/prod     # files in the Fabric Git layout
      dfg render -e prod --ref v1.4.0 --out build/v1.4.0
    """
    project = project_dir()
    use_color()
    desired = api.render(project, env, names, ref=ref)
    if out_dir is not None:
        written = api.write_rendered(desired, out_dir)
        click.echo(
            f"wrote {plural(len(written), 'file')} for {plural(len(desired), 'dataflow')} to {out_dir}"
        )
        return 0
    for dataflow in desired:
        click.echo(
            click.style(f"=== {dataflow.name}", bold=True)
            + (f" (as {dataflow.display_name!r})" if dataflow.display_name != dataflow.name else "")
            + f"  fingerprint {dataflow.fingerprint[:12]}"
        )
        for part in dataflow.parts:
            click.echo(click.style(f"--- {part.path}", fg="cyan"))
            click.echo(_masked(lenient_text(part.data).rstrip("\n"), dataflow))
        if dataflow.pending:
            click.echo(f"(resolved at plan time: {', '.join(dataflow.pending)})")
        click.echo()
    return 0


def _masked(text: str, dataflow: DesiredDataflow) -> str:
    """Hide the values of `${env:…}` substitutions: they may be secrets, and stdout ends up in
    CI logs. (``--out`` writes the real values: those files are what would be deployed.)"""
    return mask(text, {name: os.environ.get(name, "") for name in dataflow.secret_env})
