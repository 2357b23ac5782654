"""⑤ planner, workspace folders: moves (never delete + create), folder creates, folders left
empty, the overlay's base folder, the stale guard on moves, and references outside the repo."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from dataflow_gitops.cli.output.summary import move_line, summary_line
from dataflow_gitops.errors import SourceError, StalePlanError
from dataflow_gitops.pipeline.definition.folders import check_folder_path, folder_path, join
from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.model import (
    ActionKind,
    DesiredDataflow,
    ExternalReference,
    FolderActionKind,
    Impact,
    LiveDataflow,
    LiveFolder,
    LiveItem,
    LiveWorkspace,
    Part,
    PlanPolicy,
    ReferenceStatus,
)
from dataflow_gitops.pipeline.plan.folders import folder_paths, place
from dataflow_gitops.pipeline.plan.planfile import dump_plan, load_plan
from dataflow_gitops.pipeline.plan.planner import build_plan
from dataflow_gitops.pipeline.plan.stale import check_preconditions

WS = "ws-0001"


def _parts(body: str) -> tuple[Part, ...]:
    meta = {"formatVersion": "202502", "queriesMetadata": {}}
    return (
        Part("mashup.pq", f"section Section1;\nshared Query = {body};\n".encode()),
        Part("queryMetadata.json", json.dumps(meta).encode()),
    )


def desired(name: str, body: str = "1") -> DesiredDataflow:
    parts = _parts(body)
    return DesiredDataflow(
        name, name, "", f"logical-{name}", parts, fingerprint(parts, display_name=name, description="")
    )


def live(
    name: str, body: str = "1", *, item_id: str | None = None, logical_id: str | None = None
) -> LiveDataflow:
    parts = _parts(body)
    return LiveDataflow(
        LiveItem(item_id or f"id-{name}", "Dataflow", name),
        logical_id or f"logical-{name}",
        parts,
        fingerprint(parts, display_name=name, description=""),
    )


BRONZE = LiveFolder("f-bronze", "Bronze")
IBMI = LiveFolder("f-ibmi", "IBMI", "f-bronze")
OLD = LiveFolder("f-old", "Old", "f-bronze")


def at(d: LiveDataflow, folder: LiveFolder | None) -> LiveDataflow:
    return replace(d, item=replace(d.item, folder_id=folder.id if folder else None))


def ws(*dataflows: LiveDataflow, folders: tuple[LiveFolder, ...] = (), others=()) -> LiveWorkspace:
    items = (*(d.item for d in dataflows), *others)
    return LiveWorkspace(WS, items, dataflows, folders)


def in_folder(name: str, path: str, **kw):  # type: ignore[no-untyped-def]
    return replace(desired(name, **kw), folder_path=path)


def make(desireds, live_ws, **policy):  # type: ignore[no-untyped-def]
    return build_plan(
        desireds,
        live_ws,
        environment="test",
        policy=PlanPolicy(**policy),
        created_at="2026-01-01T00:00:00Z",
        managed_ids=[d.id for d in live_ws.dataflows],
    )


# the one rule: git folder → workspace folder -------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "root", "expected"),
    [
        ("dataflows/Orders.Dataflow", "dataflows", ""),
        ("dataflows/Bronze/IBMI/Orders.Dataflow", "dataflows", "Bronze/IBMI"),
        ("Bronze/IBMI/Sales/Orders.Dataflow", ".", "Bronze/IBMI/Sales"),
        ("Orders.Dataflow", ".", ""),
        ("ws/a/Bronze/Orders.Dataflow", "ws/a", "Bronze"),
        ("ws/a/Bronze/Orders.Dataflow", "./ws/a/", "Bronze"),
    ],
)
def test_folder_path_is_the_item_folders_parent_under_the_root(folder, root, expected) -> None:
    assert folder_path(folder, root) == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("Bronze/Old.2024", r"'\.'"),
        ("Bronze/A&#46;B", "'&'"),
        ("Bronze/ lead", "space"),
        ("Bronze/recycler", "Fabric reserves"),
        ("Bronze/COM1", "Windows device"),
        ("Bronze/a~b", "'~'"),
        ("/".join("abcdefghijk"), "11 levels deep"),
        ("x" * 256, "256 characters"),
    ],
)
def test_folder_names_fabric_rejects_are_one_located_error(path: str, message: str) -> None:
    with pytest.raises(SourceError, match=message) as caught:
        check_folder_path(path, where="dataflows/Bronze/Orders.Dataflow")
    assert "dataflows/Bronze/Orders.Dataflow" in str(caught.value)


def test_entity_encoded_names_explain_git_sync() -> None:
    with pytest.raises(SourceError) as caught:
        check_folder_path("A&#58;B", where="x")
    assert "&#58; is how Fabric Git sync writes ':'" in str(caught.value)


def test_join_and_live_paths() -> None:
    assert join("Team A/Dataflows", "Bronze") == "Team A/Dataflows/Bronze"
    assert join("", "") == ""
    assert folder_paths((IBMI, BRONZE)) == {"f-ibmi": "Bronze/IBMI", "f-bronze": "Bronze"}
    [item] = place([LiveItem("i", "Dataflow", "x", folder_id="f-ibmi")], (BRONZE, IBMI))
    assert item.folder_path == "Bronze/IBMI"


# moves ---------------------------------------------------------------------------------------


def test_a_move_between_folders_is_an_update_that_keeps_the_item() -> None:
    the_plan = make(
        [in_folder("Orders", "Bronze/IBMI")],
        ws(at(live("Orders"), BRONZE), folders=(BRONZE, IBMI)),
        prune=True,
        prune_unrecorded=True,
    )
    [action] = the_plan.actions
    assert (action.kind, action.item_id) == (ActionKind.UPDATE, "id-Orders")
    assert action.moves_from == "Bronze"
    assert action.impact is Impact.METADATA_ONLY
    assert move_line(action) == "→ moves from Bronze/ to Bronze/IBMI/"
    assert "to move" in summary_line(the_plan)
    assert the_plan.count(ActionKind.DELETE) == the_plan.count(ActionKind.CREATE) == 0
    assert (the_plan.moves, the_plan.folders) == (1, ())


def test_a_move_with_a_content_change_is_one_action() -> None:
    the_plan = make(
        [in_folder("Orders", "", body="2")], ws(at(live("Orders"), IBMI), folders=(BRONZE, IBMI))
    )
    [action] = the_plan.actions
    assert action.kind is ActionKind.UPDATE
    assert action.moves_from == "Bronze/IBMI"
    assert action.diff is not None
    assert action.diff.definition_changed


def test_same_folder_in_another_case_is_no_move() -> None:
    the_plan = make(
        [in_folder("Orders", "bronze/ibmi")], ws(at(live("Orders"), IBMI), folders=(BRONZE, IBMI))
    )
    assert the_plan.actions[0].kind is ActionKind.NOOP


def test_missing_folders_are_created_parents_first() -> None:
    the_plan = make(
        [in_folder("New", "Silver/Sales/EU"), in_folder("Orders", "Bronze/IBMI")], ws(folders=(BRONZE,))
    )
    assert [(f.kind, f.path) for f in the_plan.folders] == [
        (FolderActionKind.CREATE, "Bronze/IBMI"),
        (FolderActionKind.CREATE, "Silver"),
        (FolderActionKind.CREATE, "Silver/Sales"),
        (FolderActionKind.CREATE, "Silver/Sales/EU"),
    ]
    assert the_plan.has_changes


def test_empty_folders_left_behind_are_shown_and_removed_only_under_prune() -> None:
    other = LiveItem("lh", "Lakehouse", "Lake", folder_id="f-ibmi")
    live_ws = ws(
        at(live("Orders"), OLD), at(live("Stays"), IBMI), folders=(BRONZE, IBMI, OLD), others=(other,)
    )
    wanted = [in_folder("Orders", "Bronze"), in_folder("Stays", "Bronze/IBMI")]
    kept = make(wanted, live_ws)
    assert (kept.folders, kept.empty_folders) == ((), ("Bronze/Old",))
    pruned = make(wanted, live_ws, prune=True)
    assert [(f.kind, f.path, f.folder_id) for f in pruned.folders] == [
        (FolderActionKind.DELETE, "Bronze/Old", "f-old")
    ]
    assert pruned.empty_folders == ()


def test_base_folder_owns_only_its_part_of_a_shared_workspace() -> None:
    team = LiveFolder("f-team", "Team A")
    other_team = LiveFolder("f-b", "Team B")
    theirs = at(live("Theirs"), other_team)
    same_name = at(live("Clash", item_id="their-clash", logical_id="other"), other_team)
    mine = at(live("Mine"), None)  # ours by logicalId, at the root: moved into the base
    the_plan = make(
        [in_folder("Mine", "Team A"), in_folder("Clash", "Team A")],
        ws(theirs, same_name, mine, folders=(team, other_team)),
        prune=True,
        prune_unrecorded=True,
        folder="Team A",
    )
    kinds = {a.name: (a.kind, a.moves_from) for a in the_plan.actions}
    assert kinds == {"Mine": (ActionKind.UPDATE, ""), "Clash": (ActionKind.CREATE, None)}
    assert the_plan.unmanaged == ()
    assert any("outside Team A/" in w and "their-clash" in w for w in the_plan.warnings)


def test_the_stale_guard_covers_a_hand_move_since_the_plan() -> None:
    before = ws(at(live("Orders"), BRONZE), folders=(BRONZE, IBMI))
    the_plan = make([in_folder("Orders", "Bronze", body="2")], before)
    check_preconditions(the_plan, _placed(before))
    moved = ws(at(live("Orders"), IBMI), folders=(BRONZE, IBMI))
    with pytest.raises(StalePlanError, match="moved from Bronze to Bronze/IBMI"):
        check_preconditions(the_plan, _placed(moved))


def _placed(live_ws: LiveWorkspace) -> LiveWorkspace:
    from dataflow_gitops.pipeline.plan.folders import place_workspace

    return place_workspace(live_ws)


def test_moves_and_folders_survive_the_plan_file() -> None:
    the_plan = make(
        [in_folder("Orders", "Bronze/IBMI/EU", body="2")],
        ws(at(live("Orders"), BRONZE), folders=(BRONZE, IBMI)),
    )
    loaded = load_plan(dump_plan(the_plan, secrets={}), path="p.json", environ={})
    assert loaded.folders == the_plan.folders
    assert loaded.actions[0].moves_from == "Bronze"
    assert loaded.actions[0].desired is not None
    assert loaded.actions[0].desired.folder_path == "Bronze/IBMI/EU"


# references outside the repository ---------------------------------------------------------


def test_external_references_are_kept_and_marked() -> None:
    ref = ExternalReference("Q", "other-ws", "df-1")
    gone = ExternalReference("R", "seen-ws", "df-2")
    d = replace(desired("Orders"), external=(ref, gone))
    the_plan = build_plan(
        [d],
        ws(),
        environment="test",
        policy=PlanPolicy(),
        references={("seen-ws", "df-2"): ReferenceStatus.MISSING},
    )
    action = the_plan.actions[0]
    assert action.desired is not None
    assert [r.status for r in action.desired.external] == [
        ReferenceStatus.UNVERIFIED,
        ReferenceStatus.MISSING,
    ]
    assert action.kind is ActionKind.CREATE
    assert any("holds no such dataflow" in w for w in the_plan.warnings)


def test_only_unresolved_references_to_other_workspaces_are_external() -> None:
    from dataflow_gitops.pipeline.definition.render import external_references
    from dataflow_gitops.pipeline.model import ZERO_GUID, DataflowReference

    refs = [
        DataflowReference("Mine", ZERO_GUID, "logical-1"),
        DataflowReference("Resolved", "dev-ws", "id-1", target="Sales"),
        DataflowReference("Target", "TARGET-WS", "id-2"),
        DataflowReference("Rebound", "dev-ws", "id-3"),
        DataflowReference("Other", "other-ws", "id-4"),
        DataflowReference("Other", "other-ws", "id-4"),
    ]
    found = external_references(refs, ("target-ws", "DEV-WS"))
    assert [(r.query, r.workspace_id, r.status) for r in found] == [
        ("Other", "other-ws", ReferenceStatus.UNVERIFIED)
    ]
