"""`dfg apply`: carry out a plan (made now, or a saved one) and record the deployment.

Approval rules: a plan made by this command is shown and needs a typed ``yes`` unless
``--auto-approve``; a saved plan file was already reviewed, so it needs none. A ``protected``
environment always needs one: the prompt, or ``--approve-protected ENV`` naming it (so a
pipeline approves one environment explicitly, and a copied command line cannot slip into prod).
Whenever it asks, the plan is shown first (with ``--format json`` on stderr, and for a saved
plan too), so nobody approves what they have not seen.

``--publish`` also publishes dataflows an earlier apply wrote but could not publish (the
deployment record says so), although their plan is a no-op: re-running converges.
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
    env_option,
    format_option,
    progress,
    project_dir,
    publish_option,
    timeout_option,
    use_color,
)
from dataflow_gitops.cli.output import Format
from dataflow_gitops.cli.records_note import before_git_note


@click.command("apply")
@env_option
@click.argument("planfile", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--auto-approve", is_flag=True, help="Apply without asking (not for protected environments)."
)
@approve_protected_option
@click.option(
    "--target", "targets", multiple=True, metavar="NAME", help="Apply only this dataflow (repeatable)."
)
@click.option(
    "--ref",
    metavar="GITREF",
    help="Apply the dataflows of this commit, branch or tag (a rollback is an older ref).",
)
@allow_delete_option
@click.option(
    "--trust-plan-file",
    is_flag=True,
    help="Apply a saved plan whose source cannot be re-rendered (another repository, a changed "
    "working tree) without proving its payloads. Its workspace, connection and today's safety "
    "rules are still checked. See docs/plan-files.md.",
)
@publish_option
@concurrency_option
@timeout_option
@format_option
def command(
    env: str,
    planfile: Path | None,
    auto_approve: bool,
    approve_protected: tuple[str, ...],
    targets: tuple[str, ...],
    ref: str | None,
    allow_delete: bool,
    trust_plan_file: bool,
    publish: bool,
    concurrency: int,
    timeout: float | None,
    fmt: Format,
) -> int:
    """Apply the repository (or the saved PLANFILE) to ENV's workspace.

    Without PLANFILE the plan is shown and applied only after you type `yes` (or with
    --auto-approve). A saved PLANFILE was reviewed already: no prompt, but it is refused if
    live items moved since it was made, if ENV now resolves to another workspace or connection,
    if today's overlay and flags do not allow an action (its deletes need --allow-delete too),
    or if its source (its commit, or the unchanged working tree) no longer renders exactly its
    payloads. A `protected: true` environment always asks; only
    --approve-protected ENV, naming that environment, replaces the prompt. With no terminal to
    ask on (CI), apply fails at once instead of waiting.

    \b
    Examples:
      dfg apply -e dev                              # plan, show, ask, apply
      dfg apply -e test --auto-approve --publish    # CI: no prompt, then ApplyChanges
      dfg plan -e prod --out prod.plan.json && dfg apply -e prod prod.plan.json \\
          --approve-protected prod
      dfg apply -e dev --allow-delete               # also delete what left the repository
      dfg apply -e prod --ref dfg/prod/20261101T090000Z --approve-protected prod   # roll back
    """
    if trust_plan_file and planfile is None:
        raise click.UsageError("--trust-plan-file is only for applying a saved PLANFILE")
    if planfile is not None and (targets or ref):
        raise click.UsageError(
            "--target and --ref cannot be used with a saved plan; plan with them instead"
        )
    check_approval_names(env, approve_protected)
    color = use_color(fmt)
    note = before_git_note(project_dir(), env)
    if note is not None:
        click.echo(note, err=True)
    with api.deployment(
        project_dir(), env, concurrency=concurrency, write=True, timeout_s=timeout
    ) as dep:
        with progress() as reporter:
            if planfile is not None:
                plan = api.load_saved_plan(planfile)
                # evidence, not authority: bound, allowed today, and proven by its source
                api.verify_saved_plan(dep, plan, allow_delete=allow_delete, trust=trust_plan_file)
            else:
                plan = api.plan(dep, targets=targets, ref=ref, reporter=reporter)
        applied = approve_and_apply(
            dep,
            plan,
            approved=auto_approve or planfile is not None,
            approve_protected=approve_protected,
            fmt=fmt,
            color=color,
            concurrency=concurrency,
            publish=publish,
            allow_delete=allow_delete,
            saved=planfile is not None,
        )
    return report_applied(
        applied,
        plan,
        fmt,
        color=color,
        command=f"dfg apply {env}",
        unchanged="No changes. The workspace already matches the repository.",
        again="fix the cause and run apply again: what succeeded is recorded and is not repeated",
    )
