"""CLI layer, what the deploy commands share: -e, --format and the write options of apply and
promote, colour, progress, job summary."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dataflow_gitops.cli.output import FORMATS, Format
from dataflow_gitops.cli.progress import reporter_for
from dataflow_gitops.config.discovery import find_project_root
from dataflow_gitops.integrations import ci

F = TypeVar("F", bound=Callable[..., Any])

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for terminals and logs, markdown for PR comments, json for machines.",
)

# The options `dfg apply` and `dfg promote` both take, with one meaning.
approve_protected_option = click.option(
    "--approve-protected",
    "approve_protected",
    multiple=True,
    metavar="ENV",
    help="Approve applying to the protected environment ENV without a prompt.",
)
allow_delete_option = click.option(
    "--allow-delete", is_flag=True, help="Let the plan delete dataflows (prune must be on)."
)
publish_option = click.option(
    "--publish", is_flag=True, help="Run ApplyChanges for every written dataflow and wait."
)
timeout_option = click.option(
    "--timeout",
    "timeout",
    type=click.FloatRange(min=1),
    default=None,
    metavar="SECONDS",
    help="How long one long-running operation or publish job may take before it is an error "
    "[default: 600 for an operation, 1800 for a publish job].",
)
concurrency_option = click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Dataflows written at the same time.",
)


def env_option(func: F) -> F:
    decorated: F = click.option(
        "-e", "--env", required=True, metavar="ENV", help="Environment overlay (environments/ENV.yaml)."
    )(func)
    return decorated


def project_dir() -> Path:
    """The project's root: the -C directory (or the current one) or the nearest folder above it
    that holds a project, as git finds its repository."""
    return find_project_root(click.get_current_context().obj.project)


def use_color(fmt: Format = "text") -> bool:
    """Whether to style the output; click.echo still strips styles off a non-terminal unless
    colour was forced (FORCE_COLOR)."""
    ctx = click.get_current_context()
    color = ctx.obj.color is not False and fmt == "text"
    if not color:
        ctx.color = False
    return color


def progress() -> Any:
    obj = click.get_current_context().obj
    return reporter_for(color=obj.color is not False, json_logs=obj.json_logs)


def write_step_summary(markdown: str) -> None:
    """Append to the CI job summary (GitHub Actions); warn when it cannot be written."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path and not ci.write_step_summary(markdown):
        click.echo(f"warning: cannot write the job summary to {path}", err=True)


def annotate_error(title: str, message: str) -> None:
    """A CI error annotation (GitHub Actions or Azure Pipelines) for a failure with no file."""
    line = ci.format_annotation(ci.Annotation(message, title=title), ci.detect())
    if line is not None:
        click.echo(line)
