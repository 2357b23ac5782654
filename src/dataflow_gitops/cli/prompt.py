"""CLI layer, confirmation: Terraform's "Only 'yes' will be accepted" prompt before apply.

Where no one can answer (stdin is not a terminal, or CI), asking would hang or read garbage, so
it fails at once with a line that says which flag approves the apply instead.
"""

from __future__ import annotations

import sys
from typing import IO

import click

from dataflow_gitops.errors import DataflowGitopsError

QUESTION = "Do you want to apply these changes? Only 'yes' will be accepted:"


class NotApproved(DataflowGitopsError):
    """The apply was not confirmed; nothing was written."""


def confirm(
    env: str, *, protected: bool, stdin: IO[str] | None = None, interactive: bool | None = None
) -> None:
    """Ask on the terminal; raise NotApproved unless the answer is exactly ``yes``."""
    stream = stdin if stdin is not None else sys.stdin
    can_ask = interactive if interactive is not None else _is_tty(stream)
    approval = f"--approve-protected {env}" if protected else "--auto-approve"
    if not can_ask:
        what = f"environment {env!r} is protected and" if protected else "apply"
        raise NotApproved(
            f"{what} needs a confirmation, but there is no terminal to ask on",
            where=f"environment {env}",
            hint=f"pass {approval} to approve this apply without a prompt",
        )
    if protected:
        click.echo(f"Environment {env!r} is protected.", err=True)
    click.echo(f"\n{QUESTION} ", nl=False, err=True)
    answer = stream.readline()
    if answer.strip() != "yes":
        raise NotApproved(
            "apply cancelled: the answer was not 'yes'; nothing was written",
            where=f"environment {env}",
        )


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
