"""`dfg init`: scaffold a dataflows repository that validates at once (and its CI workflows)."""

from __future__ import annotations

from pathlib import Path

import click

from dataflow_gitops.scaffold import CI_CHOICES, CiChoice, scaffold


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
def command(directory: Path | None, ci: CiChoice, no_sample: bool, force: bool) -> int:
    """Create a starter repository in DIRECTORY (default: the project directory, -C or .).

    In a repository Fabric Git sync already fills, init finds the *.Dataflow folders (at the
    root, in a subfolder, in workspace folders), sets dataflows_dir to where they are and adds
    no sample: dfg validate and dfg plan -e local work at once.

    Writes dataflows/ (one sample dataflow), environments/ (dev, test, prod, and local on the
    embedded emulator), dataflow-gitops.yaml, schemas/ for editor completion, the CI workflows,
    and a .gitignore line for dfg's local state. Existing files are left alone unless --force.

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
        others = f" and {found.other_items} other item(s)" if found.other_items else ""
        click.echo(
            f"Found {found.dataflows} dataflow folder(s){others} in {where} (Fabric Git sync): "
            f'dataflows_dir: "{found.dataflows_dir}", no sample written.'
        )
    for path in result.written:
        click.echo(f"  created {path}")
    if result.gitignore != "present":
        click.echo(f"  {result.gitignore} .gitignore (ignores .dataflow-gitops/)")
    shown = "." if dest.resolve() == Path.cwd() else str(dest)
    click.echo(f"\nA dataflows repository in {shown}. Next:")
    click.echo(f"  dfg -C {shown} validate          # offline checks")
    click.echo(f"  dfg -C {shown} plan -e local     # on the local emulator (the [emulator] extra)")
    click.echo("  then set the workspace ids in environments/*.yaml and the auth ids in")
    click.echo(
        "  dataflow-gitops.yaml; docs/getting-started.md goes on to the pull-request plan preview."
    )
    return 0
