"""Input built to break the reader ends as one clean error line and exit 1, never a traceback
(exit 3): JSON nested past the recursion limit, numbers of more than 4300 digits (Python's
int() limit), a git ref gitpython cannot resolve."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

CUSTOMERS = Path("dataflows") / "Customers.Dataflow"
SALES_MASHUP = Path("dataflows") / "Sales Orders.Dataflow" / "mashup.pq"
HUGE = "9" * 5000


def assert_one_error_line(result, *words: str) -> None:
    assert result.code == 1, (result.code, result.out, result.err)
    assert "Traceback" not in result.err + result.out
    errors = [line for line in result.err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.err
    for word in words:
        assert word in errors[0], errors[0]
    assert len(errors[0]) < 400, "the offending value is not echoed in full"


@pytest.mark.parametrize("command", [["validate"], ["render", "-e", "dev"]])
def test_json_nested_past_the_recursion_limit(dfg, project: Path, command: list[str]) -> None:
    (project / CUSTOMERS / "queryMetadata.json").write_text("[" * 100_000, encoding="utf-8")
    assert_one_error_line(dfg(*command), "queryMetadata.json", "nested too deeply")


def test_json_number_of_5000_digits(dfg, project: Path) -> None:
    (project / CUSTOMERS / "queryMetadata.json").write_text(f'{{"a": {HUGE}}}', encoding="utf-8")
    assert_one_error_line(dfg("validate"), "queryMetadata.json", "4300 digits")


def test_overlay_parameter_of_5000_digits(dfg, project: Path) -> None:
    overlay = project / "environments" / "prod.yaml"
    text = overlay.read_text(encoding="utf-8")
    overlay.write_text(text.replace("DaysBack: 365", f"DaysBack: {HUGE}"), encoding="utf-8")
    assert_one_error_line(dfg("validate", "-e", "prod"), "environments/prod.yaml:", "5000")


def test_overlay_parameter_of_5000_digits_as_text(dfg, project: Path) -> None:
    overlay = project / "environments" / "prod.yaml"
    text = overlay.read_text(encoding="utf-8")
    overlay.write_text(text.replace("DaysBack: 365", f'DaysBack: "{HUGE}"'), encoding="utf-8")
    assert_one_error_line(dfg("render", "-e", "prod"), "DaysBack", "5000 characters")


def test_mashup_number_literal_of_5000_digits_is_read(dfg, project: Path) -> None:
    mashup = project / SALES_MASHUP
    text = mashup.read_text(encoding="utf-8")
    mashup.write_text(text.replace("-DaysBack)", f"-DaysBack + 0 * {HUGE})"), "utf-8")
    result = dfg("render", "-e", "dev", "Sales Orders")
    assert result.code == 0, result.err
    assert HUGE in result.out  # carried as written


@pytest.mark.usefixtures("git_repo")
@pytest.mark.parametrize("ref", ["@{-1}", "@{-7}", "HEAD~40"])
def test_ref_git_cannot_resolve(dfg, ref: str) -> None:
    assert_one_error_line(dfg("render", "-e", "dev", "--ref", ref), "unknown git ref", ref)


def test_previous_branch_ref_resolves_once_there_is_one(dfg, git_repo: git.Repo) -> None:
    git_repo.git.checkout("-b", "feature")
    result = dfg("render", "-e", "dev", "--ref", "@{-1}", "Products")
    assert result.code == 0, result.err
