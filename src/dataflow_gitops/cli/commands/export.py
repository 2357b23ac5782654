"""`dfg export`: live dataflows → repository files, the overlay reversed, so git diff shows only
what was changed in the workspace."""

from __future__ import annotations

from pathlib import Path

import click

from dataflow_gitops import api
from dataflow_gitops.cli.commands.options import env_option, project_dir


@click.command("export")
@env_option
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option(
    "--dir",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write here instead of the project's dataflows folder.",
)
def command(env: str, names: tuple[str, ...], out_dir: Path | None) -> int:
    """Write ENV's live dataflows as repository files (Fabric Git layout).

    The overlay is reversed where that is unambiguous: parameter values and bound ids go back
    to the repository's, references back to their portable form, the display-name template is
    undone. What live did not change is written back byte for byte, so exporting an unchanged
    environment changes no file, and a hot-fix shows up in `git diff` as just that change.
    Without NAME, every live dataflow the repository holds; a NAME (repository or live display
    name) also exports a dataflow that exists only in the workspace.

    \b
    Examples:
      git switch -c hotfix/prod && dfg export -e prod && git diff
      dfg export -e prod "Sales Orders"
      dfg export -e prod "Manual fix" --dir incoming/
    """
    with api.deployment(project_dir(), env) as dep:
        result = api.export(dep, names, out_dir=out_dir)
    root = project_dir()
    for dataflow in result.dataflows:
        label = "new" if dataflow.new else "exported"
        click.echo(f"{label}: {dataflow.name} → {_shown(result.directory / dataflow.folder, root)}")
        for note in dataflow.notes:
            click.echo(f"  note: {note}")
    for path in result.written:
        click.echo(f"  wrote {_shown(path, root)}")
    for path in result.deleted:
        click.echo(f"  deleted {_shown(path, root)}")
    if result.not_exported:
        click.echo(
            f"not exported (not in the repository; name them to export): "
            f"{', '.join(result.not_exported)}"
        )
    changed = len(result.written) + len(result.deleted)
    click.echo(
        f"Export complete: {len(result.dataflows)} dataflow(s), {changed} file(s) changed."
        if changed
        else f"Export complete: {len(result.dataflows)} dataflow(s), no file changed."
    )
    return 0


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
