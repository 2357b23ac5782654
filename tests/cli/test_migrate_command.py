from __future__ import annotations

import json
from pathlib import Path

MASHUP = 'section Section1;\nshared Rates = Json.Document(Web.Contents("https://x.example/"));\n'


def _seed(project: Path) -> Path:
    folder = project / "dataflows" / "Old Rates.Dataflow"
    folder.mkdir()
    content = {
        "editingSessionMashup": {
            "mashupName": "Old Rates",
            "mashupDocument": MASHUP,
            "documentLocale": "en-US",
            "queriesMetadata": {
                "Rates": {"queryId": "0c2e4a6b-8d1f-4e3a-9b5c-7d9e1f3a5b7c", "queryName": "Rates"}
            },
            "connectionOverrides": [],
            "queryGroups": [],
        }
    }
    (folder / "dataflow-content.json").write_text(json.dumps(content))
    return folder


def test_validate_rejects_then_migrate_fixes(dfg, project: Path) -> None:
    folder = _seed(project)
    before = dfg("validate", "-e", "dev")
    assert before.code == 1
    assert (
        "Error: dataflows/Old Rates.Dataflow/dataflow-content.json: legacy single-part format "
        '(dataflow-content.json) (convert it with `dfg migrate "dataflows/Old Rates.Dataflow"`)'
    ) in before.err

    result = dfg("migrate", "dataflows/Old Rates.Dataflow")
    assert result.code == 0, result.err
    assert (
        "the single-part dataflow-content.json: wrote queryMetadata.json, mashup.pq, .platform"
        in result.out
    )
    assert (folder / "mashup.pq").read_text() == MASHUP
    assert not (folder / "dataflow-content.json").exists()

    after = dfg("validate", "-e", "dev")
    assert after.code == 0, after.err
    assert "8 dataflows, 1 environment valid" in after.out


def test_migrate_leaves_current_folders_alone(dfg, project: Path) -> None:
    folder = project / "dataflows" / "Products.Dataflow"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = dfg("migrate", str(folder))
    assert result.code == 0
    assert 'formatVersion "202502": already in the current format, nothing to migrate' in result.out
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_migrate_a_missing_folder(dfg) -> None:
    result = dfg("migrate", "dataflows/Nope.Dataflow")
    assert result.code == 1
    assert result.err.startswith("Error: ")
    assert "Nope.Dataflow: not a folder" in result.err


def test_migrate_help(dfg) -> None:
    result = dfg("migrate", "--help")
    assert result.code == 0
    assert 'dfg migrate "dataflows/Sales Orders.Dataflow"' in result.out


def test_migrate_says_what_it_found_and_where_it_kept_it(dfg, project: Path) -> None:
    from fabric_repos import write_shape

    shape = write_shape(project / "dataflows", "format_202409")
    folder = f"dataflows/{shape.dataflows[0].folder}"
    result = dfg("migrate", folder)
    assert result.code == 0, result.err
    assert f'{folder}: queryMetadata.json formatVersion "202409": wrote queryMetadata.json' in result.out
    assert "queriesMetadata.Orders.jsonOutputDestinations" in result.out
    assert "lastModified kept as written" in result.out


def test_migrate_an_empty_and_a_model_json_folder(dfg, project: Path) -> None:
    empty = project / "dataflows" / "Empty.Dataflow"
    empty.mkdir()
    result = dfg("migrate", "dataflows/Empty.Dataflow")
    assert result.code == 1
    assert "the folder is empty: no Dataflow Gen2 definition to migrate" in result.err
    gen1 = project / "dataflows" / "Gen1.Dataflow"
    gen1.mkdir()
    (gen1 / "model.json").write_text("{}")
    result = dfg("migrate", "dataflows/Gen1.Dataflow")
    assert result.code == 1
    assert "model.json is a Power BI dataflow (Gen1) export, a shape dfg does not know" in result.err
    assert "already in the current format" not in result.out
