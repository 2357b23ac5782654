"""The emulator's promise "never a 500": hostile JSON bodies and parts, and hostile M, sent to the
endpoints that read them, are answered (2xx or a 4xx error body), never with an internal error."""

from __future__ import annotations

import json
from typing import Any

import httpx
from emulator_samples import b64, dataflow_definition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "Execute", "Cron", "09", "00000000-0000-0000-0000-000000000000"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "displayName",
                    "type",
                    "definition",
                    "parts",
                    "path",
                    "payload",
                    "enabled",
                    "configuration",
                    "executionData",
                    "parameters",
                    "executeOption",
                    "folderId",
                    "targetFolderId",
                    "interval",
                    "times",
                    "weekdays",
                    "schedules",
                    "jobType",
                ]
            )
            | st.text(max_size=6),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=12,
)
RAW = st.one_of(
    JSON.map(json.dumps),
    st.integers(1, 5000).map(lambda n: "[" * n),
    st.integers(1, 5000).map(lambda n: '{"a":' * n),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)
M_PIECES = st.sampled_from(
    [
        "section",
        "Section1",
        ";",
        "shared",
        "Q",
        "=",
        "09",
        "0x1F",
        "1e400",
        ".5",
        "#date(",
        "2025",
        ",",
        ")",
        "(",
        "[",
        "]",
        "{",
        "}",
        "meta",
        "IsParameterQuery",
        "true",
        "Type",
        "type",
        "number",
        '"t"',
        '"',
        '#"q"',
        "//c\n",
        "/*",
        "*/",
        "\r\n",
        "\u2028",
        "²",
        "é",
        "#infinity",
        "#bogus",
        "let",
        "in",
        "each",
        "_",
        "$",
        " ",
    ]
)
M = st.one_of(
    st.lists(M_PIECES, max_size=40).map("".join),
    st.text(max_size=60),
    st.lists(M_PIECES, max_size=40).map(lambda p: "section Section1;\nshared P = " + "".join(p)),
)
FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["errorCode"]


@FAST
@given(
    raw=RAW,
    target=st.sampled_from(
        ["items", "schedules", "run", "definition", "folders", "move", "item", "schedule", "seed"]
    ),
)
def test_hostile_json_bodies_are_never_a_500(api, control, ws, raw: str, target: str) -> None:
    item = _item(api, ws)
    schedule = "00000000-0000-4000-8000-000000000001"
    method, path = {
        "items": ("POST", f"/workspaces/{ws}/items"),
        "schedules": ("POST", f"/workspaces/{ws}/items/{item}/jobs/Execute/schedules"),
        "run": ("POST", f"/workspaces/{ws}/dataflows/{item}/jobs/execute/instances"),
        "definition": ("POST", f"/workspaces/{ws}/items/{item}/updateDefinition"),
        "folders": ("POST", f"/workspaces/{ws}/folders"),
        "move": ("POST", f"/workspaces/{ws}/items/{item}/move"),
        "item": ("PATCH", f"/workspaces/{ws}/items/{item}"),
        "schedule": ("PATCH", f"/workspaces/{ws}/items/{item}/jobs/Execute/schedules/{schedule}"),
        "seed": ("POST", "/_emulator/seed"),
    }[target]
    client = control if target == "seed" else api
    body = raw.encode("utf-8", "surrogatepass")
    _check(client.request(method, path, content=body, headers=_JSON))


@FAST
@given(value=JSON, part=st.sampled_from(["queryMetadata.json", ".platform", ".schedules", "x.json"]))
def test_hostile_json_parts_are_never_a_500(api, ws, value: Any, part: str) -> None:
    item = _item(api, ws)
    definition = dataflow_definition("Hostile")
    parts = [p for p in definition["parts"] if p["path"] != part]
    parts.append({"path": part, "payload": b64(json.dumps(value)), "payloadType": "InlineBase64"})
    response = api.post(
        f"/workspaces/{ws}/items/{item}/updateDefinition", json={"definition": {"parts": parts}}
    )
    _check(response)


@FAST
@given(mashup=M)
def test_hostile_m_is_never_a_500(api, ws, mashup: str) -> None:
    item = _item(api, ws)
    update = api.post(
        f"/workspaces/{ws}/items/{item}/updateDefinition",
        json={"definition": dataflow_definition("Hostile", mashup)},
    )
    _check(update)
    _check(api.get(f"/workspaces/{ws}/dataflows/{item}/parameters"))
    run = {"executionData": {"parameters": [{"parameterName": "P", "type": "Automatic", "value": 1}]}}
    _check(api.post(f"/workspaces/{ws}/dataflows/{item}/jobs/execute/instances", json=run))
    _check(api.post(f"/workspaces/{ws}/items/{item}/jobs/ApplyChanges/instances"))


_JSON = {"Content-Type": "application/json"}
_ITEMS: dict[str, str] = {}


def _item(api: httpx.Client, ws: str) -> str:
    """One dataflow per workspace, made on first use (hypothesis runs many examples per test)."""
    if ws not in _ITEMS:
        created = api.post(
            f"/workspaces/{ws}/items",
            json={"displayName": "Target", "type": "Dataflow", "definition": dataflow_definition("T")},
        )
        assert created.status_code == 201, created.text
        _ITEMS[ws] = created.json()["id"]
    return _ITEMS[ws]


QUERY_VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "true", "false", "notabool", "DefaultIdentity", "Bogus", "%3D", "0" * 40]),
)


@FAST
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "include",
                "recursive",
                "rootFolderId",
                "type",
                "continuationToken",
                "preferWorkspaceSpecificEndpoints",
                "roles",
                "updateMetadata",
                "hardDelete",
                "jobType",
            ]
        ),
        QUERY_VALUES,
        max_size=4,
    ),
    target=st.sampled_from(["workspaces", "workspace", "items", "item", "folders", "schedules", "jobs"]),
)
def test_hostile_query_strings_are_never_a_500(api, ws, params: dict[str, str], target: str) -> None:
    item = _item(api, ws)
    path = {
        "workspaces": "/workspaces",
        "workspace": f"/workspaces/{ws}",
        "items": f"/workspaces/{ws}/items",
        "item": f"/workspaces/{ws}/items/{item}",
        "folders": f"/workspaces/{ws}/folders",
        "schedules": f"/workspaces/{ws}/items/{item}/jobs/Execute/schedules",
        "jobs": f"/workspaces/{ws}/items/{item}/jobs/instances",
    }[target]
    _check(api.get(path, params=params))
