"""FabricClient endpoint methods: request shapes, jobs, and the lost-create guard."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from fabric_fakes import API, V1, FakeTime, Server, Tokens, error, raises

from dataflow_gitops.errors import BadRequest, FabricError, OperationTimeout, TransportError
from dataflow_gitops.fabric.client import FabricClient
from dataflow_gitops.fabric.jobs import instance_id_from_location, newest_instance

ITEMS = "/v1/workspaces/ws/items"
ITEM = {"id": "i1", "displayName": "Sales", "type": "Dataflow", "description": "", "workspaceId": "ws"}
JOBS = f"{ITEMS}/i1/jobs/instances"


def body(request: httpx.Request) -> object:
    return json.loads(request.content) if request.content else None


def test_create_item_sends_the_request_shape(server: Server, client: FabricClient) -> None:
    server.on("POST", ITEMS, httpx.Response(201, json=ITEM))
    parts = [{"path": "mashup.pq", "payload": "eA==", "payloadType": "InlineBase64"}]
    assert (
        client.create_item(
            "ws",
            display_name="Sales",
            type="Dataflow",
            description="d",
            definition={"parts": parts},
            folder_id="f1",
        )
        == ITEM
    )
    assert body(server.requests[0]) == {
        "displayName": "Sales",
        "type": "Dataflow",
        "description": "d",
        "definition": {"parts": parts},
        "folderId": "f1",
    }


def test_update_get_and_delete_item(server: Server, client: FabricClient) -> None:
    server.on("PATCH", f"{ITEMS}/i1", httpx.Response(200, json={**ITEM, "displayName": "New"}))
    server.on("GET", f"{ITEMS}/i1", httpx.Response(200, json=ITEM))
    server.on("DELETE", f"{ITEMS}/i1", httpx.Response(200))
    assert client.update_item("ws", "i1", display_name="New")["displayName"] == "New"
    assert body(server.requests[0]) == {"displayName": "New"}
    assert client.get_item("ws", "i1") == ITEM
    client.delete_item("ws", "i1")
    client.delete_item("ws", "i1", hard=True)
    assert "hardDelete" not in server.requests[2].url.params
    assert server.requests[3].url.params["hardDelete"] == "true"


def test_create_workspace(server: Server, client: FabricClient) -> None:
    server.on("POST", "/v1/workspaces", httpx.Response(201, json={"id": "w9", "displayName": "Dev"}))
    assert client.create_workspace("Dev")["id"] == "w9"


def test_lost_create_answer_finds_the_created_item(
    server: Server, client: FabricClient, fake_time: FakeTime
) -> None:
    server.on("POST", ITEMS, raises(httpx.ReadError))
    server.on("GET", ITEMS, httpx.Response(200, json={"value": [ITEM]}))
    assert client.create_item("ws", display_name="Sales", type="Dataflow") == ITEM
    assert server.count("POST", ITEMS) == 1
    assert server.requests[1].url.params["type"] == "Dataflow"


def test_lost_create_answer_retries_when_nothing_was_created(
    server: Server, client: FabricClient, fake_time: FakeTime
) -> None:
    server.on(
        "POST",
        ITEMS,
        raises(httpx.RemoteProtocolError),
        error(500, "InternalServerError"),
        httpx.Response(201, json=ITEM),
    )
    server.on("GET", ITEMS, httpx.Response(200, json={"value": [{**ITEM, "displayName": "Other"}]}))
    assert client.create_item("ws", display_name="Sales", type="Dataflow") == ITEM
    assert server.count("POST", ITEMS) == 3
    assert server.count("GET", ITEMS) == 2
    assert len(fake_time.sleeps) == 2


def test_create_refused_connection_is_retried_without_lookup(
    server: Server, client: FabricClient
) -> None:
    server.on(
        "POST",
        ITEMS,
        raises(httpx.ConnectError),
        error(429, "TooManyRequests"),
        httpx.Response(201, json=ITEM),
    )
    assert client.create_item("ws", display_name="Sales", type="Dataflow") == ITEM
    assert server.count("GET", ITEMS) == 0


def test_name_taken_after_a_lost_attempt_means_ours(server: Server, client: FabricClient) -> None:
    listing = iter([{"value": []}, {"value": [ITEM]}])
    server.on("POST", ITEMS, raises(httpx.ReadTimeout), error(400, "ItemDisplayNameAlreadyInUse"))
    server.on("GET", ITEMS, lambda request: httpx.Response(200, json=next(listing)))
    assert client.create_item("ws", display_name="Sales", type="Dataflow") == ITEM


def test_name_taken_on_a_first_attempt_is_an_error(server: Server, client: FabricClient) -> None:
    server.on("POST", ITEMS, error(400, "ItemDisplayNameAlreadyInUse"))
    server.on("GET", ITEMS, httpx.Response(200, json={"value": [ITEM]}))
    with pytest.raises(BadRequest):
        client.create_item("ws", display_name="Sales", type="Dataflow")
    assert server.count("GET", ITEMS) == 0


def test_lost_creates_are_bounded(server: Server, make_client) -> None:
    server.on("POST", ITEMS, raises(httpx.ReadError))
    server.on("GET", ITEMS, httpx.Response(200, json={"value": []}))
    client = make_client(max_retries=2)
    with pytest.raises(TransportError, match="after 3 attempts"):
        client.create_item("ws", display_name="Sales", type="Dataflow")
    assert server.count("POST", ITEMS) == 3


def test_run_job_returns_the_instance_id_from_location(server: Server, client: FabricClient) -> None:
    server.on(
        "POST",
        f"{ITEMS}/i1/jobs/ApplyChanges/instances",
        httpx.Response(202, headers={"Location": f"{V1}{JOBS}/job-7", "Retry-After": "60"}),
    )
    assert client.run_job("ws", "i1", "ApplyChanges") == "job-7"
    assert server.requests[0].content == b""


def test_run_job_sends_execution_data_and_parameters(server: Server, client: FabricClient) -> None:
    server.on(
        "POST",
        f"{ITEMS}/i1/jobs/Execute/instances",
        httpx.Response(202, headers={"Location": f"{V1}{JOBS}/job-8"}),
    )
    data = {"executeOption": "ApplyChangesIfNeeded"}
    params = [{"name": "OrderKey", "type": "Automatic", "value": 25}]
    client.run_job("ws", "i1", "Execute", execution_data=data, parameters=params)
    assert body(server.requests[0]) == {"executionData": data, "parameters": params}


def test_run_job_without_id_in_location_takes_the_newest(server: Server, client: FabricClient) -> None:
    server.on(
        "POST",
        f"{ITEMS}/i1/jobs/Execute/instances",
        httpx.Response(202, headers={"Location": f"{V1}{JOBS}?jobType=Execute"}),
    )
    server.on(
        "GET",
        JOBS,
        httpx.Response(
            200,
            json={
                "value": [
                    {"id": "old", "jobType": "Execute", "startTimeUtc": "2026-01-01T00:00:00"},
                    {"id": "other", "jobType": "ApplyChanges", "startTimeUtc": None},
                    {"id": "new", "jobType": "Refresh", "startTimeUtc": "2026-01-02T00:00:00"},
                ]
            },
        ),
    )
    assert client.run_job("ws", "i1", "Execute") == "new"


def test_run_job_with_a_lost_answer_is_not_replayed(server: Server, client: FabricClient) -> None:
    server.on("POST", f"{ITEMS}/i1/jobs/Execute/instances", raises(httpx.ReadError))
    with pytest.raises(TransportError, match="lost"):
        client.run_job("ws", "i1", "Execute")
    assert len(server.requests) == 1


def test_wait_job_polls_until_terminal(
    server: Server, client: FabricClient, fake_time: FakeTime
) -> None:
    running = {"id": "j", "status": "InProgress"}
    server.on(
        "GET",
        f"{JOBS}/j",
        httpx.Response(200, json={"id": "j", "status": "NotStarted"}, headers={"Retry-After": "7"}),
        httpx.Response(200, json=running, headers={"Retry-After": "5"}),
        httpx.Response(
            200,
            json={"id": "j", "status": "Failed", "failureReason": {"errorCode": "X", "message": "m"}},
        ),
    )
    polls: list[str] = []
    final = client.wait_job("ws", "i1", "j", timeout_s=100, on_poll=lambda i: polls.append(i["status"]))
    assert final["status"] == "Failed"
    assert polls == ["NotStarted", "InProgress", "Failed"]
    assert fake_time.sleeps == [7.0, 5.0]


def test_wait_job_times_out(server: Server, client: FabricClient) -> None:
    server.on(
        "GET",
        f"{JOBS}/j",
        httpx.Response(200, json={"id": "j", "status": "InProgress"}, headers={"Retry-After": "30"}),
    )
    with pytest.raises(OperationTimeout):
        client.wait_job("ws", "i1", "j", timeout_s=100)
    assert server.count("GET", f"{JOBS}/j") == 4


def test_get_and_cancel_job(server: Server, client: FabricClient) -> None:
    server.on("GET", f"{JOBS}/j", httpx.Response(200, json={"id": "j", "status": "Completed"}))
    server.on("POST", f"{JOBS}/j/cancel", httpx.Response(202, headers={"Location": f"{V1}{JOBS}/j"}))
    assert client.get_job("ws", "i1", "j")["status"] == "Completed"
    client.cancel_job("ws", "i1", "j")
    assert server.count("POST", f"{JOBS}/j/cancel") == 1


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (f"{V1}{JOBS}/abc", "abc"),
        (f"{V1}{JOBS}/abc/", "abc"),
        (f"{V1}{JOBS}?jobType=Execute", None),
        (None, None),
    ],
)
def test_instance_id_from_location(location: str | None, expected: str | None) -> None:
    assert instance_id_from_location(location) == expected


def test_newest_instance_prefers_unstarted() -> None:
    jobs = [
        {"id": "a", "jobType": "Execute", "startTimeUtc": "2026-05-01T00:00:00"},
        {"id": "b", "jobType": "execute", "startTimeUtc": None},
    ]
    assert newest_instance(jobs, "Execute") == jobs[1]
    assert newest_instance(jobs, "ApplyChanges") is None


def test_get_definition_without_parts_is_an_error(server: Server, client: FabricClient) -> None:
    server.on("POST", f"{ITEMS}/i1/getDefinition", httpx.Response(200, json={}))
    with pytest.raises(FabricError, match="no definition parts"):
        client.get_definition("ws", "i1")


def test_clients_of_one_identity_share_the_throttle_by_default(fake_time: FakeTime) -> None:
    """Without an injected throttle, the module registry links clients of the same identity."""
    hits: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hits.append(request.url.path)
        if request.url.path.endswith("/a"):
            return error(429, "TooManyRequests", **{"Retry-After": "40"})
        return httpx.Response(200, json={})

    identity = Tokens().identity  # unique per test run
    opts = {
        "transport": httpx.MockTransport(handler),
        "sleep": fake_time.sleep,
        "clock": fake_time.clock,
    }
    with (
        FabricClient(API, Tokens(identity=identity), max_retries=0, **opts) as first,
        FabricClient(API, Tokens(identity=identity), **opts) as second,
    ):
        with pytest.raises(FabricError):
            first.get_workspace("a")
        second.get_workspace("b")
    assert sum(fake_time.sleeps) >= 40


def test_create_waits_while_a_deleted_name_is_still_reserved(
    server: Server,
    client: FabricClient,
    fake_time: FakeTime,
    status_lines: list[logging.LogRecord],
) -> None:
    server.on(
        "POST",
        ITEMS,
        error(400, "ItemDisplayNameNotAvailableYet"),
        error(400, "ItemDisplayNameNotAvailableYet"),
        httpx.Response(201, json=ITEM),
    )
    assert client.create_item("ws", display_name="Sales", type="Dataflow") == ITEM
    assert server.count("POST", ITEMS) == 3
    assert len(fake_time.sleeps) == 2
    assert fake_time.sleeps[1] > fake_time.sleeps[0]
    # The one retry loop's status line; bounded by name_wait_s alone, so no "n/max".
    assert [r.getMessage() for r in status_lines] == [
        f"Fabric: the name is still reserved by a deleted item — retry {n} in {wait} s"
        for n, wait in ((1, "0.2"), (2, "0.5"))
    ]


def test_reserved_name_wait_is_bounded_by_name_wait_s(
    server: Server, make_client, fake_time: FakeTime
) -> None:
    server.on("POST", ITEMS, error(400, "ItemDisplayNameNotAvailableYet"))
    client = make_client(name_wait_s=20)
    with pytest.raises(BadRequest) as caught:
        client.create_item("ws", display_name="Sales", type="Dataflow")
    assert caught.value.error_code == "ItemDisplayNameNotAvailableYet"
    assert 0 < sum(fake_time.sleeps) <= 20
    assert server.count("POST", ITEMS) == len(fake_time.sleeps) + 1 > 2


def test_default_reserved_name_wait_is_300_seconds(
    server: Server, client: FabricClient, fake_time: FakeTime
) -> None:
    server.on("POST", ITEMS, error(400, "ItemDisplayNameNotAvailableYet"))
    with pytest.raises(BadRequest):
        client.create_item("ws", display_name="Sales", type="Dataflow")
    assert 240 < sum(fake_time.sleeps) <= 300


def test_rename_waits_while_the_new_name_is_reserved(
    server: Server, client: FabricClient, fake_time: FakeTime
) -> None:
    server.on(
        "PATCH",
        f"{ITEMS}/i1",
        error(400, "ItemDisplayNameNotAvailableYet"),
        httpx.Response(200, json={**ITEM, "displayName": "New"}),
    )
    assert client.update_item("ws", "i1", display_name="New")["displayName"] == "New"
    assert server.count("PATCH", f"{ITEMS}/i1") == 2
    assert len(fake_time.sleeps) == 1


def test_other_bad_requests_are_not_waited_for(
    server: Server, client: FabricClient, fake_time: FakeTime
) -> None:
    server.on("POST", ITEMS, error(400, "InvalidDefinitionParts"))
    with pytest.raises(BadRequest):
        client.create_item("ws", display_name="Sales", type="Dataflow")
    assert server.count("POST", ITEMS) == 1
    assert fake_time.sleeps == []
