"""Pure tests of the promote and drift stages (no HTTP): source selection, record checks, the
three-way classification."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataflow_gitops.config import Project, parse_environment
from dataflow_gitops.errors import PlanError
from dataflow_gitops.pipeline.model import DesiredDataflow, IgnoreRule, LiveDataflow, LiveItem, Part
from dataflow_gitops.pipeline.release.drift import DriftStatus, compare
from dataflow_gitops.pipeline.release.promote import (
    pick_release,
    source_environment,
    untested_items,
    verify_source,
)
from dataflow_gitops.pipeline.release.records import DeploymentRecord, RecordedItem

WS = "8c2e4a6d-5f7b-4c9e-a1d3-7e9f1b3d5a24"
PROJECT = Project(root=Path("."), promotion_order=("dev", "test", "prod"))


def _env(name: str, extra: str = "") -> object:
    text = f"workspace_id: {WS}\n{extra}"
    return parse_environment(name, text.encode(), path=f"environments/{name}.yaml", environ={})


def _record(
    *items: tuple[str, str, str], commit: str = "c1", ok: bool = True, dirty: bool = False
) -> DeploymentRecord:
    return DeploymentRecord(
        environment="test",
        workspace_id=WS,
        commit=commit,
        dirty=dirty,
        time="2026-11-28T12:00:00Z",
        actor="ci",
        tool_version="0.1.0",
        items=tuple(RecordedItem(n, i, f"{n}-logical", fp) for n, i, fp in items),
        ok=ok,
    )


def _live(name: str, item_id: str, fingerprint: str) -> LiveDataflow:
    return LiveDataflow(
        LiveItem(item_id, "Dataflow", name),
        f"{name}-logical",
        (Part("mashup.pq", b"section Section1;\n"),),
        fingerprint,
    )


def _desired(name: str, fingerprint: str) -> DesiredDataflow:
    return DesiredDataflow(name, name, "", f"{name}-logical", (), fingerprint)


@pytest.mark.parametrize(
    ("extra", "requested", "expected"),
    [
        ("promote_from: test\n", None, "test"),
        ("promote_from: test\n", "test", "test"),
        ("", None, "test"),  # the one before prod in promotion_order
        ("", "dev", "dev"),
    ],
)
def test_source_environment(extra: str, requested: str | None, expected: str) -> None:
    assert source_environment(_env("prod", extra), PROJECT, requested) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "extra", "requested", "message"),
    [
        ("prod", "promote_from: test\n", "dev", "promoted from 'test'"),
        ("test", "", "prod", "comes after 'test' in promotion_order"),
        ("dev", "", None, "no environment to promote 'dev' from"),
        ("prod", "", "prod", "from itself"),
    ],
)
def test_source_environment_refusals(name: str, extra: str, requested: str | None, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        source_environment(_env(name, extra), PROJECT, requested)  # type: ignore[arg-type]


def test_verify_source_names_every_moved_item() -> None:
    record = _record(("A", "1", "fa"), ("B", "2", "fb"), ("C", "3", "fc"))
    live = [_live("A", "1", "fa"), _live("B", "2", "changed")]
    with pytest.raises(PlanError, match=r"no longer matches .*: B, C \(deleted\)"):
        verify_source("test", record, live)
    assert (
        verify_source("test", record, [*live[:1], _live("B", "2", "fb"), _live("C", "3", "fc")]).commit
        == "c1"
    )


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (None, "no deployment record"),
        (_record(dirty=True), "uncommitted files"),
        (_record(ok=False), "did not complete"),
        (_record(commit=""), "names no commit"),
    ],
)
def test_verify_source_refuses_records_that_name_no_tested_commit(
    record: DeploymentRecord | None, message: str
) -> None:
    with pytest.raises(PlanError, match=message):
        verify_source("test", record, [])


def test_pick_release_takes_only_complete_clean_records() -> None:
    history = [_record(commit="c2"), _record(commit="c1", ok=False), _record(commit="c1")]
    assert pick_release("test", history, "c1", "v1") is history[2]
    with pytest.raises(PlanError, match="never applied completely"):
        pick_release("test", history[:2], "c1", "v1")


def test_three_way_classification() -> None:
    record = _record(
        ("Same", "1", "s"),
        ("Git", "2", "g0"),
        ("Hot", "3", "h"),
        ("Both", "4", "b"),
        ("Gone", "5", "x"),
        ("Dropped", "6", "d"),
    )
    desired = [
        _desired("Same", "s"),
        _desired("Git", "g1"),
        _desired("Hot", "h"),
        _desired("Both", "b1"),
        _desired("Gone", "x"),
        _desired("New", "n"),
        _desired("Byhand", "y"),
    ]
    live = [
        _live("Same", "1", "s"),
        _live("Git", "2", "g0"),
        _live("Hot", "3", "h2"),
        _live("Both", "4", "b2"),
        _live("Dropped", "6", "d"),
        _live("Byhand", "7", "y"),
        _live("Other", "8", "o"),
    ]

    report = compare(desired, record, live, environment="test", workspace_id=WS)

    statuses = {row.name: row.status for row in report.dataflows}
    assert statuses == {
        "Same": DriftStatus.IN_SYNC,
        "Git": DriftStatus.PENDING,
        "Hot": DriftStatus.LIVE_DRIFT,
        "Both": DriftStatus.BOTH,
        "Gone": DriftStatus.MISSING_LIVE,
        "New": DriftStatus.NOT_DEPLOYED,
        "Byhand": DriftStatus.UNRECORDED,
        "Dropped": DriftStatus.PENDING,
        "Other": DriftStatus.UNMANAGED,
    }
    assert report.live_drifted
    calm = compare(
        desired[:2],
        _record(("Same", "1", "s"), ("Git", "2", "g0")),
        live[:2],
        environment="test",
        workspace_id=WS,
    )
    assert not calm.live_drifted


IGNORE_TUNING = (IgnoreRule(parts=("queryMetadata.json",), json_paths=("$.computeEngineSettings",)),)


def _tuned(metadata: bytes) -> tuple[DesiredDataflow, LiveDataflow]:
    applied = DesiredDataflow(
        "A", "A", "", "A-logical", (Part("queryMetadata.json", b'{"x": 1}'),), "fp-applied"
    )
    live = LiveDataflow(
        LiveItem("id-a", "Dataflow", "A", ""),
        "A-logical",
        (Part("queryMetadata.json", metadata),),
        "fp-live",
    )
    return applied, live


@pytest.mark.parametrize(
    ("metadata", "rendered_fp", "ignore", "passes"),
    [
        (b'{"x": 1, "computeEngineSettings": {"n": 4}}', "fp-applied", IGNORE_TUNING, True),
        (b'{"x": 2, "computeEngineSettings": {"n": 4}}', "fp-applied", IGNORE_TUNING, False),
        (b'{"x": 1, "computeEngineSettings": {"n": 4}}', "fp-applied", (), False),
        # the re-rendering is not what was applied (overlay changed since): stay strict
        (b'{"x": 1, "computeEngineSettings": {"n": 4}}', "fp-other", IGNORE_TUNING, False),
    ],
)
def test_verify_source_lets_pass_only_what_the_source_ignores(
    metadata: bytes, rendered_fp: str, ignore: tuple[IgnoreRule, ...], passes: bool
) -> None:
    applied, live = _tuned(metadata)
    applied = DesiredDataflow(
        applied.name, applied.display_name, "", applied.logical_id, applied.parts, rendered_fp
    )
    record = _record(("A", "id-a", "fp-applied"))
    if passes:
        verify_source("test", record, [live], last_applied={"A": applied}, ignore=ignore)
    else:
        with pytest.raises(PlanError, match="no longer matches what was last applied there: A"):
            verify_source("test", record, [live], last_applied={"A": applied}, ignore=ignore)


def test_untested_items_names_new_and_changed_dataflows_of_a_partial_apply() -> None:
    record = _record(("A", "id-a", "fp-a"), ("B", "id-b", "fp-b-old"))
    rendered = {
        "A": _desired("A", "fp-a"),
        "B": _desired("B", "fp-b-new"),
        "C": _desired("C", "fp-c"),
    }
    live = [_live("A", "id-a", "fp-a"), _live("B", "id-b", "fp-b-old")]

    assert untested_items(record, rendered, live) == ["B", "C (never applied)"]
    with pytest.raises(PlanError, match=r"only in part; test never ran its version of: B, C"):
        verify_source("test", record, live, last_applied=rendered)
    # what the target does not receive does not block
    verify_source("test", record, live, last_applied=rendered, ships=lambda name: name == "A")


def test_a_no_op_recorded_with_live_fingerprint_under_ignore_rules_counts_as_run() -> None:
    applied, live = _tuned(b'{"x": 1, "computeEngineSettings": {"n": 4}}')
    record = _record(("A", "id-a", "fp-live"))  # the no-op recorded live's fingerprint

    assert untested_items(record, {"A": applied}, [live], IGNORE_TUNING) == []
    assert untested_items(record, {"A": applied}, [live]) == ["A"]
