"""Where the emulator used to be looser (or weaker) than Fabric, each case checked against the
official spec: the status it documents, and the body against the operation's schema."""

from __future__ import annotations

import base64
import json
from typing import Any

import emulator_spec as spec
import httpx
import pytest
from emulator_samples import b64, dataflow_definition, parts_by_path
from test_routes import assert_error, create_dataflow

MONTH = "section Section1;\nshared Month = 09 meta [IsParameterQuery = true, Type = type number];\n"
DEEP = "[" * 100000


def conforms(response: httpx.Response) -> list[str]:
    """Problems of this answer against its operation in the spec (documented status, body schema)."""
    if not spec.available():
        return []
    request = response.request
    op = spec.find(request.method, request.url.path)
    assert op is not None, f"{request.method} {request.url.path} is not a covered operation"
    documented = op.response(response.status_code)
    if documented is None:
        return [f"{op.operation_id}: status {response.status_code} is not documented"]
    key, answer = documented
    body = json.loads(response.content) if response.content else None
    return spec.errors(op.schema_ref(key), body) if answer.get("schema") else []


def assert_400(response: httpx.Response, code: str = "") -> None:
    assert response.status_code == 400, response.text
    assert "isRetriable" not in response.json()
    if code:
        assert response.json()["errorCode"] == code
    assert conforms(response) == []


# -- the 500s ---------------------------------------------------------------------------------------
def test_a_leading_zero_number_parameter_is_read_as_m_reads_it(api, ws) -> None:
    item = create_dataflow(api, ws, "Months", mashup=MONTH)["id"]
    listed = api.get(f"/workspaces/{ws}/dataflows/{item}/parameters")
    assert listed.status_code == 200, listed.text
    assert conforms(listed) == []
    [month] = listed.json()["value"]
    assert (month["name"], month["type"], month["defaultValue"]) == ("Month", "Integer", 9)
    run = api.post(
        f"/workspaces/{ws}/dataflows/{item}/jobs/execute/instances",
        json={
            "executionData": {
                "parameters": [{"parameterName": "Month", "type": "Automatic", "value": 10}]
            }
        },
    )
    assert run.status_code == 202, run.text


@pytest.mark.parametrize("path", ["/workspaces", "/workspaces/{ws}/items", "/workspaces/{ws}/folders"])
def test_a_deeply_nested_body_is_400_not_a_retriable_500(api, ws, path) -> None:
    response = api.post(path.format(ws=ws), content=DEEP, headers={"Content-Type": "application/json"})
    assert_400(response, "InvalidRequest")


@pytest.mark.parametrize("part", ["queryMetadata.json", ".platform", ".schedules"])
def test_a_deeply_nested_part_is_400(api, ws, part) -> None:
    definition = dataflow_definition("Deep", with_platform=True)
    parts = [p for p in definition["parts"] if p["path"] != part]
    parts.append({"path": part, "payload": b64(DEEP), "payloadType": "InlineBase64"})
    response = api.post(
        f"/workspaces/{ws}/items",
        json={"displayName": "Deep", "type": "Dataflow", "definition": {"parts": parts}},
    )
    assert_400(response)


# -- accepted but invalid --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {"executionData": {"executeOption": "NotAnOption"}},
        {"executionData": [{"executeOption": "SkipApplyChanges"}]},
        {"executionData": {"parameters": [{"parameterName": "Month", "type": "Integer", "value": 1}]}},
        {"executionData": {"parameters": [{"parameterName": "Month", "type": "Automatic"}]}},
        {"executionData": {"parameters": [{"type": "Automatic", "value": 1}]}},
        {"parameters": [{"name": "Month", "type": "Whatever", "value": 1}]},
    ],
)
def test_run_bodies_outside_the_spec_are_400(api, ws, body) -> None:
    item = create_dataflow(api, ws, "Months", mashup=MONTH)["id"]
    response = api.post(f"/workspaces/{ws}/dataflows/{item}/jobs/execute/instances", json=body)
    assert_400(response, "InvalidRequest")


def test_query_and_body_values_the_spec_types_are_checked(api, ws) -> None:
    item = create_dataflow(api, ws, "Orders")["id"]
    assert_400(api.get(f"/workspaces/{ws}/items", params={"rootFolderId": ""}), "InvalidParameter")
    assert_400(api.get(f"/workspaces/{ws}/folders", params={"rootFolderId": "x"}), "InvalidParameter")
    assert_400(api.post(f"/workspaces/{ws}/items/{item}/move"), "InvalidRequest")
    assert_400(api.post("/workspaces", json={"displayName": "D", "domainId": "sales"}), "InvalidInput")
    assert_400(api.get(f"/workspaces/{ws}/items", params={"include": "Bogus"}), "InvalidParameter")
    assert_400(api.get(f"/workspaces/{ws}/items/{item}", params={"include": "Bogus"}))
    assert_400(api.get("/workspaces", params={"preferWorkspaceSpecificEndpoints": "notabool"}))
    assert_400(api.get(f"/workspaces/{ws}", params={"preferWorkspaceSpecificEndpoints": "1"}))
    # fabric-cicd moves an item to the workspace root with an empty id: still accepted.
    back = api.post(f"/workspaces/{ws}/items/{item}/move", json={"targetFolderId": ""})
    assert back.status_code == 200
    assert conforms(back) == []


# -- inconsistent ----------------------------------------------------------------------------------
def test_unpadded_base64_is_taken_for_every_part_and_comes_back_padded(api, ws) -> None:
    definition = dataflow_definition("Unpadded", with_platform=True)
    for part in definition["parts"]:
        part["payload"] = part["payload"].rstrip("=")
    assert any(len(p["payload"]) % 4 for p in definition["parts"])
    created = api.post(
        f"/workspaces/{ws}/items",
        json={"displayName": "Unpadded", "type": "Dataflow", "definition": definition},
    )
    assert created.status_code == 201, created.text
    got = api.post(f"/workspaces/{ws}/items/{created.json()['id']}/getDefinition").json()
    assert all(len(p["payload"]) % 4 == 0 for p in got["definition"]["parts"])
    assert json.loads(parts_by_path(got["definition"])["queryMetadata.json"])["name"] == "Unpadded"


def test_a_failed_seed_leaves_nothing_behind(api, control) -> None:
    ws = "0c1d2e3f-0000-4000-8000-0000000000aa"
    items = [{"workspaceId": ws, "displayName": f"Flow {n}"} for n in range(7)]
    items.append({"workspaceId": ws, "displayName": "Flow 0"})  # a name taken: the seed fails
    seeded = control.post(
        "/_emulator/seed",
        json={
            "workspaces": [{"id": ws, "displayName": "Seeded"}],
            "folders": [{"workspaceId": ws, "displayName": "F"}],
            "items": items,
        },
    )
    assert seeded.status_code == 400
    state = control.get("/_emulator/state").json()
    assert (state["workspaces"], state["folders"], state["items"]) == ([], [], [])
    assert control.post(
        "/_emulator/seed", json={"workspaces": [{"id": ws, "displayName": "Seeded"}]}
    ).is_success


# -- missing ---------------------------------------------------------------------------------------
def test_workspace_specific_endpoints_answer_with_an_api_endpoint(api, ws, emulator) -> None:
    plain = api.get(f"/workspaces/{ws}")
    assert "apiEndpoint" not in plain.json()
    prefer = {"preferWorkspaceSpecificEndpoints": "true"}
    got = api.get(f"/workspaces/{ws}", params=prefer)
    listed = api.get("/workspaces", params=prefer)
    assert conforms(got) == conforms(listed) == []
    endpoint = got.json()["apiEndpoint"]
    assert [w["apiEndpoint"] for w in listed.json()["value"]] == [endpoint]
    # The endpoint serves the API.
    again = httpx.get(f"{endpoint}/v1/workspaces/{ws}", headers={"Authorization": "Bearer test-token"})
    assert again.json()["id"] == ws


def test_include_default_identity_adds_it(api, ws) -> None:
    item = create_dataflow(api, ws, "Orders")["id"]
    assert "defaultIdentity" not in api.get(f"/workspaces/{ws}/items/{item}").json()
    one = api.get(f"/workspaces/{ws}/items/{item}", params={"include": "DefaultIdentity"})
    many = api.get(f"/workspaces/{ws}/items", params={"include": "DefaultIdentity"})
    assert conforms(one) == conforms(many) == []
    identity: dict[str, Any] = one.json()["defaultIdentity"]
    assert identity["type"] == "User"
    assert [i["defaultIdentity"] for i in many.json()["value"]] == [identity]


def test_405_names_the_allowed_methods(api, ws) -> None:
    response = api.put(f"/workspaces/{ws}/items")
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["Allow"] == "GET, POST"
    one = api.put(f"/workspaces/{ws}/folders/00000000-0000-4000-8000-000000000001")
    assert set(one.headers["Allow"].split(", ")) == {"GET", "PATCH", "DELETE"}


# -- both queryMetadata.json formats ---------------------------------------------------------------
def test_the_202409_editing_session_shape_is_taken_and_returned_as_sent(api, ws) -> None:
    meta = {
        "formatVersion": "202409",
        "lastModified": "2025-03-01T10:00:00.0000000Z",
        "editingSession": {
            "computeEngineSettings": {},
            "editingSessionMashup": {
                "mashupName": "",
                "queryGroups": [],
                "documentLocale": "en-US",
                "queriesMetadata": {
                    "Orders": {
                        "queryId": "5d8a3c1e-1111-4222-8333-944455556666",
                        "queryName": "Orders",
                        "jsonOutputDestinations": '{"kind":"Lakehouse"}',
                    }
                },
                "connectionOverrides": [],
                "trustedConnections": [],
            },
        },
    }
    text = json.dumps(meta, indent=2)
    definition = dataflow_definition("Old")
    definition["parts"][0]["payload"] = base64.b64encode(text.encode()).decode()
    created = api.post(
        f"/workspaces/{ws}/items",
        json={"displayName": "Old", "type": "Dataflow", "definition": definition},
    )
    assert created.status_code == 201, created.text
    got = api.post(f"/workspaces/{ws}/items/{created.json()['id']}/getDefinition").json()
    assert parts_by_path(got["definition"])["queryMetadata.json"] == text
