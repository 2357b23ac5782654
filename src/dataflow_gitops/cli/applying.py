"""What `dfg apply` and `dfg promote` share around the write (one place): the plan shown, the
delete gate and the confirmation before it; what they print after it, and their exit code."""

from __future__ import annotations

import click

from dataflow_gitops import interrupts
from dataflow_gitops.api import Applied, Deployment, apply
from dataflow_gitops.cli.commands.options import annotate_error, progress, write_step_summary
from dataflow_gitops.cli.output import Format, format_apply_result, format_plan
from dataflow_gitops.cli.output.summary import published_again
from dataflow_gitops.cli.output.words import plural
from dataflow_gitops.cli.prompt import confirm
from dataflow_gitops.pipeline.model import OutcomeStatus, Plan
from dataflow_gitops.pipeline.plan.proof import refuse_deletes


def check_approval_names(env: str, approve_protected: tuple[str, ...]) -> None:
    """``--approve-protected`` must name the environment being applied: a mistyped or copied name
    approves nothing, and saying so beats a prompt (or a CI failure) that does not explain why."""
    if approve_protected and env not in approve_protected:
        named = ", ".join(repr(name) for name in approve_protected)
        raise click.UsageError(
            f"--approve-protected names {named}, but this applies to {env!r}; "
            f"to approve it, pass --approve-protected {env}"
        )


def ask_approval(
    plan: Plan, env: str, *, protected: bool, approved: bool, shown: bool, fmt: Format, color: bool
) -> bool:
    """Confirm changes a flag did not approve; True when a person was asked (by the time they
    answer, the plan may be stale)."""
    if not plan.has_changes or approved:
        return False
    if not shown:
        # Nobody approves what they have not seen; with --format json the plan goes to stderr so
        # that stdout stays one JSON document.
        click.echo(format_plan(plan, "text", color=color).rstrip("\n"), err=fmt == "json")
    confirm(env, protected=protected)
    return True


def approve_and_apply(
    dep: Deployment,
    plan: Plan,
    *,
    approved: bool,
    approve_protected: tuple[str, ...],
    fmt: Format,
    color: bool,
    concurrency: int,
    publish: bool,
    allow_delete: bool,
    saved: bool = False,
    what: str = "plan",
) -> Applied:
    """Show the plan (not a ``saved`` one, nor as JSON), refuse deletes ``--allow-delete`` did
    not allow, ask unless ``approved`` (a protected environment only by ``--approve-protected``
    naming it), then apply with progress."""
    shown = not saved and fmt != "json"
    if shown:
        click.echo(format_plan(plan, fmt, color=color).rstrip("\n"))
    refuse_deletes(plan, allowed=allow_delete, what=what)
    env, protected = dep.environment.name, dep.environment.protected
    asked = ask_approval(
        plan,
        env,
        protected=protected,
        # --approve-protected ENV is the strongest approval: it also stands for --auto-approve.
        approved=env in approve_protected or (not protected and approved),
        shown=shown,
        fmt=fmt,
        color=color,
    )
    with progress() as reporter:
        return apply(
            dep,
            plan,
            concurrency=concurrency,
            publish=publish,
            allow_delete=allow_delete,
            # A saved plan, or one that waited for a human, may be stale by now.
            check_stale=saved or asked,
            reporter=reporter,
        )


def report_applied(
    applied: Applied,
    plan: Plan,
    fmt: Format,
    *,
    color: bool,
    command: str,
    unchanged: str,
    again: str,
) -> int:
    """Print the outcome of every action, the record, CI annotations; return the exit code."""
    result = applied.result
    if not plan.has_changes and not published_again(result) and fmt != "json":
        click.echo(f"\n{unchanged}")
    else:
        click.echo(format_apply_result(result, fmt, color=color).rstrip("\n"))
        write_step_summary(format_apply_result(result, "markdown"))
    if applied.record_location and fmt == "text":
        click.echo(f"Deployment recorded: {applied.record_location}")
    # Annotations go to stdout: with --format json it must stay one document.
    for outcome in result.outcomes if fmt != "json" else ():
        if outcome.error and (
            outcome.status is not OutcomeStatus.SUCCEEDED or outcome.published is False
        ):
            annotate_error(command, f"{outcome.action.display_name}: {outcome.error}")
    if result.interrupted is not None:
        _report_interrupt(applied)
    if applied.record_error is not None:
        # Without the record, prune and promotion from this environment lose track of it.
        click.echo(f"Error: the deployment record was not written: {applied.record_error}", err=True)
        return 1
    if not result.ok:
        click.echo(f"Error: some actions failed (see above); {again}", err=True)
        return 1
    return 0


def _report_interrupt(applied: Applied) -> None:
    """Say what an interrupted apply completed, then end with the signal's exit code."""
    result = applied.result
    assert result.interrupted is not None
    changes = [o for o in result.outcomes if o.action.is_change]
    done = [o for o in changes if o.status is OutcomeStatus.SUCCEEDED]
    unknown = [o for o in changes if o.status is OutcomeStatus.FAILED]
    names = ", ".join(o.action.display_name for o in done) or "none"
    recorded = (
        f"recorded as a partial deployment in {applied.record_location}"
        if applied.record_location
        else "nothing to record"
    )
    click.echo(
        f"Interrupted ({interrupts.signal_name(result.interrupted)}): {len(done)} of "
        f"{plural(len(changes), 'change')} completed ({names}); {recorded}. "
        + (f"{len(unknown)} in flight may or may not have been applied. " if unknown else "")
        + "Plan again to see what is left.",
        err=True,
    )
    if applied.record_error is not None:
        click.echo(f"Error: the deployment record was not written: {applied.record_error}", err=True)
    raise interrupts.Interrupted(result.interrupted)
