"""Edges of plan/apply end to end: unresolvable bindings, workspace by name, --ref, --target,
request logging without the token, GitHub job summary and annotations, plain progress lines."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from e2e_support import TOKEN, WS, Live, overlay
from emulator_project import Cli, commit_all

from dataflow_gitops.cli.progress import PlainReporter


def test_an_unresolvable_binding_is_a_plan_error_naming_it(dfg: Cli, live: Live) -> None:
    lakehouse = next(i for i in live.client.list_items(WS) if i["type"] == "Lakehouse")
    live.client.delete_item(WS, lakehouse["id"])
    code, out, err = dfg("plan", "-e", "e2e")
    assert code == 1
    assert "${items.Lakehouse.SalesLakehouse.id}" in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def test_dynamic_bindings_resolve_against_the_live_target_workspace(dfg: Cli, live: Live) -> None:
    items = {i["displayName"]: i["id"] for i in live.client.list_items(WS)}
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    orders = live.mashup(live.dataflows()["Sales Orders"])
    customers = live.mashup(live.dataflows()["Customers"])
    assert items["SalesLakehouse"] in orders  # ${items.Lakehouse.SalesLakehouse.id}
    assert items["SalesWarehouse"] in customers  # ${items.Warehouse.SalesWarehouse.id}
    assert WS in orders  # ${workspace.id}
    for dev_id in (
        "7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b27",
        "c4a81f3e-6b2d-4e95-8a7c-1f3b5d9e2c68",
        "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10",
    ):
        assert dev_id not in orders + customers


def test_workspace_by_name_and_a_missing_workspace(dfg: Cli, live: Live, project: Path) -> None:
    by_name = overlay(live.url).replace(f"workspace_id: {WS}", "workspace_name: E2E")
    (project / "environments" / "e2e-named.yaml").write_text(by_name)
    code, out, _ = dfg("plan", "-e", "e2e-named")
    assert code == 0, out
    assert f"(workspace {WS})" in out

    missing = overlay(live.url, "0a1b2c3d-0000-4000-8000-000000000000")
    (project / "environments" / "e2e-gone.yaml").write_text(missing)
    code, _, err = dfg("plan", "-e", "e2e-gone")
    assert code == 1
    assert "environments/e2e-gone.yaml" in err
    assert "0a1b2c3d-0000-4000-8000-000000000000 does not exist" in err


def test_plan_a_git_ref_and_a_target(dfg: Cli, live: Live, project: Path) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    mashup = project / "dataflows" / "Products.Dataflow" / "mashup.pq"
    text = mashup.read_text()
    mashup.write_text(text.replace("IncludeDiscontinued = false", "IncludeDiscontinued = true"))
    commit_all(project, "include discontinued")
    assert dfg("plan", "-e", "e2e", "--detailed-exitcode")[0] == 2
    assert dfg("plan", "-e", "e2e", "--detailed-exitcode", "--ref", "HEAD~1")[0] == 0
    code, out, _ = dfg("plan", "-e", "e2e", "--detailed-exitcode", "--target", "Customers")
    assert code == 0
    assert "Products" not in out
    code, _, err = dfg("plan", "-e", "e2e", "--target", "Nope")
    assert code == 1
    assert "unknown --target 'Nope'" in err


def test_verbose_request_log_never_shows_the_token(dfg: Cli, live: Live) -> None:
    code, out, err = dfg("-v", "apply", "-e", "e2e", "--auto-approve")
    assert code == 0
    assert re.search(r"POST /v1/workspaces/[0-9a-f-]+/items 20[12]", err)
    assert TOKEN not in out + err


def test_github_actions_summary_and_annotations(
    dfg: Cli, live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert dfg("plan", "-e", "e2e")[0] == 0
    assert "<!-- dataflow-gitops plan: e2e -->" in summary.read_text()

    live.control(
        "POST",
        "faults",
        {"kind": "status", "status": 400, "method": "POST", "path": "/items$", "count": 1},
    )
    code, out, _ = dfg("apply", "-e", "e2e", "--auto-approve", "--concurrency", "1")
    assert code == 1
    assert re.search(r"^::error title=dfg apply e2e::Customers: ", out, re.M)


def test_plain_progress_lines_count_writes_only() -> None:
    stream = io.StringIO()
    reporter = PlainReporter(stream, steps=("apply",))
    reporter.start("observe", 2)
    reporter.advance("observe", "A")
    reporter.start("apply", 3)
    reporter.advance("apply", "+ A: succeeded")
    reporter.advance("apply", "= B: succeeded")
    reporter.advance("apply", "~ C: failed")
    reporter.finish("apply")
    assert stream.getvalue().splitlines() == [
        "Reading live definitions: 2 dataflows",
        "Applying: 3 dataflows",
        "  [1/3] + A: succeeded",
        "  [3/3] ~ C: failed",
    ]


def test_plain_progress_in_a_log_names_each_action_once_and_nothing_before_it_starts() -> None:
    stream = io.StringIO()
    reporter = PlainReporter(stream)  # what CI gets: the result on stdout lists the actions
    reporter.start("observe", 1)
    assert stream.getvalue() == ""  # an auth failure now would follow no "Reading …" line
    reporter.advance("observe", "A")
    reporter.start("apply", 1)
    reporter.advance("apply", "+ A: succeeded")
    assert stream.getvalue().splitlines() == [
        "Reading live definitions: 1 dataflow",
        "Applying: 1 dataflow",
    ]
