"""`dfg comment`: a saved plan or a markdown file → ENV's sticky pull-request comment (GitHub or
Azure Repos)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from dataflow_gitops import api
from dataflow_gitops.cli.output import format_plan
from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.integrations import azure_repos, ci, github


@click.command("comment")
@click.option(
    "-e", "--env", metavar="ENV", help="Environment the comment is about (default: the plan's)."
)
@click.option(
    "--plan-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A plan saved by `dfg plan --out`; posted as markdown.",
)
@click.option(
    "--body-file",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Markdown to post as is ('-' reads stdin), e.g. `dfg plan --format markdown` output.",
)
@click.option("--repo", metavar="OWNER/NAME", help="GitHub repository (default: $GITHUB_REPOSITORY).")
@click.option("--pr", "number", type=int, metavar="N", help="Pull request (default: from the CI run).")
@click.option(
    "--platform",
    type=click.Choice(["auto", "github", "azure"]),
    default="auto",
    show_default=True,
    help="GitHub, or Azure Repos; auto: Azure Repos inside Azure Pipelines, else GitHub.",
)
def command(
    env: str | None,
    plan_file: Path | None,
    body_file: Path | None,
    repo: str | None,
    number: int | None,
    platform: str,
) -> int:
    """Create or update ENV's plan comment on a pull request (one sticky comment per environment).

    The comment is found again by a hidden marker, so each run edits it in place; only comments
    the token's own identity wrote are edited or deleted, never another user's. On GitHub the
    token is read from GITHUB_TOKEN only (the job needs `permissions: pull-requests: write`); on
    Azure Repos from SYSTEM_ACCESSTOKEN (a closed thread on the pull request).

    \b
    Examples:
      dfg plan -e test --out test.plan.json && dfg comment --plan-file test.plan.json
      dfg plan -e test --format markdown > plan.md && dfg comment -e test --body-file plan.md
      dfg comment -e prod --body-file drift.md --repo contoso/dataflows --pr 42
      dfg comment --plan-file test.plan.json --platform azure     # Azure Pipelines + Azure Repos
    """
    if (plan_file is None) == (body_file is None):
        raise click.UsageError("give exactly one of --plan-file and --body-file")
    if plan_file is not None:
        plan = api.load_saved_plan(plan_file, resolve_secrets=False)
        if env and env != plan.environment:
            # Posting test's plan under prod's marker would overwrite prod's comment with it.
            raise click.UsageError(f"the plan file is for {plan.environment!r}, not {env!r}")
        env = plan.environment
        body = format_plan(plan, "markdown")
    else:
        assert body_file is not None
        body = _read_body(body_file)
    if not env:
        raise click.UsageError("--env is required with --body-file")
    base_marker = github.marker(env)
    if platform == "azure" or (platform == "auto" and ci.detect() == "azure"):
        azure_pr = azure_repos.azure_pull_request_from_environment(number=number)
        token = os.environ.get("SYSTEM_ACCESSTOKEN", "")
        with azure_repos.AzureReposClient(token, azure_pr) as azure:
            result = azure_repos.upsert_thread(azure, body, base_marker=base_marker)
        where = f"{azure_pr.repository_id} pull request {azure_pr.number}"
    else:
        pr = github.pull_request_from_environment(repo=repo, number=number)
        with github.GitHubClient(os.environ.get("GITHUB_TOKEN", ""), api_url=pr.api_url) as client:
            result = github.upsert_comment(client, pr, body, base_marker=base_marker)
        where = f"{pr.repo}#{pr.number}"
    parts = f" ({len(result.urls)} parts)" if len(result.urls) > 1 else ""
    if result.action == "unchanged":
        click.echo(f"The {env} plan comment on {where}{parts} is already up to date")
    else:
        click.echo(f"{result.action.capitalize()} the {env} plan comment on {where}{parts}")
    for url in result.urls:
        if url:
            click.echo(f"  {url}")
    return 0


def _read_body(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise DataflowGitopsError(
            f"cannot read the comment body: {reason}", where=str(path), hint="pass a markdown file"
        ) from None
