"""Paged lists: continuationToken and continuationUri, the repeat guard, the host guard."""

from __future__ import annotations

import httpx
import pytest
from fabric_fakes import V1, Server

from dataflow_gitops.errors import FabricError
from dataflow_gitops.fabric.client import FabricClient
from dataflow_gitops.fabric.pagination import with_token

ITEMS = "/v1/workspaces/ws/items"


def page(names: list[str], **cursor: str) -> httpx.Response:
    items = [{"id": n, "displayName": n, "type": "Dataflow", "description": ""} for n in names]
    return httpx.Response(200, json={"value": items, **cursor})


def test_continuation_token_repeats_the_request_with_the_token(
    server: Server, client: FabricClient
) -> None:
    server.on(
        "GET",
        ITEMS,
        page(["a", "b"], continuationToken="LDEsMTAwMDAwLDA%3D"),
        page(["c"], continuationToken="t2"),
        page(["d"], continuationToken=""),
    )
    names = [i["id"] for i in client.list_items("ws", "Dataflow")]
    assert names == ["a", "b", "c", "d"]
    second, third = server.requests[1].url, server.requests[2].url
    assert second.params["type"] == "Dataflow"
    # The token is already URL-encoded: it must not be encoded a second time.
    assert b"continuationToken=LDEsMTAwMDAwLDA%3D" in second.query
    assert third.params["continuationToken"] == "t2"


def test_continuation_uri_is_followed_as_given(server: Server, client: FabricClient) -> None:
    server.on(
        "GET",
        ITEMS,
        page(["a"], continuationUri=f"{V1}/workspaces/ws/items?continuationToken=x1&type=Dataflow"),
        page(["b"]),
    )
    assert [i["id"] for i in client.list_items("ws")] == ["a", "b"]
    assert server.requests[1].url.params["continuationToken"] == "x1"


def test_repeating_token_is_refused(server: Server, client: FabricClient) -> None:
    server.on("GET", ITEMS, page(["a"], continuationToken="same"))
    with pytest.raises(FabricError, match="same continuation"):
        client.list_items("ws")
    assert server.count("GET", ITEMS) == 2


def test_continuation_uri_on_another_host_is_refused(server: Server, client: FabricClient) -> None:
    server.on(
        "GET", ITEMS, page(["a"], continuationUri="https://elsewhere.example/v1/workspaces/ws/items?c=1")
    )
    with pytest.raises(FabricError, match="not on the configured API host"):
        client.list_items("ws")
    assert all(r.url.host == "api.fabric.test" for r in server.requests)


def test_type_filter_is_checked_on_every_item(server: Server, client: FabricClient) -> None:
    mixed = {
        "value": [
            {"id": "1", "type": "Dataflow"},
            {"id": "2", "type": "Lakehouse"},
            {"id": "3", "type": "dataflow"},
        ]
    }
    server.on("GET", ITEMS, httpx.Response(200, json=mixed))
    assert [i["id"] for i in client.list_items("ws", "Dataflow")] == ["1", "3"]
    assert len(client.list_items("ws")) == 3


def test_workspaces_jobs_and_parameters_are_paged(server: Server, client: FabricClient) -> None:
    server.on("GET", "/v1/workspaces", page(["w1"], continuationToken="n"), page(["w2"]))
    server.on(
        "GET",
        "/v1/workspaces/ws/dataflows/df/parameters",
        httpx.Response(200, json={"value": [{"name": "P1"}], "continuationToken": "p"}),
        httpx.Response(200, json={"value": [{"name": "P2"}]}),
    )
    server.on(
        "GET",
        "/v1/workspaces/ws/items/df/jobs/instances",
        httpx.Response(200, json={"value": [{"id": "j1"}], "continuationUri": None}),
    )
    assert [w["id"] for w in client.list_workspaces()] == ["w1", "w2"]
    assert [p["name"] for p in client.list_dataflow_parameters("ws", "df")] == ["P1", "P2"]
    assert [j["id"] for j in client.list_jobs("ws", "df")] == ["j1"]


def test_with_token_keeps_other_parameters() -> None:
    url = with_token(f"{V1}/x", {"type": "Dataflow"}, "a b=")
    assert url == f"{V1}/x?type=Dataflow&continuationToken=a%20b%3D"


def test_a_fresh_token_forever_stops_at_the_page_limit(server: Server, client: FabricClient) -> None:
    counter = iter(range(10**9))

    def endless(request: httpx.Request) -> httpx.Response:
        return page([f"i{next(counter)}"], continuationToken=f"fresh-{next(counter)}")

    server.on("GET", ITEMS, endless)
    with pytest.raises(FabricError, match="more than 1000 pages"):
        client.list_items("ws")
    assert server.count("GET", ITEMS) == 1000


def test_empty_pages_with_fresh_tokens_stop_early(server: Server, client: FabricClient) -> None:
    counter = iter(range(10**9))
    server.on("GET", ITEMS, lambda r: page([], continuationToken=f"t{next(counter)}"))
    with pytest.raises(FabricError, match="50 empty pages in a row"):
        client.list_items("ws")
    assert server.count("GET", ITEMS) == 50


def test_a_growing_token_is_refused(server: Server, client: FabricClient) -> None:
    sizes = iter(range(1, 10**6))
    server.on("GET", ITEMS, lambda r: page(["a"], continuationToken="x" * 1000 * next(sizes)))
    with pytest.raises(FabricError, match="a continuation of 9000 characters"):
        client.list_items("ws")
    assert server.count("GET", ITEMS) == 9
