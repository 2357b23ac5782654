from __future__ import annotations

import json
from pathlib import Path

from dataflow_gitops.errors import DependencyError, MSyntaxError, SourceError
from dataflow_gitops.pipeline.definition.validate import validate

SALES_ORDERS_ID = "018b9992-976d-40c5-a0e4-1b53a9a4c7b5"
SUMMARY_ID = "d504e0e3-7328-484e-a6b9-a52abc3596a1"


def _reads(logical_id: str) -> str:
    return (
        "let\n  Source = PowerPlatform.Dataflows([]),\n"
        '  W = Source{[Id = "Workspaces"]}[Data],\n'
        '  WS = W{[workspaceId = "00000000-0000-0000-0000-000000000000"]}[Data],\n'
        f'  DF = WS{{[dataflowId = "{logical_id}"]}}[Data]\nin\n  DF'
    )


def test_the_example_is_valid_for_every_environment(example_copy: Path) -> None:
    report = validate(example_copy)
    assert report.errors == ()
    assert report.ok
    assert report.dataflows == 7
    assert set(report.environments) == {"local", "dev", "test", "prod"}
    assert report.warnings == ()


def test_one_environment_only(example_copy: Path) -> None:
    report = validate(example_copy, ["prod"])
    assert report.ok
    assert report.environments == ("prod",)


def test_every_problem_is_reported_at_once(example_copy: Path) -> None:
    (example_copy / "dataflows/Customers.Dataflow/mashup.pq").write_text(
        'section Section1;\nshared Customers = "open;\n'
    )
    (example_copy / "dataflows/Products.Dataflow/queryMetadata.json").write_text("{")
    (example_copy / "environments/test.yaml").write_text("workspace_id: [unclosed\n")
    report = validate(example_copy)
    kinds = sorted(type(e).__name__ for e in report.errors)
    assert kinds == ["ConfigError", "MSyntaxError", "SourceError"]
    syntax = next(e for e in report.errors if isinstance(e, MSyntaxError))
    assert str(syntax).startswith("dataflows/Customers.Dataflow/mashup.pq:2:")
    assert not report.ok


def test_unknown_environment_is_an_error(example_copy: Path) -> None:
    report = validate(example_copy, ["staging"])
    assert len(report.errors) == 1
    assert "staging" in str(report.errors[0])


def test_reference_cycle_is_an_error(example_copy: Path) -> None:
    orders = example_copy / "dataflows/Sales Orders.Dataflow/mashup.pq"
    orders.write_text(orders.read_text() + f"shared Back = {_reads(SUMMARY_ID)};\n")
    metadata = orders.parent / "queryMetadata.json"
    doc = json.loads(metadata.read_text())
    doc["queriesMetadata"]["Back"] = {
        "queryId": "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9",
        "queryName": "Back",
    }
    metadata.write_text(json.dumps(doc, indent=2))
    report = validate(example_copy, ["dev"])
    cycles = [e for e in report.errors if isinstance(e, DependencyError)]
    assert len(cycles) == 1
    assert "Sales Orders → Sales Summary → Sales Orders" in str(cycles[0]) or (
        "Sales Summary → Sales Orders → Sales Summary" in str(cycles[0])
    )


def test_unresolved_reference_is_a_warning(example_copy: Path) -> None:
    products = example_copy / "dataflows/Products.Dataflow/mashup.pq"
    elsewhere = "77777777-7777-4777-8777-777777777777"
    products.write_text(products.read_text() + f"shared Other = {_reads(elsewhere)};\n")
    report = validate(example_copy, ["dev"])
    assert report.ok
    assert any(
        w.startswith("Products: query 'Other' reads dataflow " + elsewhere) for w in report.warnings
    )


def test_queries_metadata_mismatch_is_a_warning(example_copy: Path) -> None:
    metadata = example_copy / "dataflows/Hello Dataflow.Dataflow/queryMetadata.json"
    doc = json.loads(metadata.read_text())
    doc["queriesMetadata"]["Ghost"] = {
        "queryId": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "queryName": "Ghost",
    }
    metadata.write_text(json.dumps(doc, indent=2))
    mashup = metadata.parent / "mashup.pq"
    mashup.write_text(mashup.read_text() + "shared Extra = 1;\n")
    report = validate(example_copy, ["dev"])
    assert report.ok
    ghost = [w for w in report.warnings if "'Ghost'" in w]
    extra = [w for w in report.warnings if "'Extra'" in w]
    assert len(ghost) == 1
    assert ghost[0].startswith("dataflows/Hello Dataflow.Dataflow/queryMetadata.json:")
    assert len(extra) == 1
    assert extra[0].startswith("dataflows/Hello Dataflow.Dataflow/mashup.pq:8:")


def test_source_errors_skip_rendering_but_still_load_overlays(example_copy: Path) -> None:
    (example_copy / "dataflows/Customers.Dataflow/.platform").unlink()
    report = validate(example_copy)
    assert len(report.errors) == 1
    assert isinstance(report.errors[0], SourceError)


def test_missing_project_folder(tmp_path: Path) -> None:
    report = validate(tmp_path)
    assert len(report.errors) == 1
    assert "no dataflows/ folder" in str(report.errors[0])
    assert report.dataflows == 0


def test_a_broken_target_does_not_also_warn_about_its_readers(example_copy: Path) -> None:
    (example_copy / "dataflows/Customers.Dataflow/mashup.pq").write_text("shared X = 1;\n")
    report = validate(example_copy, ["dev"])
    assert len(report.errors) == 1
    assert report.warnings == ()


def test_mdf_placeholder_and_part_must_pair(example_copy: Path) -> None:
    folder = example_copy / "dataflows/Inventory Snapshot.Dataflow"
    (folder / "Inventory transform.mdf").rename(folder / "Renamed transform.mdf")
    report = validate(example_copy, ["dev"])
    assert report.ok
    missing = [w for w in report.warnings if "has no 'Inventory transform.mdf' part" in w]
    unused = [
        w
        for w in report.warnings
        if w.startswith("dataflows/Inventory Snapshot.Dataflow/Renamed transform.mdf: no [ItemType")
    ]
    assert len(missing) == 1
    assert len(unused) == 1


def test_a_target_with_a_broken_part_does_not_also_warn_about_its_readers(
    example_copy: Path,
) -> None:
    (example_copy / "dataflows/Customers.Dataflow/queryMetadata.json").write_text("{\n  oops\n")
    report = validate(example_copy, ["dev"])
    assert len(report.errors) == 1
    assert isinstance(report.errors[0], SourceError)
    assert report.warnings == ()


def test_overlay_entries_that_change_nothing_are_warned_about(example_copy: Path) -> None:
    overlay = example_copy / "environments/prod.yaml"
    text = overlay.read_text()
    # A binding whose source id is one digit off: it would silently bind nothing.
    typo = "7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b28"
    overlay.write_text(text.replace("7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b27: ", f"{typo}: "))
    report = validate(example_copy, ["prod"])
    assert report.ok
    line = text.splitlines().index("  lakehouses:") + 2
    assert report.warnings == (
        f"environments/prod.yaml:{line}: lakehouses binding for {typo} matches no dataflow in scope",
    )


def test_an_unknown_item_type_in_a_lookup_is_warned_about_with_a_suggestion(
    example_copy: Path,
) -> None:
    overlay = example_copy / "environments/test.yaml"
    text = overlay.read_text().replace("${items.Lakehouse.", "${items.Lakehose.")
    overlay.write_text(text)
    report = validate(example_copy, ["test"])
    assert report.ok
    line = text.splitlines().index("  lakehouses:") + 2
    assert report.warnings == (
        f"environments/test.yaml:{line}: ${{items.Lakehose.SalesLakehouse.id}}: unknown item type "
        "'Lakehose' (did you mean 'Lakehouse'?)",
    )
