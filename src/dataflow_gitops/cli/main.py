"""`dfg`: the command group and the one error boundary.

Commands live in ``cli/commands/<name>.py`` and are imported only when invoked, so ``dfg --help``
and a single command stay fast. The boundary maps errors to exit codes once: 0 ok, 1 a
DataflowGitopsError or usage error (one line, no traceback), 130 Ctrl-C (SIGINT), 143 SIGTERM, 3 a
bug (traceback only with ``--debug``). Exit 2 ("changes present") is returned by the commands
themselves. Signals are handled by :mod:`dataflow_gitops.interrupts` for the whole run.
"""

from __future__ import annotations

import importlib
import io
import logging
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from dataflow_gitops import __version__, interrupts
from dataflow_gitops.cli.global_options import color_choice, hoist_global_options
from dataflow_gitops.cli.logs import end_status_line
from dataflow_gitops.cli.masking import masked_output
from dataflow_gitops.errors import DataflowGitopsError

# name → module under dataflow_gitops.cli.commands (each module defines `command`)
COMMANDS: dict[str, str] = {
    "validate": "validate",
    "jobs": "jobs",
    "run": "run",
    "export": "export",
    "drift": "drift",
    "promote": "promote",
    "comment": "comment",
    "environments": "environments",
    "init": "init",
    "completion": "completion",
    "render": "render",
    "migrate": "migrate",
    "history": "history",
    "apply": "apply",
    "show": "show",
    "plan": "plan",
    "demo": "demo",
}

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


@dataclass(frozen=True, slots=True)
class Globals:
    """Options every command sees through ``click.get_current_context().obj``."""

    project: Path
    """The directory given with -C (or the current one); commands find the project from it."""
    verbose: int = 0
    color: bool | None = None
    """True / False when asked for (flag or environment), None: colour when on a terminal."""
    json_logs: bool = False
    debug: bool = False


class LazyGroup(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS and not ctx.resilient_parsing:
            import difflib  # only for a mistyped command

            close = difflib.get_close_matches(name, list(COMMANDS), n=2, cutoff=0.6)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint or ' See dfg --help.'}")
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"dataflow_gitops.cli.commands.{module_name}")
        command: click.Command = module.command
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    help="Where to start looking for the project (default: here); dfg walks up to the folder "
    "with dataflow-gitops.yaml, dataflows/ or environments/, as git does.",
)
@click.option("-v", "--verbose", count=True, help="More output; -v shows every API request.")
@click.option(
    "--no-color", is_flag=True, help="Plain output without colours (so do NO_COLOR and TERM=dumb)."
)
@click.option("--json-logs", is_flag=True, help="Log lines as JSON on stderr.")
@click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks of unexpected errors.")
@click.version_option(__version__, prog_name="dfg")
@click.pass_context
def cli(
    ctx: click.Context, project: Path, verbose: int, no_color: bool, json_logs: bool, debug: bool
) -> None:
    """GitOps for Microsoft Fabric Dataflows Gen2: validate, plan against live, apply, promote.

    \b
    Examples:
      dfg demo                                  # a guided tour on the local emulator
      dfg validate                              # offline checks of dataflows/ and environments/
      dfg plan -e test --out test.plan.json     # what would change in test, saved for review
      dfg apply -e test test.plan.json          # apply exactly the reviewed plan
      dfg promote --from test --to prod         # ship the commit test runs
      dfg -C ../repo -v plan -e dev             # another project; show every API request
      dfg plan -e dev -v --no-color             # the options above also go after the command

    FORCE_COLOR=1 keeps colours in a CI log; NO_COLOR=1 turns them off everywhere.
    """
    color = color_choice(no_color)
    if color is not None:
        ctx.color = color  # click.echo strips styles, or keeps them off a terminal, accordingly
    ctx.obj = Globals(
        project=project.resolve(), verbose=verbose, color=color, json_logs=json_logs, debug=debug
    )
    from dataflow_gitops.cli.logs import configure_logging

    configure_logging(verbose=verbose, json_logs=json_logs)


def run(argv: list[str] | None = None) -> int:
    """Run the command line and return the exit code (tests call this directly).

    Everything it prints passes the secret masking (``cli.masking``)."""
    with interrupts.handling(), masked_output():
        return _run(argv)


def _run(argv: list[str] | None) -> int:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])  # before or after the command
    try:
        try:
            result: Any = cli.main(args=argv, prog_name="dfg", standalone_mode=False)
        finally:
            end_status_line()  # a "retry 3/7" line ends before the error under it
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except interrupts.Interrupted as exc:
        click.echo("Interrupted.", err=True)
        return exc.exit_code
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C into Abort (its prompt and its main both do): still an interrupt.
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            return _interrupt_code(cause)
        click.echo("Aborted.", err=True)
        return EXIT_ERROR
    except click.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except DataflowGitopsError as exc:
        click.echo(f"Error: {exc.render()}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt as exc:
        click.echo("Interrupted.", err=True)
        return _interrupt_code(exc)
    except Exception:  # the last resort: a bug, not a user error
        if debug:
            traceback.print_exc()
        else:
            click.echo(
                "Error: unexpected internal error (run again with --debug to see the "
                "traceback, and please report it)",
                err=True,
            )
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        return EXIT_BUG
    return int(result) if isinstance(result, int) else EXIT_OK


def _interrupt_code(exc: BaseException) -> int:
    if isinstance(exc, interrupts.Interrupted):
        return exc.exit_code
    signum = interrupts.current().signum
    return interrupts.exit_code(signum) if signum is not None else EXIT_INTERRUPTED


def main() -> None:
    for stream in (sys.stdout, sys.stderr):
        # A Windows pipe (a CI log) encodes as cp1252, which has no ✓ or →: replace what it
        # cannot encode instead of failing the command with UnicodeEncodeError.
        if isinstance(stream, io.TextIOWrapper) and stream.encoding.lower().replace("-", "") != "utf8":
            stream.reconfigure(errors="replace")
    # Not sys.exit: a worker thread stuck in a call after an interrupt would hold the exit.
    interrupts.end_process(run())
