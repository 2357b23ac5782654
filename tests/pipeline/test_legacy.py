from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dataflow_gitops.adapters.files import migrate_folder
from dataflow_gitops.errors import SourceError
from dataflow_gitops.pipeline.definition.legacy import legacy_problem
from dataflow_gitops.pipeline.definition.mlang import parse_section
from dataflow_gitops.pipeline.definition.parts import is_guid, parse_platform
from dataflow_gitops.pipeline.definition.source import read_working_tree

MASHUP = (
    '[StagingDefinition = [Kind = "FastCopy"]]\r\nsection Section1;\r\n'
    'shared Orders = let\r\n  Source = Sql.Database("dev-sql.contoso.net", "SalesDB")\r\n'
    "in\r\n  Source;\r\n"
)
CLUSTER = (
    '{"ClusterId":"5d8e2a1c-7f3b-4c9e-a6d4-2b8f1e5c9a73",'
    '"DatasourceId":"9a2c4e6f-8b1d-4f3a-b5c7-e9d1f3a5b7c2"}'
)


def _seed_content() -> dict[str, object]:
    """The earliest preview's single part, as the seed repository had it."""
    return {
        "editingSessionMashup": {
            "mashupName": "Legacy Orders",
            "mashupDocument": MASHUP,
            "queryGroups": [],
            "documentLocale": "en-US",
            "gatewayObjectId": None,
            "queriesMetadata": {
                "Orders": {
                    "queryId": "3b1c5d7e-9f2a-4b6c-8d0e-1f3a5b7c9d2e",
                    "queryName": "Orders",
                    "loadEnabled": True,
                    "lastKnownSchema": ["x"],
                },
            },
            "connectionOverrides": [
                {
                    "path": "dev-sql.contoso.net;SalesDB",
                    "kind": "SQL",
                    "provider": "CdsA",
                    "connectionId": "e3d5a7c9-1b2f-4d6e-8a0c-3f5b7d9e1a24",
                },
                {
                    "path": "Lakehouse",
                    "kind": "Lakehouse",
                    "provider": "CdsA",
                    "connectionName": CLUSTER,
                },
                {"path": "x", "kind": "Web", "connectionName": "My web connection"},
            ],
            "trustedConnections": [],
            "useHostConnectionProvider": False,
            "fastCombine": False,
            "allowNativeQueries": True,
            "hostProperties": {"DataflowRefreshOutputFileFormat": "Parquet"},
        }
    }


@pytest.fixture
def seed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dataflows" / "Legacy Orders.Dataflow"
    folder.mkdir(parents=True)
    (folder / "dataflow-content.json").write_text(json.dumps(_seed_content(), indent=2))
    return folder


def test_detects_the_single_part_format(seed_folder: Path) -> None:
    files = {p.name: p.read_bytes() for p in seed_folder.iterdir()}
    assert legacy_problem(files) == "legacy single-part format (dataflow-content.json)"


def test_current_and_broken_metadata_are_not_legacy() -> None:
    assert legacy_problem({"queryMetadata.json": b'{"formatVersion": "202502"}'}) is None
    assert legacy_problem({"queryMetadata.json": b"{not json"}) is None
    assert legacy_problem({"mashup.pq": b"section S;"}) is None


def test_migrates_the_single_part_format(seed_folder: Path) -> None:
    written = migrate_folder(seed_folder)
    assert written == ["queryMetadata.json", "mashup.pq", ".platform"]
    assert not (seed_folder / "dataflow-content.json").exists()
    parse_section((seed_folder / "mashup.pq").read_text(encoding="utf-8"))
    metadata = json.loads((seed_folder / "queryMetadata.json").read_text())
    assert metadata["formatVersion"] == "202502"
    assert metadata["name"] == "Legacy Orders"
    assert metadata["computeEngineSettings"] == {}
    assert metadata["documentLocale"] == "en-US"
    assert "gatewayObjectId" not in metadata  # null is dropped, not written
    assert metadata["allowNativeQueries"] is True
    assert metadata["queriesMetadata"] == {
        "Orders": {
            "queryId": "3b1c5d7e-9f2a-4b6c-8d0e-1f3a5b7c9d2e",
            "queryName": "Orders",
            "loadEnabled": True,
        }
    }
    assert metadata["connections"] == [
        {
            "path": "dev-sql.contoso.net;SalesDB",
            "kind": "SQL",
            "connectionId": "e3d5a7c9-1b2f-4d6e-8a0c-3f5b7d9e1a24",
        },
        {"path": "Lakehouse", "kind": "Lakehouse", "connectionId": CLUSTER},
    ]
    platform = parse_platform((seed_folder / ".platform").read_bytes(), path=".platform")
    assert platform.display_name == "Legacy Orders"
    assert is_guid(platform.logical_id)


def test_migrated_folder_reads_as_a_current_dataflow(seed_folder: Path) -> None:
    migrate_folder(seed_folder)
    snapshot = read_working_tree(seed_folder.parent.parent)
    assert [d.name for d in snapshot.dataflows] == ["Legacy Orders"]


def test_mashup_bytes_are_kept_exactly(seed_folder: Path) -> None:
    migrate_folder(seed_folder)
    assert (seed_folder / "mashup.pq").read_bytes() == MASHUP.encode()


def test_keeps_an_existing_platform(seed_folder: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "dataflows" / "Customers.Dataflow" / ".platform"
    shutil.copy(example, seed_folder / ".platform")
    before = (seed_folder / ".platform").read_bytes()
    assert ".platform" not in migrate_folder(seed_folder)
    assert (seed_folder / ".platform").read_bytes() == before


def test_migrates_format_version_202412(tmp_path: Path) -> None:
    folder = tmp_path / "Rates.Dataflow"
    folder.mkdir()
    (folder / "mashup.pq").write_text("section Section1;\nshared Rates = 1;\n")
    (folder / "queryMetadata.json").write_text(
        json.dumps(
            {
                "formatVersion": "202412",
                "dataflowOptions": {
                    "name": "Rates",
                    "documentLocale": "de-DE",
                    "fastCombine": True,
                    "computeEngineSettings": {"allowFastCopy": False},
                    "queryGroups": [{"id": "g1", "name": "Inputs"}],
                    "queriesMetadata": {
                        "Rates": {
                            "queryId": "7c9e1a3b-5d7f-4a9b-8c1d-3e5f7a9b1c2d",
                            "queryName": "Rates",
                            "isHidden": False,
                        }
                    },
                    "connectionOverrides": [],
                    "trustedConnections": [],
                },
            }
        )
    )
    assert migrate_folder(folder) == ["queryMetadata.json", ".platform"]
    metadata = json.loads((folder / "queryMetadata.json").read_text())
    assert metadata == {
        "formatVersion": "202502",
        "computeEngineSettings": {"allowFastCopy": False},
        "name": "Rates",
        "queryGroups": [{"id": "g1", "name": "Inputs"}],
        "documentLocale": "de-DE",
        "fastCombine": True,
        "queriesMetadata": {
            "Rates": {
                "queryId": "7c9e1a3b-5d7f-4a9b-8c1d-3e5f7a9b1c2d",
                "queryName": "Rates",
                "isHidden": False,
            }
        },
        "connections": [],
    }
    assert (folder / "mashup.pq").read_text() == "section Section1;\nshared Rates = 1;\n"


def test_current_folder_is_left_alone(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "dataflows" / "Products.Dataflow"
    folder = shutil.copytree(source, tmp_path / "Products.Dataflow")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert migrate_folder(folder) == []
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not a folder"):
        migrate_folder(tmp_path / "missing.Dataflow")


def test_content_without_a_mashup_document(tmp_path: Path) -> None:
    (tmp_path / "dataflow-content.json").write_text('{"editingSessionMashup": {"mashupName": "x"}}')
    with pytest.raises(SourceError, match="mashupDocument"):
        migrate_folder(tmp_path)
