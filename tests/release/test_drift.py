"""`dfg drift`: hand edits (live drift) apart from pending git changes, exit codes, three formats."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from emulator_project import Cli, Live, commit_all
from release_support import PROD_WS, TEST_WS

from dataflow_gitops.pipeline.definition.parts import encode_parts
from dataflow_gitops.pipeline.definition.source import read_working_tree

SCHEMA = json.loads(
    resources.files("dataflow_gitops").joinpath("schemas/drift.schema.json").read_text("utf-8")
)


def _validate(doc: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def _statuses(dfg: Cli, env: str = "test") -> tuple[int, dict[str, dict[str, object]]]:
    """Every JSON report these tests read is checked against the published schema too."""
    code, out, err = dfg("drift", "-e", env, "--format", "json")
    assert code in (0, 2), out + err
    doc = json.loads(out)
    _validate(doc)
    assert doc["live_drifted"] is (code == 2)
    assert sum(doc["summary"].values()) == len(doc["dataflows"])
    return code, {row["name"]: row for row in doc["dataflows"]}


def _apply(dfg: Cli, env: str = "test") -> None:
    code, out, err = dfg("apply", "-e", env, "--auto-approve")
    assert code == 0, out + err


def test_in_sync_after_apply_exits_0(dfg: Cli) -> None:
    _apply(dfg)
    code, rows = _statuses(dfg)
    assert code == 0
    assert {row["status"] for row in rows.values()} == {"in-sync"}
    assert len(rows) == 7


def test_hotfix_is_live_drift_with_a_per_query_diff_and_exit_2(dfg: Cli, live: Live) -> None:
    _apply(dfg)
    live.hotfix(TEST_WS, "Products", '"Margin"', '"GrossMargin"')

    code, rows = _statuses(dfg)

    assert code == 2
    products = rows["Products"]
    assert products["status"] == "live-drift"
    assert products["live_drifted"] is True
    queries = products["diff"]["queries"]
    assert [q["name"] for q in queries] == ["Products"]
    lines = queries[0]["diff"].splitlines()
    assert any(x.startswith("-") and '"Margin"' in x for x in lines)
    assert any(x.startswith("+") and '"GrossMargin"' in x for x in lines)
    others = {name: row["status"] for name, row in rows.items() if name != "Products"}
    assert set(others.values()) == {"in-sync"}


def test_pending_git_change_is_not_drift_and_exits_0(dfg: Cli, project: Path) -> None:
    _apply(dfg)
    mashup = project / "dataflows" / "Customers.Dataflow" / "mashup.pq"
    mashup.write_text(mashup.read_text().replace('"Unknown"', '"n/a"'))
    commit_all(project, "customers: n/a")

    code, rows = _statuses(dfg)

    assert code == 0
    assert rows["Customers"]["status"] == "pending"
    assert rows["Customers"]["diff"] is None


def test_both_missing_and_unmanaged(dfg: Cli, project: Path, live: Live) -> None:
    _apply(dfg)
    live.hotfix(TEST_WS, "Customers", '"Unknown"', '"Unknown!"')
    mashup = project / "dataflows" / "Customers.Dataflow" / "mashup.pq"
    mashup.write_text(mashup.read_text().replace("Text.Trim", "Text.Clean"))
    commit_all(project, "customers: clean")
    live.client.delete_item(TEST_WS, live.dataflows(TEST_WS)["Exchange Rates"])
    hello = read_working_tree(project).by_name("Hello Dataflow")
    assert hello is not None
    live.client.create_item(
        TEST_WS,
        display_name="Manual extract",
        type="Dataflow",
        definition={"parts": encode_parts(hello.parts)},
    )

    code, rows = _statuses(dfg)

    assert code == 2
    assert rows["Customers"]["status"] == "both"
    assert rows["Exchange Rates"]["status"] == "missing-live"
    assert rows["Manual extract"]["status"] == "unmanaged"
    assert rows["Sales Orders"]["status"] == "in-sync"


def test_text_and_markdown_formats(dfg: Cli, live: Live) -> None:
    _apply(dfg)
    live.hotfix(TEST_WS, "Products", '"Margin"', '"GrossMargin"')

    code, out, _ = dfg("drift", "-e", "test")
    assert code == 2
    assert "! Products: live drift (changed outside git)" in out
    lines = [line.strip() for line in out.splitlines()]
    assert "--- last-applied/Products" in lines
    assert "+++ live/Products" in lines
    assert any(x.startswith("+") and '"GrossMargin"' in x for x in lines)
    assert "= Customers: in sync" in out
    assert out.rstrip().endswith("Live drift detected: 6 in sync, 1 live drift (changed outside git).")

    code, out, _ = dfg("drift", "-e", "test", "--format", "markdown")
    assert code == 2
    assert "| Products | live drift (changed outside git) |" in out
    assert "<details><summary>Products: last applied → live</summary>" in out
    assert "```diff" in out


def test_ignore_rules_hide_tuning_in_prod(dfg: Cli, live: Live) -> None:
    _apply(dfg)
    code, out, err = dfg("promote", "--to", "prod", "--approve-protected", "prod")
    assert code == 0, out + err
    item = live.dataflows(PROD_WS)["Customers"]
    parts = live.parts(PROD_WS, item)
    metadata = json.loads(parts["queryMetadata.json"])
    metadata["computeEngineSettings"] = {"maxConcurrency": 4}
    parts["queryMetadata.json"] = json.dumps(metadata, indent=2)
    live.write_parts(PROD_WS, item, parts)

    code, rows = _statuses(dfg, "prod")

    assert code == 0
    assert rows["Customers"]["status"] == "in-sync"
    assert "ignore rules" in str(rows["Customers"]["note"])


def test_uncommitted_edits_are_pending_and_said_so(dfg: Cli, project: Path) -> None:
    _apply(dfg)
    mashup = project / "dataflows" / "Customers.Dataflow" / "mashup.pq"
    mashup.write_text(mashup.read_text().replace('"Unknown"', '"n/a"'))

    code, out, _ = dfg("drift", "-e", "test")

    assert code == 0
    assert "+ uncommitted changes" in out.splitlines()[0]
    assert "~ Customers: pending git change" in out


def test_no_record_validates_and_the_schema_is_strict(dfg: Cli) -> None:
    code, out, _ = dfg("drift", "-e", "test", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    _validate(doc)
    assert doc["record"] == {"commit": None, "time": None}
    assert doc["summary"]["not-deployed"] == 7
    code, out, _ = dfg("drift", "-e", "test")
    assert "no deployment record (in CI, fetch the dfg/* tags: git fetch --tags)" in out.splitlines()[0]
    broken = {**doc, "dataflows": [{**doc["dataflows"][0], "status": "drifted"}]}
    with pytest.raises(jsonschema.ValidationError):
        _validate(broken)
    with pytest.raises(jsonschema.ValidationError):
        _validate({k: v for k, v in doc.items() if k != "format_version"})


def test_renamed_and_json_part_edited_live_shows_property_and_part_changes(dfg: Cli, live: Live) -> None:
    _apply(dfg)
    item = live.dataflows(TEST_WS)["Customers"]
    parts = live.parts(TEST_WS, item)
    metadata = json.loads(parts["queryMetadata.json"])
    metadata["fastCombine"] = True
    parts["queryMetadata.json"] = json.dumps(metadata, indent=2)
    live.write_parts(TEST_WS, item, parts)
    live.client.update_item(TEST_WS, item, display_name="Clients")

    code, rows = _statuses(dfg)

    assert code == 2
    diff = rows["Customers"]["diff"]
    assert isinstance(diff, dict)
    assert diff["properties"] == [{"name": "displayName", "old": "Customers", "new": "Clients"}]
    assert [(p["path"], p["kind"]) for p in diff["parts"]] == [("queryMetadata.json", "modified")]
    assert any("fastCombine" in line for line in diff["parts"][0]["details"])


def test_in_github_actions_each_live_drift_is_an_error_annotation(
    dfg: Cli, live: Live, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _apply(dfg)
    live.hotfix(TEST_WS, "Products", '"Margin"', '"GrossMargin"')
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    code, out, _ = dfg("drift", "-e", "test")

    assert code == 2
    annotations = [line for line in out.splitlines() if line.startswith("::error")]
    assert annotations == ["::error title=dfg drift test::Products: live drift (changed outside git)"]
    assert "| Products | live drift (changed outside git) |" in summary.read_text()
    code, out, _ = dfg("drift", "-e", "test", "--format", "json")
    assert json.loads(out)["live_drifted"] is True  # stdout is still one JSON document


SECRET_URL = "https://rates.example.net/v2/?key=k3y-that-must-not-leak"


def test_a_secret_the_overlay_reads_from_the_environment_never_shows_in_drift(
    dfg: Cli, project: Path, live: Live, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RATES_URL", SECRET_URL)
    overlay = project / "environments" / "test.yaml"
    text = overlay.read_text()
    assert "  ApiBaseUrl: https://test-api.rates.contoso.net/v2/\n" in text
    overlay.write_text(text.replace("https://test-api.rates.contoso.net/v2/", "${env:RATES_URL}"))
    commit_all(project, "test: the rates URL carries a key")
    _apply(dfg)
    live.hotfix(
        TEST_WS, "Exchange Rates", "IsParameterQueryRequired = true", "IsParameterQueryRequired = false"
    )
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))

    outputs = [dfg("drift", "-e", "test", "--format", fmt) for fmt in ("text", "markdown", "json")]

    assert [code for code, _, _ in outputs] == [2, 2, 2]
    text_out = outputs[0][1]
    assert "${env:RATES_URL}" in text_out  # the changed line is shown, with the reference
    for _, out, err in outputs:
        assert "k3y-that-must-not-leak" not in out + err
    assert "k3y-that-must-not-leak" not in (tmp_path / "summary.md").read_text()
