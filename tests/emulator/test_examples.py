"""The official examples (`fabric-api-spec/*/examples`) of every covered operation, replayed against
the emulator: the request is accepted, the documented status comes back, with a body of the
documented shape and the documented headers."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

import emulator_spec as spec
import httpx
import pytest

pytestmark = pytest.mark.skipif(
    not spec.available(), reason=f"the Fabric API spec is not at {spec.SPEC_DIR}"
)

# Optional properties the emulator does not model (tenant features outside a Dataflow deployment).
NOT_EMULATED = {
    "sensitivityLabel",
    "tags",
    "capacityRegion",
    "oneLakeEndpoints",
    "workspaceIdentity",
    "domainId",
}
# A continuation token minted by the real service means nothing to another server.
FOREIGN_TOKENS = {
    "ListItemsInWorkspaceWithContinuation.json",
    "ListWorkspacesWithContinuation.json",
    "ListItemJobInstancesWithContinuation.json",
}


def examples() -> list[tuple[spec.Operation, Path]]:
    if not spec.available():
        return []
    found = []
    for op in spec.operations():
        for ref in op.spec.get("x-ms-examples", {}).values():
            path = (spec.SPEC_DIR / op.swagger).parent / ref["$ref"]
            if path.is_file():  # refs to examples that were not copied are skipped
                found.append((op, path.resolve()))
    return found


CASES = examples()


def _platform_placeholders(body: Any, item_type: str) -> Any:
    """The examples carry `.platform` payloads such as base64("dotPlatformBase64String"), which no
    server could read; swap in a real `.platform` for the same item type."""
    parts = (body or {}).get("definition", {}).get("parts", []) if isinstance(body, dict) else []
    for part in parts:
        if part.get("path") != ".platform":
            continue
        try:
            json.loads(base64.b64decode(part["payload"]))
        except (ValueError, binascii.Error):
            doc = {
                "metadata": {"type": item_type, "displayName": "Example"},
                "config": {"version": "2.0", "logicalId": "7d0f4a6e-2f3c-4b9a-8e5d-1c2b3a4d5e6f"},
            }
            part["payload"] = base64.b64encode(json.dumps(doc).encode()).decode()
    return body


def _item_type(op: spec.Operation, example: dict[str, Any]) -> str:
    if op.swagger.startswith("dataflow"):
        return "Dataflow"
    params = example["parameters"]
    if params.get("jobType") in ("Execute", "ApplyChanges"):
        return "Dataflow"
    for response in example["responses"].values():
        body = response.get("body")
        if isinstance(body, dict) and isinstance(body.get("type"), str):
            return body["type"]
    return "Report" if "definition" in json.dumps(example) else "Notebook"


def _mashup_for(parameters: list[dict[str, Any]]) -> str:
    """A section document declaring exactly the documented parameters."""
    literal = {
        "String": '"text"',
        "Boolean": "true",
        "Integer": "1",
        "Number": "1.5",
        "DateTime": "#datetime(2025, 9, 15, 21, 45, 0)",
        "DateTimeZone": "#datetimezone(2025, 9, 15, 21, 45, 0, 2, 0)",
        "Date": "#date(2025, 9, 15)",
        "Time": "#time(21, 45, 0)",
        "Duration": "#duration(5, 21, 35, 30)",
    }
    m_type = {
        "String": "text",
        "Boolean": "logical",
        "Integer": "number",
        "Number": "number",
        "DateTime": "datetime",
        "DateTimeZone": "datetimezone",
        "Date": "date",
        "Time": "time",
        "Duration": "duration",
    }
    lines = ["section Section1;"]
    for p in parameters:
        required = "true" if p["isRequired"] else "false"
        lines.append(
            f"shared {p['name']} = {literal[p['type']]} meta [IsParameterQuery = true, "
            f"Type = type {m_type[p['type']]}, IsParameterQueryRequired = {required}];"
        )
    return "\n".join(lines) + "\n"


def _run_parameters(example: dict[str, Any]) -> list[dict[str, Any]]:
    """The public parameters a run example overrides, so the seeded dataflow can declare them."""
    body = next((v for v in example["parameters"].values() if isinstance(v, dict)), {})
    execution = body.get("executionData") or {}
    raw = (body.get("parameters") or []) + (execution.get("parameters") or [])
    kinds = {bool: "Boolean", int: "Integer", float: "Number", str: "String"}
    return [
        {
            "name": p.get("name") or p.get("parameterName"),
            "isRequired": False,
            "type": kinds.get(type(p.get("value")), "String"),
        }
        for p in raw
    ]


def _seed(control: httpx.Client, op: spec.Operation, example: dict[str, Any]) -> None:
    params = example["parameters"]
    item_type = _item_type(op, example)
    seed: dict[str, Any] = {}
    ws = params.get("workspaceId")
    if ws:
        seed["workspaces"] = [{"id": ws, "displayName": f"Example {ws}"}]
    body = next((v for k, v in params.items() if isinstance(v, dict)), {})
    folder = body.get("folderId") or params.get("rootFolderId")
    if folder:
        seed["folders"] = [{"workspaceId": ws, "id": folder, "displayName": "Example folder"}]
    item_id = params.get("itemId") or params.get("dataflowId")
    if item_id:
        item: dict[str, Any] = {
            "workspaceId": ws,
            "id": item_id,
            "type": item_type,
            "displayName": f"Seeded {item_type}",
        }
        documented = example["responses"].get("200", {}).get("body", {})
        declared = _run_parameters(example)
        if op.operation_id == "Items_DiscoverDataflowParameters":
            item["files"] = {"queryMetadata.json": "{}", "mashup.pq": _mashup_for(documented["value"])}
        elif declared:
            item["files"] = {"queryMetadata.json": "{}", "mashup.pq": _mashup_for(declared)}
        elif item_type != "Dataflow" and "definition" in documented:
            item["definition"] = {
                "parts": [p for p in documented["definition"]["parts"] if p["path"] != ".platform"]
            }
        seed["items"] = [item]
    if params.get("jobInstanceId"):
        running = op.operation_id == "JobScheduler_CancelItemJobInstance"
        seed["jobs"] = [
            {
                "workspaceId": ws,
                "itemId": item_id,
                "id": params["jobInstanceId"],
                "jobType": "DefaultJob" if item_type != "Dataflow" else "Execute",
                "durationS": 3600 if running else 0,
            }
        ]
    elif op.operation_id == "JobScheduler_ListItemJobInstances":
        seed["jobs"] = [
            {
                "workspaceId": ws,
                "itemId": item_id,
                "jobType": "DefaultJob" if item_type != "Dataflow" else "Execute",
            }
        ]
    if params.get("operationId"):
        documented = example["responses"]["200"].get("body", {})
        status = documented.get("status", "Succeeded")
        result = documented if op.operation_id.endswith("Result") else {"id": "x"}
        seed["operations"] = [{"id": params["operationId"], "status": status, "result": result}]
    response = control.post("/_emulator/seed", json=seed)
    assert response.status_code == 200, response.text


def _request(op: spec.Operation, example: dict[str, Any]) -> tuple[str, dict[str, str], Any]:
    params = example["parameters"]
    path = "/v1" + op.path
    query: dict[str, str] = {}
    body = None
    for declared in op.spec.get("parameters", []):
        name, where = declared.get("name"), declared.get("in")
        if name not in params:
            continue
        if where == "path":
            path = path.replace("{" + name + "}", str(params[name]))
        elif where == "query":
            value = params[name]
            query[name] = str(value).lower() if isinstance(value, bool) else str(value)
        elif where == "body":
            body = params[name]
    return path, query, body


def _shape(documented: Any, actual: Any, where: str = "body") -> list[str]:
    if documented is None:
        return []
    if isinstance(documented, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {type(actual).__name__}"]
        missing = [
            f"{where}.{k}: missing" for k in documented if k not in actual and k not in NOT_EMULATED
        ]
        nested = [
            p
            for k in documented
            if k in actual
            for p in _shape(documented[k], actual[k], f"{where}.{k}")
        ]
        return missing + nested
    if isinstance(documented, list):
        if not isinstance(actual, list):
            return [f"{where}: expected an array"]
        return _shape(documented[0], actual[0], f"{where}[0]") if documented and actual else []
    kinds = (
        (bool,)
        if isinstance(documented, bool)
        else (int, float)
        if isinstance(documented, int | float)
        else (str,)
    )
    ok = isinstance(actual, kinds) and not (kinds != (bool,) and isinstance(actual, bool))
    return [] if ok else [f"{where}: expected {kinds[0].__name__}, got {actual!r}"]


@pytest.mark.parametrize(("op", "path"), CASES, ids=[f"{op.operation_id}:{p.name}" for op, p in CASES])
def test_official_example_replays(api, control, emulator, op, path) -> None:
    if path.name in FOREIGN_TOKENS:
        pytest.skip("the example's continuationToken was minted by the real service")
    example = json.loads(path.read_text(encoding="utf-8"))
    _seed(control, op, example)
    url, query, body = _request(op, example)
    item_type = _item_type(op, example)
    response = api.request(
        op.method.upper(), emulator.url + url, params=query, json=_platform_placeholders(body, item_type)
    )
    documented = example["responses"]
    assert str(response.status_code) in documented, response.text
    expected = documented[str(response.status_code)]
    missing_headers = [h for h in expected.get("headers", {}) if h not in response.headers]
    assert missing_headers == []
    actual = json.loads(response.content) if response.content else None
    assert _shape(expected.get("body"), actual) == []


def test_examples_cover_most_operations() -> None:
    if not CASES:
        pytest.skip(f"the Fabric API spec is not at {spec.SPEC_DIR}")
    covered = {op.operation_id for op, _ in CASES}
    assert len(CASES) >= 40
    assert {
        "Items_CreateItem",
        "Items_GetDataflowDefinition",
        "Items_DiscoverDataflowParameters",
        "JobScheduler_CancelItemJobInstance",
        "LongRunningOperations_GetOperationState",
    } <= covered


def test_shape_check_can_fail() -> None:
    assert _shape({"a": 1, "b": [{"c": "x"}]}, {"a": "1", "b": [{}]}) == [
        "body.a: expected int, got '1'",
        "body.b[0].c: missing",
    ]
