"""State records: the emulator's workspaces, folders and items as frozen values → their Fabric JSON
(`Workspace`, `Folder`, `Item`) and their storage rows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from fabric_emulator.definitions import Part
from fabric_emulator.schedules import Schedule

# The ItemType enum of the Fabric spec (common/definitions.json).
_ITEM_TYPE_NAMES = (
    "Dashboard Report SemanticModel PaginatedReport Datamart Lakehouse Eventhouse Environment "
    "KQLDatabase KQLQueryset KQLDashboard DataPipeline Notebook SparkJobDefinition MLExperiment MLModel "
    "Warehouse Eventstream SQLEndpoint MirroredWarehouse MirroredDatabase Reflex GraphQLApi "
    "MountedDataFactory SQLDatabase CopyJob VariableLibrary Dataflow ApacheAirflowJob WarehouseSnapshot "
    "DigitalTwinBuilder DigitalTwinBuilderFlow MirroredAzureDatabricksCatalog Map AnomalyDetector "
    "UserDataFunction GraphModel GraphQuerySet SnowflakeDatabase OperationsAgent CosmosDBDatabase "
    "Ontology EventSchemaSet DataAgent MirroredCatalog AppBackend OrgApp OrgAppAudience "
    "DataBuildToolJob AzureDatabricksStorage Plan"
)
ITEM_TYPES = tuple(_ITEM_TYPE_NAMES.split())


@dataclass(frozen=True, slots=True)
class Workspace:
    id: str
    display_name: str
    description: str = ""
    capacity_id: str = "0f084df7-c13d-451b-af5f-ed0c466403b2"
    domain_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "displayName": self.display_name,
            "description": self.description,
            "type": "Workspace",
            "capacityId": self.capacity_id,
        }
        if self.domain_id:
            out["domainId"] = self.domain_id
        return out

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Workspace:
        return cls(**record)


@dataclass(frozen=True, slots=True)
class Folder:
    id: str
    workspace_id: str
    display_name: str
    parent_folder_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"id": self.id, "displayName": self.display_name, "workspaceId": self.workspace_id}
        if self.parent_folder_id:
            out["parentFolderId"] = self.parent_folder_id
        return out

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Folder:
        return cls(**record)


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    workspace_id: str
    type: str
    display_name: str
    description: str
    logical_id: str
    parts: tuple[Part, ...] = ()
    folder_id: str | None = None
    definition_format: str | None = None
    schedules: tuple[Schedule, ...] = ()  # Job Scheduler schedules, every job type
    creator: str = ""  # the identity that created it: its default identity

    def to_json(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "type": self.type,
            "displayName": self.display_name,
            "description": self.description,
            "workspaceId": self.workspace_id,
        }
        if self.folder_id:
            out["folderId"] = self.folder_id
        return out

    def part(self, path: str) -> Part | None:
        return next((p for p in self.parts if p.path == path), None)

    def to_record(self) -> dict[str, Any]:
        record = dataclasses.asdict(self)
        record["parts"] = [[p.path, p.payload] for p in self.parts]
        record["schedules"] = [s.to_record() for s in self.schedules]
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Item:
        parts = tuple(Part(path, payload) for path, payload in record.pop("parts"))
        schedules = tuple(Schedule.from_record(s) for s in record.pop("schedules", ()))
        return cls(**record, parts=parts, schedules=schedules)
