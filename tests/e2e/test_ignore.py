"""`ignore` rules end to end: an update made for another reason keeps the live value of every
ignored JSON path and query (updateDefinition replaces the whole definition, so the plan carries
the live values into what it writes), and a saved plan applies exactly that."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from e2e_support import WS, Live
from emulator_project import Cli, commit_all

PORTAL_GROUP = "Edited in the portal: owned by the data team"
PORTAL_QUERY = '"Navigation 1" = Source{[Schema = "sales", Item = "OrdersV2"]}[Data]'
IGNORE = """ignore:
  - dataflows: ["Sales Orders"]
    parts: ["queryMetadata.json"]
    json_paths: ["$.queryGroups[*].description"]
  - dataflows: ["Sales Orders"]
    parts: ["mashup.pq"]
    queries: ["Orders raw"]
"""


def _part(live: Live, item_id: str, path: str) -> str:
    for part in live.client.get_definition(WS, item_id):
        if part["path"] == path:
            return base64.b64decode(part["payload"]).decode("utf-8")
    raise AssertionError(f"no {path}")


def _edit_in_portal(live: Live, item_id: str) -> None:
    """A hand edit of an ignored JSON value and an ignored query, behind dfg's back."""
    parts = live.client.get_definition(WS, item_id)
    for part in parts:
        text = base64.b64decode(part["payload"]).decode("utf-8")
        if part["path"] == "queryMetadata.json":
            doc = json.loads(text)
            doc["queryGroups"][0]["description"] = PORTAL_GROUP
            text = json.dumps(doc, indent=2)
        elif part["path"] == "mashup.pq":
            text = text.replace(
                '"Navigation 1" = Source{[Schema = "sales", Item = "Orders"]}[Data]', PORTAL_QUERY
            )
        part["payload"] = base64.b64encode(text.encode("utf-8")).decode("ascii")
    live.client.update_definition(WS, item_id, parts, update_metadata=False)


def _add_ignore_rules(project: Path) -> Path:
    overlay_file = project / "environments" / "e2e.yaml"
    overlay_file.write_text(overlay_file.read_text() + IGNORE)
    commit_all(project, "ignore what the data team owns")
    return overlay_file


def test_an_update_for_another_reason_keeps_ignored_live_values(
    dfg: Cli, live: Live, project: Path, tmp_path: Path
) -> None:
    overlay_file = _add_ignore_rules(project)
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    item = live.dataflows()["Sales Orders"]
    _edit_in_portal(live, item)

    # Only ignored places differ: nothing to do, and the plan says what it hid.
    code, out, _ = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert code == 0, out
    assert "queryMetadata.json: $.queryGroups[*].description (live value kept)" in out
    assert 'mashup.pq: query "Orders raw" (live value kept)' in out

    # Another change to the same dataflow: one update, the ignored live values survive it.
    overlay_file.write_text(overlay_file.read_text().replace("DaysBack: 7", "DaysBack: 21"))
    commit_all(project, "21 days")
    planfile = tmp_path / "ignore.plan.json"
    code, out, _ = dfg("plan", "-e", "e2e", "--out", str(planfile), "--detailed-exitcode")
    assert code == 2
    assert "Plan: 0 to create, 1 to update, 0 to delete." in out
    assert 'query "DaysBack"' in out
    assert 'query "Orders raw"' not in out.split("Differences hidden")[0]
    saved = planfile.read_text()
    assert "OrdersV2" in base64.b64decode(_payload(saved, "mashup.pq")).decode("utf-8")

    code, out, err = dfg("apply", "-e", "e2e", str(planfile))
    assert code == 0, out + err
    mashup = _part(live, item, "mashup.pq")
    assert "shared DaysBack = 21" in mashup
    assert PORTAL_QUERY in mashup
    groups = json.loads(_part(live, item, "queryMetadata.json"))["queryGroups"]
    assert groups[0]["description"] == PORTAL_GROUP

    # ...and the record holds what is live: the next plan is empty, drift-free.
    code, out, _ = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert code == 0, out


def _payload(plan_text: str, path: str) -> str:
    doc = json.loads(plan_text)
    for action in doc["actions"]:
        if action["name"] == "Sales Orders":
            for part in action["desired"]["parts"]:
                if part["path"] == path:
                    return str(part["payload"])
    raise AssertionError(f"no {path} payload for Sales Orders in the plan file")
