"""CI log dialects: detection, annotations, groups and the GitHub job summary."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dataflow_gitops.cli.main import run
from dataflow_gitops.errors import ConfigError, MSyntaxError, RenderError
from dataflow_gitops.integrations import ci
from dataflow_gitops.scaffold import scaffold

GITHUB = {"GITHUB_ACTIONS": "true"}
AZURE = {"TF_BUILD": "True"}


@pytest.mark.parametrize(
    ("environ", "system"),
    [(GITHUB, "github"), (AZURE, "azure"), ({}, "none"), ({"GITHUB_ACTIONS": "false"}, "none")],
)
def test_detect(environ: dict[str, str], system: str) -> None:
    assert ci.detect(environ) == system


def _errors() -> list[ConfigError | MSyntaxError | RenderError]:
    return [
        ConfigError(
            "unknown key 'paramters'",
            path="environments/prod.yaml",
            line=12,
            hint="did you mean 'parameters'?",
        ),
        MSyntaxError("expected ';'", path="dataflows/A, B.Dataflow/mashup.pq", line=3, column=9),
        RenderError("no public parameter 'Region'", dataflow="Sales Orders"),
    ]


def test_github_annotations_point_at_file_and_line() -> None:
    out = io.StringIO()
    assert ci.annotate_errors(_errors(), environ=GITHUB, stream=out) == 3
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "::error file=environments/prod.yaml,line=12,title=dfg::"
        "unknown key 'paramters' (did you mean 'parameters'?)"
    )
    # ',' and ':' in properties are escaped so the runner does not split the file name
    assert lines[1] == (
        "::error file=dataflows/A%2C B.Dataflow/mashup.pq,line=3,col=9,title=dfg::expected ';'"
    )
    assert lines[2] == "::error title=dfg::Sales Orders: no public parameter 'Region'"


def test_azure_logissue_lines() -> None:
    out = io.StringIO()
    ci.annotate_errors(_errors()[:1], environ=AZURE, stream=out)
    assert out.getvalue() == (
        "##vso[task.logissue type=error;sourcepath=environments/prod.yaml;linenumber=12;]"
        "unknown key 'paramters' (did you mean 'parameters'?)\n"
    )


def test_multiline_messages_stay_one_command() -> None:
    line = ci.format_annotation(ci.Annotation("50% done\nthen more"), "github")
    assert line == "::error title=dfg::50%25 done%0Athen more"
    vso = ci.format_annotation(ci.Annotation("a;b]\nc", file="x;y"), "azure")
    assert vso == "##vso[task.logissue type=error;sourcepath=x%3By;]a;b]%0Ac"


def test_nothing_outside_ci() -> None:
    out = io.StringIO()
    assert ci.annotate_errors(_errors(), environ={}, stream=out) == 0
    with ci.group("Plan dev", environ={}, stream=out):
        pass
    assert out.getvalue() == ""


def test_paths_are_relative_to_the_checkout(tmp_path: Path) -> None:
    project = tmp_path / "repo" / "analytics"
    project.mkdir(parents=True)
    out = io.StringIO()
    environ = {**GITHUB, "GITHUB_WORKSPACE": str(tmp_path / "repo")}
    ci.annotate_errors(_errors()[:1], project=project, environ=environ, stream=out)
    assert out.getvalue().startswith("::error file=analytics/environments/prod.yaml,line=12,")


@pytest.mark.parametrize(
    ("environ", "start", "end"),
    [(GITHUB, "::group::Plan dev", "::endgroup::"), (AZURE, "##[group]Plan dev", "##[endgroup]")],
)
def test_group_closes_even_on_error(environ: dict[str, str], start: str, end: str) -> None:
    out = io.StringIO()

    def fail() -> None:
        with ci.group("Plan dev", environ=environ, stream=out):
            out.write("inside\n")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail()
    assert out.getvalue().splitlines() == [start, "inside", end]


def test_step_summary_appends(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# Earlier step\n")
    environ = {**GITHUB, "GITHUB_STEP_SUMMARY": str(summary)}
    assert ci.write_step_summary("### Plan for dev\n", environ=environ)
    assert ci.write_step_summary("### Plan for test", environ=environ)
    assert summary.read_text() == "# Earlier step\n### Plan for dev\n\n### Plan for test\n\n"
    assert not ci.write_step_summary("x", environ=GITHUB)
    assert not ci.write_step_summary("x", environ={"GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "f")})


def test_dfg_validate_annotates_in_github_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scaffold(tmp_path)
    overlay = tmp_path / "environments" / "test.yaml"
    overlay.write_text(overlay.read_text() + "paramters:\n  X: 1\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path.parent))
    assert run(["--no-color", "-C", str(tmp_path), "validate"]) == 1
    out, err = capsys.readouterr()
    line = len(overlay.read_text().splitlines()) - 1
    assert out.startswith(f"::error file={tmp_path.name}/environments/test.yaml,line={line},title=dfg::")
    assert "paramters" in out
    assert "environments/test.yaml" in err  # the plain error line is still there
    monkeypatch.delenv("GITHUB_ACTIONS")
    assert run(["--no-color", "-C", str(tmp_path), "validate"]) == 1
    assert "::error" not in capsys.readouterr().out
