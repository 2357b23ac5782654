"""GitHub pull-request comments (integration layer): markdown body → one sticky comment, upserted.

A workflow run posts its plan as a comment on the pull request; the next run must edit that
comment, not add another. The comment is found by the hidden marker on its first line
(``comment_body`` makes the markers and the parts of a body over GitHub's limit); parts left over
from a longer earlier body are deleted. Four endpoints: list, create, update and delete issue
comments.

The token comes from the caller (the CLI reads ``GITHUB_TOKEN``), goes only to the API host and
never into an error message.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack
from urllib.parse import urlsplit

import httpx

from dataflow_gitops.errors import DataflowGitopsError, GitHubError
from dataflow_gitops.integrations.api_client import ApiClient, Options, message_of
from dataflow_gitops.integrations.comment_body import (
    COMMENT_LIMIT,
    MAX_PARTS,
    CommentResult,
    PostedComment,
    marker,
    part_marker,
    split_body,
    upsert,
)

PUBLIC_API = "https://api.github.com"
ACTIONS_BOT = "github-actions[bot]"
"""The author of every comment a workflow's GITHUB_TOKEN writes."""
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, slots=True)
class PullRequest:
    repo: str
    """``owner/name``."""
    number: int
    api_url: str = PUBLIC_API


def pull_request_from_environment(
    environ: Mapping[str, str] | None = None,
    *,
    repo: str | None = None,
    number: int | None = None,
) -> PullRequest:
    """Repository, PR number and API URL from the options, else from GitHub Actions' variables."""
    env = os.environ if environ is None else environ
    repo = repo or env.get("GITHUB_REPOSITORY")
    if not repo or not _REPO.match(repo):
        shown = f"{repo!r} is not owner/name" if repo else "no repository given"
        raise DataflowGitopsError(
            shown,
            where="dfg comment",
            hint="pass --repo owner/name (GitHub Actions sets GITHUB_REPOSITORY)",
        )
    if number is None:
        number = _event_number(env.get("GITHUB_EVENT_PATH"))
    if number is None or number <= 0:
        raise DataflowGitopsError(
            "no pull request number",
            where="dfg comment",
            hint="pass --pr N, or run on a pull_request event (GITHUB_EVENT_PATH)",
        )
    api_url = (env.get("GITHUB_API_URL") or PUBLIC_API).rstrip("/")
    return PullRequest(repo=repo, number=number, api_url=api_url)


def _event_number(path: str | None) -> int | None:
    if not path:
        return None
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataflowGitopsError(
            f"cannot read the event payload: {exc}",
            where=f"GITHUB_EVENT_PATH {path}",
            hint="pass --pr N",
        ) from None
    if not isinstance(event, dict):
        return None
    for key in ("pull_request", "issue"):
        value = event.get(key)
        if isinstance(value, dict) and isinstance(value.get("number"), int):
            return int(value["number"])
    number = event.get("number")
    return number if isinstance(number, int) else None


# -- the API ----------------------------------------------------------------------------------


class GitHubClient(ApiClient):
    """The four issue-comment endpoints, with a few retries on 429/5xx (``sleep`` injectable)."""

    service = "GitHub"
    token_variable = "GITHUB_TOKEN"
    token_expression = "${{ github.token }}"
    where = "dfg comment"

    def __init__(self, token: str, *, api_url: str = PUBLIC_API, **options: Unpack[Options]) -> None:
        self._origin = _origin(api_url)
        super().__init__(
            api_url.rstrip("/"),
            token,
            {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
            **options,
        )

    def list_comments(self, pr: PullRequest) -> list[dict[str, Any]]:
        url: str | None = f"/repos/{pr.repo}/issues/{pr.number}/comments?per_page=100"
        found: list[dict[str, Any]] = []
        while url:
            response = self._send("GET", url)
            page = response.json()
            if not isinstance(page, list):
                raise GitHubError(
                    "the comment list is not a JSON array",
                    status=response.status_code,
                    method="GET",
                    url=_path(url),
                )
            found += [c for c in page if isinstance(c, dict)]
            url = response.links.get("next", {}).get("url")
            # The token goes only to the API host, whatever a Link header says; stopping early
            # instead could miss the sticky comment and post a duplicate.
            if url and _origin(url) != self._origin:
                raise GitHubError(
                    "the next page of comments is on another host; the token is not sent there",
                    status=response.status_code,
                    method="GET",
                    url=_path(url),
                    hint="set GITHUB_API_URL to the API host that serves the pages",
                )
        return found

    def authenticated_login(self) -> str:
        """The login the token's comments are authored by (GET /user).

        A workflow's GITHUB_TOKEN is an app installation token, for which GitHub refuses
        /user ("Resource not accessible by integration"); its comments are github-actions[bot]'s.
        """
        try:
            user = _object(self._send("GET", "/user"))
        except GitHubError as exc:
            if exc.status == 403 and "not accessible by integration" in exc.message:
                return ACTIONS_BOT
            raise
        login = user.get("login")
        if not isinstance(login, str) or not login:
            raise GitHubError(
                "GET /user named no login for the token",
                status=200,
                method="GET",
                url="/user",
                hint="use a token of a user or of GitHub Actions",
            )
        return login

    def create_comment(self, pr: PullRequest, body: str) -> dict[str, Any]:
        return _object(self._send("POST", f"/repos/{pr.repo}/issues/{pr.number}/comments", body))

    def update_comment(self, pr: PullRequest, comment_id: int, body: str) -> dict[str, Any]:
        return _object(self._send("PATCH", f"/repos/{pr.repo}/issues/comments/{comment_id}", body))

    def delete_comment(self, pr: PullRequest, comment_id: int) -> None:
        self._send("DELETE", f"/repos/{pr.repo}/issues/comments/{comment_id}")

    def _send(self, method: str, url: str, body: str | None = None) -> httpx.Response:
        return self.send(method, url, None if body is None else {"body": body})

    def no_answer(self, exc: httpx.HTTPError, method: str, url: str) -> GitHubError:
        return GitHubError(
            f"no answer: {type(exc).__name__}",
            status=0,
            method=method,
            url=_path(url),
            hint="check the network and GITHUB_API_URL",
        )

    def error(self, response: httpx.Response, method: str, url: str) -> GitHubError:
        status = response.status_code
        hints = {
            401: "GITHUB_TOKEN is invalid or expired",
            403: "give the job `permissions: pull-requests: write` (a pull request from a fork gets "
            "a read-only token: post from a pull_request_target or workflow_run job instead)",
            404: "check --repo and --pr, and that the token can see the repository",
            422: "GitHub refused the comment body",
        }
        return GitHubError(
            f"{status} {message_of(response) or response.reason_phrase}".strip()[:300],
            status=status,
            method=method,
            url=_path(url),
            hint=hints.get(status, "retry later; see https://www.githubstatus.com"),
        )


class IssueComments:
    """One pull request's issue comments as a :class:`CommentStore`."""

    def __init__(self, client: GitHubClient, pr: PullRequest) -> None:
        self._client = client
        self._pr = pr

    def comments(self) -> list[PostedComment]:
        return [
            PostedComment(str(c.get("id")), c.get("body") or "", str(c.get("html_url", "")), _login(c))
            for c in self._client.list_comments(self._pr)
        ]

    def me(self) -> str:
        return self._client.authenticated_login()

    def create(self, body: str) -> str:
        return str(self._client.create_comment(self._pr, body).get("html_url", ""))

    def update(self, comment_id: str, body: str) -> str:
        return str(self._client.update_comment(self._pr, int(comment_id), body).get("html_url", ""))

    def delete(self, comment_id: str) -> None:
        self._client.delete_comment(self._pr, int(comment_id))


def upsert_comment(
    client: GitHubClient, pr: PullRequest, body: str, *, base_marker: str
) -> CommentResult:
    """Create the pull request's sticky comment or edit it in place (see ``comment_body.upsert``)."""
    return upsert(IssueComments(client, pr), body, base_marker=base_marker)


def _login(comment: dict[str, Any]) -> str:
    user = comment.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) else ""


def _object(response: httpx.Response) -> dict[str, Any]:
    data = response.json()
    return data if isinstance(data, dict) else {}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _path(url: str) -> str:
    return urlsplit(url).path or url


__all__ = [
    "COMMENT_LIMIT",
    "ACTIONS_BOT",
    "MAX_PARTS",
    "PUBLIC_API",
    "CommentResult",
    "GitHubClient",
    "IssueComments",
    "PullRequest",
    "marker",
    "part_marker",
    "pull_request_from_environment",
    "split_body",
    "upsert_comment",
]
