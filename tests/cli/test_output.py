"""Plan / ApplyResult output: Terraform-style text, schema-valid JSON, apply results."""

from __future__ import annotations

import json
from dataclasses import replace

import jsonschema
import pytest

from dataflow_gitops.cli.output import format_apply_result, format_plan
from dataflow_gitops.pipeline.model import (
    Action,
    ActionKind,
    ActionOutcome,
    ApplyResult,
    ChangeKind,
    DataflowDiff,
    DesiredDataflow,
    Impact,
    OutcomeStatus,
    Part,
    PartChange,
    Plan,
    PropertyChange,
    QueryChange,
)
from dataflow_gitops.pipeline.plan.planfile import plan_schema

QUERY_DIFF = "\n".join(
    [
        "--- live/Orders",
        "+++ desired/Orders",
        "@@ -1,3 +1,3 @@",
        " shared Orders = let",
        "-  Kept = Table.SelectRows(Raw, each [Amount] > 0)",
        "+  Kept = Table.SelectRows(Raw, each [Amount] > 100)",
        " in",
    ]
)


def _desired(name: str, pending: tuple[str, ...] = ()) -> DesiredDataflow:
    parts = (Part("mashup.pq", b"section Section1;\nshared Q = 1;\n"),)
    return DesiredDataflow(name, name, "", f"logical-{name}", parts, "f" * 64, pending=pending)


def sample_plan() -> Plan:
    create = Action(
        ActionKind.CREATE,
        "Sales",
        "Sales",
        desired=_desired("Sales", ("items.Dataflow.Base.id",)),
        diff=DataflowDiff(
            "Sales",
            parts=(PartChange("queryMetadata.json", ChangeKind.ADDED),),
            queries=(QueryChange("Orders", ChangeKind.ADDED),),
        ),
        impact=Impact.NONE,
    )
    update = Action(
        ActionKind.UPDATE,
        "Orders",
        "Orders",
        item_id="id-2",
        live_fingerprint="a" * 64,
        desired=_desired("Orders"),
        diff=DataflowDiff(
            "Orders",
            parts=(
                PartChange(
                    "queryMetadata.json",
                    ChangeKind.MODIFIED,
                    ('connections[0].connectionId: "a" → "b"',),
                ),
            ),
            queries=(
                QueryChange("Orders", ChangeKind.MODIFIED, QUERY_DIFF),
                QueryChange("Legacy", ChangeKind.REMOVED, "--- live/Legacy\n+++ desired/Legacy"),
            ),
            ignored=("queryMetadata.json: $.connections[*].path",),
        ),
        impact=Impact.BREAKING,
        reason='query "Legacy" removed or renamed',
    )
    rename = Action(
        ActionKind.UPDATE,
        "New Name",
        "New Name",
        item_id="id-3",
        live_fingerprint="b" * 64,
        desired=_desired("New Name"),
        rename_from="Old Name",
        impact=Impact.METADATA_ONLY,
        diff=DataflowDiff(
            "New Name", properties=(PropertyChange("displayName", "Old Name", "New Name"),)
        ),
    )
    noop = Action(
        ActionKind.NOOP,
        "Same",
        "Same",
        item_id="id-4",
        live_fingerprint="c" * 64,
        desired=_desired("Same"),
        diff=DataflowDiff("Same"),
    )
    delete = Action(
        ActionKind.DELETE,
        "Gone",
        "Gone",
        item_id="id-5",
        live_fingerprint="d" * 64,
        impact=Impact.BREAKING,
        reason="no longer in the repository",
    )
    return Plan(
        "prod",
        "ws-1",
        (create, update, rename, noop, delete),
        commit="0123456789abcdef",
        dirty=True,
        created_at="2026-01-01T00:00:00Z",
        unmanaged=("Foreign",),
        warnings=("something to know",),
    )


def empty_plan() -> Plan:
    noop = Action(ActionKind.NOOP, "Same", "Same", item_id="id-4", live_fingerprint="c" * 64)
    return Plan("dev", "ws-1", (noop,), created_at="2026-01-01T00:00:00Z")


# text ---------------------------------------------------------------------------------------------


def test_text_plan_in_terraforms_manner() -> None:
    text = format_plan(sample_plan(), "text")
    lines = text.splitlines()
    assert lines[-1] == "Plan: 1 to create, 2 to update, 1 to delete."
    assert '  + create "Sales"' in lines  # a create has no impact tag: it changes nothing existing
    assert '  ~ update "Orders"  [breaking]' in lines
    assert '  ~ rename "Old Name" → "New Name"  [metadata-only]' in lines
    assert '  - delete "Gone"  [breaking]' in lines
    assert '    ~ query "Orders"' in lines
    assert '    - query "Legacy"' in lines
    assert "        +  Kept = Table.SelectRows(Raw, each [Amount] > 100)" in lines
    assert '        connections[0].connectionId: "a" → "b"' in lines
    assert '    ~ displayName: "Old Name" → "New Name"' in lines
    assert "    items.Dataflow.Base.id: (known after apply)" in lines
    assert '  "Foreign"' in lines
    assert "Warning: something to know" in lines
    assert '  "Orders": queryMetadata.json: $.connections[*].path' in lines
    assert "commit 0123456789ab + uncommitted changes" in lines[0]
    assert "Same" not in text  # unchanged dataflows are counted, not listed
    assert "1 dataflow(s) unchanged." in lines
    assert "\x1b[" not in text


def test_a_create_is_new_not_an_impact_class() -> None:
    # Even a plan saved by an older version, whose create carried "non-breaking".
    legacy = sample_plan()
    actions = tuple(
        replace(a, impact=Impact.NON_BREAKING) if a.kind is ActionKind.CREATE else a
        for a in legacy.actions
    )
    plan = replace(legacy, actions=actions)
    assert '  + create "Sales"' in format_plan(plan, "text").splitlines()
    markdown = format_plan(plan, "markdown")
    assert "| Sales | create | new |" in markdown
    assert "create <strong>Sales</strong> · new</summary>" in markdown
    assert "non-breaking" not in markdown


def test_text_no_changes() -> None:
    text = format_plan(empty_plan(), "text")
    assert text.splitlines()[-1] == "No changes. Live workspace matches the desired state."
    assert "will perform" not in text


def test_text_color_only_when_asked() -> None:
    colored = format_plan(sample_plan(), "text", color=True)
    assert "\x1b[32m" in colored
    assert "\x1b[31m" in colored
    assert "\x1b[0m" in colored


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown format 'yaml'"):
        format_plan(sample_plan(), "yaml")  # type: ignore[arg-type]


# json ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("plan", [sample_plan(), empty_plan()], ids=["changes", "empty"])
def test_json_output_validates_against_the_published_schema(plan: Plan) -> None:
    doc = json.loads(format_plan(plan, "json"))
    jsonschema.validate(doc, plan_schema())
    assert doc["payloads"] is False
    assert all("parts" not in a.get("desired", {}) for a in doc["actions"])
    assert doc["summary"]["has_changes"] is plan.has_changes


def test_json_output_content() -> None:
    doc = json.loads(format_plan(sample_plan(), "json"))
    assert [(a["kind"], a["name"], a["impact"]) for a in doc["actions"]] == [
        ("create", "Sales", "none"),
        ("update", "Orders", "breaking"),
        ("update", "New Name", "metadata-only"),
        ("noop", "Same", "none"),
        ("delete", "Gone", "breaking"),
    ]
    assert doc["actions"][2]["rename_from"] == "Old Name"
    assert doc["actions"][1]["diff"]["queries"][0]["diff"] == QUERY_DIFF
    assert doc["summary"] == {
        "create": 1,
        "update": 2,
        "delete": 1,
        "noop": 1,
        "has_changes": True,
        "impact": "breaking",
    }


def test_schema_itself_is_valid_and_documented() -> None:
    schema = plan_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert all("description" in v or "const" in v for v in schema["properties"].values())


# apply results ------------------------------------------------------------------------------------


def sample_result() -> ApplyResult:
    plan = sample_plan()
    create, update, rename, noop, delete = plan.actions
    return ApplyResult(
        "prod",
        "ws-1",
        (
            ActionOutcome(create, OutcomeStatus.SUCCEEDED, item_id="new-1", published=True),
            ActionOutcome(update, OutcomeStatus.FAILED, item_id="id-2", error="409 Conflict: busy"),
            ActionOutcome(
                rename,
                OutcomeStatus.SUCCEEDED,
                item_id="id-3",
                published=False,
                error="ApplyChanges failed: bad M",
            ),
            ActionOutcome(noop, OutcomeStatus.SUCCEEDED, item_id="id-4"),
            ActionOutcome(delete, OutcomeStatus.SKIPPED, error="skipped: a dependency failed"),
        ),
    )


def test_apply_result_text() -> None:
    text = format_apply_result(sample_result(), "text")
    lines = text.splitlines()
    assert '  ok  + create "Sales"  (item new-1)  published' in lines
    assert '  FAILED  ~ update "Orders"  (item id-2): 409 Conflict: busy' in lines
    assert any(line.startswith('  skipped  - delete "Gone"') for line in lines)
    assert "publish failed" in text
    assert "Same" not in text
    assert lines[-1] == (
        "Apply finished with errors: 1 created, 1 updated, 0 deleted; "
        "1 failed, 1 skipped; 1 failed to publish."
    )


def test_apply_result_all_good() -> None:
    plan = sample_plan()
    result = ApplyResult("prod", "ws-1", (ActionOutcome(plan.actions[0], OutcomeStatus.SUCCEEDED),))
    assert format_apply_result(result, "text").splitlines()[-1] == (
        "Apply complete: 1 created, 0 updated, 0 deleted."
    )


def test_a_retried_publish_on_a_noop_is_shown_in_every_format() -> None:
    noop = sample_plan().actions[3]
    result = ApplyResult(
        "prod", "ws-1", (ActionOutcome(noop, OutcomeStatus.SUCCEEDED, item_id="id-4", published=True),)
    )
    text = format_apply_result(result, "text")
    assert '  ok  publish "Same"  (item id-4)  published' in text.splitlines()
    assert text.splitlines()[-1] == (
        "Apply complete: 0 created, 0 updated, 0 deleted; 1 published after an earlier failure."
    )
    assert "| ✅ | Same | publish | id-4 | yes |" in format_apply_result(result, "markdown")
    outcome = json.loads(format_apply_result(result, "json"))["outcomes"][0]
    assert (outcome["kind"], outcome["published"]) == ("noop", True)


def test_apply_result_json_and_markdown() -> None:
    doc = json.loads(format_apply_result(sample_result(), "json"))
    assert doc["ok"] is False
    assert [(o["name"], o["status"], o["published"]) for o in doc["outcomes"]] == [
        ("Sales", "succeeded", True),
        ("Orders", "failed", None),
        ("New Name", "succeeded", False),
        ("Same", "succeeded", None),
        ("Gone", "skipped", None),
    ]
    markdown = format_apply_result(sample_result(), "markdown")
    assert "| ❌ | Orders | update | id-2 |  | 409 Conflict: busy |" in markdown
    assert "**failed**" in markdown


# a single diff (drift) ------------------------------------------------------------------------------


def test_format_diff_in_every_format() -> None:
    from dataflow_gitops.cli.output import format_diff

    diff = sample_plan().actions[1].diff
    assert diff is not None
    text = format_diff(diff, "text")
    assert text.splitlines()[0] == '  ~ "Orders"'
    assert '    - query "Legacy"' in text.splitlines()
    assert "(ignored) queryMetadata.json: $.connections[*].path" in text
    markdown = format_diff(diff, "markdown")
    assert markdown.startswith("<details><summary><strong>Orders</strong> differs</summary>")
    assert "```diff\n--- live/Orders" in markdown
    doc = json.loads(format_diff(diff, "json"))
    assert doc["name"] == "Orders"
    assert doc["changed"] is True
    assert [q["name"] for q in doc["queries"]] == ["Orders", "Legacy"]
    same = DataflowDiff("Same")
    assert format_diff(same, "text") == '  "Same": no differences\n'
    assert "no differences" in format_diff(same, "markdown")
    assert json.loads(format_diff(same, "json"))["changed"] is False
