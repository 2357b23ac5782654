"""`dfg init`: scaffold a dataflows repository that validates at once (and its CI workflows)."""

from __future__ import annotations

from pathlib import Path

import click

from dataflow_gitops.cli.output.words import plural
from dataflow_gitops.scaffold import CI_CHOICES, INIT_MESSAGE, CiChoice, make_repository, scaffold


@click.command("init")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--ci",
    type=click.Choice(CI_CHOICES),
    default="github",
    show_default=True,
    help="Which CI workflows to add: GitHub Actions, Azure Pipelines, or none.",
)
@click.option(
    "--no-sample", is_flag=True, help="Leave out the sample dataflow (the repository has its own)."
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option(
    "--no-git",
    is_flag=True,
    help="Do not make the directory a git repository (it is one already, or you will).",
)
def command(directory: Path | None, ci: CiChoice, no_sample: bool, force: bool, no_git: bool) -> int:
    """Create a starter repository in DIRECTORY (default: the project directory, -C or .).

    In a repository Fabric Git sync already fills, init finds the *.Dataflow folders (at the
    root, in a subfolder, in workspace folders), sets dataflows_dir to where they are and adds
    no sample: dfg validate and dfg plan -e local work at once.

    Writes dataflows/ (one sample dataflow), environments/ (dev, test, prod, and local on the
    embedded emulator), dataflow-gitops.yaml, schemas/ for editor completion, the CI workflows,
    and .gitignore lines for dfg's local state and saved plans. Existing files are left alone
    unless --force. Outside a git repository it runs `git init` and commits the files, so every
    apply is recorded as a git tag from the first one (--no-git to skip).

    \b
    Examples:
      dfg init my-dataflows && cd my-dataflows && dfg validate
      dfg init --ci azure                 # Azure Pipelines instead of GitHub Actions
      dfg init . --force                  # refresh the template files in place
      dfg init .                          # a repository Fabric Git sync already fills:
                                          # finds the items, writes no sample
    """
    dest = directory if directory is not None else click.get_current_context().obj.project
    result = scaffold(dest, ci=ci, force=force, sample=not no_sample)
    found = result.adopted
    if found is not None:
        where = "the repository root" if found.dataflows_dir == "." else f"{found.dataflows_dir}/"
        others = f" and {plural(found.other_items, 'other item')}" if found.other_items else ""
        click.echo(
            f"Found {plural(found.dataflows, 'dataflow folder')}{others} in {where} (Fabric Git sync): "
            f'dataflows_dir: "{found.dataflows_dir}", no sample written.'
        )
    for path in result.written:
        click.echo(f"  created {path}")
    if result.gitignore != "present":
        click.echo(f"  {result.gitignore} .gitignore (ignores .dataflow-gitops/ and *.plan.json)")
    git = "no-git" if no_git else make_repository(dest)
    if git == "created":
        click.echo(f'  made a git repository and committed the files ("{INIT_MESSAGE}")')
    elif git == "inside":
        click.echo("  inside a git repository: commit these files to deploy them")
    elif not no_git:
        click.echo("  git is not installed: deployments are recorded in .dataflow-gitops/records/")
    shown = "." if dest.resolve() == Path.cwd() else str(dest)
    go = "" if shown == "." else f"cd {_quoted(shown)} && "
    steps = [
        (f"{go}dfg validate", "offline checks"),
        ("dfg plan -e local", "on the local emulator (the [emulator] extra)"),
    ]
    width = max(len(command) for command, _ in steps)
    click.echo(f"\nA dataflows repository in {shown}. Next:")
    for command, why in steps:
        click.echo(f"  {command.ljust(width)}   # {why}")
    click.echo("Then set the workspace ids in environments/*.yaml; docs/getting-started.md goes on")
    click.echo("to real workspaces and the plan preview on pull requests.")
    return 0


def _quoted(path: str) -> str:
    return f'"{path}"' if " " in path else path
