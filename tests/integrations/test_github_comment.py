"""The sticky PR comment: splitting under GitHub's limit, and upserts against a loopback fake."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from github_fake import TOKEN, FakeGitHub

from dataflow_gitops.cli.main import run
from dataflow_gitops.errors import DataflowGitopsError, GitHubError
from dataflow_gitops.integrations import github

REPO = "contoso/dataflows"


def _client(fake: FakeGitHub, sleeps: list[float] | None = None) -> github.GitHubClient:
    recorded = sleeps if sleeps is not None else []
    return github.GitHubClient(TOKEN, api_url=fake.url, sleep=recorded.append)


def _pr(fake: FakeGitHub, number: int = 7) -> github.PullRequest:
    return github.PullRequest(REPO, number, fake.url)


# -- splitting --------------------------------------------------------------------------------


def test_short_body_is_one_part_with_the_marker_added_once() -> None:
    mark = github.marker("dev")
    assert github.split_body("hello", mark) == [f"{mark}\nhello"]
    assert github.split_body(f"{mark}\nhello", mark) == [f"{mark}\nhello"]


def test_marker_neutralises_comment_terminators() -> None:
    assert github.marker("a-->b") == "<!-- dataflow-gitops plan: a- -b -->"


def _long_body(sections: int, lines: int = 400) -> str:
    blocks = []
    for i in range(sections):
        diff = "\n".join(f"+ line {i}.{n} " + "x" * 60 for n in range(lines))
        blocks.append(
            f"<details><summary>Dataflow {i}</summary>\n\n```diff\n{diff}\n```\n\n</details>\n"
        )
    return "## Plan\n\n" + "\n".join(blocks)


def test_long_body_splits_into_balanced_parts_under_the_limit() -> None:
    mark = github.marker("prod")
    body = _long_body(8)
    assert len(body) > github.COMMENT_LIMIT
    parts = github.split_body(body, mark)
    assert len(parts) > 1
    for index, part in enumerate(parts, start=1):
        assert len(part) <= github.COMMENT_LIMIT
        assert part.startswith(github.part_marker(mark, index))
        assert f"Part {index} of {len(parts)}" in part
        assert part.count("```") % 2 == 0, f"part {index} leaves a code fence open"
        assert part.count("<details") == part.count("</details>")
    # nothing lost: every diff line is in exactly one part
    joined = "".join(parts)
    for n in (0, 199, 399):
        assert joined.count(f"+ line 7.{n} ") == 1


def test_too_many_parts_are_trimmed_with_a_note() -> None:
    parts = github.split_body(_long_body(60), github.marker("dev"))
    assert len(parts) == github.MAX_PARTS
    assert "more part(s) not posted" in parts[-1]
    assert all(len(p) <= github.COMMENT_LIMIT for p in parts)


def test_one_enormous_line_is_cut() -> None:
    parts = github.split_body("y" * 200_000, github.marker("dev"))
    assert len(parts) == 4
    assert sum(p.count("y") for p in parts) == 200_000


# -- where the pull request comes from ----------------------------------------------------------


def test_pull_request_from_the_actions_environment(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "pull_request": {"number": 42}}))
    pr = github.pull_request_from_environment(
        {
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_API_URL": "https://ghe.example/api/v3/",
        }
    )
    assert pr == github.PullRequest(REPO, 42, "https://ghe.example/api/v3")
    explicit = github.pull_request_from_environment({}, repo="a/b", number=3)
    assert explicit == github.PullRequest("a/b", 3, github.PUBLIC_API)


def test_push_event_without_a_pull_request_says_what_to_do(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"ref": "refs/heads/main"}))
    with pytest.raises(DataflowGitopsError, match="no pull request number.*--pr N"):
        github.pull_request_from_environment(
            {"GITHUB_REPOSITORY": REPO, "GITHUB_EVENT_PATH": str(event)}
        )
    with pytest.raises(DataflowGitopsError, match="owner/name"):
        github.pull_request_from_environment({"GITHUB_REPOSITORY": "no-slash"}, number=1)


# -- upserts against the fake ---------------------------------------------------------------------


def test_create_then_update_in_place_then_unchanged(fake_github: FakeGitHub) -> None:
    mark = github.marker("test")
    other = fake_github.add(REPO, 7, github.marker("prod") + "\nprod plan")
    quoted = fake_github.add(REPO, 7, f"> {mark}\n> quoting the bot")
    with _client(fake_github) as client:
        first = github.upsert_comment(client, _pr(fake_github), "Plan: 1 to create.", base_marker=mark)
        assert first.action == "created"
        ours = [c for c in fake_github.on(REPO, 7) if c["body"].startswith(mark)]
        assert len(ours) == 1
        second = github.upsert_comment(client, _pr(fake_github), "Plan: 2 to update.", base_marker=mark)
        assert second.action == "updated"
        third = github.upsert_comment(client, _pr(fake_github), "Plan: 2 to update.", base_marker=mark)
        assert third.action == "unchanged"
    now = [c for c in fake_github.on(REPO, 7) if c["body"].startswith(mark)]
    assert [c["id"] for c in now] == [ours[0]["id"]]
    assert now[0]["body"] == f"{mark}\nPlan: 2 to update."
    assert fake_github.comments[other]["body"].endswith("prod plan")
    assert fake_github.comments[quoted]["body"].startswith("> ")
    methods = [m for m, _, _ in fake_github.requests]
    assert methods.count("POST") == 1
    assert methods.count("PATCH") == 1


def test_finds_the_comment_beyond_the_first_page(fake_github: FakeGitHub) -> None:
    fake_github.page_size = 2
    for n in range(5):
        fake_github.add(REPO, 7, f"chatter {n}")
    mark = github.marker("dev")
    existing = fake_github.add(REPO, 7, f"{mark}\nold", user=fake_github.author)
    with _client(fake_github) as client:
        result = github.upsert_comment(client, _pr(fake_github), "new", base_marker=mark)
    assert result.action == "updated"
    assert fake_github.comments[existing]["body"] == f"{mark}\nnew"
    # GET /user once, then three pages of comments
    assert sum(1 for m, p, _ in fake_github.requests if m == "GET" and p != "/user") == 3


def test_split_comment_grows_then_shrinks_and_stale_parts_go(fake_github: FakeGitHub) -> None:
    mark = github.marker("prod")
    with _client(fake_github) as client:
        big = github.upsert_comment(client, _pr(fake_github), _long_body(8), base_marker=mark)
        assert big.action == "created"
        assert len(big.urls) >= 2
        assert len(fake_github.on(REPO, 7)) == len(big.urls)
        first_id = min(c["id"] for c in fake_github.on(REPO, 7))
        small = github.upsert_comment(client, _pr(fake_github), "No changes.", base_marker=mark)
    assert small.action == "updated"
    assert small.deleted == len(big.urls) - 1
    remaining = fake_github.on(REPO, 7)
    assert [c["id"] for c in remaining] == [first_id]
    assert remaining[0]["body"] == f"{mark}\nNo changes."


def test_retries_server_errors_honouring_retry_after(fake_github: FakeGitHub) -> None:
    fake_github.fail_next = [502, 503]
    sleeps: list[float] = []
    with _client(fake_github, sleeps) as client:
        result = github.upsert_comment(client, _pr(fake_github), "x", base_marker=github.marker("dev"))
    assert result.action == "created"
    assert sleeps == [7.0, 7.0]


def test_forbidden_names_the_permission_and_never_the_token(fake_github: FakeGitHub) -> None:
    fake_github.fail_next = [403]
    with _client(fake_github) as client, pytest.raises(GitHubError) as caught:
        github.upsert_comment(client, _pr(fake_github), "x", base_marker=github.marker("dev"))
    assert caught.value.status == 403
    assert "pull-requests: write" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_missing_token_is_a_one_line_error() -> None:
    with pytest.raises(DataflowGitopsError, match="GITHUB_TOKEN is not set"):
        github.GitHubClient("")


# -- the command -------------------------------------------------------------------------------


@pytest.fixture
def actions_env(fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 12}}))
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", fake_github.url)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    return tmp_path


def test_dfg_comment_posts_a_body_file(
    fake_github: FakeGitHub, actions_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = actions_env / "plan.md"
    body.write_text("### Plan for test\n\nPlan: 0 to create, 1 to update, 0 to delete.\n")
    assert run(["comment", "-e", "test", "--body-file", str(body)]) == 0
    assert run(["comment", "-e", "test", "--body-file", str(body)]) == 0
    out, err = capsys.readouterr()
    assert "Created the test plan comment on contoso/dataflows#12" in out
    assert "The test plan comment on contoso/dataflows#12 is already up to date" in out
    assert "Unchanged the" not in out
    assert TOKEN not in out + err
    (comment,) = fake_github.on(REPO, 12)
    assert comment["body"].startswith(github.marker("test"))
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in fake_github.requests)


def test_dfg_comment_needs_exactly_one_source(
    actions_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["comment", "-e", "test"]) == 1
    assert "exactly one of --plan-file and --body-file" in capsys.readouterr().err


def test_dfg_comment_bad_token_is_one_line_without_the_token(
    fake_github: FakeGitHub,
    actions_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_wrong-token-abcdef")
    body = actions_env / "plan.md"
    body.write_text("x")
    assert run(["comment", "-e", "dev", "--body-file", str(body)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "401" in err
    assert "ghs_wrong-token-abcdef" not in err


def test_a_next_page_on_another_host_never_gets_the_token(fake_github: FakeGitHub) -> None:
    fake_github.page_size = 1
    fake_github.link_base = fake_github.url.replace("127.0.0.1", "localhost")
    fake_github.add(REPO, 7, "first")
    fake_github.add(REPO, 7, "second")
    with _client(fake_github) as client, pytest.raises(GitHubError, match="another host"):
        client.list_comments(_pr(fake_github))
    assert [m for m, _, _ in fake_github.requests] == ["GET"]


def test_dfg_comment_reads_the_body_from_stdin(
    fake_github: FakeGitHub,
    actions_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("### Drift in prod\n\nNo live drift.\n"))
    assert run(["comment", "-e", "prod", "--body-file", "-", "--pr", "99"]) == 0
    (comment,) = fake_github.on(REPO, 99)
    assert comment["body"] == f"{github.marker('prod')}\n### Drift in prod\n\nNo live drift.\n"


# -- only dfg's own comments are edited or deleted (issue 13, finding 6) ---------------------------


def test_another_users_comment_with_the_marker_is_never_edited_or_deleted(
    fake_github: FakeGitHub,
) -> None:
    mark = github.marker("prod")
    forged = fake_github.add(REPO, 7, f"{mark}\nI quote the bot's marker", user="mallory")
    forged_part = fake_github.add(REPO, 7, github.part_marker(mark, 2) + "\nmine too", user="mallory")
    with _client(fake_github) as client:
        result = github.upsert_comment(client, _pr(fake_github), "No changes.", base_marker=mark)
    assert result.action == "created"
    assert result.deleted == 0
    assert fake_github.comments[forged]["body"] == f"{mark}\nI quote the bot's marker"
    assert forged_part in fake_github.comments
    ours = [c for c in fake_github.on(REPO, 7) if c["user"]["login"] == "dfg-deployer"]
    assert [c["body"] for c in ours] == [f"{mark}\nNo changes."]
    assert not [m for m, p, _ in fake_github.requests if m in ("PATCH", "DELETE")]
    assert ("GET", "/user") in [(m, p) for m, p, _ in fake_github.requests]


def test_a_workflow_token_edits_the_comments_of_github_actions(fake_github: FakeGitHub) -> None:
    fake_github.login = None  # an installation token: GET /user is refused
    mark = github.marker("test")
    own = fake_github.add(REPO, 7, f"{mark}\nold", user="github-actions[bot]")
    someone = fake_github.add(REPO, 7, f"{mark}\nhand-written", user="octocat")
    with _client(fake_github) as client:
        result = github.upsert_comment(client, _pr(fake_github), "new", base_marker=mark)
    assert result.action == "updated"
    assert fake_github.comments[own]["body"] == f"{mark}\nnew"
    assert fake_github.comments[someone]["body"] == f"{mark}\nhand-written"


def test_a_refused_user_lookup_is_an_error_not_a_guess(fake_github: FakeGitHub) -> None:
    mark = github.marker("dev")
    fake_github.add(REPO, 7, f"{mark}\nold", user="dfg-deployer")
    fake_github.fail_next = [401]
    with _client(fake_github) as client, pytest.raises(GitHubError, match="401"):
        github.upsert_comment(client, _pr(fake_github), "new", base_marker=mark)
    assert not [m for m, _, _ in fake_github.requests if m in ("PATCH", "DELETE", "POST")]
