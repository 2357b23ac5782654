"""`dfg migrate`: convert legacy dataflow folders to the current Dataflow Gen2 parts."""

from __future__ import annotations

from pathlib import Path

import click

from dataflow_gitops import api


@click.command("migrate")
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
def command(folders: tuple[Path, ...]) -> int:
    """Convert FOLDER (dataflow-content.json, or queryMetadata.json formatVersion 202409 or
    202412) to queryMetadata.json 202502 + mashup.pq + .platform, in place, keeping every value
    (see docs/formats.md). Says what it found: migrated, nothing to migrate, or a shape it does
    not know (an error: an empty folder, a model.json export, an unknown formatVersion). Review
    the result with `git diff`.

    \b
    Examples:
      dfg migrate "dataflows/Sales Orders.Dataflow"
      dfg migrate dataflows/*.Dataflow          # current folders are left alone
    """
    project = click.get_current_context().obj.project
    for folder in folders:
        # Relative to the current directory first, then to the project (-C).
        path = folder if folder.exists() else project / folder
        result = api.migrate(path)
        if result.written:
            click.echo(f"{folder}: {result.found}: wrote {', '.join(result.written)}")
            for note in result.notes:
                click.echo(f"  {note}")
        else:
            click.echo(f"{folder}: {result.found}: already in the current format, nothing to migrate")
    return 0
