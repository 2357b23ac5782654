"""Repositories as Fabric Git sync fills them (tests/support/fabric_repos.py), end to end against
the emulator over loopback: validate → plan → apply → re-plan (no changes) → export
(byte-identical) → drift (clean) → a move between folders (a move, not a delete), for every shape;
every file a part, both ways; bad input refused before any write to Fabric."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e_support import WS, Live
from emulator_project import Cli, commit_all
from fabric_repos import VALID_SHAPES, dataflow, make_project, schedules, tree_bytes

WRITES = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture
def repo(
    tmp_path: Path, live: Live, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("FABRIC_TOKEN", "e2e-test-token")

    def make(shape: str) -> tuple[Cli, Path]:
        project = make_project(tmp_path / shape, shape, url=live.url, workspace=WS)
        return Cli(project.root, capsys), project.root

    return make


def _writes(live: Live) -> list[str]:
    requests = live.control("GET", "requests")["value"]
    return [f"{r['method']} {r['path']}" for r in requests if r["method"] in WRITES]


@pytest.mark.parametrize("shape", VALID_SHAPES)
def test_a_fabric_repository_round_trips(repo, live: Live, shape: str) -> None:
    dfg, root = repo(shape)
    synced = tree_bytes(root)

    code, out, err = dfg("validate")
    assert (code, err) == (0, ""), out
    code, out, err = dfg("plan", "-e", "fabric", "--detailed-exitcode")
    assert code == 2, out + err
    created = out.count('+ create "')
    assert f"Plan: {created} to create, 0 to update, 0 to delete." in out
    code, out, err = dfg("apply", "-e", "fabric", "--auto-approve")
    assert code == 0, out + err
    assert len(live.dataflows()) == created

    code, out, err = dfg("plan", "-e", "fabric", "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes." in out

    code, out, err = dfg("export", "-e", "fabric")
    assert code == 0, out + err
    assert "no file changed" in out
    assert tree_bytes(root) == synced  # byte for byte what Fabric Git sync wrote

    code, out, err = dfg("drift", "-e", "fabric")
    assert code == 0, out + err
    assert "No live drift" in out

    # Someone tidies the workspace: one dataflow goes into a new folder. A move, never a delete.
    ids = live.dataflows()
    folder = next(p for p in sorted(root.rglob("*.Dataflow")) if ".git" not in p.parts)
    moved = folder.parent / "Tidied" / folder.name
    moved.parent.mkdir()
    folder.rename(moved)
    commit_all(root, "move a dataflow into a workspace folder")
    code, out, err = dfg("plan", "-e", "fabric", "--detailed-exitcode")
    assert code == 2, out + err
    assert "→ moves from" in out
    assert "Tidied/" in out
    assert "Plan: 0 to create, 1 to update, 0 to delete. (1 to move, 1 folder to create)" in out
    code, out, err = dfg("apply", "-e", "fabric", "--auto-approve")
    assert code == 0, out + err
    assert live.dataflows() == ids  # the same items, none deleted or made again
    code, out, err = dfg("plan", "-e", "fabric", "--detailed-exitcode")
    assert code == 0, out + err


def test_a_part_git_has_and_live_lacks_is_an_update_and_back(repo, live: Live) -> None:
    dfg, root = repo("schedules")
    assert dfg("apply", "-e", "fabric", "--auto-approve")[0] == 0
    item = live.dataflows()["Nightly"]
    assert live.parts(WS, item)[".schedules"].encode() == schedules()

    # Live loses its schedule (someone deleted it in the portal; a definition without the part
    # would leave it): git's is written back, compared schedule by schedule (docs/schedules.md).
    [nightly] = live.client.list_schedules(WS, item, "Execute")
    live.client.delete_schedule(WS, item, "Execute", nightly.id)
    assert ".schedules" not in live.parts(WS, item)
    code, out, _ = dfg("plan", "-e", "fabric", "--detailed-exitcode")
    assert code == 2
    assert '~ update "Nightly"' in out
    assert "+ Execute schedule: Daily at 06:00, UTC" in out
    assert dfg("apply", "-e", "fabric", "--auto-approve")[0] == 0
    assert live.parts(WS, item)[".schedules"].encode() == schedules()

    # Live gains a part git lacks: the plan shows its removal, and only applying it removes it.
    parts = live.parts(WS, item)
    parts["notes.txt"] = "live only"
    live.write_parts(WS, item, parts)
    code, out, _ = dfg("plan", "-e", "fabric", "--detailed-exitcode")
    assert code == 2
    assert "- notes.txt" in out
    assert "notes.txt" in live.parts(WS, item)
    assert dfg("apply", "-e", "fabric", "--auto-approve")[0] == 0
    assert "notes.txt" not in live.parts(WS, item)
    assert ".schedules" in live.parts(WS, item)
    assert dfg("plan", "-e", "fabric", "--detailed-exitcode")[0] == 0


def _refused(dfg: Cli, live: Live, where: str) -> None:
    live.control("DELETE", "requests")
    for args in (("validate",), ("plan", "-e", "fabric"), ("apply", "-e", "fabric", "--auto-approve")):
        code, out, err = dfg(*args)
        assert code == 1, out + err
        lines = [x for x in err.splitlines() if x.startswith("Error: ")]
        assert lines, err
        assert lines[0].startswith(f"Error: {where}"), err
        assert "Traceback" not in err
    assert _writes(live) == []
    assert live.dataflows() == {}


def test_a_suffixless_folder_blocks_before_any_write(repo, live: Live) -> None:
    dfg, root = repo("suffixless")
    _refused(dfg, live, "Bronze/Orders: its .platform says type Dataflow")
    # The fix the error names makes it a dataflow like the others.
    os.rename(root / "Bronze/Orders", root / "Bronze/Orders.Dataflow")
    commit_all(root, "suffix")
    assert dfg("apply", "-e", "fabric", "--auto-approve")[0] == 0
    assert sorted(live.dataflows()) == ["Customers", "Orders"]


def test_a_symlinked_dataflow_folder_outside_the_repository(repo, live: Live, tmp_path: Path) -> None:
    dfg, root = repo("root")
    outside = tmp_path / "elsewhere" / "Secret.Dataflow"
    outside.mkdir(parents=True)
    for path, data in dataflow("x", "Secret").files.items():
        (outside / path).write_bytes(data)
    os.symlink(outside, root / "Secret.Dataflow", target_is_directory=True)
    _refused(dfg, live, "Secret.Dataflow: is a symlink to")


def test_a_folder_cycle(repo, live: Live) -> None:
    dfg, root = repo("nested")
    os.symlink(root / "Bronze", root / "Bronze/Sales/loop", target_is_directory=True)
    _refused(dfg, live, "Bronze/Sales/loop: is a symlink back to one of its own parent folders")


def test_folder_paths_that_differ_only_in_case(repo, live: Live) -> None:
    dfg, root = repo("nested")
    one = dataflow("bronze/Other.Dataflow", "Other")
    (root / one.folder).mkdir(parents=True)
    if (root / "bronze").samefile(root / "Bronze"):
        pytest.skip("a case-insensitive file system cannot hold both")
    for path, data in one.files.items():
        (root / one.folder / path).write_bytes(data)
    _refused(dfg, live, "bronze: differs only in case from 'Bronze'")


def test_a_folder_path_over_windows_limits(repo, live: Live) -> None:
    dfg, root = repo("root")
    deep = "/".join(f"Folder {i} " + "x" * 50 for i in range(5))
    one = dataflow(f"{deep}/Deep.Dataflow", "Deep")
    (root / one.folder).mkdir(parents=True)
    for path, data in one.files.items():
        (root / one.folder / path).write_bytes(data)
    _refused(dfg, live, f"{one.folder}: the path is")


def test_a_broken_folder_outside_target_or_scope_blocks_nothing(repo, live: Live) -> None:
    dfg, root = repo("root")
    broken = root / "Orders.Dataflow/queryMetadata.json"
    broken.write_bytes(b'{"formatVersion": "209901"}')
    commit_all(root, "an unknown shape")
    code, _, err = dfg("plan", "-e", "fabric")
    assert code == 1
    assert "Error: Orders.Dataflow/queryMetadata.json:1: unknown formatVersion '209901'" in err

    code, out, err = dfg("apply", "-e", "fabric", "--auto-approve", "--target", "Customers")
    assert code == 0, out + err
    assert sorted(live.dataflows()) == ["Customers"]
    code, out, err = dfg("plan", "-e", "fabric", "--ref", "HEAD", "--target", "Customers")
    assert code == 0, out + err
    assert "No changes." in out

    overlay = root / "environments/fabric.yaml"
    overlay.write_text(overlay.read_text() + "scope:\n  exclude: [Orders]\n")
    code, out, err = dfg("plan", "-e", "fabric", "--detailed-exitcode")
    assert code == 0, out + err
    assert "Orders" not in out


def test_records_ref_and_promote_with_items_at_the_repository_root(repo, live: Live) -> None:
    from e2e_support import WS_OTHER
    from fabric_repos import overlay

    dfg, root = repo("workspace")
    (root / "environments/prod.yaml").write_text(overlay(live.url, WS_OTHER) + "promote_from: fabric\n")
    first = commit_all(root, "prod")
    assert dfg("apply", "-e", "fabric", "--auto-approve")[0] == 0
    code, out, _ = dfg("history", "-e", "fabric")
    assert code == 0
    assert first[:12] in out
    # HEAD moves on (a dirty edit, then a commit): promote still ships what fabric runs.
    deep = root / "Bronze/Sales/EU/Orders.Dataflow/mashup.pq"
    deep.write_bytes(deep.read_bytes().replace(b'{2, "b"}', b'{2, "c"}'))
    code, out, _ = dfg("plan", "-e", "fabric", "--detailed-exitcode")
    assert code == 2
    assert "uncommitted" in out
    commit_all(root, "edit")
    code, out, err = dfg("promote", "--to", "prod", "--auto-approve")
    assert code == 0, out + err
    assert f"commit {first[:12]}" in out
    assert sorted(live.dataflows(WS_OTHER)) == sorted(SHAPES_NAMES)
    code, out, _ = dfg("plan", "-e", "prod", "--ref", first, "--detailed-exitcode")
    assert code == 0, out
    assert dfg("drift", "-e", "prod")[0] == 0


SHAPES_NAMES = ("Orders", "Orders (Silver)", "Customers", "Top")


def test_a_project_below_the_repository_root(
    tmp_path: Path, live: Live, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The workspace is connected to a subfolder (`sample/workspace/` in fabric-cicd's own
    # repository), and the project lives beside it, one level below the git root.
    from emulator_project import init_repo
    from fabric_repos import overlay, write_shape

    monkeypatch.setenv("FABRIC_TOKEN", "e2e-test-token")
    top = tmp_path / "repo"
    project = top / "sample"
    write_shape(project / "workspace", "nested")
    (project / "dataflow-gitops.yaml").write_text('dataflows_dir: "workspace"\n')
    (project / "environments").mkdir()
    (project / "environments/fabric.yaml").write_text(overlay(live.url, WS))
    first = init_repo(top)
    dfg = Cli(project, capsys)
    synced = tree_bytes(project)
    assert dfg("apply", "-e", "fabric", "--auto-approve")[0] == 0
    code, out, _ = dfg("plan", "-e", "fabric", "--ref", first, "--detailed-exitcode")
    assert code == 0, out
    assert f"commit {first[:12]}" in out
    assert "uncommitted" not in out
    code, out, _ = dfg("export", "-e", "fabric")
    assert code == 0
    assert tree_bytes(project) == synced
    assert dfg("drift", "-e", "fabric")[0] == 0


def test_the_202409_shape_is_diffed_and_deployed_as_written(repo, live: Live) -> None:
    dfg, root = repo("format_202409")
    assert dfg("apply", "-e", "fabric", "--auto-approve")[0] == 0
    path = root / "Legacy Orders.Dataflow/queryMetadata.json"
    path.write_bytes(path.read_bytes().replace(b'"en-US"', b'"de-DE"'))
    commit_all(root, "locale")
    code, out, _ = dfg("plan", "-e", "fabric", "--detailed-exitcode")
    assert code == 2
    assert '~ update "Legacy Orders"' in out
    assert "editingSession.editingSessionMashup.documentLocale" in out
    assert dfg("apply", "-e", "fabric", "--auto-approve")[0] == 0
    item = live.dataflows()["Legacy Orders"]
    assert live.parts(WS, item)["queryMetadata.json"].encode() == path.read_bytes()
    assert dfg("plan", "-e", "fabric", "--detailed-exitcode")[0] == 0
