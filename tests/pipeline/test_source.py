from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from example_repo import EXAMPLE_NAMES

from dataflow_gitops.errors import LegacyFormatError, SourceError
from dataflow_gitops.pipeline.definition.source import (
    read_ref,
    read_working_tree,
    scan_ref,
    scan_working_tree,
)


def _set_platform(folder: Path, **changes: object) -> None:
    path = folder / ".platform"
    doc = json.loads(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        section, field = key.split("__")
        doc[section][field] = value
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


# the example -----------------------------------------------------------------------------------


def test_working_tree_reads_every_example_dataflow(git_project) -> None:
    snapshot = read_working_tree(git_project.root)
    assert {d.name for d in snapshot.dataflows} == EXAMPLE_NAMES
    assert snapshot.commit == git_project.repo.head.commit.hexsha
    assert snapshot.dirty is False
    inventory = snapshot.by_name("Inventory Snapshot")
    assert inventory is not None
    assert [p.path for p in inventory.parts] == [
        "Inventory transform.mdf",
        "mashup.pq",
        "queryMetadata.json",
    ]
    assert inventory.folder == "dataflows/Inventory Snapshot.Dataflow"
    assert inventory.part(".platform") is None  # .platform lives on SourceDataflow.platform
    assert inventory.part("mashup.pq") is not None
    mashup = inventory.part("mashup.pq")
    assert mashup is not None
    assert mashup.data == (git_project.folder("Inventory Snapshot") / "mashup.pq").read_bytes()


def test_display_name_comes_from_platform_not_folder(git_project) -> None:
    (git_project.root / "dataflows" / "Products.Dataflow").rename(
        git_project.root / "dataflows" / "Old name.Dataflow"
    )
    snapshot = read_working_tree(git_project.root)
    products = snapshot.by_name("Products")
    assert products is not None
    assert products.folder == "dataflows/Old name.Dataflow"
    assert snapshot.by_name("Old name") is None


def test_other_item_folders_are_ignored(git_project) -> None:
    git_project.write("dataflows/SalesLakehouse.Lakehouse/.platform", "{}")
    git_project.write("dataflows/README.md", "notes")
    assert len(read_working_tree(git_project.root).dataflows) == 7


def test_outside_git_the_commit_is_none(example_copy: Path) -> None:
    snapshot = read_working_tree(example_copy)
    assert snapshot.commit is None
    assert snapshot.dirty is False
    assert len(snapshot.dataflows) == 7


# dirty flag ----------------------------------------------------------------------------------


def test_modified_dataflow_file_makes_the_tree_dirty(git_project) -> None:
    mashup = git_project.folder("Customers") / "mashup.pq"
    mashup.write_text(mashup.read_text() + "\n// edited\n")
    assert read_working_tree(git_project.root).dirty is True


def test_untracked_dataflow_makes_the_tree_dirty(git_project) -> None:
    shutil.copytree(git_project.folder("Customers"), git_project.root / "dataflows" / "New.Dataflow")
    _set_platform(
        git_project.root / "dataflows" / "New.Dataflow",
        metadata__displayName="New",
        config__logicalId="5a6b7c8d-1e2f-4a3b-9c4d-5e6f7a8b9c0d",
    )
    snapshot = read_working_tree(git_project.root)
    assert snapshot.dirty is True
    assert snapshot.by_name("New") is not None


def test_changes_outside_the_dataflows_folder_do_not_make_it_dirty(git_project) -> None:
    git_project.write("README.md", "changed")
    assert read_working_tree(git_project.root).dirty is False


# git refs ------------------------------------------------------------------------------------


def test_read_ref_reads_an_older_commit_without_checking_it_out(git_project) -> None:
    first = git_project.repo.head.commit.hexsha
    mashup = git_project.folder("Products") / "mashup.pq"
    old_text = mashup.read_bytes()
    mashup.write_text(mashup.read_text().replace("products_raw", "products_v2"))
    shutil.rmtree(git_project.folder("Hello Dataflow"))
    second = git_project.commit("second")

    old = read_ref(git_project.root, first)
    assert old.commit == first
    assert old.ref == first
    assert old.dirty is False
    assert {d.name for d in old.dataflows} == EXAMPLE_NAMES
    products = old.by_name("Products")
    assert products is not None
    assert products.part("mashup.pq") is not None
    assert products.part("mashup.pq").data == old_text  # type: ignore[union-attr]

    new = read_ref(git_project.root, "HEAD")
    assert new.commit == second
    assert new.by_name("Hello Dataflow") is None
    assert read_ref(git_project.root, "HEAD~1").commit == first
    # the working tree was not touched
    assert b"products_v2" in mashup.read_bytes()


def test_read_ref_in_a_project_below_the_repository_root(make_git_project, tmp_path: Path) -> None:
    outer = make_git_project("outer", example=False)
    shutil.copytree(
        Path(__file__).resolve().parents[2] / "dataflows", outer.root / "analytics" / "dataflows"
    )
    sha = outer.commit("nested project")
    snapshot = read_ref(outer.root / "analytics", "main")
    assert snapshot.commit == sha
    assert len(snapshot.dataflows) == 7
    assert read_working_tree(outer.root / "analytics").commit == sha


def test_unknown_ref(git_project) -> None:
    with pytest.raises(SourceError, match="unknown git ref 'no-such-branch'"):
        read_ref(git_project.root, "no-such-branch")


def test_ref_outside_git(example_copy: Path) -> None:
    with pytest.raises(SourceError, match="not inside a git repository"):
        read_ref(example_copy, "HEAD")


def test_errors_in_a_ref_name_the_ref(git_project) -> None:
    (git_project.folder("Customers") / "queryMetadata.json").write_text("{ broken")
    git_project.commit("broken")
    with pytest.raises(SourceError, match=r"^HEAD:dataflows/Customers\.Dataflow/queryMetadata\.json:1:"):
        read_ref(git_project.root, "HEAD")


def test_no_dataflows_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no dataflows/ folder"):
        read_working_tree(tmp_path)


# bad input -----------------------------------------------------------------------------------


def _single_error(root: Path) -> SourceError:
    errors = scan_working_tree(root).errors
    assert len(errors) == 1, errors
    error = errors[0]
    assert isinstance(error, SourceError)
    assert "\n" not in str(error)
    return error


def test_missing_part(example_copy: Path) -> None:
    (example_copy / "dataflows/Customers.Dataflow/mashup.pq").unlink()
    error = _single_error(example_copy)
    assert str(error).startswith("dataflows/Customers.Dataflow: missing part `mashup.pq`")


def test_missing_platform(example_copy: Path) -> None:
    (example_copy / "dataflows/Customers.Dataflow/.platform").unlink()
    assert "missing `.platform`" in str(_single_error(example_copy))


def test_empty_part(example_copy: Path) -> None:
    (example_copy / "dataflows/Products.Dataflow/mashup.pq").write_text("  \n")
    error = _single_error(example_copy)
    assert str(error).startswith("dataflows/Products.Dataflow/mashup.pq: empty part")


def test_non_utf8_part_names_the_line(example_copy: Path) -> None:
    path = example_copy / "dataflows/Products.Dataflow/mashup.pq"
    path.write_bytes(b'section Section1;\nshared A = "caf\xe9";\n')
    error = _single_error(example_copy)
    assert error.path == "dataflows/Products.Dataflow/mashup.pq"
    assert error.line == 2
    assert "not valid UTF-8" in str(error)


def test_invalid_json_names_file_and_line(example_copy: Path) -> None:
    path = example_copy / "dataflows/Customers.Dataflow/queryMetadata.json"
    path.write_text('{\n  "formatVersion": "202502",\n  "name": "Customers"\n  "x": 1\n}\n')
    error = _single_error(example_copy)
    assert str(error).startswith("dataflows/Customers.Dataflow/queryMetadata.json:4: invalid JSON")


def test_unknown_format_version(example_copy: Path) -> None:
    path = example_copy / "dataflows/Customers.Dataflow/queryMetadata.json"
    doc = json.loads(path.read_text())
    doc["formatVersion"] = "209901"
    path.write_text(json.dumps(doc, indent=2))
    error = _single_error(example_copy)
    assert error.line == 2
    assert "unknown formatVersion '209901'" in str(error)


def test_platform_problems_are_reported_with_the_platform_file(example_copy: Path) -> None:
    _set_platform(example_copy / "dataflows/Customers.Dataflow", metadata__type="Warehouse")
    error = _single_error(example_copy)
    assert error.path == "dataflows/Customers.Dataflow/.platform"
    assert "not 'Dataflow'" in str(error)


def test_duplicate_display_names_name_both_folders(example_copy: Path) -> None:
    _set_platform(example_copy / "dataflows/Products.Dataflow", metadata__displayName="Customers")
    error = _single_error(example_copy)
    text = str(error)
    assert "duplicate display name 'Customers'" in text
    assert "dataflows/Customers.Dataflow" in text
    assert "dataflows/Products.Dataflow" in text
    assert error.line is not None


def test_duplicate_logical_ids_name_both_folders(example_copy: Path) -> None:
    customers = json.loads((example_copy / "dataflows/Customers.Dataflow/.platform").read_text())
    _set_platform(
        example_copy / "dataflows/Products.Dataflow",
        config__logicalId=customers["config"]["logicalId"].upper(),
    )
    text = str(_single_error(example_copy))
    assert "duplicate logicalId" in text
    assert "Customers.Dataflow" in text
    assert "Products.Dataflow" in text


def test_unexpected_file_in_a_dataflow_folder(example_copy: Path) -> None:
    (example_copy / "dataflows/Customers.Dataflow/notes.txt").write_text("x")
    (example_copy / "dataflows/Customers.Dataflow/.gitkeep").write_text("")
    assert "unexpected file `notes.txt`" in str(_single_error(example_copy))


def test_legacy_single_part_folder_hints_migrate(example_copy: Path) -> None:
    folder = example_copy / "dataflows/Customers.Dataflow"
    (folder / "dataflow-content.json").write_text('{"editingSessionMashup": {}}')
    error = _single_error(example_copy)
    assert isinstance(error, LegacyFormatError)
    assert error.hint == 'convert it with `dfg migrate "dataflows/Customers.Dataflow"`'


def test_legacy_202412_folder_hints_migrate(example_copy: Path) -> None:
    path = example_copy / "dataflows/Customers.Dataflow/queryMetadata.json"
    path.write_text(json.dumps({"formatVersion": "202412", "dataflowOptions": {"name": "Customers"}}))
    error = _single_error(example_copy)
    assert isinstance(error, LegacyFormatError)
    assert "202412" in str(error)
    assert "dfg migrate" in str(error)


def test_scan_reports_every_problem_and_read_raises_the_first(example_copy: Path) -> None:
    (example_copy / "dataflows/Customers.Dataflow/mashup.pq").unlink()
    (example_copy / "dataflows/Products.Dataflow/queryMetadata.json").write_text("[")
    result = scan_working_tree(example_copy)
    assert len(result.errors) == 2
    assert len(result.snapshot.dataflows) == 5
    with pytest.raises(SourceError) as info:
        read_working_tree(example_copy)
    assert info.value is not None
    assert str(info.value) == str(result.errors[0])


def test_scan_ref_collects_too(git_project) -> None:
    assert scan_ref(git_project.root, "HEAD").errors == ()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("queriesMetadata", [], "`queriesMetadata` must be an object keyed by query name"),
        ("connections", {"a": 1}, "`connections` must be a list"),
        ("connections", [{"path": "x", "kind": "SQL"}], "connections[0] must be an object"),
        ("queriesMetadata", {"Customers": "q"}, "queriesMetadata entry 'Customers' must be"),
        ("name", 5, "`name` must be a string"),
    ],
)
def test_query_metadata_shapes(example_copy: Path, key: str, value: object, expected: str) -> None:
    path = example_copy / "dataflows/Customers.Dataflow/queryMetadata.json"
    doc = json.loads(path.read_text())
    doc[key] = value
    path.write_text(json.dumps(doc, indent=2))
    error = _single_error(example_copy)
    assert expected in str(error)
    assert error.path == "dataflows/Customers.Dataflow/queryMetadata.json"
    assert error.line is not None
    assert error.line > 1


def test_a_symlink_out_of_the_folder_is_refused(example_copy: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("token")
    (example_copy / "dataflows/Customers.Dataflow/extra.mdf").symlink_to(secret)
    with pytest.raises(SourceError, match="links outside its dataflow folder") as info:
        scan_working_tree(example_copy)
    assert info.value.path == "dataflows/Customers.Dataflow/extra.mdf"


def test_a_commit_without_the_dataflows_folder(make_git_project) -> None:
    project = make_git_project("empty", example=False)
    project.write("README.md", "nothing yet")
    project.commit("readme only")
    with pytest.raises(SourceError, match="the commit has no dataflows/ folder"):
        read_ref(project.root, "HEAD")


def test_a_repository_without_commits_is_dirty_with_no_commit(make_git_project) -> None:
    project = make_git_project("fresh", example=False)
    shutil.copytree(Path(__file__).resolve().parents[2] / "dataflows", project.root / "dataflows")
    snapshot = read_working_tree(project.root)
    assert snapshot.commit is None
    assert snapshot.dirty is True
    assert len(snapshot.dataflows) == 7
