"""The core loop over loopback HTTP: plan creates all → apply → no changes; a parameter change is
one update with a per-query diff; saved plans; rename in place; late binding; outputs; history."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
from e2e_support import WS, WS_OTHER, Live
from emulator_project import Cli, commit_all, git

from dataflow_gitops.pipeline.plan.planfile import plan_schema

N_DATAFLOWS = 7


def test_first_plan_creates_all_then_apply_then_no_changes(dfg: Cli, live: Live) -> None:
    code, out, _ = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert code == 2
    assert f"Plan: {N_DATAFLOWS} to create, 0 to update, 0 to delete." in out
    assert live.dataflows() == {}  # plan never writes

    code, out, _ = dfg("apply", "-e", "e2e", "--auto-approve")
    assert code == 0, out
    assert f"Apply complete: {N_DATAFLOWS} created" in out
    assert len(live.dataflows()) == N_DATAFLOWS

    code, out, _ = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert code == 0
    assert "No changes" in out


def test_late_binding_of_a_dataflow_created_in_the_same_apply(dfg: Cli, live: Live) -> None:
    code, out, _ = dfg("plan", "-e", "e2e")
    assert "(known after apply)" in out
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    ids = live.dataflows()
    summary = live.mashup(ids["Sales Summary"])
    assert ids["Sales Orders"] in summary
    assert ids["Customers"] in summary
    assert "known-after-apply" not in summary


def test_parameter_change_plans_exactly_one_update_with_a_query_diff(
    dfg: Cli, live: Live, project: Path
) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    overlay = project / "environments" / "e2e.yaml"
    overlay.write_text(overlay.read_text().replace("DaysBack: 7", "DaysBack: 14"))
    commit_all(project, "e2e: 14 days")

    code, out, _ = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert code == 2
    assert "Plan: 0 to create, 1 to update, 0 to delete." in out
    assert '~ update "Sales Orders"' in out
    assert re.search(r"^\s*-shared DaysBack = 7 ", out, re.M)
    assert re.search(r"^\s*\+shared DaysBack = 14 ", out, re.M)
    changed_queries = re.findall(r'~ query "([^"]+)"', out)
    assert changed_queries == ["DaysBack"]

    code, out, _ = dfg("plan", "-e", "e2e", "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, plan_schema())
    changes = [a for a in doc["actions"] if a["kind"] != "noop"]
    assert [(a["kind"], a["name"]) for a in changes] == [("update", "Sales Orders")]
    assert [q["name"] for q in changes[0]["diff"]["queries"]] == ["DaysBack"]


def test_saved_plan_applies_exactly_and_show_reads_it(
    dfg: Cli, live: Live, project: Path, tmp_path: Path
) -> None:
    planfile = tmp_path / "e2e.plan.json"
    code, _, _ = dfg("plan", "-e", "e2e", "--out", str(planfile))
    assert code == 0
    jsonschema.validate(json.loads(planfile.read_text()), plan_schema())

    code, out, _ = dfg("show", str(planfile))
    assert code == 0
    assert "Plan: 7 to create" in out
    for fmt in ("markdown", "json"):
        code, shown, _ = dfg("show", str(planfile), "--format", fmt)
        assert code == 0
    jsonschema.validate(json.loads(shown), plan_schema())

    # The repository moves on after the review: the saved plan still writes what was reviewed.
    overlay = project / "environments" / "e2e.yaml"
    overlay.write_text(overlay.read_text().replace("DaysBack: 7", "DaysBack: 30"))
    commit_all(project, "30 days, after the review")

    code, out, _ = dfg("apply", "-e", "e2e", str(planfile))  # a saved plan needs no prompt
    assert code == 0, out
    assert len(live.dataflows()) == N_DATAFLOWS
    assert "shared DaysBack = 7 " in live.mashup(live.dataflows()["Sales Orders"])
    code, out, _ = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert code == 2  # ...and the newer commit is a new plan: one update
    assert "Plan: 0 to create, 1 to update, 0 to delete." in out

    code, _, err = dfg("apply", "-e", "e2e-keep", str(planfile))
    assert code == 1
    assert "made for environment 'e2e'" in err


def test_rename_keeps_the_item_id(dfg: Cli, live: Live, project: Path) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    before = live.dataflows()["Products"]
    platform = project / "dataflows" / "Products.Dataflow" / ".platform"
    platform.write_text(platform.read_text().replace('"Products"', '"Product Catalog"'))
    commit_all(project, "rename Products")

    code, out, _ = dfg("plan", "-e", "e2e", "--detailed-exitcode")
    assert code == 2
    assert '~ rename "Products" → "Product Catalog"' in out
    assert "0 to create, 1 to update, 0 to delete" in out

    # a rename is an update in place: no delete, so no --allow-delete needed
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    after = live.dataflows()
    assert "Products" not in after
    assert after["Product Catalog"] == before
    assert dfg("plan", "-e", "e2e", "--detailed-exitcode")[0] == 0


def test_markdown_output_is_a_bounded_sticky_comment(dfg: Cli, live: Live) -> None:
    code, out, _ = dfg("plan", "-e", "e2e", "--format", "markdown")
    assert code == 0
    assert out.startswith("<!-- dataflow-gitops plan: e2e -->")
    assert "**Plan: 7 to create, 0 to update, 0 to delete.**" in out
    assert out.count("<details>") == N_DATAFLOWS
    assert out.count("<details>") == out.count("</details>")
    assert len(out) < 65_535


def test_history_lists_the_applies_newest_first(dfg: Cli, live: Live, project: Path) -> None:
    code, out, _ = dfg("history", "-e", "e2e")
    assert code == 0
    assert "No deployments recorded" in out
    first = git(project, "rev-parse", "HEAD")
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    overlay = project / "environments" / "e2e.yaml"
    overlay.write_text(overlay.read_text().replace("DaysBack: 7", "DaysBack: 21"))
    second = commit_all(project, "21 days")
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0

    code, out, _ = dfg("history", "-e", "e2e", "--format", "json")
    records = json.loads(out)
    assert [r["commit"] for r in records] == [second, first]
    assert all(r["ok"] for r in records)
    assert {i["name"] for i in records[0]["items"]} == set(live.dataflows())
    tags = git(project, "tag", "--list", "dfg/e2e/*").split()
    assert len(tags) == 2

    code, out, _ = dfg("history", "-e", "e2e")
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert second[:12] in lines[0]
    assert first[:12] in lines[1]


def test_verbose_logs_each_api_request(dfg: Cli, live: Live) -> None:
    code, _, err = dfg("-v", "plan", "-e", "e2e")
    assert code == 0
    assert re.search(r"GET /v1/workspaces/[0-9a-f-]+/items\S* 200", err)


def test_apply_of_an_older_ref_rolls_back(dfg: Cli, live: Live, project: Path) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    good = git(project, "rev-parse", "HEAD").strip()
    overlay = project / "environments" / "e2e.yaml"
    overlay.write_text(overlay.read_text().replace("DaysBack: 7", "DaysBack: 99"))
    commit_all(project, "e2e: a bad release")
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    ids = live.dataflows()
    assert "DaysBack = 99" in live.mashup(ids["Sales Orders"])

    code, out, _ = dfg("apply", "-e", "e2e", "--ref", good, "--auto-approve")
    assert code == 0, out
    assert "0 created, 1 updated, 0 deleted" in out
    assert live.dataflows() == ids  # rolled back in place: same items
    assert "DaysBack = 7 " in live.mashup(ids["Sales Orders"])
    assert (project / "environments" / "e2e.yaml").read_text().count("DaysBack: 99") == 1  # no checkout


def test_apply_refuses_ref_with_a_saved_plan(dfg: Cli, project: Path) -> None:
    saved = str(project / "p.json")
    assert dfg("plan", "-e", "e2e", "--out", saved)[0] in (0, 2)
    code, _, err = dfg("apply", "-e", "e2e", saved, "--ref", "HEAD")
    assert code == 1
    assert "--ref cannot be used with a saved plan" in err


def test_a_git_sync_reference_resolves_through_another_environments_record(
    dfg: Cli, live: Live, project: Path
) -> None:
    """Fabric Git sync writes the real ids of the workspace it syncs; that environment's
    deployment record maps them back to repository dataflows for every other environment."""
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    synced_from = live.dataflows()["Customers"]
    mashup = project / "dataflows" / "Sales Summary.Dataflow" / "mashup.pq"
    text = mashup.read_text()
    portable = (
        '{[workspaceId = "00000000-0000-0000-0000-000000000000"]}[Data],\n'
        '  #"Navigation 3" = #"Navigation 2"{[dataflowId = "af1fafc3-cb96-4bd4-a768-ede35d9766a9"]}'
    )
    synced = (
        f'{{[workspaceId = "{WS}"]}}[Data],\n'
        f'  #"Navigation 3" = #"Navigation 2"{{[dataflowId = "{synced_from}"]}}'
    )
    assert portable in text
    mashup.write_text(text.replace(portable, synced))
    commit_all(project, "git sync wrote real ids")

    code, out, _ = dfg("apply", "-e", "e2e-other", "--auto-approve")
    assert code == 0, out
    other = live.dataflows(WS_OTHER)
    summary = live.mashup(other["Sales Summary"], WS_OTHER)
    assert other["Customers"] in summary
    assert synced_from not in summary
    assert WS not in summary


def test_json_logs_make_every_stderr_line_json(dfg: Cli) -> None:
    code, _, err = dfg("-v", "--json-logs", "apply", "-e", "e2e", "--auto-approve")
    assert code == 0
    lines = [line for line in err.splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # progress and request log alike
    assert any(e["logger"] == "dataflow_gitops.progress" for e in events)
    assert any(e["logger"] == "dataflow_gitops.fabric.http" for e in events)
