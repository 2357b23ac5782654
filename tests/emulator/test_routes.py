"""The emulator over real loopback HTTP: status codes, error bodies and headers, LRO in both modes,
paging, folders, jobs, quota, every fault kind, malformed input."""

from __future__ import annotations

import json

import httpx
import pytest
from emulator_samples import (
    BROKEN_MASHUP,
    GOOD_MASHUP,
    b64,
    dataflow_definition,
    parts_by_path,
    platform,
)


def create_dataflow(api: httpx.Client, ws: str, name: str, **kwargs: object) -> dict:
    response = api.post(
        f"/workspaces/{ws}/items",
        json={
            "displayName": name,
            "type": "Dataflow",
            "definition": dataflow_definition(name, **kwargs),
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errorCode"] == code
    assert body["message"]
    assert response.headers["x-ms-public-api-error-code"] == code
    assert response.headers["RequestId"] == body["requestId"] == response.headers["x-ms-request-id"]
    assert response.headers["content-type"].startswith("application/json")


# -- auth ---------------------------------------------------------------------------------------
def test_missing_token_is_401_token_is_missing(emulator, control) -> None:
    assert_error(httpx.get(emulator.url + "/v1/workspaces"), 401, "TokenIsMissing")


@pytest.mark.parametrize("header", ["Bearer", "Basic abc", "token"])
def test_empty_or_non_bearer_token_is_401_unauthorized(emulator, control, header) -> None:
    response = httpx.get(emulator.url + "/v1/workspaces", headers={"Authorization": header})
    assert_error(response, 401, "Unauthorized")


def test_request_log_has_identity_never_token(api, control, ws) -> None:
    api.get(f"/workspaces/{ws}/items?type=Dataflow")
    log = control.get("/_emulator/requests").json()["value"]
    entry = log[-1]
    assert entry["method"] == "GET"
    assert entry["path"] == f"/v1/workspaces/{ws}/items"
    assert entry["query"] == "type=Dataflow"
    assert entry["status"] == 200
    assert entry["identity"]
    assert "test-token" not in json.dumps(log)
    control.delete("/_emulator/requests")
    assert control.get("/_emulator/requests").json()["value"] == []


# -- workspaces and items -----------------------------------------------------------------------
def test_workspace_create_get_list(api) -> None:
    created = api.post("/workspaces", json={"displayName": "Sales", "description": "d"})
    assert created.status_code == 201
    ws = created.json()
    assert api.get(f"/workspaces/{ws['id']}").json()["displayName"] == "Sales"
    assert ws["capacityId"]
    assert [w["id"] for w in api.get("/workspaces").json()["value"]] == [ws["id"]]
    assert_error(api.get("/workspaces/6f1f2f65-0000-0000-0000-000000000000"), 404, "WorkspaceNotFound")


def test_item_lifecycle(api, ws) -> None:
    item = create_dataflow(api, ws, "Orders")
    assert item["description"] == ""
    assert item["type"] == "Dataflow"
    assert item["workspaceId"] == ws
    assert api.get(f"/workspaces/{ws}/items/{item['id']}").json()["displayName"] == "Orders"
    patched = api.patch(
        f"/workspaces/{ws}/items/{item['id']}", json={"displayName": "Orders 2", "description": "new"}
    )
    assert patched.status_code == 200
    assert patched.json()["displayName"] == "Orders 2"
    assert patched.json()["description"] == "new"
    assert api.delete(f"/workspaces/{ws}/items/{item['id']}?hardDelete=true").status_code == 200
    assert_error(api.get(f"/workspaces/{ws}/items/{item['id']}"), 404, "ItemNotFound")
    assert_error(api.delete(f"/workspaces/{ws}/items/{item['id']}"), 404, "ItemNotFound")


def test_display_names_unique_per_workspace_and_type(api, ws) -> None:
    create_dataflow(api, ws, "Orders")
    again = api.post(f"/workspaces/{ws}/items", json={"displayName": "orders", "type": "Dataflow"})
    assert_error(again, 400, "ItemDisplayNameAlreadyInUse")
    other_type = api.post(f"/workspaces/{ws}/items", json={"displayName": "Orders", "type": "Lakehouse"})
    assert other_type.status_code == 201
    second = create_dataflow(api, ws, "Customers")
    rename = api.patch(f"/workspaces/{ws}/items/{second['id']}", json={"displayName": "Orders"})
    assert_error(rename, 400, "ItemDisplayNameAlreadyInUse")


def test_create_rejects_bad_item_type_and_missing_name(api, ws) -> None:
    assert_error(
        api.post(f"/workspaces/{ws}/items", json={"displayName": "x", "type": "Nope"}),
        400,
        "InvalidItemType",
    )
    assert_error(api.post(f"/workspaces/{ws}/items", json={"type": "Dataflow"}), 400, "InvalidInput")


@pytest.mark.parametrize(
    ("part", "code"),
    [
        (
            {"path": "extra.mdf", "payload": "%%%not base64", "payloadType": "InlineBase64"},
            "CorruptedPayload",
        ),
        (
            {"path": "../evil.pq", "payload": b64("x"), "payloadType": "InlineBase64"},
            "InvalidDefinitionParts",
        ),
        (
            {"path": "/abs.pq", "payload": b64("x"), "payloadType": "InlineBase64"},
            "InvalidDefinitionParts",
        ),
        (
            {"path": "a\\b.pq", "payload": b64("x"), "payloadType": "InlineBase64"},
            "InvalidDefinitionParts",
        ),
    ],
)
def test_bad_parts_are_rejected(api, ws, part, code) -> None:
    definition = dataflow_definition("Bad")
    definition["parts"].append(part)
    response = api.post(
        f"/workspaces/{ws}/items",
        json={"displayName": "Bad", "type": "Dataflow", "definition": definition},
    )
    assert_error(response, 400, code)
    assert api.get(f"/workspaces/{ws}/items").json()["value"] == []


def test_dataflow_definition_needs_both_parts_and_refuses_legacy(api, ws) -> None:
    definition = dataflow_definition("X")
    definition["parts"] = definition["parts"][:1]
    response = api.post(
        f"/workspaces/{ws}/items",
        json={"displayName": "X", "type": "Dataflow", "definition": definition},
    )
    assert_error(response, 400, "MissingDefinitionParts")
    legacy = {
        "parts": [{"path": "dataflow-content.json", "payload": b64("{}"), "payloadType": "InlineBase64"}]
    }
    response = api.post(
        f"/workspaces/{ws}/items", json={"displayName": "X", "type": "Dataflow", "definition": legacy}
    )
    assert_error(response, 400, "InvalidDefinitionParts")


def test_get_definition_always_has_platform_with_stable_logical_id(api, ws) -> None:
    item = create_dataflow(api, ws, "Orders")
    first = api.post(f"/workspaces/{ws}/items/{item['id']}/getDefinition")
    assert first.status_code == 200
    files = parts_by_path(first.json()["definition"])
    assert files["mashup.pq"] == GOOD_MASHUP
    logical = json.loads(files[".platform"])["config"]["logicalId"]
    second = parts_by_path(
        api.post(f"/workspaces/{ws}/items/{item['id']}/getDefinition").json()["definition"]
    )
    assert json.loads(second[".platform"])["config"]["logicalId"] == logical


def test_create_honours_platform_logical_id_and_refuses_a_duplicate(api, ws) -> None:
    logical = "f58d2f83-a300-b135-4788-059683cd571c"
    item = create_dataflow(api, ws, "A", with_platform=True, logical_id=logical)
    files = parts_by_path(
        api.post(f"/workspaces/{ws}/items/{item['id']}/getDefinition").json()["definition"]
    )
    assert json.loads(files[".platform"])["config"]["logicalId"] == logical
    response = api.post(
        f"/workspaces/{ws}/items",
        json={
            "displayName": "B",
            "type": "Dataflow",
            "definition": dataflow_definition("B", with_platform=True, logical_id=logical),
        },
    )
    assert_error(response, 400, "InvalidPlatformFile")


def test_update_definition_replaces_parts_and_uses_platform_only_with_update_metadata(api, ws) -> None:
    item = create_dataflow(api, ws, "Orders")
    url = f"/workspaces/{ws}/items/{item['id']}"
    new_m = GOOD_MASHUP.replace("dev-sql", "test-sql")
    body = {"definition": dataflow_definition("Renamed", new_m, with_platform=True, description="d1")}
    response = api.post(url + "/updateDefinition", json=body)
    assert response.status_code == 200
    assert response.content == b""
    # An empty body is never labelled JSON (fabric-cicd would try to parse it).
    assert response.headers["content-type"] == "application/octet-stream"
    assert api.get(url).json()["displayName"] == "Orders"
    assert parts_by_path(api.post(url + "/getDefinition").json()["definition"])["mashup.pq"] == new_m
    response = api.post(url + "/updateDefinition?updateMetadata=true", json=body)
    assert response.status_code == 200
    assert api.get(url).json() | {} == api.get(url).json()
    got = api.get(url).json()
    assert (got["displayName"], got["description"]) == ("Renamed", "d1")


def test_dataflows_routes_share_the_item_store(api, ws) -> None:
    created = api.post(
        f"/workspaces/{ws}/dataflows",
        json={"displayName": "Via dataflows", "definition": dataflow_definition("Via dataflows")},
    )
    assert created.status_code == 201
    lake = api.post(f"/workspaces/{ws}/items", json={"displayName": "Lake", "type": "Lakehouse"}).json()
    listed = api.get(f"/workspaces/{ws}/items", params={"type": "Dataflow"}).json()["value"]
    assert [i["id"] for i in listed] == [created.json()["id"]]
    assert [i["id"] for i in api.get(f"/workspaces/{ws}/dataflows").json()["value"]] == [
        created.json()["id"]
    ]
    assert_error(api.get(f"/workspaces/{ws}/dataflows/{lake['id']}"), 404, "ItemNotFound")
    got = api.post(f"/workspaces/{ws}/dataflows/{created.json()['id']}/getDefinition")
    assert ".platform" in parts_by_path(got.json()["definition"])


def test_parameter_discovery(api, ws) -> None:
    item = create_dataflow(api, ws, "Param")
    response = api.get(f"/workspaces/{ws}/dataflows/{item['id']}/parameters")
    assert response.status_code == 200
    assert response.json()["value"] == [
        {
            "name": "ServerName",
            "type": "String",
            "isRequired": True,
            "description": "",
            "defaultValue": "dev-sql.example.net",
        }
    ]
    plain = create_dataflow(api, ws, "Plain", mashup="section Section1;\nshared A = 1;\n")
    assert_error(
        api.get(f"/workspaces/{ws}/dataflows/{plain['id']}/parameters"),
        400,
        "DataflowNotParametricError",
    )


# -- LRO ----------------------------------------------------------------------------------------
def test_lro_create_then_poll_then_result(api, control, ws, emulator) -> None:
    control.post("/_emulator/config", json={"lro": "always", "lroPolls": 1})
    response = api.post(
        f"/workspaces/{ws}/items",
        json={"displayName": "Async", "type": "Dataflow", "definition": dataflow_definition("Async")},
    )
    assert response.status_code == 202
    assert response.content == b""
    op_id = response.headers["x-ms-operation-id"]
    assert response.headers["Location"] == f"{emulator.url}/v1/operations/{op_id}"
    assert int(response.headers["Retry-After"]) >= 0
    running = httpx.get(response.headers["Location"], headers=api.headers)
    assert running.json()["status"] == "Running"
    assert running.headers["Location"] == response.headers["Location"]
    done = api.get(f"{emulator.url}/operations/{op_id}")  # the spec's examples omit /v1
    assert done.json()["status"] == "Succeeded"
    assert done.json()["percentComplete"] == 100
    assert done.headers["Location"] == f"{emulator.url}/v1/operations/{op_id}/result"
    result = httpx.get(done.headers["Location"], headers=api.headers)
    assert result.status_code == 200
    assert result.json()["displayName"] == "Async"


def test_lro_update_definition_has_no_result(api, control, ws) -> None:
    item = create_dataflow(api, ws, "Orders")
    control.post("/_emulator/config", json={"lro": "always", "lroPolls": 0})
    response = api.post(
        f"/workspaces/{ws}/items/{item['id']}/updateDefinition",
        json={"definition": dataflow_definition("Orders", "section S;\nshared B = 2;")},
    )
    assert response.status_code == 202
    state = api.get(response.headers["Location"])
    assert state.json()["status"] == "Succeeded"
    assert "Location" not in state.headers
    assert_error(api.get(response.headers["Location"] + "/result"), 400, "OperationHasNoResult")
    assert_error(api.get("/operations/0a7c2f0e-0000-4000-8000-000000000000"), 404, "OperationNotFound")


def test_lro_get_definition_result(api, control, ws) -> None:
    item = create_dataflow(api, ws, "Orders")
    control.post("/_emulator/config", json={"lro": "always", "lroPolls": 0})
    response = api.post(f"/workspaces/{ws}/items/{item['id']}/getDefinition")
    assert response.status_code == 202
    done = api.get(response.headers["Location"])
    result = api.get(done.headers["Location"])
    assert parts_by_path(result.json()["definition"])["mashup.pq"] == GOOD_MASHUP


# -- paging -------------------------------------------------------------------------------------
def test_paging_with_both_continuation_forms(api, control, ws) -> None:
    control.post("/_emulator/config", json={"pageSize": 2})
    for n in range(12):  # offsets of two digits: base64 padding that the body URL-encodes
        create_dataflow(api, ws, f"DF {n:02}")
    api.post(f"/workspaces/{ws}/items", json={"displayName": "Lake", "type": "Lakehouse"})
    first = api.get(f"/workspaces/{ws}/items", params={"type": "Dataflow"}).json()
    assert len(first["value"]) == 2
    assert "type=Dataflow" in first["continuationUri"]
    names = [i["displayName"] for i in first["value"]]
    body = first
    while "continuationUri" in body:
        body = httpx.get(body["continuationUri"], headers=api.headers).json()
        names += [i["displayName"] for i in body["value"]]
    assert names == [f"DF {n:02}" for n in range(12)]
    assert "continuationToken" not in body
    by_token, raw, token, tokens = [], [], None, []
    while True:
        params = {"type": "Dataflow"} | ({"continuationToken": token} if token else {})
        page = api.get(f"/workspaces/{ws}/items", params=params).json()
        by_token += [i["displayName"] for i in page["value"]]
        token = page.get("continuationToken")
        if not token:
            break
        tokens.append(token)
        # As the docs show it: the body's (already URL-encoded) token pasted into the URL.
        pasted = api.get(f"/workspaces/{ws}/items?type=Dataflow&continuationToken={token}").json()
        raw += [i["displayName"] for i in pasted["value"]]
        token = httpx.QueryParams(f"t={token}")["t"]  # the body carries it URL-encoded
    assert by_token == names
    assert raw == names[2:]
    assert any("%3D" in t for t in tokens)


def test_bad_continuation_token(api, ws) -> None:
    response = api.get(f"/workspaces/{ws}/items", params={"continuationToken": "LDEsMTAwMDAwLDA="})
    assert_error(response, 400, "InvalidContinuationToken")


# -- folders ------------------------------------------------------------------------------------
def test_folders_and_move(api, ws) -> None:
    folder = api.post(f"/workspaces/{ws}/folders", json={"displayName": "Sales"})
    assert folder.status_code == 201
    fid = folder.json()["id"]
    item = api.post(
        f"/workspaces/{ws}/items", json={"displayName": "A", "type": "Dataflow", "folderId": ""}
    ).json()
    assert "folderId" not in item
    moved = api.post(f"/workspaces/{ws}/items/{item['id']}/move", json={"targetFolderId": fid})
    assert moved.status_code == 200
    assert moved.json()["value"][0]["folderId"] == fid
    root_only = api.get(f"/workspaces/{ws}/items", params={"recursive": "false"}).json()["value"]
    assert root_only == []
    in_folder = api.get(f"/workspaces/{ws}/items", params={"rootFolderId": fid}).json()["value"]
    assert [i["id"] for i in in_folder] == [item["id"]]
    assert_error(api.delete(f"/workspaces/{ws}/folders/{fid}"), 400, "FolderNotEmpty")
    api.post(f"/workspaces/{ws}/items/{item['id']}/move", json={"targetFolderId": ""})
    assert api.delete(f"/workspaces/{ws}/folders/{fid}").status_code == 200
    assert api.get(f"/workspaces/{ws}/folders").json()["value"] == []
    assert_error(
        api.post(f"/workspaces/{ws}/items/{item['id']}/move", json={"targetFolderId": fid}),
        404,
        "FolderNotFound",
    )


# -- jobs ---------------------------------------------------------------------------------------
def run(api: httpx.Client, url: str) -> httpx.Response:
    response = api.post(url)
    assert response.status_code == 202, response.text
    assert response.content == b""
    assert "x-ms-operation-id" not in response.headers
    return response


def test_job_run_get_list(api, ws, emulator) -> None:
    item = create_dataflow(api, ws, "Orders")
    base = f"/workspaces/{ws}/items/{item['id']}/jobs"
    response = run(api, base + "/Execute/instances")
    location = response.headers["Location"]
    assert location.startswith(f"{emulator.url}/v1/workspaces/{ws}/items/{item['id']}/jobs/instances/")
    job = httpx.get(location, headers=api.headers).json()
    assert job["status"] == "Completed"
    assert job["jobType"] == "Execute"
    assert job["failureReason"] is None
    assert job["endTimeUtc"]
    assert not job["endTimeUtc"].endswith("Z")
    run(api, base + "/instances?jobType=refresh")
    run(api, f"/workspaces/{ws}/dataflows/{item['id']}/jobs/applyChanges/instances")
    listed = api.get(base + "/instances").json()["value"]
    assert sorted(j["jobType"] for j in listed) == ["ApplyChanges", "Execute", "Execute"]


def test_bad_job_type(api, ws) -> None:
    item = create_dataflow(api, ws, "Orders")
    assert_error(
        api.post(f"/workspaces/{ws}/items/{item['id']}/jobs/Nope/instances"), 400, "InvalidJobType"
    )
    assert_error(api.post(f"/workspaces/{ws}/items/{item['id']}/jobs/instances"), 400, "InvalidJobType")


def test_job_cancel_and_already_completed(api, control, ws) -> None:
    item = create_dataflow(api, ws, "Orders")
    control.post("/_emulator/config", json={"jobDurationS": 600})
    location = run(api, f"/workspaces/{ws}/items/{item['id']}/jobs/Execute/instances").headers[
        "Location"
    ]
    assert api.get(location).json()["status"] == "InProgress"
    assert api.get(location).json()["endTimeUtc"] is None
    cancel = api.post(location + "/cancel")
    assert cancel.status_code == 202
    assert cancel.headers["Location"] == location
    assert api.get(location).json()["status"] == "Cancelled"
    assert_error(api.post(location + "/cancel"), 409, "JobAlreadyCompleted")
    second = run(api, f"/workspaces/{ws}/items/{item['id']}/jobs/Execute/instances").headers["Location"]
    control.post("/_emulator/clock", json={"advanceSeconds": 601})
    assert api.get(second).json()["status"] == "Completed"
    assert_error(api.post(second + "/cancel"), 409, "JobAlreadyCompleted")


def test_apply_changes_fails_on_broken_mashup(api, ws) -> None:
    item = create_dataflow(api, ws, "Broken", mashup=BROKEN_MASHUP)
    location = run(api, f"/workspaces/{ws}/dataflows/{item['id']}/jobs/applyChanges/instances")
    job = api.get(location.headers["Location"]).json()
    assert job["status"] == "Failed"
    assert job["jobType"] == "ApplyChanges"
    assert job["failureReason"]["errorCode"] == "DataflowInvalidMashupDocument"
    good = create_dataflow(api, ws, "Good")
    ok = run(api, f"/workspaces/{ws}/dataflows/{good['id']}/jobs/applyChanges/instances")
    assert api.get(ok.headers["Location"]).json()["status"] == "Completed"


def test_configured_job_outcome_failed(api, control, ws) -> None:
    item = create_dataflow(api, ws, "Orders")
    control.post("/_emulator/config", json={"jobOutcome": "Failed"})
    location = run(api, f"/workspaces/{ws}/items/{item['id']}/jobs/Execute/instances").headers[
        "Location"
    ]
    job = api.get(location).json()
    assert job["status"] == "Failed"
    assert job["failureReason"]["errorCode"]


# -- quota and faults ---------------------------------------------------------------------------
def test_quota_per_identity_with_retry_after(api, control, emulator) -> None:
    control.post("/_emulator/config", json={"quotaPerMinute": 3})
    assert [api.get("/workspaces").status_code for _ in range(3)] == [200, 200, 200]
    throttled = api.get("/workspaces")
    assert_error(throttled, 429, "TooManyRequests")
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    other = httpx.get(emulator.url + "/v1/workspaces", headers={"Authorization": "Bearer someone-else"})
    assert other.status_code == 200
    control.post("/_emulator/clock", json={"advanceSeconds": 60})
    assert api.get("/workspaces").status_code == 200


def test_status_fault_then_recovery(api, control, ws) -> None:
    control.post(
        "/_emulator/faults",
        json={"kind": "status", "status": 503, "method": "GET", "path": "/items$", "count": 2},
    )
    assert_error(api.get(f"/workspaces/{ws}/items"), 503, "ServiceUnavailable")
    assert (
        api.post(f"/workspaces/{ws}/items", json={"displayName": "A", "type": "Dataflow"}).status_code
        == 201
    )
    assert api.get(f"/workspaces/{ws}/items").status_code == 503
    assert api.get(f"/workspaces/{ws}/items").status_code == 200
    assert control.get("/_emulator/faults").json()["value"] == []


def test_throttle_fault(api, control) -> None:
    control.post("/_emulator/faults", json={"kind": "throttle", "retryAfter": 7})
    response = api.get("/workspaces")
    assert_error(response, 429, "TooManyRequests")
    assert response.headers["Retry-After"] == "7"


def test_drop_fault_closes_the_connection(api, control) -> None:
    control.post("/_emulator/faults", json={"kind": "drop", "path": "/workspaces$"})
    with pytest.raises(httpx.TransportError):
        api.get("/workspaces")
    assert api.get("/workspaces").status_code == 200
    dropped = control.get("/_emulator/requests").json()["value"][-2]
    assert dropped["status"] == 0
    assert dropped["identity"].startswith("anon-")


def test_token_expired_fault(api, control) -> None:
    control.post("/_emulator/faults", json={"kind": "token_expired"})
    assert_error(api.get("/workspaces"), 401, "TokenExpired")
    assert api.get("/workspaces").status_code == 200


def test_lro_fail_fault_leaves_store_untouched(api, control, ws) -> None:
    control.post(
        "/_emulator/faults",
        json={"kind": "lro_fail", "method": "POST", "path": "/items$", "errorCode": "CapacityNotActive"},
    )
    control.post("/_emulator/config", json={"lroPolls": 0})
    response = api.post(f"/workspaces/{ws}/items", json={"displayName": "A", "type": "Dataflow"})
    assert response.status_code == 202  # the fault forces an LRO even in lro=never mode
    state = api.get(response.headers["Location"]).json()
    assert state["status"] == "Failed"
    assert state["error"]["errorCode"] == "CapacityNotActive"
    assert api.get(f"/workspaces/{ws}/items").json()["value"] == []


def test_lro_stuck_fault(api, control, ws) -> None:
    control.post("/_emulator/faults", json={"kind": "lro_stuck"})
    response = api.post(f"/workspaces/{ws}/items", json={"displayName": "A", "type": "Dataflow"})
    for _ in range(5):
        polled = api.get(response.headers["Location"])
        assert polled.json()["status"] == "Running"
        assert polled.headers["Location"]


def test_probability_fault_and_rule_management(api, control) -> None:
    rule = control.post(
        "/_emulator/faults", json={"kind": "status", "status": 500, "count": None, "probability": 1.0}
    ).json()
    assert [api.get("/workspaces").status_code for _ in range(3)] == [500, 500, 500]
    assert control.delete(f"/_emulator/faults/{rule['id']}").status_code == 200
    assert api.get("/workspaces").status_code == 200
    bad = control.post("/_emulator/faults", json={"kind": "explode"})
    assert_error(bad, 400, "InvalidRequest")


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [b"{not json", b"[1, 2", b"\xff\xfe"])
def test_malformed_json_is_400_not_500(api, ws, body) -> None:
    response = api.post(
        f"/workspaces/{ws}/items", content=body, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "InvalidRequest")


def test_non_object_body_is_400(api, ws) -> None:
    assert_error(api.post(f"/workspaces/{ws}/items", json=[1, 2]), 400, "InvalidRequest")
    assert_error(
        api.post(
            f"/workspaces/{ws}/items",
            json={"displayName": "x", "type": "Dataflow", "definition": "nope"},
        ),
        400,
        "InvalidDefinitionParts",
    )


def test_unknown_route_and_method(api) -> None:
    assert_error(api.get("/nothing/here"), 404, "EntityNotFound")
    assert_error(api.put("/workspaces"), 405, "MethodNotAllowed")


def test_platform_display_name_conflict_on_update_metadata(api, ws) -> None:
    create_dataflow(api, ws, "Taken")
    item = create_dataflow(api, ws, "Mine")
    body = {"definition": dataflow_definition("Taken", with_platform=True)}
    response = api.post(
        f"/workspaces/{ws}/items/{item['id']}/updateDefinition?updateMetadata=true", json=body
    )
    assert_error(response, 400, "ItemDisplayNameAlreadyInUse")
    assert platform("x")  # helper stays importable for other tests


def test_lro_mode_per_route(api, control, ws) -> None:
    control.post("/_emulator/config", json={"lro": "never", "lroRoutes": {"/getDefinition$": "always"}})
    item = create_dataflow(api, ws, "Orders")  # created synchronously
    assert api.post(f"/workspaces/{ws}/items/{item['id']}/getDefinition").status_code == 202
    bad = control.post("/_emulator/config", json={"lroRoutes": {"(": "always"}})
    assert_error(bad, 400, "InvalidParameter")
    assert control.get("/_emulator/config").json()["lroRoutes"] == {"/getDefinition$": "always"}


def test_retriable_errors_say_so(api, control, ws) -> None:
    control.post("/_emulator/faults", json={"kind": "status", "status": 500})
    assert api.get("/workspaces").json()["isRetriable"] is True
    assert "isRetriable" not in api.get(f"/workspaces/{ws}/items/{ws}").json()


def test_reset_restores_startup_knobs_and_clears_everything(api, control, ws) -> None:
    control.post("/_emulator/config", json={"lro": "always", "pageSize": 1})
    control.post("/_emulator/faults", json={"kind": "drop", "path": "/never-called"})
    control.post("/_emulator/reset")
    assert control.get("/_emulator/config").json()["lro"] == "never"
    assert control.get("/_emulator/config").json()["pageSize"] == 100
    assert control.get("/_emulator/faults").json()["value"] == []
    assert_error(api.get(f"/workspaces/{ws}"), 404, "WorkspaceNotFound")


def test_job_parameters_must_be_public_parameters(api, ws) -> None:
    item = create_dataflow(api, ws, "Param")
    base = f"/workspaces/{ws}/items/{item['id']}/jobs/Execute/instances"
    ok = api.post(base, json={"parameters": [{"name": "ServerName", "type": "Automatic", "value": "x"}]})
    assert ok.status_code == 202
    dataflow_route = f"/workspaces/{ws}/dataflows/{item['id']}/jobs/execute/instances"
    body = {
        "executionData": {
            "executeOption": "ApplyChangesIfNeeded",
            "parameters": [{"parameterName": "Nope", "type": "Automatic", "value": 1}],
        }
    }
    unknown = api.post(dataflow_route, json=body)
    assert_error(unknown, 400, "InvalidParameter")
    assert "ServerName" in unknown.json()["message"]
    twice = [
        {"name": "ServerName", "type": "Automatic", "value": "a"},
        {"name": "servername", "type": "Automatic", "value": "b"},
    ]
    assert_error(api.post(base, json={"parameters": twice}), 400, "InvalidParameter")
    assert_error(api.post(base, json={"parameters": "x"}), 400, "InvalidRequest")
    lake = api.post(f"/workspaces/{ws}/items", json={"displayName": "L", "type": "Lakehouse"}).json()
    not_allowed = api.post(
        f"/workspaces/{ws}/items/{lake['id']}/jobs/DefaultJob/instances",
        json={"parameters": [{"name": "a", "type": "Text", "value": "b"}]},
    )
    assert_error(not_allowed, 403, "FeatureNotAvailable")
    assert len(api.get(f"/workspaces/{ws}/items/{item['id']}/jobs/instances").json()["value"]) == 1


def test_workspace_role_filter(api, ws) -> None:
    assert [
        w["id"] for w in api.get("/workspaces", params={"roles": "Admin,Viewer"}).json()["value"]
    ] == [ws]
    assert_error(api.get("/workspaces", params={"roles": "Admin,Owner"}), 400, "InvalidParameter")


def test_job_not_started_then_in_progress_then_completed(api, control, ws) -> None:
    item = create_dataflow(api, ws, "Orders")
    control.post("/_emulator/config", json={"jobStartDelayS": 5, "jobDurationS": 10})
    location = run(api, f"/workspaces/{ws}/items/{item['id']}/jobs/Execute/instances").headers[
        "Location"
    ]
    seen = []
    for step in (0, 5, 10):
        control.post("/_emulator/clock", json={"advanceSeconds": step})
        seen.append(api.get(location).json()["status"])
    assert seen == ["NotStarted", "InProgress", "Completed"]
