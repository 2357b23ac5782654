"""Long-running operations: 202 → poll → result, Failed, timeout, Undefined, no result."""

from __future__ import annotations

import httpx
import pytest
from fabric_fakes import V1, FakeTime, Server

from dataflow_gitops.errors import FabricError, OperationFailed, OperationTimeout
from dataflow_gitops.fabric.client import FabricClient

ITEM = "/v1/workspaces/ws/items/it1"
GETDEF = f"{ITEM}/getDefinition"
UPDDEF = f"{ITEM}/updateDefinition"
OP = "/v1/operations/op1"
PARTS = [{"path": "mashup.pq", "payload": "c2VjdGlvbiBTZWN0aW9uMTs=", "payloadType": "InlineBase64"}]


def accepted(
    retry_after: str | None = "2", location: str | None = f"{V1}/operations/op1"
) -> httpx.Response:
    headers = {"x-ms-operation-id": "op1"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    if location is not None:
        headers["Location"] = location
    return httpx.Response(202, headers=headers)


def state(
    status: str,
    *,
    location: str | None = None,
    retry_after: str | None = "3",
    error: dict[str, object] | None = None,
) -> httpx.Response:
    headers = {"x-ms-operation-id": "op1"}
    if location:
        headers["Location"] = location
    if retry_after:
        headers["Retry-After"] = retry_after
    body: dict[str, object] = {
        "status": status,
        "createdTimeUtc": "2026-01-01T00:00:00Z",
        "lastUpdatedTimeUtc": "2026-01-01T00:00:01Z",
    }
    if error:
        body["error"] = error
    return httpx.Response(200, json=body, headers=headers)


def test_synchronous_answer_needs_no_polling(server: Server, client: FabricClient) -> None:
    server.on("POST", GETDEF, httpx.Response(200, json={"definition": {"parts": PARTS}}))
    assert client.get_definition("ws", "it1") == PARTS
    assert len(server.requests) == 1


def test_202_is_polled_until_succeeded_and_the_result_fetched(
    server: Server, client: FabricClient, fake_time: FakeTime
) -> None:
    server.on("POST", GETDEF, accepted(retry_after="2"))
    server.on(
        "GET",
        OP,
        state("NotStarted", location=f"{V1}/operations/op1"),
        state("Running", location=f"{V1}/operations/op1", retry_after="4"),
        state("Succeeded", location=f"{V1}/operations/op1/result"),
    )
    server.on("GET", f"{OP}/result", httpx.Response(200, json={"definition": {"parts": PARTS}}))
    assert client.get_definition("ws", "it1") == PARTS
    # Retry-After of the 202, then of each poll, is the wait before the next poll.
    assert fake_time.sleeps == [2.0, 3.0, 4.0]
    assert server.count("GET", f"{OP}/result") == 1


def test_success_without_location_has_no_result(server: Server, client: FabricClient) -> None:
    server.on("POST", UPDDEF, accepted())
    server.on("GET", OP, state("Running"), state("Succeeded"))
    client.update_definition("ws", "it1", PARTS, update_metadata=True)
    assert server.count("GET", OP) == 2
    assert server.requests[0].url.params["updateMetadata"] == "true"


def test_operation_id_alone_is_enough(server: Server, client: FabricClient) -> None:
    server.on("POST", UPDDEF, accepted(location=None))
    server.on("GET", OP, state("Succeeded"))
    client.update_definition("ws", "it1", PARTS, update_metadata=False)
    assert server.count("GET", OP) == 1


def test_missing_retry_after_uses_a_small_growing_default(
    server: Server, client: FabricClient, fake_time: FakeTime
) -> None:
    server.on("POST", UPDDEF, accepted(retry_after=None))
    server.on(
        "GET",
        OP,
        state("Running", retry_after=None),
        state("Running", retry_after=None),
        state("Succeeded", retry_after=None),
    )
    client.update_definition("ws", "it1", PARTS, update_metadata=False)
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


def test_failed_operation_carries_the_service_error(server: Server, client: FabricClient) -> None:
    details = [{"errorCode": "InvalidMashup", "message": "line 3: token expected"}]
    server.on("POST", UPDDEF, accepted())
    server.on(
        "GET",
        OP,
        state(
            "Failed",
            error={
                "errorCode": "CorruptedPayload",
                "message": "mashup.pq is invalid",
                "moreDetails": details,
            },
        ),
    )
    with pytest.raises(OperationFailed) as caught:
        client.update_definition("ws", "it1", PARTS, update_metadata=False)
    assert caught.value.error_code == "CorruptedPayload"
    assert caught.value.api_message == "mashup.pq is invalid"
    assert caught.value.more_details == tuple(details)
    assert caught.value.operation_id == "op1"
    assert "it1" in str(caught.value)


def test_undefined_state_is_an_error(server: Server, client: FabricClient) -> None:
    server.on("POST", UPDDEF, accepted())
    server.on("GET", OP, state("Undefined"))
    with pytest.raises(OperationFailed) as caught:
        client.update_definition("ws", "it1", PARTS, update_metadata=False)
    assert caught.value.error_code == "Undefined"


def test_stuck_operation_times_out(server: Server, make_client, fake_time: FakeTime) -> None:
    server.on("POST", UPDDEF, accepted(retry_after="10"))
    server.on("GET", OP, state("Running", retry_after="10"))
    client = make_client(lro_timeout_s=60)
    with pytest.raises(OperationTimeout) as caught:
        client.update_definition("ws", "it1", PARTS, update_metadata=False)
    assert sum(fake_time.sleeps) <= 60
    assert server.count("GET", OP) == 6  # at 10, 20, … 60 s
    assert caught.value.hint


def test_operation_location_on_another_host_is_refused(server: Server, client: FabricClient) -> None:
    server.on("POST", UPDDEF, accepted(location="https://evil.example/v1/operations/op1"))
    with pytest.raises(FabricError, match="not on the configured API host"):
        client.update_definition("ws", "it1", PARTS, update_metadata=False)
    assert all(r.url.host == "api.fabric.test" for r in server.requests)


def test_result_location_on_another_host_is_refused(server: Server, client: FabricClient) -> None:
    server.on("POST", GETDEF, accepted())
    server.on("GET", OP, state("Succeeded", location="https://evil.example/v1/operations/op1/result"))
    with pytest.raises(FabricError, match="not on the configured API host"):
        client.get_definition("ws", "it1")
    assert all(r.url.host == "api.fabric.test" for r in server.requests)


def test_202_without_any_operation_reference_is_an_error(server: Server, client: FabricClient) -> None:
    server.on("POST", UPDDEF, httpx.Response(202))
    with pytest.raises(FabricError, match="without Location"):
        client.update_definition("ws", "it1", PARTS, update_metadata=False)


def test_create_item_via_lro_returns_the_result_item(server: Server, client: FabricClient) -> None:
    item = {"id": "new1", "displayName": "Sales", "type": "Dataflow", "description": ""}
    server.on("POST", "/v1/workspaces/ws/items", accepted())
    server.on("GET", OP, state("Succeeded", location=f"{V1}/operations/op1/result"))
    server.on("GET", f"{OP}/result", httpx.Response(200, json=item))
    assert client.create_item("ws", display_name="Sales", type="Dataflow", definition=PARTS) == item
    sent = server.requests[0]
    assert sent.method == "POST"
    assert httpx.Response(200, content=sent.content).json()["definition"] == {"parts": PARTS}


def test_create_item_lro_without_result_finds_the_item_by_name(
    server: Server, client: FabricClient
) -> None:
    item = {"id": "new1", "displayName": "Sales", "type": "Dataflow", "description": ""}
    server.on("POST", "/v1/workspaces/ws/items", accepted())
    server.on("GET", OP, state("Succeeded"))
    server.on("GET", "/v1/workspaces/ws/items", httpx.Response(200, json={"value": [item]}))
    assert client.create_item("ws", display_name="Sales", type="Dataflow") == item


@pytest.mark.parametrize("body", [[1, 2], "Succeeded", 7, True])
def test_an_operation_state_that_is_not_an_object_is_a_clean_error(
    server: Server, client: FabricClient, body: object
) -> None:
    server.on("POST", GETDEF, accepted())
    server.on("GET", OP, httpx.Response(200, json=body))
    with pytest.raises(FabricError, match="expected a JSON object from GET /v1/operations/op1"):
        client.get_definition("ws", "it1")


@pytest.mark.parametrize(
    "body", [[{"definition": {"parts": PARTS}}], {"definition": [PARTS]}, {"definition": "x"}, 3]
)
def test_a_get_definition_answer_that_is_not_an_object_is_a_clean_error(
    server: Server, client: FabricClient, body: object
) -> None:
    server.on("POST", GETDEF, httpx.Response(200, json=body))
    with pytest.raises(FabricError):
        client.get_definition("ws", "it1")


def test_an_operation_result_that_is_not_an_object_is_a_clean_error(
    server: Server, client: FabricClient
) -> None:
    server.on("POST", GETDEF, accepted())
    server.on("GET", OP, state("Succeeded", location=f"{V1}/operations/op1/result"))
    server.on("GET", f"{OP}/result", httpx.Response(200, json=["parts"]))
    with pytest.raises(FabricError, match="got a JSON array"):
        client.get_definition("ws", "it1")
