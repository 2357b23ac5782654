"""The sticky plan comment on Azure Repos: a closed pull-request thread, upserted against a fake."""

from __future__ import annotations

import pytest
from azure_fake import TOKEN, FakeAzureRepos

from dataflow_gitops.cli.main import run
from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.integrations import azure_repos
from dataflow_gitops.integrations.comment_body import marker

PIPELINE = {
    "TF_BUILD": "True",
    "SYSTEM_TEAMPROJECT": "Data Platform",
    "BUILD_REPOSITORY_ID": "c0ffee00-1111-4222-8333-444455556666",
    "SYSTEM_PULLREQUEST_PULLREQUESTID": "31",
}


def _pr(fake: FakeAzureRepos, number: int = 31) -> azure_repos.AzurePullRequest:
    return azure_repos.azure_pull_request_from_environment(
        {**PIPELINE, "SYSTEM_COLLECTIONURI": f"{fake.url}/contoso"}, number=number
    )


def test_pull_request_from_the_pipeline_variables() -> None:
    pr = azure_repos.azure_pull_request_from_environment(
        {**PIPELINE, "SYSTEM_COLLECTIONURI": "https://dev.azure.com/contoso"}
    )
    assert pr.collection_uri == "https://dev.azure.com/contoso/"
    assert pr.number == 31
    assert pr.threads_path == (
        "Data%20Platform/_apis/git/repositories/c0ffee00-1111-4222-8333-444455556666"
        "/pullRequests/31/threads"
    )
    with pytest.raises(DataflowGitopsError, match="SYSTEM_COLLECTIONURI"):
        azure_repos.azure_pull_request_from_environment({})
    ci_build = {**PIPELINE, "SYSTEM_COLLECTIONURI": "https://dev.azure.com/c"}
    del ci_build["SYSTEM_PULLREQUEST_PULLREQUESTID"]
    with pytest.raises(DataflowGitopsError, match="no pull request number"):
        azure_repos.azure_pull_request_from_environment(ci_build)


def test_thread_is_created_closed_then_edited_in_place(fake_azure: FakeAzureRepos) -> None:
    mark = marker("test")
    other = fake_azure.add(31, marker("prod") + "\nprod plan")
    with azure_repos.AzureReposClient(TOKEN, _pr(fake_azure), sleep=lambda _: None) as client:
        first = azure_repos.upsert_thread(client, "Plan: 1 to create.", base_marker=mark)
        second = azure_repos.upsert_thread(client, "Plan: 1 to update.", base_marker=mark)
        third = azure_repos.upsert_thread(client, "Plan: 1 to update.", base_marker=mark)
    assert (first.action, second.action, third.action) == ("created", "updated", "unchanged")
    ours = [t for t in fake_azure.on(31) if t["id"] != other]
    assert len(ours) == 1
    assert ours[0]["status"] == "closed"  # information, not a review comment to resolve
    assert ours[0]["comments"][0]["content"] == f"{mark}\nPlan: 1 to update."
    assert first.urls[0].endswith(f"/pullrequest/31?discussionId={ours[0]['id']}")
    assert fake_azure.threads[other]["comments"][0]["content"].endswith("prod plan")
    # every thread call pins the API version; connectionData is a preview API
    versions = {path.rsplit("/", 1)[-1]: v for _, path, v in fake_azure.requests}
    assert versions.pop("connectionData") == "7.1-preview"
    assert {version for _, path, version in fake_azure.requests if "threads" in path} == {"7.1"}


def test_stale_parts_are_deleted(fake_azure: FakeAzureRepos) -> None:
    mark = marker("prod")
    big = "\n".join(f"line {n} " + "x" * 80 for n in range(2000))
    with azure_repos.AzureReposClient(TOKEN, _pr(fake_azure)) as client:
        assert len(azure_repos.upsert_thread(client, big, base_marker=mark).urls) >= 2
        small = azure_repos.upsert_thread(client, "No changes.", base_marker=mark)
    assert small.deleted >= 1
    assert fake_azure.contents(31) == [f"{mark}\nNo changes."]


def test_rejected_token_is_one_line_without_the_token(fake_azure: FakeAzureRepos) -> None:
    with (
        azure_repos.AzureReposClient("wrong-token-xyz", _pr(fake_azure)) as client,
        pytest.raises(DataflowGitopsError, match="203") as caught,
    ):
        azure_repos.upsert_thread(client, "x", base_marker=marker("dev"))
    assert "wrong-token-xyz" not in str(caught.value)
    assert "SYSTEM_ACCESSTOKEN" in str(caught.value)


def test_forbidden_names_the_permission(fake_azure: FakeAzureRepos) -> None:
    fake_azure.fail_next = [403]
    with (
        azure_repos.AzureReposClient(TOKEN, _pr(fake_azure)) as client,
        pytest.raises(DataflowGitopsError, match="Contribute to pull requests"),
    ):
        azure_repos.upsert_thread(client, "x", base_marker=marker("dev"))


def test_retries_throttling(fake_azure: FakeAzureRepos) -> None:
    fake_azure.fail_next = [429, 503]
    sleeps: list[float] = []
    with azure_repos.AzureReposClient(TOKEN, _pr(fake_azure), sleep=sleeps.append) as client:
        assert azure_repos.upsert_thread(client, "x", base_marker=marker("dev")).action == "created"
    assert len(sleeps) == 2


def test_dfg_comment_chooses_azure_repos_inside_azure_pipelines(
    fake_azure: FakeAzureRepos,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path,
) -> None:
    for name, value in {
        **PIPELINE,
        "SYSTEM_COLLECTIONURI": f"{fake_azure.url}/contoso",
        "SYSTEM_ACCESSTOKEN": TOKEN,
    }.items():
        monkeypatch.setenv(name, value)
    body = tmp_path / "plan.md"
    body.write_text("### Plan for test\n")
    assert run(["comment", "-e", "test", "--body-file", str(body)]) == 0
    out, err = capsys.readouterr()
    assert "Created the test plan comment on c0ffee00-1111-4222-8333-444455556666 pull request 31" in out
    assert TOKEN not in out + err
    assert fake_azure.contents(31) == [f"{marker('test')}\n### Plan for test\n"]
    monkeypatch.delenv("SYSTEM_ACCESSTOKEN")
    assert run(["comment", "-e", "test", "--body-file", str(body)]) == 1
    assert "SYSTEM_ACCESSTOKEN is not set" in capsys.readouterr().err


def test_another_identitys_thread_with_the_marker_is_never_edited_or_deleted(
    fake_azure: FakeAzureRepos,
) -> None:
    mark = marker("prod")
    forged = fake_azure.add(31, f"{mark}\nwritten by a person", author="someone-else")
    own = fake_azure.add(31, f"{mark}\nold plan", author=fake_azure.identity)
    with azure_repos.AzureReposClient(TOKEN, _pr(fake_azure), sleep=lambda _: None) as client:
        result = azure_repos.upsert_thread(client, "No changes.", base_marker=mark)
    assert result.action == "updated"
    assert fake_azure.threads[own]["comments"][0]["content"] == f"{mark}\nNo changes."
    assert fake_azure.threads[forged]["comments"][0]["content"] == f"{mark}\nwritten by a person"
    assert not fake_azure.threads[forged]["comments"][0].get("isDeleted")
    changed = {path for method, path, _ in fake_azure.requests if method in ("PATCH", "DELETE")}
    assert all(f"/threads/{own}/" in path for path in changed)
