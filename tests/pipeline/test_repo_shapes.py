"""① source on repositories as Fabric Git sync fills them (tests/support/fabric_repos.py): any
layout, workspace folders at any depth, other item types, both queryMetadata shapes, every file
a part, and the bad input each gets one located error for."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import pytest
from emulator_project import commit_all, init_repo
from fabric_repos import SHAPES, VALID_SHAPES, dataflow, guid, write_shape

from dataflow_gitops.adapters.files import migrate
from dataflow_gitops.errors import SourceError
from dataflow_gitops.pipeline.definition.discovery import WINDOWS_PATH_BUDGET
from dataflow_gitops.pipeline.definition.source import (
    read_ref,
    read_working_tree,
    scan_ref,
    scan_working_tree,
)
from dataflow_gitops.pipeline.definition.validate import validate


def _repo(tmp_path: Path, shape: str) -> Path:
    root = tmp_path / "repo"
    write_shape(root, shape)
    init_repo(root)
    return root


@pytest.mark.parametrize("shape", VALID_SHAPES)
def test_every_shape_reads_the_same_from_the_tree_and_the_commit(tmp_path: Path, shape: str) -> None:
    root = _repo(tmp_path, shape)
    expected = SHAPES[shape]()
    where = expected.dataflows_dir
    tree = scan_working_tree(root, where)
    assert tree.errors == ()
    assert sorted(d.name for d in tree.snapshot.dataflows) == sorted(expected.names)
    assert not tree.snapshot.dirty  # a clean tree: the case that failed only in CI
    assert tree.snapshot.commit is not None
    committed = read_ref(root, "HEAD", where)
    assert committed.dataflows == tree.snapshot.dataflows
    for one in expected.dataflows:
        found = tree.snapshot.by_name(one.name)
        assert found is not None
        assert found.folder == one.folder
        files = {p.path: p.data for p in found.parts}
        assert files == {k: v for k, v in one.files.items() if k != ".platform"}


def test_the_repository_root_clean_and_dirty_at_head_and_at_a_ref(tmp_path: Path) -> None:
    root = _repo(tmp_path, "nested")
    first = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()
    # Files that are not dataflows (overlays, other items) do not make the dataflows dirty.
    (root / "environments").mkdir()
    (root / "environments" / "dev.yaml").write_text("workspace_id: x\n")
    assert not scan_working_tree(root, ".").snapshot.dirty
    deep = root / "Bronze/Sales/EU/Orders.Dataflow/mashup.pq"
    deep.write_bytes(deep.read_bytes() + b"// edited\r\n")
    assert scan_working_tree(root, ".").snapshot.dirty
    commit_all(root, "edit")
    assert not scan_working_tree(root, ".").snapshot.dirty
    (root / "Silver/New.Dataflow").mkdir()
    (root / "Silver/New.Dataflow/notes.txt").write_text("untracked")
    assert scan_working_tree(root, ".").snapshot.dirty
    then = read_ref(root, first, ".")
    assert then.ref == first
    assert b"// edited" not in next(
        p.data for p in then.dataflows if p.name == "Orders" for p in p.parts if p.path == "mashup.pq"
    )


def test_a_project_in_a_subfolder_of_the_repository(tmp_path: Path) -> None:
    top = tmp_path / "repo"
    write_shape(top / "sample" / "workspace", "nested")
    init_repo(top)
    project = top / "sample"
    snapshot = read_working_tree(project, "workspace")
    assert {d.folder for d in snapshot.dataflows} >= {"workspace/Bronze/Sales/EU/Orders.Dataflow"}
    assert not snapshot.dirty
    assert read_ref(project, "HEAD", "workspace").dataflows == snapshot.dataflows


def test_other_items_are_ignored_and_counted_once(tmp_path: Path) -> None:
    root = _repo(tmp_path, "mixed")
    messages: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: messages.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("dataflow_gitops.pipeline.definition.source")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        result = scan_working_tree(root, ".")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert result.other_items == {
        "DataPipeline": 1,
        "Lakehouse": 1,
        "Notebook": 1,
        "Report": 1,
        "SemanticModel": 1,
    }
    assert [m for m in messages if "other item" in m] == [
        "5 other items ignored (1 DataPipeline, 1 Lakehouse, 1 Notebook, 1 Report, 1 SemanticModel)"
    ]
    assert scan_ref(root, "HEAD", ".").other_items == result.other_items


def test_files_git_ignores_are_not_parts(tmp_path: Path) -> None:
    root = _repo(tmp_path, "root")
    (root / ".gitignore").write_text("*.bak\nscratch/\n")
    (root / "Orders.Dataflow/mashup.pq.bak").write_text("old")
    (root / "scratch/Copy.Dataflow").mkdir(parents=True)
    snapshot = read_working_tree(root, ".")
    orders = snapshot.by_name("Orders")
    assert orders is not None
    assert [p.path for p in orders.parts] == ["mashup.pq", "queryMetadata.json"]
    assert sorted(d.name for d in snapshot.dataflows) == ["Customers", "Orders"]


# item folders -----------------------------------------------------------------------------------


def _only_error(root: Path, where: str = ".") -> SourceError:
    errors = scan_working_tree(root, where).errors
    assert len(errors) == 1, errors
    error = errors[0]
    assert isinstance(error, SourceError)
    assert "\n" not in str(error)
    return error


def test_a_suffixless_dataflow_folder_is_an_error_with_the_fix(tmp_path: Path) -> None:
    root = _repo(tmp_path, "suffixless")
    error = _only_error(root)
    assert error.path == "Bronze/Orders"
    assert 'git mv "Bronze/Orders" "Bronze/Orders.Dataflow"' in str(error.hint)
    with pytest.raises(SourceError, match="lacks the .Dataflow suffix"):
        read_ref(root, "HEAD", ".")


def test_a_dataflow_folder_without_platform_or_of_another_type(tmp_path: Path) -> None:
    root = _repo(tmp_path, "root")
    (root / "Orders.Dataflow/.platform").unlink()
    assert _only_error(root).path == "Orders.Dataflow"
    (root / "Orders.Dataflow/.platform").write_text(
        json.dumps({"metadata": {"type": "Notebook", "displayName": "Orders"}, "config": {}})
    )
    error = _only_error(root)
    assert error.path == "Orders.Dataflow/.platform"
    assert "not 'Dataflow'" in str(error)


def test_same_display_name_in_two_workspace_folders(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for one in (dataflow("A/Orders.Dataflow", "Orders"), dataflow("B/Orders.Dataflow", "Orders")):
        for path, data in one.files.items():
            (root / one.folder).mkdir(parents=True, exist_ok=True)
            (root / one.folder / path).write_bytes(data)
    # The second copy also shares the logicalId; make it its own item with the same name.
    platform = root / "B/Orders.Dataflow/.platform"
    platform.write_text(platform.read_text().replace(guid("Dataflow", "Orders"), guid("other")))
    error = _only_error(root)
    assert "duplicate display name 'Orders': also used by A/Orders.Dataflow" in str(error)
    assert "across workspace folders" in str(error.hint)


# queryMetadata.json shapes ---------------------------------------------------------------------


def test_the_202409_shape_is_read_and_validated_as_written(tmp_path: Path) -> None:
    root = _repo(tmp_path, "format_202409")
    snapshot = read_working_tree(root, ".")
    legacy = snapshot.by_name("Legacy Orders")
    assert legacy is not None
    written = (root / "Legacy Orders.Dataflow/queryMetadata.json").read_bytes()
    assert legacy.part("queryMetadata.json") == legacy.part("queryMetadata.json").__class__(
        "queryMetadata.json", written
    )
    (root / "dataflow-gitops.yaml").write_text('dataflows_dir: "."\n')
    report = validate(root)
    assert report.ok, report.errors
    assert not [w for w in report.warnings if "queriesMetadata" in w]


def test_a_broken_202409_document_is_one_located_error(tmp_path: Path) -> None:
    root = _repo(tmp_path, "format_202409")
    path = root / "Legacy Orders.Dataflow/queryMetadata.json"
    doc = json.loads(path.read_text())
    doc["editingSession"]["editingSessionMashup"]["queriesMetadata"]["Orders"]["queryId"] = "x"
    path.write_text(json.dumps(doc, indent=2))
    error = _only_error(root)
    assert error.path == "Legacy Orders.Dataflow/queryMetadata.json"
    assert "is not a GUID" in str(error)
    assert error.line is not None
    assert error.line > 1


def test_migrate_converts_202409_without_losing_anything(tmp_path: Path) -> None:
    root = _repo(tmp_path, "format_202409")
    folder = root / "Legacy Orders.Dataflow"
    old = json.loads((folder / "queryMetadata.json").read_text())
    mashup = (folder / "mashup.pq").read_bytes()
    result = migrate(folder)
    assert result.found == 'queryMetadata.json formatVersion "202409"'
    assert result.written == ("queryMetadata.json",)
    data = (folder / "queryMetadata.json").read_bytes()
    assert not data.endswith(b"\n")
    new = json.loads(data)
    session = old["editingSession"]["editingSessionMashup"]
    assert new["formatVersion"] == "202502"
    assert new["name"] == "Legacy Orders"  # mashupName was empty: the folder's name
    assert new["computeEngineSettings"] == old["editingSession"]["computeEngineSettings"]
    # The data destination, and everything else, kept where it can be read back.
    assert new["queriesMetadata"] == session["queriesMetadata"]
    assert new["lastModified"] == old["lastModified"]
    assert new["hostProperties"] == session["hostProperties"]
    assert new["trustedConnections"] == session["trustedConnections"]
    assert any("jsonOutputDestinations" in n for n in result.notes)
    assert (folder / "mashup.pq").read_bytes() == mashup
    assert read_working_tree(root, ".").by_name("Legacy Orders") is not None
    # Once converted there is nothing left to migrate.
    again = migrate(folder)
    assert again.written == ()
    assert again.found == 'queryMetadata.json formatVersion "202502"'


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "the folder is empty"),
        ({"model.json": b"{}"}, "model.json is a Power BI dataflow (Gen1) export"),
        ({"queryMetadata.json": b'{"formatVersion": "209901"}'}, '"209901": a shape dfg does not'),
    ],
)
def test_migrate_says_what_it_does_not_know(
    tmp_path: Path, files: dict[str, bytes], message: str
) -> None:
    folder = tmp_path / "X.Dataflow"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    with pytest.raises(SourceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        migrate(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)


def test_a_folder_not_wanted_is_identified_but_not_parsed(tmp_path: Path) -> None:
    root = _repo(tmp_path, "root")
    (root / "Orders.Dataflow/queryMetadata.json").write_text('{"formatVersion": "209901"}')
    assert scan_working_tree(root, ".").errors
    result = scan_working_tree(root, ".", wanted=lambda name: name != "Orders")
    assert result.errors == ()
    assert result.unchecked == ("Orders",)
    orders = result.snapshot.by_name("Orders")
    assert orders is not None
    assert not orders.checked
    # A folder without a readable .platform is known by its folder name.
    (root / "Orders.Dataflow/.platform").write_text("{")
    result = scan_working_tree(root, ".", wanted=lambda name: name != "Orders")
    assert result.errors == ()
    assert result.snapshot.by_name("Orders") is None


# bad input --------------------------------------------------------------------------------------


def test_a_symlinked_dataflow_folder_pointing_outside_the_repository(tmp_path: Path) -> None:
    root = _repo(tmp_path, "root")
    outside = tmp_path / "elsewhere" / "Secret.Dataflow"
    for path, data in dataflow("x", "Secret").files.items():
        outside.mkdir(parents=True, exist_ok=True)
        (outside / path).write_bytes(data)
    os.symlink(outside, root / "Secret.Dataflow", target_is_directory=True)
    error = _only_error(root)
    assert error.path == "Secret.Dataflow"
    assert "outside the repository" in str(error)


def test_a_folder_cycle_through_a_symlink(tmp_path: Path) -> None:
    root = _repo(tmp_path, "nested")
    os.symlink(root / "Bronze", root / "Bronze/Sales/loop", target_is_directory=True)
    error = _only_error(root)
    assert error.path == "Bronze/Sales/loop"
    assert "folder cycle" in str(error)


def test_two_folder_paths_that_differ_only_in_case(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for one in (dataflow("Bronze/A.Dataflow", "A"), dataflow("bronze/B.Dataflow", "B")):
        (root / one.folder).mkdir(parents=True)
        for path, data in one.files.items():
            (root / one.folder / path).write_bytes(data)
    if (root / "bronze").samefile(root / "Bronze"):
        pytest.skip("a case-insensitive file system cannot hold both")
    error = _only_error(root)
    assert error.path == "bronze"
    assert "differs only in case from 'Bronze'" in str(error)


def test_a_folder_path_over_windows_limits(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    deep = "/".join(["Folder-with-a-long-name-" + str(i) * 30 for i in range(5)])
    one = dataflow(f"{deep}/Orders.Dataflow", "Orders")
    assert len(one.folder) > WINDOWS_PATH_BUDGET
    (root / one.folder).mkdir(parents=True)
    for path, data in one.files.items():
        (root / one.folder / path).write_bytes(data)
    error = _only_error(root)
    assert error.path == one.folder
    assert "over Windows' 260-character limit" in str(error)


def test_a_folder_name_windows_cannot_hold(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    one = dataflow("Bronze/AUX/Orders.Dataflow", "Orders")
    (root / one.folder).mkdir(parents=True)
    for path, data in one.files.items():
        (root / one.folder / path).write_bytes(data)
    error = _only_error(root)
    assert error.path == "Bronze/AUX"
    assert "reserved device name" in str(error)
