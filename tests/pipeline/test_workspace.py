"""Stages ①–③ in one place (pipeline/workspace.py): the one id-map rule, the offline workspace,
and the tolerant read promote uses for a commit that no longer renders."""

from __future__ import annotations

from pathlib import Path

from dataflow_gitops.config import load_environment, load_project
from dataflow_gitops.pipeline.release.records import DeploymentRecord, RecordedItem
from dataflow_gitops.pipeline.workspace import read_workspace, recorded_ids

WS = "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13"


class _Records:
    """Latest records by environment, in memory (the RecordStore port)."""

    def __init__(self, *records: DeploymentRecord) -> None:
        self._latest = {r.environment: r for r in records}

    def write(self, record: DeploymentRecord) -> str:
        self._latest[record.environment] = record
        return record.environment

    def latest(self, environment: str) -> DeploymentRecord | None:
        return self._latest.get(environment)

    def history(self, environment: str) -> tuple[DeploymentRecord, ...]:
        found = self._latest.get(environment)
        return (found,) if found else ()


def _record(env: str, *items: tuple[str, str]) -> DeploymentRecord:
    return DeploymentRecord(
        environment=env,
        workspace_id=WS,
        commit="c" * 40,
        dirty=False,
        time="2026-12-01T00:00:00Z",
        actor="t",
        tool_version="0",
        items=tuple(RecordedItem(name, item_id, "", "f") for name, item_id in items),
    )


def test_the_id_map_is_every_environments_latest_record_the_own_winning(example_copy: Path) -> None:
    project = load_project(example_copy)
    records = _Records(
        _record("dev", ("Sales Orders", "id-dev-orders"), ("Customers", "id-shared")),
        _record("test", ("Customers (test)", "id-shared"), ("Products", "id-test-products")),
    )
    ids = recorded_ids(project, "test", records)
    assert ids == {
        "id-dev-orders": "Sales Orders",  # a Git-sync reference written in dev resolves in test
        "id-shared": "Customers (test)",  # test's own record wins a clash
        "id-test-products": "Products",
    }
    assert recorded_ids(project, "test", None) == {}


def test_an_offline_workspace_renders_with_no_live_side(example_copy: Path) -> None:
    project = load_project(example_copy)
    seen = read_workspace(project, load_environment(project, "dev"))
    assert seen.live is None
    assert seen.workspace_id is None
    assert len(seen.desired) == len(seen.snapshot.dataflows) > 0
    assert seen.latest is None


def test_a_commit_that_does_not_read_is_an_empty_desired_state_when_not_strict(
    example_copy: Path,
) -> None:
    project = load_project(example_copy)
    env = load_environment(project, "dev")
    seen = read_workspace(project, env, ref="no-such-ref", strict=False)
    assert seen.desired == ()
    assert "does not render" in seen.warnings[0]
