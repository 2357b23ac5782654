"""Contract: every response of every covered operation, in both LRO modes and for the error paths,
is validated with jsonschema against the official swagger files in `../shared/fabric-api-spec`
(the documented status, the declared headers, the body schema; null counts as absent)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import emulator_spec as spec
import httpx
import pytest
from emulator_samples import BROKEN_MASHUP, CRON, dataflow_definition

pytestmark = pytest.mark.skipif(
    not spec.available(), reason=f"the Fabric API spec is not at {spec.SPEC_DIR}"
)


@dataclass
class Exchange:
    method: str
    path: str
    status: int
    headers: httpx.Headers
    body: Any


@pytest.fixture
def recorded(emulator, control) -> Iterator[tuple[httpx.Client, list[Exchange]]]:
    log: list[Exchange] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        body = json.loads(response.content) if response.content else None
        log.append(
            Exchange(
                response.request.method,
                response.request.url.path,
                response.status_code,
                response.headers,
                body,
            )
        )

    with httpx.Client(
        base_url=emulator.url + "/v1",
        headers={"Authorization": "Bearer contract"},
        event_hooks={"response": [keep]},
        timeout=10,
    ) as client:
        yield client, log


def follow(client: httpx.Client, response: httpx.Response) -> httpx.Response:
    while "Location" in response.headers and "/operations/" in response.headers["Location"]:
        response = client.get(response.headers["Location"])
    return response


def scenario(client: httpx.Client, control: httpx.Client) -> None:
    """Touch every covered operation: success paths, then errors."""
    ws = client.post("/workspaces", json={"displayName": "Contract"}).json()["id"]
    client.get("/workspaces")
    client.get(f"/workspaces/{ws}")
    folder = client.post(f"/workspaces/{ws}/folders", json={"displayName": "F"}).json()["id"]
    client.get(f"/workspaces/{ws}/folders")
    client.get(f"/workspaces/{ws}/folders/{folder}")
    client.post(f"/workspaces/{ws}/folders", json={"displayName": "G", "parentFolderId": folder})
    client.get(f"/workspaces/{ws}/folders", params={"rootFolderId": folder, "recursive": "false"})
    client.get(f"/workspaces/{ws}/items", params={"rootFolderId": folder, "recursive": "true"})
    df = follow(
        client,
        client.post(
            f"/workspaces/{ws}/items",
            json={"displayName": "A", "type": "Dataflow", "definition": dataflow_definition("A")},
        ),
    ).json()["id"]
    df2 = follow(
        client,
        client.post(
            f"/workspaces/{ws}/dataflows",
            json={"displayName": "B", "definition": dataflow_definition("B", BROKEN_MASHUP)},
        ),
    ).json()["id"]
    follow(
        client, client.post(f"/workspaces/{ws}/items", json={"displayName": "L", "type": "Lakehouse"})
    )
    for n in range(3):
        follow(client, client.post(f"/workspaces/{ws}/dataflows", json={"displayName": f"P{n}"}))
    client.get(f"/workspaces/{ws}/items", params={"type": "Dataflow"})
    client.get(f"/workspaces/{ws}/dataflows")
    client.get(f"/workspaces/{ws}/items/{df}")
    client.get(f"/workspaces/{ws}/dataflows/{df}")
    client.patch(f"/workspaces/{ws}/items/{df}", json={"description": "d"})
    client.patch(f"/workspaces/{ws}/dataflows/{df}", json={"displayName": "A2"})
    client.post(f"/workspaces/{ws}/items/{df}/move", json={"targetFolderId": folder})
    follow(client, client.post(f"/workspaces/{ws}/items/{df}/getDefinition"))
    follow(client, client.post(f"/workspaces/{ws}/dataflows/{df}/getDefinition"))
    follow(
        client,
        client.post(
            f"/workspaces/{ws}/items/{df}/updateDefinition?updateMetadata=true",
            json={"definition": dataflow_definition("A3", with_platform=True)},
        ),
    )
    follow(
        client,
        client.post(
            f"/workspaces/{ws}/dataflows/{df}/updateDefinition",
            json={"definition": dataflow_definition("A3")},
        ),
    )
    client.get(f"/workspaces/{ws}/dataflows/{df}/parameters")
    job = client.post(f"/workspaces/{ws}/items/{df}/jobs/Execute/instances")
    client.post(
        f"/workspaces/{ws}/dataflows/{df}/jobs/execute/instances",
        json={"executionData": {"executeOption": "ApplyChangesIfNeeded"}},
    )
    failed = client.post(f"/workspaces/{ws}/dataflows/{df2}/jobs/applyChanges/instances")
    client.get(job.headers["Location"])
    client.get(failed.headers["Location"])
    control.post("/_emulator/config", json={"jobDurationS": 600})
    running = client.post(f"/workspaces/{ws}/items/{df}/jobs/Execute/instances")
    client.get(running.headers["Location"])
    control.post("/_emulator/config", json={"jobDedupe": True})
    deduped = client.post(f"/workspaces/{ws}/items/{df}/jobs/Execute/instances")
    client.get(deduped.headers["Location"])
    client.post(running.headers["Location"] + "/cancel")
    client.get(f"/workspaces/{ws}/items/{df}/jobs/instances")
    schedules(client, ws, df)
    inner = client.post(f"/workspaces/{ws}/folders", json={"displayName": "Inner"}).json()["id"]
    client.patch(f"/workspaces/{ws}/folders/{inner}", json={"displayName": "Inner 2"})
    client.post(f"/workspaces/{ws}/folders/{inner}/move", json={"targetFolderId": folder})
    client.post(f"/workspaces/{ws}/folders/{inner}/move", json={})
    client.post(f"/workspaces/{ws}/folders/{folder}/move", json={"targetFolderId": folder})
    client.patch(f"/workspaces/{ws}/folders/{inner}", json={"displayName": "F"})
    client.delete(f"/workspaces/{ws}/folders/{inner}")
    # Errors, each against the "default" (or 429) response of its operation.
    missing = "00000000-0000-4000-8000-0000000000ff"
    client.get(f"/workspaces/{ws}/items/{missing}")
    client.get(f"/workspaces/{ws}/dataflows/{missing}/parameters")
    client.get(f"/workspaces/{ws}/dataflows/{df2}/parameters")
    client.post(f"/workspaces/{ws}/items", json={"displayName": "A3", "type": "Dataflow"})
    client.get(f"/workspaces/{ws}/items", params={"continuationToken": "bogus"})
    client.post(running.headers["Location"] + "/cancel")
    client.post(f"/workspaces/{ws}/items/{df}/jobs/Bogus/instances")
    client.get(f"/operations/{missing}")
    client.delete(f"/workspaces/{ws}/folders/{folder}")
    control.post("/_emulator/config", json={"quotaPerMinute": 1})
    control.post("/_emulator/clock", json={"advanceSeconds": 61})
    client.get("/workspaces")
    client.get("/workspaces")
    control.post("/_emulator/config", json={"quotaPerMinute": None})
    client.post(f"/workspaces/{ws}/items/{df}/move", json={"targetFolderId": ""})
    client.delete(f"/workspaces/{ws}/folders/{folder}")
    control.post("/_emulator/config", json={"nameReservationS": 60})
    client.delete(f"/workspaces/{ws}/items/{df}")
    client.post(f"/workspaces/{ws}/items", json={"displayName": "A3", "type": "Dataflow"})
    client.delete(f"/workspaces/{ws}/dataflows/{df2}")


def schedules(client: httpx.Client, ws: str, df: str) -> None:
    """Every schedule operation, with its errors."""
    base = f"/workspaces/{ws}/items/{df}/jobs/Execute/schedules"
    request = {"enabled": True, "configuration": CRON}
    made = client.post(base, json=request).json()["id"]
    client.post(f"/workspaces/{ws}/dataflows/{df}/jobs/execute/schedules", json=request)
    client.post(f"/workspaces/{ws}/dataflows/{df}/jobs/applyChanges/schedules", json=request)
    client.get(base)
    client.get(f"{base}/{made}")
    weekly = {**CRON, "type": "Weekly", "times": ["06:00"], "weekdays": ["Monday"]}
    client.patch(f"{base}/{made}", json={"enabled": False, "configuration": weekly})
    client.delete(f"{base}/{made}")
    client.get(f"{base}/{made}")
    client.post(base, json={"enabled": True, "configuration": {**CRON, "interval": 0}})
    client.patch(f"{base}/{made}", json=request)


def problems(log: list[Exchange]) -> tuple[list[str], set[str]]:
    found, seen = [], set()
    for ex in log:
        op = spec.find(ex.method, ex.path)
        if op is None:
            found.append(f"{ex.method} {ex.path}: no covered operation in the spec")
            continue
        seen.add(op.operation_id)
        where = f"{op.operation_id} {ex.status}"
        documented = op.response(ex.status)
        if documented is None:
            found.append(f"{where}: status not documented")
            continue
        key, response = documented
        for header in response.get("headers", {}):
            optional = (
                op.operation_id == "LongRunningOperations_GetOperationState" and header == "Location"
            )
            if header not in ex.headers and not optional:
                found.append(f"{where}: missing header {header}")
        if "content-type" not in ex.headers:
            found.append(f"{where}: no Content-Type")
        schema = response.get("schema")
        if schema is None:
            if ex.body is not None:
                found.append(f"{where}: body where the spec has none")
        elif schema.get("type") == "file":
            if ex.body is None:
                found.append(f"{where}: empty result")
        else:
            found += [f"{where}: {e}" for e in spec.errors(op.schema_ref(key), ex.body)]
            if op.operation_id == "Items_DiscoverDataflowParameters" and ex.status == 200:
                for p in ex.body["value"]:  # the discriminated subtype (Swagger `discriminator`)
                    ref = spec.definition_ref(
                        "dataflow", "definitions.json", f"Dataflow{p['type']}Parameter"
                    )
                    found += [f"{where}: {e}" for e in spec.errors(ref, p)]
    return found, seen


@pytest.mark.parametrize("lro", ["never", "always"])
def test_every_response_matches_the_spec(recorded, control, lro) -> None:
    client, log = recorded
    control.post("/_emulator/config", json={"lro": lro, "lroPolls": 1, "pageSize": 2})
    scenario(client, control)
    found, seen = problems(log)
    assert found == []
    # Synchronous mode starts no operation, so there is no result to fetch.
    unreachable = {"LongRunningOperations_GetOperationResult"} if lro == "never" else set()
    assert spec.COVERED - seen == unreachable
    statuses = {ex.status for ex in log}
    assert {200, 201, 202, 400, 404, 409, 429} <= statuses
    bodies = [ex.body for ex in log if isinstance(ex.body, dict)]
    assert any(b.get("status") == "Deduped" for b in bodies)
    assert any(b.get("errorCode") == "ItemDisplayNameNotAvailableYet" for b in bodies)
    assert (lro == "always") == any(
        ex.status == 202 and "/items" in ex.path and ex.method == "POST" and ex.path.endswith("/items")
        for ex in log
    )


def test_the_validator_can_fail(recorded) -> None:
    op = spec.find("GET", "/v1/workspaces/x/items")
    assert op is not None
    assert spec.errors(op.schema_ref("200"), {"value": [{"id": "x"}]})  # `type` is required
    assert spec.errors(op.schema_ref("200"), {"value": [{"type": "Dataflow", "displayName": 3}]})
    assert (
        spec.errors(op.schema_ref("200"), {"value": [{"type": "Dataflow", "description": None}]}) == []
    )
