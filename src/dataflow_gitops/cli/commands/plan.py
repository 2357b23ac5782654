"""`dfg plan`: what apply would change in an environment, read against the live workspace."""

from __future__ import annotations

from pathlib import Path

import click

from dataflow_gitops import api
from dataflow_gitops.cli.commands.options import (
    env_option,
    format_option,
    progress,
    project_dir,
    use_color,
    write_step_summary,
)
from dataflow_gitops.cli.output import Format, format_plan

EXIT_CHANGES = 2


@click.command("plan")
@env_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan here; `dfg apply -e ENV FILE` applies exactly it.",
)
@format_option
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when there are none."
)
@click.option(
    "--target", "targets", multiple=True, metavar="NAME", help="Plan only this dataflow (repeatable)."
)
@click.option("--ref", metavar="GITREF", help="Plan the dataflows of this commit, branch or tag.")
def command(
    env: str,
    out: Path | None,
    fmt: Format,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    ref: str | None,
) -> int:
    """Compare the repository with ENV's live workspace and show what apply would do.

    \b
    Examples:
      dfg plan -e test
      dfg plan -e prod --out prod.plan.json        # review, then: dfg apply -e prod prod.plan.json
      dfg plan -e test --format markdown > plan.md  # a pull-request comment
      dfg plan -e test --detailed-exitcode          # exit 2 when there are changes (CI)
      dfg plan -e test --target "Sales Orders" --ref main
    """
    color = use_color(fmt)
    with api.deployment(project_dir(), env) as dep, progress() as reporter:
        plan = api.plan(dep, targets=targets, ref=ref, reporter=reporter)
        if out is not None:
            api.save_plan(plan, dep.environment, out)
    click.echo(format_plan(plan, fmt, color=color).rstrip("\n"))
    write_step_summary(format_plan(plan, "markdown"))
    if out is not None and fmt == "text":
        click.echo(f"\nSaved the plan to {out}. To apply exactly this plan: dfg apply -e {env} {out}")
    return EXIT_CHANGES if detailed_exitcode and plan.has_changes else 0
