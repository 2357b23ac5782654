"""`dfg promote`: ship to an environment exactly the commit its source environment last ran.

With ``--out`` it stops after the plan (saved for ``dfg apply -e TO FILE``, e.g. after a review);
otherwise it applies with the same approval rules as ``dfg apply``: a typed ``yes`` unless
``--auto-approve``, and for a protected target the prompt or ``--approve-protected TO``.
"""

from __future__ import annotations

from pathlib import Path

import click

from dataflow_gitops import api
from dataflow_gitops.cli.applying import (
    approve_and_apply,
    check_approval_names,
    report_applied,
)
from dataflow_gitops.cli.commands.options import (
    allow_delete_option,
    approve_protected_option,
    concurrency_option,
    format_option,
    progress,
    project_dir,
    publish_option,
    timeout_option,
    use_color,
    write_step_summary,
)
from dataflow_gitops.cli.commands.plan import EXIT_CHANGES
from dataflow_gitops.cli.output import Format, format_plan


@click.command("promote")
@click.option("--from", "from_env", metavar="ENV", help="Source environment (default: promote_from).")
@click.option("--to", "to_env", required=True, metavar="ENV", help="Environment to deploy to.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Only plan: save the plan here for `dfg apply -e TO FILE`.",
)
@click.option("--auto-approve", is_flag=True, help="Apply without asking (not for protected targets).")
@approve_protected_option
@format_option
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="With --out: exit 2 when the plan has changes, 0 when it has none.",
)
@click.option(
    "--target", "targets", multiple=True, metavar="NAME", help="Promote only this dataflow (repeatable)."
)
@allow_delete_option
@publish_option
@click.option(
    "--ref",
    metavar="GITREF",
    help="Promote this earlier release of --from (it must have run there): a rollback.",
)
@concurrency_option
@timeout_option
def command(
    from_env: str | None,
    to_env: str,
    out: Path | None,
    auto_approve: bool,
    approve_protected: tuple[str, ...],
    fmt: Format,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    allow_delete: bool,
    publish: bool,
    ref: str | None,
    concurrency: int,
    timeout: float | None,
) -> int:
    """Deploy to --to the commit last applied to --from, after checking --from still runs it.

    The source's latest deployment record names the commit; if live --from no longer matches
    that record (a hand edit, a failed apply) the promotion is refused, naming the dataflows.
    Commits not yet applied to --from never reach --to. Without --from, the target overlay's
    `promote_from` is used; a --from that disagrees with it is refused.

    \b
    Examples:
      dfg promote --from test --to prod                          # plan, show, ask, apply
      dfg promote --to prod --approve-protected prod --publish   # CI
      dfg promote --from test --to prod --out prod.plan.json     # plan only, for review
      dfg promote --to prod --ref dfg/test/20261101T090000Z      # roll prod back to a release
      dfg apply -e prod prod.plan.json --approve-protected prod  # ...then apply exactly that
    """
    color = use_color(fmt)
    check_approval_names(to_env, approve_protected)
    with api.deployment(
        project_dir(), to_env, concurrency=concurrency, write=True, timeout_s=timeout
    ) as dep:
        with progress() as reporter:
            promotion = api.plan_promotion(dep, from_env, targets=targets, ref=ref, reporter=reporter)
        plan = promotion.plan
        source = promotion.source
        if fmt == "text":
            record = source.record
            check = (
                f"live {source.environment} matches it"
                if promotion.live_checked
                else f"an earlier release of {source.environment}"
            )
            click.echo(
                f"Promoting {source.environment} → {to_env}: commit {source.commit[:12]} "
                f"(applied to {source.environment} {record.time} by {record.actor}; {check})\n"
            )
        if out is not None:
            api.save_plan(plan, dep.environment, out)
            click.echo(format_plan(plan, fmt, color=color).rstrip("\n"))
            write_step_summary(format_plan(plan, "markdown"))
            if fmt == "text":
                click.echo(
                    f"\nSaved the plan to {out}. To apply exactly this plan: dfg apply -e {to_env} {out}"
                )
            return EXIT_CHANGES if detailed_exitcode and plan.has_changes else 0
        applied = approve_and_apply(
            dep,
            plan,
            approved=auto_approve,
            approve_protected=approve_protected,
            fmt=fmt,
            color=color,
            concurrency=concurrency,
            publish=publish,
            allow_delete=allow_delete,
            what="promotion",
        )
    return report_applied(
        applied,
        plan,
        fmt,
        color=color,
        command=f"dfg promote {to_env}",
        unchanged=f"Nothing to promote: {to_env} already runs commit {source.commit[:12]}.",
        again="fix the cause and promote again",
    )
