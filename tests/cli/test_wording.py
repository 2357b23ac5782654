"""The wording items of issue 16, each pinned: counts in the right number, no nested parentheses,
a wrongly named --approve-protected, the README's claims about the demo, saved plans ignored."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from example_repo import REPO_ROOT

from dataflow_gitops.cli.output.words import plural
from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.integrations import github
from dataflow_gitops.scaffold import scaffold


def test_plural() -> None:
    assert plural(1, "dataflow") == "1 dataflow"
    assert plural(3, "file") == "3 files"
    assert plural(0, "dataflow") == "0 dataflows"
    assert plural(2, "query", "queries") == "2 queries"


def test_render_counts_files_and_dataflows_in_the_right_number(dfg: Callable, tmp_path: Path) -> None:
    result = dfg("render", "-e", "prod", "Sales Orders", "--out", str(tmp_path / "out"))
    assert result.code == 0, result.err
    assert f"wrote 3 files for 1 dataflow to {tmp_path / 'out'}" in result.out


def test_a_hint_with_parentheses_is_not_nested_in_more(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    with pytest.raises(DataflowGitopsError) as caught:
        github.pull_request_from_environment(repo=None, number=1)
    text = caught.value.render()
    assert "pass --repo owner/name" in text
    assert "))" not in text
    assert text.count("(") == text.count(")") <= 1


def _hints() -> list[str]:
    """Every literal hint= text in src/ (the f-string parts too)."""
    found = []
    for path in (REPO_ROOT / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "hint":
                parts = [c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)]
                found.append("".join(p for p in parts if isinstance(p, str)))
    return found


def _depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, depth)
    return deepest


def test_no_error_line_nests_its_hint_in_parentheses() -> None:
    hints = _hints()
    assert len(hints) > 100
    for hint in hints:
        line = DataflowGitopsError("what", where="where", hint=hint).render()
        assert _depth(line) <= max(1, _depth(hint)), line  # the hint's own code aside


def test_approve_protected_naming_another_environment_says_so(dfg: Callable) -> None:
    result = dfg("apply", "-e", "prod", "--approve-protected", "prot")
    assert result.code == 1
    assert "--approve-protected names 'prot', but this applies to 'prod'" in result.err
    assert "pass --approve-protected prod" in result.err
    result = dfg("promote", "--from", "test", "--to", "prod", "--approve-protected", "prd")
    assert result.code == 1
    assert "--approve-protected names 'prd', but this applies to 'prod'" in result.err


def test_readme_tells_the_truth_about_the_demo() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert "about a minute" not in quickstart
    assert "about\nten seconds" in quickstart or "about ten seconds" in quickstart
    assert "deletes the temporary repository" in " ".join(quickstart.split())


def test_saved_plans_are_ignored_by_a_new_repository(tmp_path: Path) -> None:
    assert scaffold(tmp_path).gitignore == "created"
    lines = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".dataflow-gitops/" in lines
    assert "*.plan.json" in lines
