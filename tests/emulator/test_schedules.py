"""The Job Scheduler's schedules over loopback HTTP: CRUD per item and job type as the spec says
(ItemSchedule bodies checked against the official schema), the Dataflow create aliases, the
`.schedules` definition part applied on create/updateDefinition and kept in step, persistence."""

from __future__ import annotations

import base64
import json
from typing import Any

import emulator_spec as spec
import httpx
import pytest
from emulator_samples import CRON, b64, dataflow_definition, parts_by_path
from test_routes import assert_error, create_dataflow

WEEKLY = {
    "type": "Weekly",
    "startDateTime": "2026-02-17T00:00:00",
    "endDateTime": "2026-12-31T23:59:00",
    "localTimeZoneId": "W. Europe Standard Time",
    "times": ["03:30", "18:00"],
    "weekdays": ["Monday", "Friday"],
}
MONTHLY = {
    "type": "Monthly",
    "startDateTime": "2026-03-04T00:00:00",
    "endDateTime": "2027-03-04T00:00:00",
    "localTimeZoneId": "UTC",
    "times": ["12:00"],
    "recurrence": 1,
    "occurrence": {"occurrenceType": "OrdinalWeekday", "weekIndex": "Second", "weekday": "Monday"},
}
SCHEMA_URL = (
    "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/schedules/1.0.0/schema.json"
)


def schedules_file(*entries: dict[str, Any]) -> str:
    return json.dumps({"$schema": SCHEMA_URL, "schedules": list(entries)}, indent=2)


def item_schedule_errors(body: Any) -> list[str]:
    if not spec.available():
        return []
    return spec.errors(
        spec.definition_ref("platform", "definitions/platform.json", "ItemSchedule"), body
    )


def definition_of(api: httpx.Client, ws: str, item: str) -> dict[str, str]:
    return parts_by_path(api.post(f"/workspaces/{ws}/items/{item}/getDefinition").json()["definition"])


def test_crud_per_item_and_job_type_as_the_spec_says(api, ws) -> None:
    item = create_dataflow(api, ws, "Orders")["id"]
    base = f"/workspaces/{ws}/items/{item}/jobs"
    assert api.get(f"{base}/Execute/schedules").json()["value"] == []

    created = api.post(f"{base}/Execute/schedules", json={"enabled": True, "configuration": CRON})
    assert created.status_code == 201, created.text
    body = created.json()
    assert item_schedule_errors(body) == []
    assert body["configuration"] == CRON
    assert body["enabled"] is True
    assert body["owner"]["type"] == "User"
    assert created.headers["Location"].endswith(f"/items/{item}/jobs/Execute/schedules/{body['id']}")

    weekly = api.post(
        f"{base}/ApplyChanges/schedules", json={"enabled": False, "configuration": WEEKLY}
    ).json()
    assert [s["id"] for s in api.get(f"{base}/Execute/schedules").json()["value"]] == [body["id"]]
    assert [s["id"] for s in api.get(f"{base}/applychanges/schedules").json()["value"]] == [weekly["id"]]
    assert api.get(f"{base}/Execute/schedules/{body['id']}").json() == body
    # A schedule is found under its own job type only.
    assert_error(api.get(f"{base}/ApplyChanges/schedules/{body['id']}"), 404, "ScheduleNotFound")

    patched = api.patch(
        f"{base}/Execute/schedules/{body['id']}", json={"enabled": False, "configuration": MONTHLY}
    )
    assert patched.status_code == 200
    assert item_schedule_errors(patched.json()) == []
    assert patched.json()["configuration"] == MONTHLY
    assert patched.json()["createdDateTime"] == body["createdDateTime"]

    deleted = api.delete(f"{base}/Execute/schedules/{body['id']}")
    assert deleted.status_code == 200
    assert deleted.content == b""
    assert api.get(f"{base}/Execute/schedules").json()["value"] == []
    assert_error(api.delete(f"{base}/Execute/schedules/{body['id']}"), 404, "ScheduleNotFound")


def test_dataflow_create_aliases_answer_like_the_examples(api, ws) -> None:
    item = create_dataflow(api, ws, "Orders")["id"]
    request = {"enabled": True, "configuration": CRON}
    for alias, job_type in (("execute", "Execute"), ("applyChanges", "ApplyChanges")):
        answer = api.post(f"/workspaces/{ws}/dataflows/{item}/jobs/{alias}/schedules", json=request)
        assert answer.status_code == 201, answer.text
        assert f"/jobs/{job_type}/schedules/" in answer.headers["Location"]
        assert {k: answer.json()[k] for k in ("enabled", "configuration")} == request


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"type": "Hourly"}, "configuration.type"),
        ({"interval": 0}, "interval"),
        ({"interval": 5270401}, "interval"),
        ({"interval": True}, "interval"),
        ({"localTimeZoneId": "Mars/Olympus"}, "localTimeZoneId"),
        ({"endDateTime": "2025-04-27T00:00:00"}, "later than"),
        ({"startDateTime": "yesterday"}, "startDateTime"),
        ({"type": "Daily", "times": ["25:00"]}, "25:00"),
        ({"type": "Daily", "times": []}, "times"),
        ({"type": "Weekly", "times": ["01:00"], "weekdays": ["Funday"]}, "weekdays"),
        ({"type": "Monthly", "times": ["01:00"], "recurrence": 13}, "recurrence"),
    ],
)
def test_invalid_configurations_are_400_naming_the_field(api, ws, change, needle) -> None:
    item = create_dataflow(api, ws, "Orders")["id"]
    bad = {**CRON, **change}
    answer = api.post(
        f"/workspaces/{ws}/items/{item}/jobs/Execute/schedules",
        json={"enabled": True, "configuration": bad},
    )
    assert_error(answer, 400, "InvalidScheduleConfiguration")
    assert needle in answer.json()["message"]


def test_the_state_dump_shows_schedules_with_their_job_type(api, control, ws) -> None:
    item = create_dataflow(api, ws, "Orders")["id"]
    made = api.post(
        f"/workspaces/{ws}/items/{item}/jobs/ApplyChanges/schedules",
        json={"enabled": True, "configuration": CRON},
    ).json()
    [dumped] = control.get("/_emulator/state").json()["items"]
    assert dumped["schedules"] == [{**made, "jobType": "ApplyChanges"}]


def test_unknown_job_type_missing_enabled_and_the_limit(api, ws) -> None:
    item = create_dataflow(api, ws, "Orders")["id"]
    base = f"/workspaces/{ws}/items/{item}/jobs"
    request = {"enabled": True, "configuration": CRON}
    assert_error(api.post(f"{base}/Bogus/schedules", json=request), 400, "InvalidJobType")
    assert_error(
        api.post(f"{base}/Execute/schedules", json={"configuration": CRON}),
        400,
        "InvalidScheduleConfiguration",
    )
    for _ in range(20):
        assert api.post(f"{base}/Execute/schedules", json=request).status_code == 201
    assert_error(api.post(f"{base}/ApplyChanges/schedules", json=request), 400, "ScheduleExceedsLimit")


def test_a_schedules_part_creates_the_schedules_and_comes_back_byte_for_byte(api, ws) -> None:
    text = schedules_file(
        {"enabled": True, "jobType": "Execute", "configuration": CRON},
        {"enabled": False, "jobType": "ApplyChanges", "configuration": WEEKLY},
    )
    definition = dataflow_definition("Orders")
    # Unpadded, as the spec's own examples send payloads.
    definition["parts"].append({"path": ".schedules", "payload": b64(text).rstrip("=")})
    created = api.post(
        f"/workspaces/{ws}/items",
        json={"displayName": "Orders", "type": "Dataflow", "definition": definition},
    )
    assert created.status_code == 201, created.text
    item = created.json()["id"]
    base = f"/workspaces/{ws}/items/{item}/jobs"
    [execute] = api.get(f"{base}/Execute/schedules").json()["value"]
    assert (execute["enabled"], execute["configuration"]) == (True, CRON)
    [apply] = api.get(f"{base}/ApplyChanges/schedules").json()["value"]
    assert (apply["enabled"], apply["configuration"]) == (False, WEEKLY)
    assert definition_of(api, ws, item)[".schedules"] == text

    # A schedule changed through the API shows in the part, as Git sync would write it.
    api.delete(f"{base}/ApplyChanges/schedules/{apply['id']}")
    written = json.loads(definition_of(api, ws, item)[".schedules"])
    assert written == {
        "$schema": SCHEMA_URL,
        "schedules": [{"enabled": True, "jobType": "Execute", "configuration": CRON}],
    }


def test_update_definition_replaces_schedules_only_when_it_carries_the_part(api, ws) -> None:
    item = create_dataflow(api, ws, "Orders")["id"]
    base = f"/workspaces/{ws}/items/{item}/jobs"
    api.post(f"{base}/Execute/schedules", json={"enabled": True, "configuration": CRON})
    update = f"/workspaces/{ws}/items/{item}/updateDefinition"

    assert api.post(update, json={"definition": dataflow_definition("Orders")}).status_code == 200
    assert len(api.get(f"{base}/Execute/schedules").json()["value"]) == 1
    assert ".schedules" in definition_of(api, ws, item)

    definition = dataflow_definition("Orders")
    text = schedules_file({"enabled": False, "jobType": "Execute", "configuration": MONTHLY})
    definition["parts"].append({"path": ".schedules", "payload": b64(text)})
    assert api.post(update, json={"definition": definition}).status_code == 200
    [only] = api.get(f"{base}/Execute/schedules").json()["value"]
    assert (only["enabled"], only["configuration"]) == (False, MONTHLY)
    assert definition_of(api, ws, item)[".schedules"] == text

    emptied = dataflow_definition("Orders")
    emptied["parts"].append({"path": ".schedules", "payload": b64(schedules_file())})
    assert api.post(update, json={"definition": emptied}).status_code == 200
    assert api.get(f"{base}/Execute/schedules").json()["value"] == []


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"schedules": {}}),
        schedules_file({"enabled": True, "configuration": CRON}),
        schedules_file({"enabled": True, "jobType": "Nope", "configuration": CRON}),
        schedules_file(
            {"enabled": True, "jobType": "Execute", "configuration": {**CRON, "interval": 0}}
        ),
    ],
)
def test_a_bad_schedules_part_is_400_and_changes_nothing(api, ws, text) -> None:
    item = create_dataflow(api, ws, "Orders")["id"]
    definition = dataflow_definition("Changed")
    definition["parts"].append({"path": ".schedules", "payload": b64(text)})
    answer = api.post(f"/workspaces/{ws}/items/{item}/updateDefinition", json={"definition": definition})
    assert answer.status_code == 400, answer.text
    assert ".schedules" not in definition_of(api, ws, item)
    assert json.loads(definition_of(api, ws, item)["queryMetadata.json"])["name"] == "Orders"


def test_schedules_survive_a_restart_with_db(tmp_path) -> None:
    from fabric_emulator import EmulatorServer

    db = str(tmp_path / "emu.db")
    headers = {"Authorization": "Bearer t"}
    with (
        EmulatorServer(db=db) as first,
        httpx.Client(base_url=first.url + "/v1", headers=headers) as api,
    ):
        ws = api.post("/workspaces", json={"displayName": "W"}).json()["id"]
        item = create_dataflow(api, ws, "Orders")["id"]
        made = api.post(
            f"/workspaces/{ws}/items/{item}/jobs/Execute/schedules",
            json={"enabled": True, "configuration": WEEKLY},
        ).json()
    with (
        EmulatorServer(db=db) as again,
        httpx.Client(base_url=again.url + "/v1", headers=headers) as api,
    ):
        kept = api.get(f"/workspaces/{ws}/items/{item}/jobs/Execute/schedules/{made['id']}")
        assert kept.json() == made
        payload = api.post(f"/workspaces/{ws}/items/{item}/getDefinition").json()
        parts = {p["path"]: p["payload"] for p in payload["definition"]["parts"]}
        assert (
            json.loads(base64.b64decode(parts[".schedules"]))["schedules"][0]["configuration"] == WEEKLY
        )
