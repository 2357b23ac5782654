"""`dfg validate`: check the repository and overlays offline; one line per problem, exit 1."""

from __future__ import annotations

import click

from dataflow_gitops import api
from dataflow_gitops.cli.commands.options import project_dir, use_color
from dataflow_gitops.cli.output.words import plural
from dataflow_gitops.config import load_project
from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.integrations.ci import annotate_errors
from dataflow_gitops.portability import too_long_for_windows


@click.command("validate")
@click.option(
    "-e",
    "--env",
    "envs",
    multiple=True,
    metavar="ENV",
    help="Validate only this environment (repeatable); default: all of them.",
)
@click.option(
    "--names/--no-names",
    default=True,
    help="Warn about names in M that no query, step, parameter or library function defines "
    "(on by default).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Treat every warning (unknown names too) as an error: exit 1.",
)
def command(envs: tuple[str, ...], names: bool, strict: bool) -> int:
    """Check dataflows, M syntax, references and environment overlays, without any API call.

    \b
    Examples:
      dfg validate              # every dataflow, every environment, unknown names in M
      dfg validate -e prod      # dataflows + the prod overlay only
      dfg validate --strict     # warnings fail the check (CI gates)
      dfg validate --no-names   # without the unknown-names check
      dfg -C path/to/repo validate -e dev -e test
    """
    project = project_dir()
    use_color()
    report = api.validate(project, list(envs) or None, names=names)
    try:
        settings = load_project(project)
    except DataflowGitopsError:
        long_paths = []  # the report says what is wrong with the project file
    else:
        folders = (settings.dataflows_dir, settings.environments_dir)
        long_paths = too_long_for_windows(settings.root, folders)
    warnings = (*report.warnings, *long_paths)
    label = click.style("Error: ", fg="red") if strict else click.style("Warning: ", fg="yellow")
    for warning in warnings:
        click.echo(label + warning, err=True)
    count = len(report.errors) + (len(warnings) if strict else 0)
    if count:
        annotate_errors(report.errors, project=project)  # in CI: ::error file=…,line=… per error
        for error in report.errors:
            click.echo(click.style("Error: ", fg="red") + error.render(), err=True)
        click.echo(f"✗ {plural(count, 'problem')} found", err=True)
        return 1
    counts = f"{plural(report.dataflows, 'dataflow')}, {plural(len(report.environments), 'environment')}"
    click.echo(click.style("✓", fg="green") + f" {counts} valid")
    return 0
