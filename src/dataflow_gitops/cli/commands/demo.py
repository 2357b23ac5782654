"""`dfg demo`: the guided tour (plan → apply → change → plan → apply → promote to a second
environment → history) on the embedded emulator, in a temporary copy of the example repository."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from pathlib import Path

import click

from dataflow_gitops import demo
from dataflow_gitops.errors import DataflowGitopsError


@click.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Build the demo project here (kept afterwards) instead of a temporary directory.",
)
@click.option("--keep", is_flag=True, help="Keep the temporary project to explore it afterwards.")
def command(directory: Path | None, keep: bool) -> int:
    """A guided tour of plan and apply on a local Fabric emulator; needs no account or setup.

    It builds the example project in a temporary directory, which it deletes at the end
    (--keep or --dir keeps it).

    \b
    Examples:
      dfg demo
      dfg demo --dir /tmp/dfg-demo     # then: cd /tmp/dfg-demo && dfg plan -e local
    """
    ctx = click.get_current_context()
    dest = directory.resolve() if directory is not None else Path(tempfile.mkdtemp(prefix="dfg-demo-"))
    if directory is not None and dest.exists() and any(dest.iterdir()):
        raise DataflowGitopsError(
            "the directory is not empty", where=str(dest), hint="pass an empty or new --dir"
        )
    kept = directory is not None or keep
    try:
        for number, step in enumerate(demo.STEPS, start=1):
            _run_step(number, step, dest, color=ctx.obj.color is not False)
    finally:
        if not kept:
            shutil.rmtree(dest, ignore_errors=True)
    click.echo(click.style("\nThat was the loop: plan, review, apply, record, promote.", bold=True))
    if kept:
        click.echo(f"The demo project is in {dest}: cd there and try `dfg plan -e local`.")
    else:
        click.echo(f"Deleted the demo project ({dest}); `dfg demo --keep` keeps it to explore.")
    click.echo("Your own: `dfg init my-dataflows` (docs/getting-started.md).")
    return 0


def _run_step(number: int, step: demo.Step, dest: Path, *, color: bool) -> None:
    from dataflow_gitops.cli.main import run  # the same entry point a user types into

    click.echo(click.style(f"\n── {number}/{len(demo.STEPS)} {step.title} ──", bold=True, fg="cyan"))
    click.echo(click.wrap_text(step.explanation, width=96, preserve_paragraphs=True))
    if step.action == "setup":
        demo.set_up(dest)
        items = demo.prepare_workspace(dest, demo.DEV_ENV)
        click.echo(f"(the project: {dest}; the workspace holds {', '.join(items) or 'nothing'})")
    elif step.action.startswith("workspace:"):
        demo.prepare_workspace(dest, step.action.partition(":")[2])
    elif step.action == "change":
        demo.change_parameter(dest)
    if not step.argv:
        return
    argv = [a.replace("{dir}", str(dest)) for a in step.argv]
    shown = [a.replace("{dir}/", "") for a in step.argv]
    click.echo(click.style("$ dfg " + " ".join(_quote(a) for a in shown), bold=True))
    command = ["-C", str(dest), *([] if color else ["--no-color"]), *argv]
    if step.shown == "all":
        code = run(command)
    else:
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            code = run(command)
        for line in demo.shown_lines(output.getvalue(), step.shown):
            click.echo(line)
    if code != step.expect_exit:
        raise DataflowGitopsError(
            f"step {number} ({step.title}) exited {code}, expected {step.expect_exit}",
            where=str(dest),
            hint="see the output above; run `dfg demo --keep` to inspect the project",
        )


def _quote(arg: str) -> str:
    return f'"{arg}"' if " " in arg else arg
