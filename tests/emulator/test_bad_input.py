"""Bad input never yields a 500 or a traceback: random JSON bodies and query values on every write
route, plus the control plane's own validation and the `--lro random` mode."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "displayName",
                    "type",
                    "definition",
                    "parts",
                    "path",
                    "payload",
                    "folderId",
                    "targetFolderId",
                    "description",
                    "parentFolderId",
                    "executionData",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)


@pytest.fixture
def dataflow(api, ws) -> str:
    response = api.post(f"/workspaces/{ws}/items", json={"displayName": "Target", "type": "Dataflow"})
    return str(response.json()["id"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=JSON,
    route=st.sampled_from(
        [
            ("POST", "/workspaces"),
            ("POST", "/workspaces/{ws}/items"),
            ("POST", "/workspaces/{ws}/dataflows"),
            ("PATCH", "/workspaces/{ws}/items/{id}"),
            ("POST", "/workspaces/{ws}/items/{id}/updateDefinition"),
            ("POST", "/workspaces/{ws}/items/{id}/move"),
            ("POST", "/workspaces/{ws}/folders"),
            ("POST", "/workspaces/{ws}/items/{id}/jobs/Execute/instances"),
        ]
    ),
)
def test_random_bodies_get_4xx_or_success_never_500(api, ws, dataflow, body, route) -> None:
    method, template = route
    response = api.request(
        method,
        template.format(ws=ws, id=dataflow),
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    labelled_json = response.headers["content-type"].startswith("application/json")
    assert labelled_json == bool(response.content)
    if response.status_code >= 400:
        assert response.json()["errorCode"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.text(max_size=12),
    name=st.sampled_from(
        ["recursive", "rootFolderId", "type", "continuationToken", "hardDelete", "updateMetadata"]
    ),
)
def test_random_query_values_never_500(api, ws, dataflow, name, value) -> None:
    for method, path in (
        ("GET", f"/workspaces/{ws}/items"),
        ("DELETE", f"/workspaces/{ws}/items/x"),
        ("GET", f"/workspaces/{ws}/folders"),
    ):
        response = api.request(method, path, params={name: value})
        assert response.status_code < 500, response.text


def test_control_plane_validates(control) -> None:
    bad_key = control.post("/_emulator/config", json={"lro": "sometimes"})
    assert bad_key.status_code == 400
    assert control.post("/_emulator/config", json={"pageSize": "ten"}).status_code == 400
    assert control.post("/_emulator/config", json={"nope": 1}).json()["errorCode"] == "InvalidParameter"
    assert control.get("/_emulator/config").json()["lro"] == "never"
    assert control.post("/_emulator/seed", json={"items": [{"displayName": "x"}]}).status_code == 400
    assert control.post("/_emulator/clock", json={"advanceSeconds": -1}).status_code == 400
    assert control.get("/_emulator/nothing").status_code == 404


def test_seed_and_state_dump(control, api) -> None:
    ws = "3e1f0000-0000-4000-8000-000000000000"
    seeded = control.post(
        "/_emulator/seed",
        json={
            "workspaces": [{"id": ws, "displayName": "Seeded"}],
            "folders": [{"workspaceId": ws, "displayName": "F"}],
            "items": [
                {
                    "workspaceId": ws,
                    "displayName": "D",
                    "files": {
                        "queryMetadata.json": {"formatVersion": "202502", "name": "D"},
                        "mashup.pq": "section Section1;\nshared A = 1;\n",
                    },
                }
            ],
        },
    ).json()
    assert seeded["items"][0]["logicalId"]
    dump = control.get("/_emulator/state").json()
    assert [w["id"] for w in dump["workspaces"]] == [ws]
    assert [i["displayName"] for i in dump["items"]] == ["D"]
    assert {p["path"] for p in dump["items"][0]["parts"]} == {"queryMetadata.json", "mashup.pq"}
    assert api.get(f"/workspaces/{ws}/items").json()["value"][0]["displayName"] == "D"


def test_lro_random_mode_answers_both_ways(api, control, ws) -> None:
    control.post("/_emulator/config", json={"lro": "random", "seed": 1})
    statuses = {
        api.post(
            f"/workspaces/{ws}/items", json={"displayName": f"R{n}", "type": "Dataflow"}
        ).status_code
        for n in range(40)
    }
    assert statuses == {201, 202}


def test_latency_delays_every_api_call_but_not_the_control_plane(
    api, control, emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(emulator.emulator, "sleep", record)
    api.get("/workspaces")
    assert waits == []  # off by default
    assert control.post("/_emulator/config", json={"latencyMs": 250}).json()["latencyMs"] == 250
    assert api.get("/workspaces").status_code == 200
    assert api.get("/workspaces/nope").status_code == 404  # errors are delayed too
    control.get("/_emulator/config")
    assert waits == [0.25, 0.25]


CONTROL_KEYS = st.sampled_from(
    [
        "advanceSeconds",
        "workspaces",
        "items",
        "jobs",
        "operations",
        "folders",
        "kind",
        "path",
        "probability",
        "count",
        "seed",
        "lro",
        "pageSize",
        "latencyMs",
        "nameReservationS",
        "jobsPerMinute",
        "jobDedupe",
        "lroRoutes",
        "clientId",
        "secret",
    ]
)
CONTROL_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(CONTROL_KEYS, inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=CONTROL_JSON,
    route=st.sampled_from(["seed", "faults", "config", "clock", "clients"]),
)
def test_random_control_plane_bodies_never_500(control, api, body, route) -> None:
    response = control.post(f"/_emulator/{route}", content=json.dumps(body))
    assert response.status_code < 500, response.text
    # Whatever was accepted, the API and the control plane still answer.
    assert api.get("/workspaces").status_code < 500
    assert control.get("/_emulator/state").status_code == 200
    control.post("/_emulator/reset").raise_for_status()


@pytest.mark.parametrize(
    "body",
    [
        '{"pageSize": true}',
        '{"pageSize": 2.5}',
        '{"latencyMs": "5"}',
        '{"retryAfterS": NaN}',
        '{"jobDurationS": NaN}',
        '{"nameReservationS": Infinity}',
        '{"jobStartDelayS": null}',
        '{"jobsPerMinute": 0}',
        '{"jobDedupe": 1}',
        '{"seed": 1.0}',
    ],
)
def test_config_refuses_odd_values_and_keeps_the_old_ones(control, body) -> None:
    before = control.get("/_emulator/config").json()
    answer = control.post("/_emulator/config", content=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errorCode"] == "InvalidParameter"
    assert control.get("/_emulator/config").json() == before


@pytest.mark.parametrize("advance", ["NaN", "Infinity", "-1", "true", '"5"'])
def test_the_clock_moves_only_by_a_finite_amount(control, advance) -> None:
    before = control.post("/_emulator/clock", json={"advanceSeconds": 0}).json()["now"]
    answer = control.post("/_emulator/clock", content=f'{{"advanceSeconds": {advance}}}')
    assert answer.status_code == 400
    assert control.post("/_emulator/clock", json={"advanceSeconds": 0}).json()["now"] - before < 60


@pytest.mark.parametrize(
    "rule",
    [
        '{"kind": "status", "count": 1e400}',
        '{"kind": "status", "count": 0}',
        '{"kind": "status", "count": null, "probability": NaN}',
        '{"kind": "status", "count": null, "probability": 1.5}',
        '{"kind": "status", "status": 200}',
        '{"kind": "status", "status": 99999}',
        '{"kind": "throttle", "retryAfter": -5}',
        '{"kind": "status", "path": "("}',
    ],
)
def test_odd_fault_rules_are_400_and_not_added(control, rule) -> None:
    answer = control.post("/_emulator/faults", content=rule)
    assert answer.status_code == 400, answer.text
    assert control.get("/_emulator/faults").json()["value"] == []


def test_the_clock_stops_short_of_unprintable_years_and_reset_rewinds_it(control, api, ws) -> None:
    wall = control.post("/_emulator/clock", json={"advanceSeconds": 0}).json()["now"]
    far = control.post("/_emulator/clock", content='{"advanceSeconds": 1e15}')
    assert far.status_code == 400
    assert "9000" in far.json()["message"]
    assert control.post("/_emulator/clock", json={"advanceSeconds": 86400 * 365 * 100}).is_success
    item = api.post(f"/workspaces/{ws}/items", json={"displayName": "Late", "type": "Dataflow"})
    job = api.post(f"/workspaces/{ws}/items/{item.json()['id']}/jobs/Execute/instances")
    assert api.get(job.headers["Location"]).json()["startTimeUtc"].startswith("21")
    control.post("/_emulator/reset").raise_for_status()
    now = control.post("/_emulator/clock", json={"advanceSeconds": 0}).json()["now"]
    assert now - wall < 3600  # back to wall time
