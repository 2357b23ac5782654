"""The official Fabric OpenAPI subset beside the clone (`../shared/fabric-api-spec`): find the
operation a request hit and validate a response body against its schema, resolving `$ref`s lazily
(some refs in the swagger point at files that were not copied)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_DIR = Path(__file__).resolve().parents[3] / "shared" / "fabric-api-spec"
SWAGGERS = ("platform/swagger.json", "dataflow/swagger.json")
COVERED = {
    "Workspaces_CreateWorkspace",
    "Workspaces_ListWorkspaces",
    "Workspaces_GetWorkspace",
    "Items_ListItems",
    "Items_CreateItem",
    "Items_GetItem",
    "Items_UpdateItem",
    "Items_DeleteItem",
    "Items_GetItemDefinition",
    "Items_UpdateItemDefinition",
    "Items_MoveItem",
    "LongRunningOperations_GetOperationState",
    "LongRunningOperations_GetOperationResult",
    "Folders_ListFolders",
    "Folders_CreateFolder",
    "Folders_GetFolder",
    "Folders_DeleteFolder",
    "Folders_UpdateFolder",
    "Folders_MoveFolder",
    "JobScheduler_ListItemSchedules",
    "JobScheduler_CreateItemSchedule",
    "JobScheduler_GetItemSchedule",
    "JobScheduler_UpdateItemSchedule",
    "JobScheduler_DeleteItemSchedule",
    "BackgroundJobs_ScheduleExecute",
    "BackgroundJobs_ScheduleApplyChanges",
    "JobScheduler_RunOnDemandItemJob",
    "JobScheduler_GetItemJobInstance",
    "JobScheduler_ListItemJobInstances",
    "JobScheduler_CancelItemJobInstance",
    "Items_ListDataflows",
    "Items_CreateDataflow",
    "Items_GetDataflow",
    "Items_UpdateDataflow",
    "Items_DeleteDataflow",
    "Items_GetDataflowDefinition",
    "Items_UpdateDataflowDefinition",
    "Items_DiscoverDataflowParameters",
    "BackgroundJobs_RunOnDemandExecute",
    "BackgroundJobs_RunOnDemandApplyChanges",
}


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str  # the swagger path key, e.g. /workspaces/{workspaceId}/items
    swagger: str  # relative file, e.g. platform/swagger.json
    spec: dict[str, Any]

    @property
    def literal_segments(self) -> int:
        return sum(1 for s in self.path.split("/") if s and not s.startswith("{"))

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{[^}]+\}", "[^/]+", self.path.split("?")[0])
        return re.compile(r"^(?:/v1)?" + regex + "$")

    def response(self, status: int) -> tuple[str, dict[str, Any]] | None:
        responses = self.spec["responses"]
        if str(status) in responses:
            return str(status), responses[str(status)]
        if status >= 400 and "default" in responses:
            return "default", responses["default"]
        return None

    def schema_ref(self, key: str) -> str:
        pointer = "/".join(
            p.replace("~", "~0").replace("/", "~1")
            for p in ("paths", self.path, self.method, "responses", key, "schema")
        )
        return f"{(SPEC_DIR / self.swagger).as_uri()}#/{pointer}"


def available() -> bool:
    return all((SPEC_DIR / s).is_file() for s in SWAGGERS)


@cache
def _load(path: str) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _retrieve(uri: str) -> Resource[Any]:
    return Resource.from_contents(_load(urlparse(uri).path), default_specification=DRAFT4)


@cache
def operations() -> tuple[Operation, ...]:
    found = []
    for swagger in SWAGGERS:
        for path, methods in _load(str(SPEC_DIR / swagger))["paths"].items():
            for method, spec in methods.items():
                if isinstance(spec, dict) and spec.get("operationId") in COVERED:
                    found.append(Operation(spec["operationId"], method, path, swagger, spec))
    return tuple(found)


def find(method: str, path: str) -> Operation | None:
    """The covered operation for a request path (with /v1), preferring literal segments."""
    matches = [op for op in operations() if op.method == method.lower() and op.pattern().match(path)]
    return max(matches, key=lambda op: op.literal_segments, default=None)


def without_nulls(value: Any) -> Any:
    """Swagger 2.0 has no `nullable`; Fabric sends null for absent optional properties."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


REGISTRY: Registry[Any] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]


def errors(ref: str, body: Any) -> list[str]:
    validator = jsonschema.Draft4Validator({"$ref": ref}, registry=REGISTRY)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(without_nulls(body))
    ]


def definition_ref(swagger_dir: str, file: str, name: str) -> str:
    return f"{(SPEC_DIR / swagger_dir / file).as_uri()}#/definitions/{name}"
