"""`dfg completion SHELL`: the shell completion script (click's), to source from a shell profile."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def command(shell: str) -> int:
    """Print the completion script for SHELL (commands, options, file names).

    \b
    Examples:
      eval "$(dfg completion bash)"            # in ~/.bashrc
      eval "$(dfg completion zsh)"             # in ~/.zshrc
      dfg completion fish > ~/.config/fish/completions/dfg.fish
    """
    root = click.get_current_context().find_root().command
    completion_class = get_completion_class(shell)
    if completion_class is None:  # click knows all of SHELLS; a future click might not
        raise click.UsageError(f"no completion for {shell}")
    # The variable name is what the installed `dfg` entry point reacts to (_<PROG>_COMPLETE).
    script = completion_class(root, {}, "dfg", "_DFG_COMPLETE").source()
    click.echo(script.rstrip("\n"))
    return 0
