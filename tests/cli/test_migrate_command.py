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
    assert "wrote queryMetadata.json, mashup.pq, .platform" in result.out
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
    assert "already in the current format" in result.out
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
