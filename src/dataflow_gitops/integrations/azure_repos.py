"""Azure Repos pull-request threads (integration layer): the sticky plan comment on Azure DevOps.

The same sticky comment as on GitHub (``comment_body``), stored as a pull-request thread whose
first comment opens with the marker. Threads are created *closed*: a plan is information, and an
active thread would hold up a branch policy that requires every comment to be resolved.

Pipelines give the job everything: ``SYSTEM_COLLECTIONURI``, ``SYSTEM_TEAMPROJECT``,
``BUILD_REPOSITORY_ID``, ``SYSTEM_PULLREQUEST_PULLREQUESTID`` and, when mapped into the step,
``SYSTEM_ACCESSTOKEN`` (the build service needs *Contribute to pull requests*).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Unpack
from urllib.parse import quote

import httpx

from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.integrations.api_client import ApiClient, Options, message_of
from dataflow_gitops.integrations.comment_body import CommentResult, PostedComment, upsert

API_VERSION = "7.1"
# connectionData is a preview API: a plain version is refused there.
CONNECTION_DATA_VERSION = "7.1-preview"


@dataclass(frozen=True, slots=True)
class AzurePullRequest:
    collection_uri: str
    """``https://dev.azure.com/<organization>/``."""
    project: str
    repository_id: str
    number: int

    @property
    def threads_path(self) -> str:
        return (
            f"{quote(self.project)}/_apis/git/repositories/{quote(self.repository_id)}"
            f"/pullRequests/{self.number}/threads"
        )


def azure_pull_request_from_environment(
    environ: Mapping[str, str] | None = None, *, number: int | None = None
) -> AzurePullRequest:
    """The pull request this Azure Pipelines run builds (``--pr`` overrides the number)."""
    env = os.environ if environ is None else environ
    missing = [
        name
        for name in ("SYSTEM_COLLECTIONURI", "SYSTEM_TEAMPROJECT", "BUILD_REPOSITORY_ID")
        if not env.get(name)
    ]
    if missing:
        raise DataflowGitopsError(
            f"{', '.join(missing)} not set",
            where="dfg comment (Azure Repos)",
            hint="run inside an Azure Pipelines job",
        )
    if number is None:
        raw = env.get("SYSTEM_PULLREQUEST_PULLREQUESTID", "")
        number = int(raw) if raw.isdigit() else None
    if number is None or number <= 0:
        raise DataflowGitopsError(
            "no pull request number",
            where="dfg comment (Azure Repos)",
            hint="pass --pr N, or run in a pipeline started by a pull request (build validation)",
        )
    collection = env["SYSTEM_COLLECTIONURI"].rstrip("/") + "/"
    return AzurePullRequest(collection, env["SYSTEM_TEAMPROJECT"], env["BUILD_REPOSITORY_ID"], number)


class AzureReposClient(ApiClient):
    """The pull-request thread endpoints, with a few retries on 429/5xx (``sleep`` injectable)."""

    service = "Azure DevOps"
    token_variable = "SYSTEM_ACCESSTOKEN"
    token_expression = "$(System.AccessToken)"
    where = "dfg comment (Azure Repos)"

    def __init__(self, token: str, pr: AzurePullRequest, **options: Unpack[Options]) -> None:
        self.pr = pr
        super().__init__(
            pr.collection_uri,
            token,
            {"Accept": "application/json"},
            params={"api-version": API_VERSION},
            **options,
        )

    # CommentStore: a "comment" is a thread's first comment, id "<thread>/<comment>".

    def comments(self) -> list[PostedComment]:
        data = self.send("GET", self.pr.threads_path).json()
        found = []
        for thread in data.get("value", []) if isinstance(data, dict) else []:
            first = next(iter(thread.get("comments") or []), None)
            if isinstance(first, dict) and not first.get("isDeleted"):
                comment_id = f"{thread.get('id')}/{first.get('id')}"
                author = first.get("author")
                found.append(
                    PostedComment(
                        comment_id,
                        first.get("content") or "",
                        self._url(thread),
                        str(author.get("id") or "") if isinstance(author, dict) else "",
                    )
                )
        return found

    def me(self) -> str:
        """The identity id of the token (``_apis/connectionData``: ``authenticatedUser.id``)."""
        data = self.send(
            "GET", "_apis/connectionData", params={"api-version": CONNECTION_DATA_VERSION}
        ).json()
        user = data.get("authenticatedUser") if isinstance(data, dict) else None
        identity = user.get("id") if isinstance(user, dict) else None
        if not isinstance(identity, str) or not identity:
            raise DataflowGitopsError(
                "connectionData named no authenticated user for the token",
                where="Azure DevOps GET _apis/connectionData",
                hint="check SYSTEM_ACCESSTOKEN",
            )
        return identity

    def create(self, body: str) -> str:
        payload = {
            "comments": [{"parentCommentId": 0, "content": body, "commentType": "text"}],
            "status": "closed",
        }
        return self._url(self.send("POST", self.pr.threads_path, payload).json())

    def update(self, comment_id: str, body: str) -> str:
        thread_id, _, number = comment_id.partition("/")
        path = f"{self.pr.threads_path}/{thread_id}/comments/{number}"
        self.send("PATCH", path, {"content": body})
        return self._url({"id": thread_id})

    def delete(self, comment_id: str) -> None:
        thread_id, _, number = comment_id.partition("/")
        self.send("DELETE", f"{self.pr.threads_path}/{thread_id}/comments/{number}")

    def _url(self, thread: Any) -> str:
        thread_id = thread.get("id") if isinstance(thread, dict) else None
        base = f"{self.pr.collection_uri}{quote(self.pr.project)}/_git/{quote(self.pr.repository_id)}"
        return f"{base}/pullrequest/{self.pr.number}" + (
            f"?discussionId={thread_id}" if thread_id else ""
        )

    def accepted(self, response: httpx.Response) -> bool:
        # 203 is Azure DevOps' answer to a rejected token: a sign-in page, not JSON.
        return response.is_success and response.status_code != 203

    def no_answer(self, exc: httpx.HTTPError, method: str, url: str) -> DataflowGitopsError:
        return DataflowGitopsError(
            f"no answer: {type(exc).__name__}",
            where=f"Azure DevOps {method} {url}",
            hint="check the network and SYSTEM_COLLECTIONURI",
        )

    def error(self, response: httpx.Response, method: str, url: str) -> DataflowGitopsError:
        hints = {
            401: "SYSTEM_ACCESSTOKEN is invalid or expired",
            203: "SYSTEM_ACCESSTOKEN was not accepted (a sign-in page came back)",
            403: "allow the build service identity to 'Contribute to pull requests' on the repository",
            404: "check the project, repository and pull request number",
        }
        status = response.status_code
        return DataflowGitopsError(
            f"{status} {message_of(response) or response.reason_phrase}".strip()[:300],
            where=f"Azure DevOps {method} {url}",
            hint=hints.get(status, "retry later"),
        )


def upsert_thread(client: AzureReposClient, body: str, *, base_marker: str) -> CommentResult:
    """Create the pull request's sticky plan thread or edit it in place."""
    return upsert(client, body, base_marker=base_marker)
