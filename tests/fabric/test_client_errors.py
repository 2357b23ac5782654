"""HTTP error responses → the typed errors of dataflow_gitops.errors, with hints."""

from __future__ import annotations

import httpx
import pytest
from fabric_fakes import Server, error

from dataflow_gitops.errors import (
    BadRequest,
    Conflict,
    DataflowGitopsError,
    FabricApiError,
    Forbidden,
    NotFound,
    ServerError,
    Throttled,
    Unauthorized,
)
from dataflow_gitops.fabric.client import FabricClient
from dataflow_gitops.fabric.errors_map import api_error

URL = "https://api.fabric.test/v1/workspaces/ws/items/x"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (429, Throttled),
        (500, ServerError),
        (503, ServerError),
        (418, FabricApiError),
    ],
)
def test_status_picks_the_class(status: int, cls: type[FabricApiError]) -> None:
    exc = api_error(error(status, "SomeCode"), method="GET", url=URL)
    assert type(exc) is cls
    assert exc.status == status


def test_body_fields_are_carried() -> None:
    response = httpx.Response(
        404,
        json={
            "errorCode": "ItemNotFound",
            "message": "The requested item was not found",
            "requestId": "body-rid",
            "moreDetails": [{"errorCode": "X", "message": "y"}],
        },
        headers={"RequestId": "header-rid"},
    )
    exc = api_error(response, method="DELETE", url=URL)
    assert (exc.error_code, exc.api_message, exc.request_id) == (
        "ItemNotFound",
        "The requested item was not found",
        "body-rid",
    )
    assert exc.more_details == ({"errorCode": "X", "message": "y"},)
    assert (exc.method, exc.url) == ("DELETE", URL)
    assert "run `dfg plan` again" in (exc.hint or "")
    assert str(exc).startswith(f"DELETE {URL}: 404 ItemNotFound")


def test_non_json_body_still_gives_a_typed_error() -> None:
    response = httpx.Response(
        502,
        text="<html><body>Bad gateway\n  upstream</body></html>",
        headers={"x-ms-request-id": "hdr-rid"},
    )
    exc = api_error(response, method="GET", url=URL)
    assert isinstance(exc, ServerError)
    assert exc.error_code == "HTTP502"
    assert exc.request_id == "hdr-rid"
    assert "Bad gateway upstream" in exc.api_message
    assert "\n" not in str(exc)


def test_error_code_from_header_when_body_has_none() -> None:
    response = httpx.Response(
        403, content=b"", headers={"x-ms-public-api-error-code": "InsufficientPrivileges"}
    )
    exc = api_error(response, method="POST", url=URL)
    assert exc.error_code == "InsufficientPrivileges"
    assert "workspace role" in (exc.hint or "")


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (400, "ItemDisplayNameNotAvailableYet", "wait"),
        (401, "Unauthorized", "credentials"),
        (403, "InsufficientScopes", "scope"),
        (429, "TooManyRequests", "quota"),
    ],
)
def test_common_codes_get_a_hint(status: int, code: str, words: str) -> None:
    assert words in (api_error(error(status, code), method="GET", url=URL).hint or "")


def test_query_secrets_are_masked_in_the_url() -> None:
    exc = api_error(error(400, "Bad"), method="GET", url=URL + "?code=abc123&type=Dataflow")
    assert "abc123" not in str(exc)
    assert "type=Dataflow" in exc.url


def test_client_raises_typed_errors_as_dataflow_gitops_errors(
    server: Server, client: FabricClient
) -> None:
    server.on("DELETE", "/v1/workspaces/ws/items/x", error(404, "ItemNotFound"))
    with pytest.raises(DataflowGitopsError) as caught:
        client.delete_item("ws", "x")
    assert isinstance(caught.value, NotFound)
    assert caught.value.request_id == "rid-ItemNotFound"
