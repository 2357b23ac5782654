"""Markdown plan for PR comments: marker, table, details, escaping, and the size budget."""

from __future__ import annotations

import re

import pytest

from dataflow_gitops.cli.output import GITHUB_COMMENT_LIMIT, format_plan
from dataflow_gitops.pipeline.model import (
    Action,
    ActionKind,
    ChangeKind,
    DataflowDiff,
    Impact,
    PartChange,
    Plan,
    QueryChange,
)


def update(
    name: str, diff_lines: int = 3, *, width: int = 60, impact: Impact = Impact.NON_BREAKING
) -> Action:
    body = "\n".join(f"+{'x' * width} line {i}" for i in range(diff_lines))
    return Action(
        ActionKind.UPDATE,
        name,
        name,
        item_id=f"id-{name}",
        live_fingerprint="a" * 64,
        impact=impact,
        diff=DataflowDiff(
            name,
            queries=(
                QueryChange("Q", ChangeKind.MODIFIED, f"--- live/Q\n+++ desired/Q\n@@ -1 +1 @@\n{body}"),
            ),
            parts=(PartChange("queryMetadata.json", ChangeKind.MODIFIED, ("a: 1 → 2",)),),
        ),
    )


def plan_of(*actions: Action, env: str = "prod") -> Plan:
    return Plan(env, "ws-1", actions, commit="abc", created_at="2026-01-01T00:00:00Z")


def test_marker_summary_table_and_details() -> None:
    md = format_plan(plan_of(update("Orders"), update("Sales", impact=Impact.BREAKING)), "markdown")
    assert md.startswith("<!-- dataflow-gitops plan: prod -->\n")
    assert "**Plan: 0 to create, 2 to update, 0 to delete.**" in md
    assert "highest impact: **breaking**" in md
    assert "| | Dataflow | Action | Impact | Changes |" in md
    assert "| ✏️ | Sales | update | **breaking** | 1 query, 1 part |" in md
    assert md.count("<details>") == 2
    assert md.count("</details>") == 2
    assert "```diff\n--- live/Q" in md
    assert "diff cut" not in md


def test_no_changes_markdown() -> None:
    md = format_plan(plan_of(Action(ActionKind.NOOP, "A", "A")), "markdown")
    assert "**No changes. Live workspace matches the desired state.**" in md
    assert "<details>" not in md


def test_names_are_escaped() -> None:
    md = format_plan(plan_of(update("A|B <script>")), "markdown")
    assert "| A\\|B &lt;script&gt; |" in md
    assert "<strong>A|B &lt;script&gt;</strong>" in md
    assert "<script>" not in md


def test_backticks_in_a_diff_get_a_longer_fence() -> None:
    action = update("A")
    diff = DataflowDiff("A", queries=(QueryChange("Q", ChangeKind.MODIFIED, "+ text with ``` inside"),))
    md = format_plan(
        plan_of(
            Action(**{**{f: getattr(action, f) for f in action.__dataclass_fields__}, "diff": diff})
        ),
        "markdown",
    )
    assert "````diff\n+ text with ``` inside\n````" in md


def test_giant_diff_is_trimmed_largest_first_under_the_limit() -> None:
    giant = update("Giant", diff_lines=5_000)  # ~340,000 characters
    small = update("Small")
    md = format_plan(plan_of(small, giant), "markdown")
    assert len(md) <= 60_000
    assert "Giant: diff cut" not in md
    # The giant diff keeps its head, up to the budget; the small one is whole.
    assert re.search(r"\n… [\d,]+ more characters of this diff cut\n", md)
    assert "+x" + "x" * 59 + " line 0\n" in md
    assert "line 4999" not in md
    assert md.count("+++ desired/Q") == 2
    assert len(md) > 50_000  # the budget is used, not thrown away
    note = md[md.index("[!NOTE]") :]
    assert "from 1 dataflow were cut" in note
    assert "dfg plan -e prod" in note
    cut = int(re.search(r"([\d,]+) characters of diff", note).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert cut > 300_000


def test_diff_cut_entirely_when_too_little_would_remain() -> None:
    md = format_plan(plan_of(update("A", diff_lines=30)), "markdown", max_chars=1_500)
    assert len(md) <= 1_500
    assert re.search(r"\*\*query `Q`\*\* \(modified\): diff cut \([\d,]+ characters\)", md)


@pytest.mark.parametrize("limit", [GITHUB_COMMENT_LIMIT, 60_000, 20_000, 5_000])
def test_many_dataflows_always_fit(limit: int) -> None:
    actions = [update(f"Dataflow {i:04d}", diff_lines=20 + i % 50) for i in range(1_000)]
    md = format_plan(plan_of(*actions), "markdown", max_chars=limit)
    assert len(md) <= limit
    assert md.startswith("<!-- dataflow-gitops plan: prod -->")
    assert "**Plan: 0 to create, 1000 to update, 0 to delete.**" in md
    assert "[!NOTE]" in md


def test_small_plan_is_not_trimmed_and_fits_exactly_when_allowed() -> None:
    p = plan_of(update("A", diff_lines=50))
    full = format_plan(p, "markdown", max_chars=10**9)
    assert format_plan(p, "markdown", max_chars=len(full)) == full
    trimmed = format_plan(p, "markdown", max_chars=len(full) - 1)
    assert len(trimmed) < len(full)
    assert "[!NOTE]" in trimmed
