"""`dfg show`: a saved plan file, as text, markdown or JSON (no API call, no secrets needed)."""

from __future__ import annotations

from pathlib import Path

import click

from dataflow_gitops import api
from dataflow_gitops.cli.commands.options import format_option, use_color
from dataflow_gitops.cli.output import Format, format_plan


@click.command("show")
@click.argument("planfile", type=click.Path(dir_okay=False, path_type=Path))
@format_option
def command(planfile: Path, fmt: Format) -> int:
    """Show the saved plan PLANFILE (written by `dfg plan --out`).

    \b
    Examples:
      dfg show prod.plan.json
      dfg show prod.plan.json --format markdown
    """
    plan = api.load_saved_plan(planfile, resolve_secrets=False)
    click.echo(format_plan(plan, fmt, color=use_color(fmt)).rstrip("\n"))
    return 0
