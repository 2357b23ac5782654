"""Repositories as Fabric Git sync fills them, written byte for byte as Fabric writes them.

Our own files, shaped after what public Fabric-synced repositories hold (fabric-api-notes §5.5–5.6):
`.platform` and `queryMetadata.json` as 2-space JSON without a final newline, `mashup.pq` mostly
CRLF with the FastCopy attribute glued to `section`, workspace folders as nested git folders,
other item types beside the dataflows, `.schedules` parts, and the older 202409 `editingSession`
shape with its data destination in `queriesMetadata.*.jsonOutputDestinations`.

Reusable by any suite (tests/support is on `sys.path`): :data:`SHAPES` names every repository;
:func:`write_shape` writes one into a folder (items only), :func:`make_project` adds the project
file and an overlay for an emulator, commits, and returns what the test needs to know.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emulator_project import init_repo

PLATFORM_SCHEMA = "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/platformProperties/2.0.0/schema.json"
SCHEDULES_SCHEMA = (
    "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/schedules/1.0.0/schema.json"
)
_NAMESPACE = uuid.UUID("6f1d7c52-3b8a-4e0f-9a21-5c7e3d9b1f40")


def guid(*names: str) -> str:
    """A stable GUID per name: the same fixture has the same logicalIds and queryIds each run."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(names)))


def fabric_json(doc: object) -> bytes:
    """As Fabric writes it: 2-space indent, no final newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")


def platform(display_name: str, item_type: str = "Dataflow", description: str = "") -> bytes:
    metadata = {"type": item_type, "displayName": display_name}
    if description:
        metadata["description"] = description
    return fabric_json(
        {
            "$schema": PLATFORM_SCHEMA,
            "metadata": metadata,
            "config": {"version": "2.0", "logicalId": guid(item_type, display_name)},
        }
    )


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


def table_mashup(query: str, rows: str = '{1, "a"}, {2, "b"}', *, fast_copy: bool = True) -> str:
    attribute = '[StagingDefinition = [Kind = "FastCopy"]]' if fast_copy else ""
    return (
        f"{attribute}section Section1;\n"
        f"shared {query} = let\n"
        f"  Source = Table.FromRows({{{rows}}}, type table [Id = Int64.Type, Name = text])\n"
        "in\n"
        "  Source;\n"
    )


def metadata_202502(name: str, queries: dict[str, dict[str, object]]) -> bytes:
    return fabric_json(
        {
            "formatVersion": "202502",
            "computeEngineSettings": {},
            "name": name,
            "queryGroups": [],
            "documentLocale": "en-US",
            "queriesMetadata": {
                q: {"queryId": guid(name, q), "queryName": q, **extra} for q, extra in queries.items()
            },
            "connections": [],
        }
    )


def metadata_202409(name: str, queries: dict[str, dict[str, object]]) -> bytes:
    """The editingSession shape Fabric Git sync wrote through spring 2025."""
    return fabric_json(
        {
            "formatVersion": "202409",
            "lastModified": "2025-03-14T09:26:53.1234567Z",
            "editingSession": {
                "computeEngineSettings": {"allowFastCopy": True},
                "editingSessionMashup": {
                    "mashupName": "",
                    "queryGroups": [],
                    "documentLocale": "en-US",
                    "queriesMetadata": {
                        q: {"queryId": guid(name, q), "queryName": q, **extra}
                        for q, extra in queries.items()
                    },
                    "connectionOverrides": [],
                    "trustedConnections": [],
                    "useHostConnectionProvider": False,
                    "fastCombine": False,
                    "allowNativeQueries": True,
                    "skipAutomaticTypeAndHeaderDetection": False,
                    "hostProperties": {
                        "DataflowRefreshOutputFileFormat": "Parquet",
                        "EnableDateTimeFieldsForStaging": "true",
                    },
                },
            },
        }
    )


def lakehouse_destination(workspace_id: str, lakehouse_id: str, table: str) -> str:
    """``jsonOutputDestinations``: a JSON document in a string, as the older shape keeps it."""
    return json.dumps(
        [
            {
                "destinationType": "Lakehouse",
                "workspaceId": workspace_id,
                "lakehouseId": lakehouse_id,
                "tableName": table,
                "updateMethod": {"kind": "Replace"},
                "enableStaging": False,
            }
        ],
        separators=(",", ":"),
    )


def schedules(times: tuple[str, ...] = ("06:00",)) -> bytes:
    return fabric_json(
        {
            "$schema": SCHEDULES_SCHEMA,
            "schedules": [
                {
                    "enabled": True,
                    "jobType": "Execute",
                    "configuration": {
                        "type": "Daily",
                        "times": list(times),
                        "startDateTime": "2025-01-01T00:00:00",
                        "endDateTime": "2030-12-31T23:59:00",
                        "localTimeZoneId": "UTC",
                    },
                }
            ],
        }
    )


@dataclass(frozen=True)
class Dataflow:
    folder: str
    """Repository-relative item folder, e.g. ``Bronze/Sales/EU/Orders.Dataflow``."""
    name: str
    files: dict[str, bytes]


@dataclass(frozen=True)
class Shape:
    """One Fabric-synced repository: its dataflows and everything else it holds."""

    dataflows: tuple[Dataflow, ...]
    others: dict[str, bytes] = field(default_factory=dict)
    """Other files (other items' folders), repository-relative path → bytes."""
    dataflows_dir: str = "."
    valid: bool = True
    """False for a shape dfg must refuse (one located error)."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dataflows)


def dataflow(
    folder: str, name: str, *, line_end: str = "\r\n", extra: dict[str, bytes] | None = None
) -> Dataflow:
    """A 202502 dataflow with one query, its mashup in ``line_end`` line endings."""
    query = "Data"
    mashup = table_mashup(query).replace("\n", line_end).encode("utf-8")
    files = {
        ".platform": platform(name),
        "mashup.pq": mashup,
        "queryMetadata.json": metadata_202502(name, {query: {}}),
        **(extra or {}),
    }
    return Dataflow(folder, name, files)


def _root() -> Shape:
    return Shape((dataflow("Orders.Dataflow", "Orders"), dataflow("Customers.Dataflow", "Customers")))


def _nested() -> Shape:
    # Three folders deep, and two item folders of one name in two workspace folders: Git sync
    # names a folder after the display name when it writes it and never renames it, while display
    # names are unique per workspace and type across folders; so the second one was renamed.
    return Shape(
        (
            dataflow("Bronze/Sales/EU/Orders.Dataflow", "Orders"),
            dataflow("Silver/Sales/EU/Orders.Dataflow", "Orders (Silver)"),
            dataflow("Silver/Customers.Dataflow", "Customers"),
            dataflow("Top.Dataflow", "Top"),
        )
    )


def _mixed() -> Shape:
    others = {
        "Sales.Lakehouse/.platform": platform("Sales", "Lakehouse"),
        "Sales.Lakehouse/lakehouse.metadata.json": fabric_json({}),
        "Bronze/Load.Notebook/.platform": platform("Load", "Notebook"),
        "Bronze/Load.Notebook/notebook-content.py": b"# Fabric notebook source\r\n",
        "Reports/Sales.SemanticModel/.platform": platform("Sales", "SemanticModel"),
        "Reports/Sales.SemanticModel/definition.pbism": fabric_json({"version": "4.0"}),
        "Reports/Sales.Report/.platform": platform("Sales", "Report"),
        "Nightly.DataPipeline/.platform": platform("Nightly", "DataPipeline"),
        "Nightly.DataPipeline/pipeline-content.json": fabric_json({"properties": {"activities": []}}),
        "README.md": b"# Workspace\n",
    }
    return Shape(
        (dataflow("Orders.Dataflow", "Orders"), dataflow("Bronze/Stage.Dataflow", "Stage")), others
    )


def _crlf() -> Shape:
    # CRLF mashups (most of them), one LF, one with a final line without a newline.
    mixed = dataflow("Plain.Dataflow", "Plain", line_end="\n")
    last = dataflow("Last.Dataflow", "Last")
    last.files["mashup.pq"] = last.files["mashup.pq"].rstrip(b"\r\n")
    return Shape((dataflow("Windows.Dataflow", "Windows"), mixed, last))


def _schedules() -> Shape:
    return Shape((dataflow("Nightly.Dataflow", "Nightly", extra={".schedules": schedules()}),))


WORKSPACE_SOURCE = "0b7e9c2d-4f1a-4a3e-9d8b-6c5f2e1a7d90"
LAKEHOUSE_SOURCE = "a3d9f1c7-2e5b-4c8a-b6f0-9e1d4c7a2b58"


def _format_202409() -> Shape:
    name, query = "Legacy Orders", "Orders"
    files = {
        ".platform": platform(name),
        "mashup.pq": crlf(table_mashup(query)),
        "queryMetadata.json": metadata_202409(
            name,
            {
                query: {
                    "entityName": query,
                    "loadEnabled": True,
                    "jsonOutputDestinations": lakehouse_destination(
                        WORKSPACE_SOURCE, LAKEHOUSE_SOURCE, "orders"
                    ),
                }
            },
        ),
    }
    return Shape((Dataflow("Legacy Orders.Dataflow", name, files), dataflow("Now.Dataflow", "Now")))


def _suffixless() -> Shape:
    # A Dataflow folder renamed by hand without its suffix: refused with the fix, never skipped.
    odd = dataflow("Bronze/Orders", "Orders")
    return Shape((odd, dataflow("Customers.Dataflow", "Customers")), valid=False)


def _workspace() -> Shape:
    """What most adopters have: the nested workspace folders with other items among them."""
    return Shape(_nested().dataflows, _mixed().others)


def _subfolder() -> Shape:
    return Shape(
        (dataflow("workspace/Orders.Dataflow", "Orders"), dataflow("workspace/A/B.Dataflow", "B")),
        {"README.md": b"docs\n"},
        dataflows_dir="workspace",
    )


SHAPES: dict[str, Callable[[], Shape]] = {
    "root": _root,
    "nested": _nested,
    "mixed": _mixed,
    "crlf": _crlf,
    "schedules": _schedules,
    "format_202409": _format_202409,
    "suffixless": _suffixless,
    "subfolder": _subfolder,
    "workspace": _workspace,
}
VALID_SHAPES = tuple(n for n, make in SHAPES.items() if make().valid)


def write_shape(root: Path, name: str) -> Shape:
    """Write shape ``name``'s items into ``root`` (created); return it."""
    shape = SHAPES[name]()
    for one in shape.dataflows:
        for path, data in one.files.items():
            _write(root / one.folder / path, data)
    for path, data in shape.others.items():
        _write(root / path, data)
    return shape


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def overlay(url: str, workspace: str, *, prune: bool = True) -> str:
    return (
        f"workspace_id: {workspace}\napi: {url}\nauth:\n  method: token\n  token_env: FABRIC_TOKEN\n"
        + ("prune:\n  enabled: true\n" if prune else "")
    )


@dataclass(frozen=True)
class Project:
    root: Path
    shape: Shape
    env: str


def make_project(root: Path, name: str, *, url: str, workspace: str, env: str = "fabric") -> Project:
    """Shape ``name`` as a git repository with a project file and one overlay, committed."""
    shape = write_shape(root, name)
    _write(root / "dataflow-gitops.yaml", f'dataflows_dir: "{shape.dataflows_dir}"\n'.encode())
    _write(root / "environments" / f"{env}.yaml", overlay(url, workspace).encode())
    _write(root / ".gitignore", b".dataflow-gitops/\n")
    init_repo(root)
    return Project(root, shape, env)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` but git's own and dfg's state, repository-relative."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.relative_to(root).parts[0].startswith((".git", ".dataflow-gitops"))
    }
