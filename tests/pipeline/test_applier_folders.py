"""⑦ apply on the in-memory FakeFabric, workspace folders: folders created parents first before the
items that need them, creates in their folder, moves that keep the item, removals last and only
after every item succeeded; a folder that cannot be created fails what needs it, nothing else."""

from __future__ import annotations

from dataclasses import replace

from dataflow_gitops.pipeline.model import (
    ActionKind,
    DesiredDataflow,
    FolderActionKind,
    LiveWorkspace,
    OutcomeStatus,
    Plan,
    PlanPolicy,
)
from dataflow_gitops.pipeline.plan.applier import apply_plan
from dataflow_gitops.pipeline.plan.folders import folder_paths
from dataflow_gitops.pipeline.plan.planner import build_plan
from fakes import WORKSPACE_ID, FakeFabric, make_desired


def plan(fake: FakeFabric, desired: list[DesiredDataflow], *, prune: bool = False) -> Plan:
    items = tuple(fake.list_items(WORKSPACE_ID))
    live = LiveWorkspace(
        WORKSPACE_ID,
        items,
        tuple(fake.read_dataflows(WORKSPACE_ID, items)),
        tuple(fake.list_folders(WORKSPACE_ID)),
    )
    return build_plan(desired, live, environment="test", policy=PlanPolicy(prune=prune))


def at(path: str, name: str = "Orders") -> DesiredDataflow:
    return replace(make_desired(name), folder_path=path)


def where(fake: FakeFabric, name: str) -> str:
    stored = fake.by_name(name)
    assert stored is not None
    return folder_paths(tuple(fake.list_folders(WORKSPACE_ID))).get(stored.item.folder_id or "", "")


def test_folders_first_then_the_create_in_its_folder_then_a_clean_replan() -> None:
    fake = FakeFabric()
    result = apply_plan(plan(fake, [at("Bronze/IBMI")]), reader=fake, writer=fake)
    assert result.ok
    assert fake.writes() == [
        ("create_folder", "Bronze"),
        ("create_folder", "IBMI"),
        ("create", "Orders"),
    ]
    assert where(fake, "Orders") == "Bronze/IBMI"
    again = plan(fake, [at("Bronze/IBMI")])
    assert not again.has_changes


def test_a_move_keeps_the_item_and_prune_removes_what_it_left_empty() -> None:
    fake = FakeFabric()
    apply_plan(plan(fake, [at("Bronze/IBMI")]), reader=fake, writer=fake)
    item_id = fake.by_name("Orders").item.id  # type: ignore[union-attr]
    moving = plan(fake, [at("Silver")], prune=True)
    assert [(f.kind, f.path) for f in moving.folders] == [
        (FolderActionKind.CREATE, "Silver"),
        (FolderActionKind.DELETE, "Bronze/IBMI"),
        (FolderActionKind.DELETE, "Bronze"),
    ]
    fake.events.clear()
    result = apply_plan(moving, reader=fake, writer=fake)
    assert result.ok
    assert fake.writes() == [
        ("create_folder", "Silver"),
        ("move", "Orders"),
        ("delete_folder", "IBMI"),
        ("delete_folder", "Bronze"),
    ]
    assert fake.by_name("Orders").item.id == item_id  # type: ignore[union-attr]
    assert where(fake, "Orders") == "Silver"
    assert not plan(fake, [at("Silver")], prune=True).has_changes


def test_a_folder_that_cannot_be_created_fails_only_what_needs_it() -> None:
    fake = FakeFabric()
    apply_plan(plan(fake, [at("Bronze"), at("", "Other")]), reader=fake, writer=fake)
    fake.fail("create_folder", "Silver")
    the_plan = plan(fake, [at("Silver"), at("", "Other"), at("", "New")], prune=True)
    result = apply_plan(the_plan, reader=fake, writer=fake)
    assert not result.ok
    folders = {(f.action.kind, f.action.path): f.status for f in result.folders}
    assert folders == {
        (FolderActionKind.CREATE, "Silver"): OutcomeStatus.FAILED,
        (FolderActionKind.DELETE, "Bronze"): OutcomeStatus.SKIPPED,
    }
    outcomes = {o.action.name: (o.action.kind, o.status) for o in result.outcomes}
    assert outcomes["Orders"] == (ActionKind.UPDATE, OutcomeStatus.FAILED)
    assert outcomes["New"] == (ActionKind.CREATE, OutcomeStatus.SUCCEEDED)
    failed = next(o for o in result.outcomes if o.action.name == "Orders")
    assert "Silver/ does not exist" in (failed.error or "")
    assert where(fake, "Orders") == "Bronze"  # not moved, not deleted
