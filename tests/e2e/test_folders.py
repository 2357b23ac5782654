"""Workspace folders end to end over loopback, with real git: a dataflow nested 3 deep is created
in its folder, moved between folders (a move, never delete + create), left-empty folders pruned,
a hand move in the workspace shows in drift and export writes it back; an overlay `folder:`
places a whole deployment; references to other workspaces stay as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

from e2e_support import WS, WS_OTHER, Live
from emulator_project import Cli, commit_all, git

NESTED = "dataflows/Bronze/IBMI/EU/Customers.Dataflow"


def _paths(live: Live, workspace: str = WS) -> dict[str, str]:
    """Folder path → folder id, as the Folders API lists them."""
    folders = live.client.list_folders(workspace)
    by_id = {f.id: f for f in folders}

    def path(folder_id: str) -> str:
        folder = by_id[folder_id]
        parent = folder.parent_folder_id
        return f"{path(parent)}/{folder.display_name}" if parent else folder.display_name

    return {path(f.id): f.id for f in folders}


def _folder_of(live: Live, name: str, workspace: str = WS) -> str | None:
    [item] = [i for i in live.client.list_items(workspace, "Dataflow") if i["displayName"] == name]
    return item.get("folderId")


def test_nested_dataflow_created_moved_drifted_and_exported(dfg: Cli, live: Live, project: Path) -> None:
    (project / NESTED).parent.mkdir(parents=True)
    git(project, "mv", "dataflows/Customers.Dataflow", NESTED)
    commit_all(project, "Customers into Bronze/IBMI/EU")

    code, out, _ = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert code == 2, out
    assert "+ folder Bronze/" in out
    assert "+ folder Bronze/IBMI/EU/" in out
    assert "in folder Bronze/IBMI/EU/" in out
    assert "(3 folders to create)" in out
    code, out, _ = dfg("apply", "-e", "e2e", "--auto-approve")
    assert code == 0, out
    folders = _paths(live)
    assert set(folders) == {"Bronze", "Bronze/IBMI", "Bronze/IBMI/EU"}
    item_id = live.dataflows()["Customers"]
    assert _folder_of(live, "Customers") == folders["Bronze/IBMI/EU"]
    assert _folder_of(live, "Products") is None
    code, out, _ = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert (code, "No changes" in out) == (0, True), out

    # A move in git (e2e prunes): one update that moves, never a delete, and the emptied folders go.
    (project / "dataflows/Silver").mkdir()
    git(project, "mv", NESTED, "dataflows/Silver/Customers.Dataflow")
    commit_all(project, "Customers to Silver")
    code, out, _ = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert code == 2, out
    assert "Plan: 0 to create, 1 to update, 0 to delete." in out
    assert '~ update "Customers"' in out
    assert "→ moves from Bronze/IBMI/EU/ to Silver/" in out
    assert "- folder Bronze/IBMI/EU/" in out
    assert "- delete" not in out
    code, out, _ = dfg("apply", "-e", "e2e", "--auto-approve")
    assert code == 0, out
    assert live.dataflows()["Customers"] == item_id
    assert set(_paths(live)) == {"Silver"}
    assert _folder_of(live, "Customers") == _paths(live)["Silver"]
    assert dfg("plan", "-e", "e2e", "--detailed-exitcode")[0] == 0
    code, out, _ = dfg("drift", "-e", "e2e")
    assert code == 0, out

    # Someone tidies the workspace by hand: drift shows it, export moves the git folder.
    hand = live.client.create_folder(WS, "Hand")
    live.client.move_item(WS, item_id, hand.id)
    code, out, _ = dfg("drift", "-e", "e2e")
    assert code == 2, out
    assert "moved by hand: in Hand/, git has Silver/" in out
    code, out, _ = dfg("drift", "-e", "e2e", "--format", "json")
    [row] = [r for r in json.loads(out)["dataflows"] if r["name"] == "Customers"]
    assert (row["status"], row["folders"]) == ("live-drift", {"desired": "Silver", "live": "Hand"})
    code, out, err = dfg("export", "-e", "e2e")
    assert code == 0, out + err
    moved = project / "dataflows/Hand/Customers.Dataflow"
    assert sorted(p.name for p in moved.iterdir()) == [".platform", "mashup.pq", "queryMetadata.json"]
    assert not (project / "dataflows/Silver").exists()
    assert dfg("plan", "-e", "e2e", "--detailed-exitcode")[0] == 0


def test_without_prune_emptied_folders_are_shown_and_kept(dfg: Cli, live: Live, project: Path) -> None:
    (project / "dataflows/Old").mkdir()
    git(project, "mv", "dataflows/Products.Dataflow", "dataflows/Old/Products.Dataflow")
    commit_all(project, "Products into Old")
    assert dfg("apply", "-e", "e2e-keep", "--auto-approve")[0] == 0
    git(project, "mv", "dataflows/Old/Products.Dataflow", "dataflows/Products.Dataflow")
    commit_all(project, "Products back to the root")

    code, out, _ = dfg("plan", "-e", "e2e-keep")
    assert "→ moves from Old/ to /" in out
    assert "Folders left empty (kept: prune is off):\n  Old/" in out
    assert dfg("apply", "-e", "e2e-keep", "--auto-approve")[0] == 0
    assert set(_paths(live)) == {"Old"}
    assert _folder_of(live, "Products") is None


def test_same_display_name_in_two_folders_is_refused(dfg: Cli, live: Live, project: Path) -> None:
    # Display names are unique per workspace and type, folders or not (the emulator answers
    # ItemDisplayNameAlreadyInUse as the service does): refused before anything is sent.
    twin = project / "dataflows/Silver/Customers.Dataflow"
    twin.parent.mkdir()
    git(project, "mv", "dataflows/Customers.Dataflow", "dataflows/Bronze-Customers.Dataflow")
    (project / "dataflows/Bronze").mkdir()
    git(project, "mv", "dataflows/Bronze-Customers.Dataflow", "dataflows/Bronze/Customers.Dataflow")
    source = project / "dataflows/Bronze/Customers.Dataflow"
    twin.mkdir()
    for part in source.iterdir():
        text = part.read_bytes()
        if part.name == ".platform":
            text = re.sub(
                rb'"logicalId": "[^"]+"', b'"logicalId": "11111111-2222-4333-8444-555555555555"', text
            )
        (twin / part.name).write_bytes(text)
    commit_all(project, "two Customers")

    code, out, err = dfg("plan", "-e", "e2e")
    assert code == 1
    assert "duplicate display name 'Customers'" in out + err
    assert live.dataflows() == {}


def test_overlay_folder_places_the_deployment_in_a_shared_workspace(
    dfg: Cli, live: Live, project: Path
) -> None:
    theirs = live.client.create_folder(WS_OTHER, "Team B")
    live.client.create_item(WS_OTHER, display_name="Their Flow", type="Dataflow", folder_id=theirs.id)
    overlay = project / "environments/e2e-other.yaml"
    overlay.write_text(
        overlay.read_text() + "folder: Team A/Dataflows\nprune:\n  enabled: true\n  unrecorded: true\n"
    )
    commit_all(project, "team A under its folder")

    code, out, _ = dfg("plan", "-e", "e2e-other")
    assert "+ folder Team A/Dataflows/" in out
    assert "Their Flow" not in out  # outside the deployment's folder: not ours, not even listed
    assert dfg("apply", "-e", "e2e-other", "--auto-approve", "--allow-delete")[0] == 0
    team = _paths(live, WS_OTHER)["Team A/Dataflows"]
    ours = [i for i in live.client.list_items(WS_OTHER, "Dataflow") if i["displayName"] != "Their Flow"]
    assert ours
    assert {i.get("folderId") for i in ours} == {team}
    assert "Their Flow" in live.dataflows(WS_OTHER)
    assert dfg("plan", "-e", "e2e-other", "--detailed-exitcode")[0] == 0


def test_overlay_folder_name_fabric_rejects_is_one_located_error(dfg: Cli, project: Path) -> None:
    overlay = project / "environments/e2e-other.yaml"
    overlay.write_text(overlay.read_text() + "folder: Team A/Q1.2026\n")
    code, out, err = dfg("plan", "-e", "e2e-other")
    assert code == 1
    line = len(overlay.read_text().splitlines())
    assert f"e2e-other.yaml:{line}" in out + err
    assert "'.'" in out + err
    assert "Traceback" not in out + err


def test_references_to_other_workspaces_are_kept_and_checked(
    dfg: Cli, live: Live, project: Path
) -> None:
    hidden_ws = "7e7e7e7e-1111-4222-8333-944444444444"
    missing = "0a0a0a0a-1111-4222-8333-944444444444"
    seen = live.client.create_item(WS_OTHER, display_name="Shared Rates", type="Dataflow")["id"]
    mashup = project / "dataflows/Hello Dataflow.Dataflow/mashup.pq"
    text = mashup.read_text(encoding="utf-8")
    for query, ws, df in (
        ("Hidden", hidden_ws, missing),
        ("Gone", WS_OTHER, missing),
        ("Seen", WS_OTHER, seen),
    ):
        text += (
            f"\nshared {query} = let\n  Source = PowerPlatform.Dataflows([]),\n"
            '  N1 = Source{[Id = "Workspaces"]}[Data],\n'
            f'  N2 = N1{{[workspaceId = "{ws}"]}}[Data],\n'
            f'  N3 = N2{{[dataflowId = "{df}"]}}[Data]\nin\n  N3;\n'
        )
    mashup.write_text(text, encoding="utf-8")
    commit_all(project, "Hello reads other workspaces")

    code, out, _ = dfg("plan", "-e", "e2e")
    assert code == 0, out
    assert f'"Hidden" reads dataflow {missing} in workspace {hidden_ws}: external, unverified' in out
    assert f'"Gone" reads dataflow {missing} in workspace {WS_OTHER}: external, MISSING' in out
    assert f'"Seen" reads dataflow {seen} in workspace {WS_OTHER}: external, exists' in out
    assert "holds no such dataflow" in out
    code, out, _ = dfg("apply", "-e", "e2e", "--auto-approve")
    assert code == 0, out
    assert hidden_ws in live.mashup(live.dataflows()["Hello Dataflow"])  # kept as written


def test_a_saved_plan_is_refused_after_a_hand_move(
    dfg: Cli, live: Live, project: Path, tmp_path: Path
) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    (project / "dataflows/Silver").mkdir()
    git(project, "mv", "dataflows/Products.Dataflow", "dataflows/Silver/Products.Dataflow")
    commit_all(project, "Products to Silver")
    planfile = tmp_path / "move.plan.json"
    assert dfg("plan", "-e", "e2e", "--out", str(planfile))[0] == 0
    hand = live.client.create_folder(WS, "Hand")
    live.client.move_item(WS, live.dataflows()["Products"], hand.id)

    code, out, err = dfg("apply", "-e", "e2e", str(planfile), "--auto-approve")
    assert code == 1
    assert "moved from / to Hand since the plan" in out + err
    assert set(_paths(live)) == {"Hand"}  # nothing written: Silver was not created


def test_a_git_folder_fabric_cannot_name_is_one_located_error(
    dfg: Cli, live: Live, project: Path
) -> None:
    (project / "dataflows/Q1.2026").mkdir()
    git(project, "mv", "dataflows/Products.Dataflow", "dataflows/Q1.2026/Products.Dataflow")
    commit_all(project, "a folder with a dot")
    for command in (("validate",), ("plan", "-e", "e2e")):
        code, out, err = dfg(*command)
        assert code == 1, out
        assert "dataflows/Q1.2026/Products.Dataflow" in out + err
        assert "folder name 'Q1.2026' contains '.'" in out + err
        assert "Traceback" not in out + err
    assert live.dataflows() == {}


def test_render_out_nests_as_git_sync_does(dfg: Cli, project: Path, tmp_path: Path) -> None:
    (project / NESTED).parent.mkdir(parents=True)
    git(project, "mv", "dataflows/Customers.Dataflow", NESTED)
    out_dir = tmp_path / "rendered"
    code, out, err = dfg("render", "-e", "e2e", "Customers", "--out", str(out_dir))
    assert code == 0, out + err
    assert (out_dir / "Bronze/IBMI/EU/Customers.Dataflow/mashup.pq").is_file()
