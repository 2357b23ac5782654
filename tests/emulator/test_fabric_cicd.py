"""Peer test: fabric-cicd 1.4.0 (a real client nobody here wrote) publishes 8 dataflows, one reading
another through PowerPlatform.Dataflows and one with a `.schedules` part, republishes after a change
and unpublishes an orphan against the emulator; the final live state is checked through the API."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_samples import parts_by_path, query_metadata

fabric_cicd = pytest.importorskip("fabric_cicd")
from azure.core.credentials import AccessToken  # noqa: E402
from fabric_cicd import constants  # noqa: E402

DEV_WORKSPACE = "9d2c8f4e-1b7a-4c55-9e0d-3f6a2b1c4d5e"
DEV_SOURCE_ID = "5a3e7c1d-2b4f-4e6a-8c9d-0e1f2a3b4c5d"
NAMES = [
    "Source Orders",
    "Customers",
    "Products",
    "Stores",
    "Regions",
    "Calendar",
    "Returns",
    "Report Orders",
]
IN_FOLDER = {"Stores": "Sales", "Regions": "Sales"}
SCHEDULED = "Products"


def schedules_file(enabled: bool) -> str:
    """A `.schedules` part as Fabric Git sync writes one beside a dataflow."""
    entry = {
        "enabled": enabled,
        "jobType": "Execute",
        "configuration": {
            "type": "Daily",
            "startDateTime": "2026-01-01T00:00:00",
            "endDateTime": "2027-01-01T00:00:00",
            "localTimeZoneId": "W. Europe Standard Time",
            "times": ["02:00"],
        },
    }
    return json.dumps(
        {
            "$schema": "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/"
            "schedules/1.0.0/schema.json",
            "schedules": [entry],
        },
        indent=2,
    )


class StaticCredential:
    """fabric-cicd needs only `get_token`; the emulator accepts any non-empty token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("fabric-cicd-test-token", 4_102_444_800)


def mashup(name: str, value: int) -> str:
    if name == "Report Orders":
        return (
            "section Section1;\nshared Orders = let\n  Source = PowerPlatform.Dataflows([]),\n"
            '  Workspaces = Source{[Id = "Workspaces"]}[Data],\n'
            f'  Workspace = Workspaces{{[workspaceId = "{DEV_WORKSPACE}"]}}[Data],\n'
            f'  Dataflow = Workspace{{[dataflowId = "{DEV_SOURCE_ID}"]}}[Data],\n'
            '  Table = Dataflow{[entity = "Orders", version = ""]}[Data]\nin\n  Table;\n'
        )
    return (
        f'section Section1;\nshared Data = let\n  Rows = #table({{"n"}}, {{{{{value}}}}})\nin\n  Rows;\n'
    )


def write_dataflow(root: Path, name: str, logical_id: str, value: int) -> None:
    folder = root / IN_FOLDER.get(name, "") / f"{name}.Dataflow"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".platform").write_text(
        json.dumps(
            {
                "$schema": "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/"
                "platformProperties/2.0.0/schema.json",
                "metadata": {"type": "Dataflow", "displayName": name},
                "config": {"version": "2.0", "logicalId": logical_id},
            },
            indent=2,
        )
    )
    (folder / "queryMetadata.json").write_text(json.dumps(query_metadata(name), indent=2))
    (folder / "mashup.pq").write_text(mashup(name, value))
    if name == SCHEDULED:
        (folder / ".schedules").write_text(schedules_file(enabled=True))


def publish(repo: Path, ws: str) -> None:
    workspace = fabric_cicd.FabricWorkspace(
        workspace_id=ws,
        repository_directory=str(repo),
        item_type_in_scope=["Dataflow"],
        token_credential=StaticCredential(),
        environment="PROD",
    )
    fabric_cicd.publish_all_items(workspace)
    fabric_cicd.unpublish_all_orphan_items(workspace)


def live(api: httpx.Client, ws: str) -> dict[str, dict[str, Any]]:
    items = api.get(f"/workspaces/{ws}/items", params={"type": "Dataflow"}).json()["value"]
    out = {}
    for item in items:
        response = api.post(f"/workspaces/{ws}/items/{item['id']}/getDefinition")
        while response.status_code == 202 or "Location" in response.headers:
            response = api.get(response.headers["Location"])
        out[item["displayName"]] = {**item, "files": parts_by_path(response.json()["definition"])}
    return out


@pytest.mark.parametrize("lro", ["always", "never"])
def test_fabric_cicd_publishes_republishes_and_prunes(
    emulator, api, control, ws, tmp_path, monkeypatch, lro
) -> None:
    monkeypatch.setenv("FABRIC_CICD_RETRY_DELAY_OVERRIDE_SECONDS", "0")
    monkeypatch.setattr(constants, "DEFAULT_API_ROOT_URL", emulator.url)
    control.post("/_emulator/config", json={"lro": lro, "lroPolls": 1, "retryAfterS": 0})
    orphan = api.post(f"/workspaces/{ws}/items", json={"displayName": "Old Orphan", "type": "Dataflow"})
    assert orphan.status_code == (202 if lro == "always" else 201)
    logical_ids = {name: str(uuid.uuid4()) for name in NAMES}
    logical_ids["Source Orders"] = DEV_SOURCE_ID  # Git sync keeps the dev item's id as logicalId
    for n, name in enumerate(NAMES):
        write_dataflow(tmp_path, name, logical_ids[name], n)
    (tmp_path / "parameter.yml").write_text(
        "find_replace:\n"
        f'  - find_value: "{DEV_SOURCE_ID}"\n'
        "    replace_value:\n"
        '      PROD: "$items.Dataflow.Source Orders.id"\n'
        '    item_type: "Dataflow"\n'
    )

    publish(tmp_path, ws)

    first = live(api, ws)
    assert sorted(first) == sorted(NAMES)
    for name in NAMES:
        platform = json.loads(first[name]["files"][".platform"])
        assert platform["config"]["logicalId"] == logical_ids[name]
    folders = {f["id"]: f["displayName"] for f in api.get(f"/workspaces/{ws}/folders").json()["value"]}
    assert {name: folders.get(first[name].get("folderId", ""), "") for name in NAMES} == {
        name: IN_FOLDER.get(name, "") for name in NAMES
    }
    assert first["Customers"]["files"]["mashup.pq"] == mashup("Customers", 1)
    report = first["Report Orders"]["files"]["mashup.pq"]
    # fabric-cicd re-points the reference at the live source dataflow in the target workspace.
    assert DEV_WORKSPACE not in report
    assert f'workspaceId = "{ws}"' in report
    assert f'dataflowId = "{first["Source Orders"]["id"]}"' in report
    # The .schedules part went along as any other part, and Fabric made the schedule from it.
    assert first[SCHEDULED]["files"][".schedules"] == schedules_file(enabled=True)
    execute = f"/workspaces/{ws}/items/{first[SCHEDULED]['id']}/jobs/Execute/schedules"
    [made] = api.get(execute).json()["value"]
    assert made["enabled"] is True
    assert made["configuration"]["times"] == ["02:00"]
    order = [
        e["path"]
        for e in control.get("/_emulator/requests").json()["value"]
        if e["method"] == "POST" and e["path"].endswith(f"/workspaces/{ws}/items")
    ]
    assert len(order) == len(NAMES) + 1  # the orphan, then one create per dataflow

    # Republish after a change: same items updated in place, nothing re-created.
    (tmp_path / "Customers.Dataflow" / "mashup.pq").write_text(mashup("Customers", 42))
    (tmp_path / f"{SCHEDULED}.Dataflow" / ".schedules").write_text(schedules_file(enabled=False))
    publish(tmp_path, ws)
    second = live(api, ws)
    assert {n: d["id"] for n, d in second.items()} == {n: d["id"] for n, d in first.items()}
    assert second["Customers"]["files"]["mashup.pq"] == mashup("Customers", 42)
    assert second["Products"]["files"]["mashup.pq"] == mashup("Products", 2)
    assert [s["enabled"] for s in api.get(execute).json()["value"]] == [False]

    # An item removed from the repo is an orphan and is unpublished.
    for path in sorted((tmp_path / "Calendar.Dataflow").iterdir()):
        path.unlink()
    (tmp_path / "Calendar.Dataflow").rmdir()
    publish(tmp_path, ws)
    assert sorted(live(api, ws)) == sorted(set(NAMES) - {"Calendar"})
