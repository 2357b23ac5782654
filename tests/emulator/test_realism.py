"""Realism knobs beyond the basics: seeded randomness (probability faults, `lro: random`), the
"recently deleted name" reservation, the drop fault's fallback when the server gives no handle on
the connection, and TCP_NODELAY on both listening sockets."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import httpx
import pytest

from fabric_emulator import EmulatorServer
from fabric_emulator.app import EmulatorApp
from fabric_emulator.faults import FaultRule

CHAOS = {"kind": "status", "status": 500, "probability": 0.5, "count": None}


def statuses(api: httpx.Client, n: int) -> list[int]:
    return [api.get("/workspaces").status_code for _ in range(n)]


def test_a_seeded_probability_rule_repeats_its_sequence(api, control) -> None:
    control.post("/_emulator/faults", json={**CHAOS, "seed": 11}).raise_for_status()
    first = statuses(api, 24)
    control.post("/_emulator/reset").raise_for_status()
    control.post("/_emulator/faults", json={**CHAOS, "seed": 11}).raise_for_status()
    assert statuses(api, 24) == first
    assert {200, 500} <= set(first)  # the probability is honoured, not all-or-nothing


def test_a_seeded_rule_does_not_depend_on_other_rules_draws(api, control) -> None:
    control.post("/_emulator/faults", json={**CHAOS, "seed": 3}).raise_for_status()
    alone = statuses(api, 20)
    control.post("/_emulator/reset").raise_for_status()
    # An unseeded rule on another path draws from the shared generator meanwhile.
    other = {**CHAOS, "path": "/nowhere$"}
    control.post("/_emulator/faults", json=[{**CHAOS, "seed": 3}, other]).raise_for_status()
    assert statuses(api, 20) == alone


def test_config_seed_makes_random_lro_and_unseeded_rules_repeat(api, control, ws) -> None:
    def run() -> list[int]:
        control.post("/_emulator/config", json={"lro": "random", "seed": 5}).raise_for_status()
        control.post("/_emulator/faults", json={**CHAOS, "path": "/nowhere$|^/v1/workspaces$"})
        answers = [
            api.post(f"/workspaces/{ws}/items", json={"displayName": f"R{n}", "type": "Dataflow"})
            for n in range(16)
        ]
        answers += [api.get("/workspaces") for _ in range(8)]
        control.delete("/_emulator/faults").raise_for_status()
        for item in api.get(f"/workspaces/{ws}/items").json()["value"]:
            api.delete(f"/workspaces/{ws}/items/{item['id']}").raise_for_status()
        return [a.status_code for a in answers]

    first, second = run(), run()
    assert first == second
    assert {201, 202} <= set(first[:16])
    assert {200, 500} <= set(first[16:])


def test_reset_forgets_the_seed(control) -> None:
    control.post("/_emulator/config", json={"seed": 9}).raise_for_status()
    control.post("/_emulator/reset").raise_for_status()
    assert control.get("/_emulator/config").json()["seed"] is None


@pytest.mark.parametrize("seed", ["7", 1.5, True])
def test_seeds_must_be_integers(control, seed: Any) -> None:
    rule = control.post("/_emulator/faults", json={**CHAOS, "seed": seed})
    assert rule.status_code == 400
    assert rule.json()["errorCode"] == "InvalidRequest"
    config = control.post("/_emulator/config", json={"seed": seed})
    assert config.status_code == 400
    assert control.get("/_emulator/config").json()["seed"] is None  # unchanged


def test_rule_json_shows_its_seed() -> None:
    assert FaultRule.from_json({**CHAOS, "seed": 4}).to_json()["seed"] == 4


# -- ItemDisplayNameNotAvailableYet ---------------------------------------------------------------
def create(api: httpx.Client, ws: str, name: str, item_type: str = "Dataflow") -> httpx.Response:
    return api.post(f"/workspaces/{ws}/items", json={"displayName": name, "type": item_type})


def test_deleted_names_are_free_at_once_by_default(api, ws) -> None:
    item = create(api, ws, "Sales").json()
    api.delete(f"/workspaces/{ws}/items/{item['id']}").raise_for_status()
    assert create(api, ws, "Sales").status_code == 201


def test_a_deleted_name_is_reserved_for_the_configured_time(api, control, ws) -> None:
    control.post("/_emulator/config", json={"nameReservationS": 30}).raise_for_status()
    item = create(api, ws, "Sales").json()
    other = create(api, ws, "Other").json()
    api.delete(f"/workspaces/{ws}/items/{item['id']}").raise_for_status()
    for refused in (
        create(api, ws, "sales"),
        api.patch(f"/workspaces/{ws}/items/{other['id']}", json={"displayName": "Sales"}),
    ):
        assert refused.status_code == 400
        assert refused.headers["x-ms-public-api-error-code"] == "ItemDisplayNameNotAvailableYet"
        assert "Sales" in refused.json()["message"] or "sales" in refused.json()["message"]
    assert create(api, ws, "Sales", "Notebook").status_code == 201  # another type is unaffected
    control.post("/_emulator/clock", json={"advanceSeconds": 31}).raise_for_status()
    assert create(api, ws, "Sales").status_code == 201


def test_name_reservation_must_not_be_negative(control) -> None:
    answer = control.post("/_emulator/config", json={"nameReservationS": -1})
    assert answer.status_code == 400


# -- drop fault fallback ---------------------------------------------------------------------------
def _call_app(app: EmulatorApp, send_factory: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/workspaces",
        "raw_path": b"/v1/workspaces",
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer t"), (b"host", b"127.0.0.1")],
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "http_version": "1.1",
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    asyncio.run(app(scope, receive, send_factory(sent)))
    return sent


def test_drop_without_a_transport_answers_a_clean_503(emulator, control) -> None:
    control.post("/_emulator/faults", json={"kind": "drop"}).raise_for_status()

    def plain_send(sent: list[dict[str, Any]]) -> Any:
        async def send(message: dict[str, Any]) -> None:  # a function: no __self__.transport
            sent.append(message)

        return send

    sent = _call_app(EmulatorApp(emulator.emulator), plain_send)
    start, body = sent[0], json.loads(sent[1]["body"])
    assert start["status"] == 503
    assert (b"x-ms-public-api-error-code", b"ServiceUnavailable") in start["headers"]
    assert body["errorCode"] == "ServiceUnavailable"
    assert "drop" in body["message"]
    assert control.get("/_emulator/requests").json()["value"][-1]["status"] == 503


def test_drop_with_a_transport_aborts_and_sends_nothing(emulator, control) -> None:
    control.post("/_emulator/faults", json={"kind": "drop"}).raise_for_status()
    aborted: list[bool] = []

    class Transport:
        def abort(self) -> None:
            aborted.append(True)

    class Cycle:
        transport = Transport()

        async def send(self, message: dict[str, Any]) -> None:
            raise AssertionError(f"nothing may be sent after a drop: {message}")

    sent = _call_app(EmulatorApp(emulator.emulator), lambda sent: Cycle().send)
    assert sent == []
    assert aborted == [True]
    assert control.get("/_emulator/requests").json()["value"][-1]["status"] == 0


# -- sockets ---------------------------------------------------------------------------------------
def test_api_and_authority_sockets_disable_nagle() -> None:
    with EmulatorServer(strict_auth=True) as server:
        for sock in (server._socket, server.authority._socket):
            assert isinstance(sock, socket.socket)
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


# -- jobs: Deduped and TooManyRequestsForJobs -----------------------------------------------------
def run_job(api: httpx.Client, ws: str, item: str, job_type: str = "Execute") -> httpx.Response:
    return api.post(f"/workspaces/{ws}/items/{item}/jobs/{job_type}/instances")


def job_status(api: httpx.Client, answer: httpx.Response) -> str:
    assert answer.status_code == 202, answer.text
    return str(api.get(answer.headers["Location"]).json()["status"])


def test_a_second_run_of_an_active_job_is_deduped_when_asked(api, control, ws) -> None:
    item = create(api, ws, "Orders").json()["id"]
    control.post("/_emulator/config", json={"jobDurationS": 60}).raise_for_status()
    assert job_status(api, run_job(api, ws, item)) == "InProgress"
    assert job_status(api, run_job(api, ws, item)) == "InProgress"  # off by default
    control.post("/_emulator/config", json={"jobDedupe": True}).raise_for_status()
    deduped = run_job(api, ws, item)
    assert job_status(api, deduped) == "Deduped"
    instance = api.get(deduped.headers["Location"]).json()
    assert instance["endTimeUtc"]
    assert instance["failureReason"] is None
    assert api.post(deduped.headers["Location"] + "/cancel").status_code == 409
    assert job_status(api, run_job(api, ws, item, "ApplyChanges")) == "InProgress"  # another type
    control.post("/_emulator/clock", json={"advanceSeconds": 61}).raise_for_status()
    assert job_status(api, run_job(api, ws, item)) == "InProgress"  # nothing active any more


def test_job_runs_have_their_own_quota(api, control, ws) -> None:
    item = create(api, ws, "Orders").json()["id"]
    control.post("/_emulator/config", json={"jobsPerMinute": 2}).raise_for_status()
    assert [run_job(api, ws, item).status_code for _ in range(2)] == [202, 202]
    refused = run_job(api, ws, item)
    assert refused.status_code == 429
    assert refused.headers["x-ms-public-api-error-code"] == "TooManyRequestsForJobs"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert api.get(f"/workspaces/{ws}/items/{item}").status_code == 200  # other calls go on
    other = httpx.post(
        f"{str(api.base_url).rstrip('/')}/workspaces/{ws}/items/{item}/jobs/Execute/instances",
        headers={"Authorization": "Bearer another-identity"},
    )
    assert other.status_code == 202  # the quota is per identity
    control.post("/_emulator/clock", json={"advanceSeconds": 60}).raise_for_status()
    assert run_job(api, ws, item).status_code == 202


def test_a_missing_job_type_says_so(api, ws) -> None:
    item = create(api, ws, "Orders").json()["id"]
    answer = api.post(f"/workspaces/{ws}/items/{item}/jobs/instances")
    assert answer.json()["errorCode"] == "InvalidJobType"
    assert answer.json()["message"].startswith("No job type was given")


def test_an_unexpected_error_is_a_500_body_and_one_log_line(
    api, emulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> list[Any]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(emulator.emulator.state, "list_workspaces", broken)
    with caplog.at_level("ERROR", logger="fabric_emulator"):
        answer = api.get("/workspaces")
    assert answer.status_code == 500
    assert answer.json()["errorCode"] == "InternalServerError"
    assert "Traceback" not in answer.text
    assert "disk on fire" not in answer.text  # internals stay in the log
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "RuntimeError: disk on fire" in record.getMessage()
    assert record.exc_info is None  # no stack on the console
