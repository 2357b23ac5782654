"""Deployment records: building them from an apply, and keeping them as git tags or a file."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from dataflow_gitops.adapters.record_stores import (
    FileRecords,
    GitTagRecords,
    git_user_name,
    open_store,
)
from dataflow_gitops.errors import RecordError
from dataflow_gitops.pipeline.model import (
    Action,
    ActionKind,
    ActionOutcome,
    ApplyResult,
    OutcomeStatus,
    Plan,
)
from dataflow_gitops.pipeline.release.records import (
    DeploymentRecord,
    RecordedItem,
    detect_actor,
    managed_ids,
    record_from_json,
    record_from_result,
    record_to_json,
    unpublished_ids,
)
from fakes import WORKSPACE_ID, make_desired


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "commit.gpgsign", "false")
    (root / "README.md").write_text("one\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "first")
    return root


def commit_file(root: Path, text: str) -> str:
    (root / "README.md").write_text(text)
    git(root, "commit", "-q", "-am", text)
    return git(root, "rev-parse", "HEAD")


def record(
    env: str = "test",
    *,
    commit: str | None = "0" * 40,
    time: str = "2026-11-28T12:00:00Z",
    items: tuple[RecordedItem, ...] = (),
) -> DeploymentRecord:
    return DeploymentRecord(
        environment=env,
        workspace_id=WORKSPACE_ID,
        commit=commit,
        dirty=False,
        time=time,
        actor="alice",
        tool_version="0.1.0",
        items=items,
    )


ITEM = RecordedItem("Sales", "id-sales", "lid-sales", "f" * 64)


# record_from_result -----------------------------------------------------------------------


def outcome(
    kind: ActionKind, name: str, status: OutcomeStatus, item_id: str | None, secret: str = ""
) -> ActionOutcome:
    desired = None if kind is ActionKind.DELETE else make_desired(name, query=f'"{secret or name}"')
    action = Action(kind, name, name, item_id=item_id, desired=desired)
    return ActionOutcome(action, status, item_id=item_id)


def test_record_lists_what_is_now_live_and_managed() -> None:
    previous = record(
        items=(
            RecordedItem("Old", "id-old", "lid-old", "a" * 64),
            RecordedItem("Broken", "id-broken", "lid-b", "b" * 64),
            RecordedItem("Kept", "id-kept", "lid-k", "c" * 64),
        )
    )
    outcomes = (
        outcome(ActionKind.CREATE, "New", OutcomeStatus.SUCCEEDED, "id-new"),
        outcome(ActionKind.UPDATE, "Broken", OutcomeStatus.FAILED, "id-broken"),
        outcome(ActionKind.NOOP, "Same", OutcomeStatus.SUCCEEDED, "id-same"),
        outcome(ActionKind.CREATE, "Skipped", OutcomeStatus.SKIPPED, None),
        outcome(ActionKind.DELETE, "Old", OutcomeStatus.SUCCEEDED, "id-old"),
    )
    plan = Plan("test", WORKSPACE_ID, tuple(o.action for o in outcomes), commit="c" * 40, dirty=True)
    result = ApplyResult("test", WORKSPACE_ID, outcomes)

    rec = record_from_result(result, plan, actor="bob", time="2026-11-28T12:00:00Z", previous=previous)

    assert {i.item_id for i in rec.items} == {"id-new", "id-same", "id-broken", "id-kept"}
    by_id = {i.item_id: i for i in rec.items}
    assert by_id["id-new"].fingerprint == outcomes[0].action.desired.fingerprint
    assert by_id["id-new"].logical_id == outcomes[0].action.desired.logical_id
    assert by_id["id-broken"].fingerprint == "b" * 64  # the failed update keeps the last applied state
    assert by_id["id-same"].fingerprint == outcomes[2].action.desired.fingerprint
    assert (rec.commit, rec.dirty, rec.actor, rec.ok) == ("c" * 40, True, "bob", False)


def test_noop_records_the_live_fingerprint_it_was_planned_against() -> None:
    noop = outcome(ActionKind.NOOP, "Same", OutcomeStatus.SUCCEEDED, "id-same")
    noop = ActionOutcome(replace(noop.action, live_fingerprint="9" * 64), noop.status, item_id="id-same")
    plan = Plan("test", WORKSPACE_ID, (noop.action,), commit="c" * 40)
    rec = record_from_result(ApplyResult("test", WORKSPACE_ID, (noop,)), plan, actor="a")
    assert [i.fingerprint for i in rec.items] == ["9" * 64]


def test_record_never_holds_payloads_or_secrets() -> None:
    secret = "s3cr3t-password-value"
    outcomes = (outcome(ActionKind.CREATE, "Sales", OutcomeStatus.SUCCEEDED, "id-1", secret=secret),)
    assert secret.encode() in outcomes[0].action.desired.part("mashup.pq").data
    plan = Plan("prod", WORKSPACE_ID, tuple(o.action for o in outcomes), commit="a" * 40)
    rec = record_from_result(plan=plan, result=ApplyResult("prod", WORKSPACE_ID, outcomes), actor="ci")
    text = record_to_json(rec)
    assert secret not in text
    assert "section Section1" not in text
    assert rec.ok


def test_json_round_trip() -> None:
    original = record(items=(ITEM,))
    assert record_from_json(record_to_json(original), source="x") == original
    unpublished = record(items=(replace(ITEM, published=False),))
    assert record_from_json(record_to_json(unpublished), source="x") == unpublished


def test_a_record_without_published_reads_as_unknown() -> None:
    old = record_to_json(record(items=(ITEM,))).replace(',"published":null', "")
    assert '"published"' not in old
    assert record_from_json(old, source="x").items[0].published is None


def test_published_comes_from_the_outcome_and_a_noop_keeps_the_previous_value() -> None:
    previous = record(
        items=(
            RecordedItem("Waiting", "id-w", "lid-w", "a" * 64, published=False),
            RecordedItem("Again", "id-a", "lid-a", "b" * 64, published=False),
        )
    )
    still = outcome(ActionKind.NOOP, "Waiting", OutcomeStatus.SUCCEEDED, "id-w")
    again = outcome(ActionKind.NOOP, "Again", OutcomeStatus.SUCCEEDED, "id-a")
    again = replace(again, published=True)
    new = replace(outcome(ActionKind.CREATE, "New", OutcomeStatus.SUCCEEDED, "id-n"), published=False)
    outcomes = (still, again, new)
    plan = Plan("test", WORKSPACE_ID, tuple(o.action for o in outcomes), commit="c" * 40)
    rec = record_from_result(
        ApplyResult("test", WORKSPACE_ID, outcomes), plan, actor="a", previous=previous
    )
    assert {i.name: i.published for i in rec.items} == {"Waiting": False, "Again": True, "New": False}
    assert unpublished_ids(rec) == {"id-w", "id-n"}


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        json.dumps({"format_version": 99}),
        json.dumps({"format_version": 1, "environment": "test"}),
        record_to_json(record()).replace('"items":[]', '"items":[42]'),
        record_to_json(record()).replace('"actor":"alice"', '"actor":7'),
        record_to_json(record(items=(ITEM,))).replace('"published":null', '"published":"no"'),
    ],
)
def test_corrupt_record_names_its_source(text: str) -> None:
    with pytest.raises(RecordError, match=r"tag dfg/test/x") as info:
        record_from_json(text, source="tag dfg/test/x")
    assert "corrupt deployment record" in str(info.value)
    assert "\n" not in str(info.value)


def test_actor_prefers_ci_then_git_then_user() -> None:
    assert detect_actor({"GITHUB_ACTOR": "octo", "USER": "u"}) == "octo"
    assert detect_actor({"BUILD_REQUESTEDFOR": "Ada Lovelace", "USER": "u"}) == "Ada Lovelace"
    assert detect_actor({"USER": "u"}, git_user=lambda: "Git User") == "Git User"
    assert detect_actor({"USER": "u"}) == "u"
    assert detect_actor({}) == "unknown"


def test_git_user_name_feeds_the_actor(repo: Path, tmp_path: Path) -> None:
    git(repo, "config", "user.name", "Repo Person")
    assert detect_actor({"USER": "u"}, git_user=lambda: git_user_name(repo)) == "Repo Person"
    assert git_user_name(tmp_path / "missing") is None


# FileRecords ------------------------------------------------------------------------------


def test_file_records_history_newest_first(tmp_path: Path) -> None:
    store = FileRecords(tmp_path)
    assert store.latest("test") is None
    assert store.history("test") == ()
    first, second = (
        record(time="2026-11-28T10:00:00Z"),
        record(time="2026-11-28T11:00:00Z", items=(ITEM,)),
    )
    where = store.write(first)
    store.write(second)
    store.write(record("prod"))
    assert Path(where) == tmp_path / ".dataflow-gitops" / "records" / "test.jsonl"
    assert store.history("test") == (second, first)
    assert store.latest("test") == second
    assert managed_ids(store, "test") == {"id-sales"}
    assert managed_ids(store, "dev") == frozenset()


def test_file_records_corrupt_line_names_file_and_line(tmp_path: Path) -> None:
    store = FileRecords(tmp_path)
    store.write(record())
    with store.path("test").open("a") as handle:
        handle.write("{broken\n")
    with pytest.raises(RecordError, match=r"test\.jsonl:2: corrupt deployment record"):
        store.latest("test")


def test_bad_environment_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="cannot name a record"):
        FileRecords(tmp_path).write(record("../escape"))


# GitTagRecords ----------------------------------------------------------------------------


def test_git_tags_on_the_deployed_commit(repo: Path) -> None:
    store = GitTagRecords(repo)
    first_commit = git(repo, "rev-parse", "HEAD")
    second_commit = commit_file(repo, "two")
    older = record(commit=first_commit, time="2026-11-28T09:00:00Z")
    newer = record(commit=second_commit, time="2026-11-28T10:30:05Z", items=(ITEM,))
    assert store.write(older) == "dfg/test/20261128T090000Z"
    assert store.write(newer) == "dfg/test/20261128T103005Z"
    store.write(record("prod", commit=first_commit))

    assert git(repo, "cat-file", "-t", "dfg/test/20261128T103005Z") == "tag"
    assert git(repo, "rev-parse", "dfg/test/20261128T103005Z^{commit}") == second_commit
    assert git(repo, "rev-parse", "dfg/test/20261128T090000Z^{commit}") == first_commit
    assert store.history("test") == (newer, older)
    assert store.latest("test") == newer
    assert store.latest("dev") is None
    assert managed_ids(store, "test") == {"id-sales"}
    # the tag reads well in `git show` too: a subject line before the JSON
    assert git(
        repo, "tag", "-l", "--format=%(contents:subject)", "dfg/test/20261128T103005Z"
    ).startswith("dataflow-gitops: test at ")


def test_same_second_gets_a_suffix_and_stays_ordered(repo: Path) -> None:
    store = GitTagRecords(repo)
    head = git(repo, "rev-parse", "HEAD")
    names = [store.write(record(commit=head, items=items)) for items in ((), (ITEM,), (ITEM, ITEM))]
    assert names == [
        "dfg/test/20261128T120000Z",
        "dfg/test/20261128T120000Z-2",
        "dfg/test/20261128T120000Z-3",
    ]
    assert [len(r.items) for r in store.history("test")] == [2, 1, 0]


def test_a_large_record_fits_in_a_tag(repo: Path) -> None:
    items = tuple(
        RecordedItem(f"Dataflow {n:04d}", f"id-{n:04d}-" + "x" * 36, "lid", "f" * 64)
        for n in range(1500)
    )
    big = record(commit=git(repo, "rev-parse", "HEAD"), time="2026-11-28T13:00:00+01:00", items=items)
    assert len(record_to_json(big)) > 131072  # more than one argv string may hold
    store = GitTagRecords(repo)
    assert store.write(big) == "dfg/test/20261128T120000Z"
    assert store.latest("test") == big


def test_git_tag_without_git_identity_uses_the_actor(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    name = GitTagRecords(repo).write(record(commit=git(repo, "rev-parse", "HEAD")))
    assert git(repo, "tag", "-l", "--format=%(taggername)", name) == "alice"


def test_git_records_refuse_an_unknown_commit(repo: Path) -> None:
    with pytest.raises(RecordError, match="is not in this repository"):
        GitTagRecords(repo).write(record(commit="1" * 40))
    with pytest.raises(RecordError, match="commit is unknown"):
        GitTagRecords(repo).write(record(commit=None))


def test_corrupt_tag_is_named(repo: Path) -> None:
    git(repo, "tag", "-a", "-m", "subject\n\n{not json", "dfg/test/20261128T120000Z")
    with pytest.raises(RecordError, match=r"tag dfg/test/20261128T120000Z: corrupt deployment record"):
        GitTagRecords(repo).latest("test")


def test_lightweight_or_misnamed_tag_is_named(repo: Path) -> None:
    git(repo, "tag", "dfg/test/20261128T120000Z")
    with pytest.raises(RecordError, match="not an annotated tag"):
        GitTagRecords(repo).history("test")
    git(repo, "tag", "-d", "dfg/test/20261128T120000Z")
    git(repo, "tag", "-a", "-m", "x", "dfg/test/yesterday")
    with pytest.raises(RecordError, match=r"tag dfg/test/yesterday: .*time stamp"):
        GitTagRecords(repo).history("test")


def test_open_store_picks_tags_in_git_and_a_file_elsewhere(repo: Path, tmp_path: Path) -> None:
    assert isinstance(open_store(repo), GitTagRecords)
    (repo / "sub").mkdir()
    assert isinstance(open_store(repo / "sub"), GitTagRecords)
    plain = tmp_path / "plain"
    plain.mkdir()
    assert isinstance(open_store(plain), FileRecords)
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    assert isinstance(open_store(empty), FileRecords)


def test_records_survive_a_reopen(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    GitTagRecords(repo).write(record(commit=head, items=(ITEM,)))
    assert GitTagRecords(repo).latest("test") == record(commit=head, items=(ITEM,))
