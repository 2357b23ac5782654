"""Safety rails end to end: stale saved plans are refused (nothing written), deletes need prune
and --allow-delete, protected environments need an explicit approval, secrets never leak."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from e2e_support import WS, WS_OTHER, Live, overlay
from emulator_project import Cli, commit_all


def _edit_live_mashup(live: Live, item_id: str, marker: str) -> str:
    parts = live.client.get_definition(WS, item_id)
    for part in parts:
        if part["path"] == "mashup.pq":
            text = base64.b64decode(part["payload"]).decode("utf-8") + f"\n// {marker}\n"
            part["payload"] = base64.b64encode(text.encode("utf-8")).decode("ascii")
    live.client.update_definition(WS, item_id, parts, update_metadata=False)
    return live.mashup(item_id)


def test_stale_saved_plan_is_refused_and_the_live_change_survives(
    dfg: Cli, live: Live, project: Path, tmp_path: Path
) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    overlay_file = project / "environments" / "e2e.yaml"
    overlay_file.write_text(overlay_file.read_text().replace("DaysBack: 7", "DaysBack: 14"))
    commit_all(project, "14 days")
    planfile = tmp_path / "stale.plan.json"
    assert dfg("plan", "-e", "e2e", "--out", str(planfile))[0] == 0

    item = live.dataflows()["Sales Orders"]
    hand_made = _edit_live_mashup(live, item, "hot fix made in the portal")

    code, out, err = dfg("apply", "-e", "e2e", str(planfile))
    assert code == 1
    assert "Sales Orders" in err
    assert "live definition changed" in err
    assert len(err.strip().splitlines()) == 1
    assert live.mashup(item) == hand_made


def test_planned_as_absent_but_now_existing_is_refused(dfg: Cli, live: Live, tmp_path: Path) -> None:
    planfile = tmp_path / "fresh.plan.json"
    assert dfg("plan", "-e", "e2e", "--out", str(planfile))[0] == 0
    live.client.create_item(WS, display_name="Customers", type="Dataflow")

    code, _, err = dfg("apply", "-e", "e2e", str(planfile))
    assert code == 1
    assert '"Customers" (planned as absent, now exists' in err
    assert set(live.dataflows()) == {"Customers"}  # nothing else was written


def test_removing_a_folder_deletes_only_with_prune_and_allow_delete(
    dfg: Cli, live: Live, project: Path
) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    assert dfg("apply", "-e", "e2e-keep", "--auto-approve")[0] == 0  # same workspace, no prune
    hello = live.dataflows()["Hello Dataflow"]
    for file in (project / "dataflows" / "Hello Dataflow.Dataflow").iterdir():
        file.unlink()
    (project / "dataflows" / "Hello Dataflow.Dataflow").rmdir()
    commit_all(project, "drop Hello Dataflow")

    # prune off: listed as unmanaged, never deleted, even with --allow-delete
    code, out, _ = dfg("plan", "-e", "e2e-keep", "--detailed-exitcode")
    assert code == 0
    assert '"Hello Dataflow"' in out.split("never touched")[1]
    assert dfg("apply", "-e", "e2e-keep", "--auto-approve", "--allow-delete")[0] == 0
    assert live.dataflows()["Hello Dataflow"] == hello

    # prune on: planned, but refused without --allow-delete, nothing written
    code, out, _ = dfg("plan", "-e", "e2e")
    assert "1 to delete" in out
    assert '- delete "Hello Dataflow"' in out
    code, _, err = dfg("apply", "-e", "e2e", "--auto-approve")
    assert code == 1
    assert "--allow-delete" in err
    assert live.dataflows()["Hello Dataflow"] == hello

    code, out, _ = dfg("apply", "-e", "e2e", "--auto-approve", "--allow-delete")
    assert code == 0, out
    assert "Hello Dataflow" not in live.dataflows()
    assert len(live.dataflows()) == 6


def test_prune_spares_live_dataflows_the_tool_never_deployed(dfg: Cli, live: Live) -> None:
    live.client.create_item(WS, display_name="Made By Hand", type="Dataflow")
    assert dfg("apply", "-e", "e2e", "--auto-approve", "--allow-delete")[0] == 0
    code, out, _ = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert code == 0
    assert "Made By Hand" in out  # listed as unmanaged
    assert "Made By Hand" in live.dataflows()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_protected_environment_refuses_without_approval(
    dfg: Cli, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = dfg("apply", "-e", "e2e-prot", "--auto-approve")
    assert code == 1
    assert "protected" in err
    assert "--approve-protected e2e-prot" in err
    assert live.dataflows(WS_OTHER) == {}

    monkeypatch.setattr("sys.stdin", _Terminal("no\n"))
    code, _, err = dfg("apply", "-e", "e2e-prot")
    assert code == 1
    assert "cancelled" in err
    assert live.dataflows(WS_OTHER) == {}

    monkeypatch.setattr("sys.stdin", _Terminal("yes\n"))
    code, _, err = dfg("apply", "-e", "e2e-prot")
    assert code == 0, err
    assert "Only 'yes' will be accepted" in err
    assert len(live.dataflows(WS_OTHER)) == 7


def test_json_apply_shows_the_plan_on_stderr_before_asking(
    dfg: Cli, live: Live, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("sys.stdin", _Terminal("yes\n"))
    code, out, err = dfg("apply", "-e", "e2e", "--format", "json")
    assert code == 0, err
    shown = err.index("Plan: 7 to create, 0 to update, 0 to delete.")
    assert '+ create "Sales Summary"' in err[:shown]
    assert shown < err.index("Only 'yes' will be accepted")
    assert json.loads(out)["ok"] is True  # stdout stays one JSON document

    # A saved plan for a protected environment asks too, and shows what it asks about.
    planfile = tmp_path / "prot.plan.json"
    assert dfg("plan", "-e", "e2e-prot", "--out", str(planfile))[0] == 0
    monkeypatch.setattr("sys.stdin", _Terminal("no\n"))
    code, out, err = dfg("apply", "-e", "e2e-prot", str(planfile))
    assert code == 1
    assert "Plan: 7 to create, 0 to update, 0 to delete." in out
    assert "cancelled" in err
    assert live.dataflows(WS_OTHER) == {}


def test_protected_environment_accepts_an_explicit_approval(dfg: Cli, live: Live) -> None:
    code, _, err = dfg("apply", "-e", "e2e-prot", "--approve-protected", "e2e-other")
    assert code == 1  # approving another environment approves nothing here
    code, out, _ = dfg("apply", "-e", "e2e-prot", "--approve-protected", "e2e-prot")
    assert code == 0, out
    assert len(live.dataflows(WS_OTHER)) == 7


def test_unprompted_apply_without_a_terminal_fails_clearly(dfg: Cli, live: Live) -> None:
    code, _, err = dfg("apply", "-e", "e2e")
    assert code == 1
    assert "--auto-approve" in err
    assert live.dataflows() == {}


def test_secrets_never_reach_output_plans_or_records(
    dfg: Cli, live: Live, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sql-prod-s3cr3t.example.net"
    monkeypatch.setenv("E2E_SERVER", secret)
    (project / "environments" / "e2e.yaml").write_text(
        overlay(live.url, extra="prune:\n  enabled: true\n").replace(
            "parameters:\n", "parameters:\n  ServerName: ${env:E2E_SERVER}\n"
        )
    )
    commit_all(project, "secret server")
    planfile = tmp_path / "secret.plan.json"
    outputs = [
        dfg("plan", "-e", "e2e", "--out", str(planfile), "--format", fmt)
        for fmt in ("text", "markdown", "json")
    ]
    assert all(code == 0 for code, _, _ in outputs)
    code, out, err = dfg("apply", "-e", "e2e", str(planfile))
    assert code == 0, err
    history = dfg("history", "-e", "e2e", "--format", "json")
    shown = [o + e for _, o, e in outputs] + [out, err, history[1], planfile.read_text()]
    assert not [text for text in shown if secret in text]
    # payloads are base64 in the file: decoded, they hold the reference, never the value
    payloads = [
        base64.b64decode(part["payload"]).decode("utf-8")
        for action in json.loads(planfile.read_text())["actions"]
        for part in action.get("desired", {}).get("parts", [])
    ]
    assert payloads
    assert not [p for p in payloads if secret in p]
    assert any("${env:E2E_SERVER}" in p for p in payloads)
    # …while the workspace did get the real value, resolved again at apply
    assert secret in live.mashup(live.dataflows()["Sales Orders"])


def test_a_reviewed_plan_file_that_shows_a_delete_applies_it_with_allow_delete(
    dfg: Cli, live: Live, project: Path, tmp_path: Path
) -> None:
    """The file is evidence, not authority: its deletes need today's --allow-delete too."""
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    folder = project / "dataflows" / "Hello Dataflow.Dataflow"
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    commit_all(project, "drop Hello Dataflow")
    planfile = tmp_path / "delete.plan.json"
    code, out, _ = dfg("plan", "-e", "e2e", "--out", str(planfile))
    assert '- delete "Hello Dataflow"' in out
    code, _, err = dfg("show", str(planfile))
    assert code == 0
    code, out, err = dfg("apply", "-e", "e2e", str(planfile))
    assert code == 1
    assert "--allow-delete" in err
    assert "Hello Dataflow" in live.dataflows()
    code, out, err = dfg("apply", "-e", "e2e", str(planfile), "--allow-delete")
    assert code == 0, err
    assert "Hello Dataflow" not in live.dataflows()
