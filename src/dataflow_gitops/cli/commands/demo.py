"""`dfg demo`: the guided tour (plan → apply → change → plan → apply → promote to a second
environment → history) on the embedded emulator, in a temporary copy of the example repository."""

from __future__ import annotations

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
    try:
        for number, step in enumerate(demo.STEPS, start=1):
            _run_step(number, step, dest, color=ctx.obj.color)
    finally:
        if directory is None and not keep:
            shutil.rmtree(dest, ignore_errors=True)
    click.echo(click.style("\nThat was the loop: plan, review, apply, record.", bold=True))
    if directory is not None or keep:
        click.echo(f"The demo project is in {dest}: cd there and try `dfg plan -e local`.")
    click.echo("Next: point an overlay at your workspace (environments/<env>.yaml) and run dfg plan.")
    return 0


def _run_step(number: int, step: demo.Step, dest: Path, *, color: bool) -> None:
    from dataflow_gitops.cli.main import run  # the same entry point a user types into

    click.echo(click.style(f"\n── {number}/{len(demo.STEPS)} {step.title} ──", bold=True, fg="cyan"))
    click.echo(click.wrap_text(step.explanation, width=96, preserve_paragraphs=True))
    if step.action == "setup":
        demo.set_up(dest)
        click.echo(f"(copied the example into {dest} and committed it)")
    elif step.action.startswith("workspace:"):
        items = demo.prepare_workspace(dest, step.action.partition(":")[2])
        click.echo(f"(the workspace holds: {', '.join(items) or 'nothing yet'})")
    elif step.action == "change":
        demo.change_parameter(dest)
        click.echo(f"(edited {demo.CHANGED_FILE} and committed it)")
    if not step.argv:
        return
    argv = [a.replace("{dir}", str(dest)) for a in step.argv]
    shown = [a.replace("{dir}/", "") for a in step.argv]
    click.echo(click.style("$ dfg " + " ".join(_quote(a) for a in shown), bold=True))
    code = run(["-C", str(dest), *([] if color else ["--no-color"]), *argv])
    if code != step.expect_exit:
        raise DataflowGitopsError(
            f"step {number} ({step.title}) exited {code}, expected {step.expect_exit}",
            where=str(dest),
            hint="see the output above; run `dfg demo --keep` to inspect the project",
        )


def _quote(arg: str) -> str:
    return f'"{arg}"' if " " in arg else arg
