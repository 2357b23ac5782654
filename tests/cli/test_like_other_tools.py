"""The CLI behaves like the tools its users know: colour switches, global options anywhere, the
project found from a subfolder, precise "where am I" errors, did-you-mean, status lines."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import git
import pytest

from dataflow_gitops.cli.global_options import color_choice, hoist_global_options
from dataflow_gitops.cli.logs import StatusHandler
from dataflow_gitops.cli.main import run
from dataflow_gitops.cli.progress import PlainReporterContext, RichReporter, reporter_for

GREEN = "\x1b[32m"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- colour ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "environ", "expected"),
    [
        (False, {}, None),  # left to whether the output is a terminal
        (True, {}, False),
        (False, {"NO_COLOR": "1"}, False),
        (False, {"TERM": "dumb"}, False),
        (False, {"FORCE_COLOR": "1"}, True),
        (False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        (True, {"FORCE_COLOR": "1"}, False),
        (False, {"FORCE_COLOR": "0"}, None),
        (False, {"NO_COLOR": ""}, None),  # no-color.org: only a non-empty value counts
    ],
)
def test_colour_switches(flag: bool, environ: dict[str, str], expected: bool | None) -> None:
    assert color_choice(flag, environ) is expected


def test_force_color_colours_a_log_and_no_color_wins_over_it(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    assert GREEN not in _run(capsys, "-C", str(project), "validate")[1]  # not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert GREEN in _run(capsys, "-C", str(project), "validate")[1]
    monkeypatch.setenv("NO_COLOR", "1")
    assert GREEN not in _run(capsys, "-C", str(project), "validate")[1]
    monkeypatch.delenv("NO_COLOR")
    assert GREEN not in _run(capsys, "-C", str(project), "validate", "--no-color")[1]


# -- global options before or after the command ----------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["plan", "-e", "x", "--no-color"], ["--no-color", "plan", "-e", "x"]),
        (["plan", "-C", "dir", "-e", "x"], ["-C", "dir", "plan", "-e", "x"]),
        (["plan", "--project=dir", "-vv"], ["--project=dir", "-vv", "plan"]),
        (["-v", "plan", "--debug", "-e", "x"], ["-v", "--debug", "plan", "-e", "x"]),
        (["-C", "d", "plan", "-e", "x"], ["-C", "d", "plan", "-e", "x"]),
        (["run", "-e", "x", "--", "--no-color"], ["run", "-e", "x", "--", "--no-color"]),
        (["--help"], ["--help"]),
        (["plan", "--json-logs", "-Cdir"], ["--json-logs", "-Cdir", "plan"]),
    ],
)
def test_global_options_move_in_front_of_the_command(argv: list[str], expected: list[str]) -> None:
    assert hoist_global_options(argv) == expected


def test_global_options_after_the_command_work(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "validate", "--no-color", "-C", str(project), "-v")
    assert code == 0, err
    assert "valid" in out


# -- where am I -------------------------------------------------------------------------------------


def test_the_project_is_found_from_a_subfolder(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project / "dataflows" / "Sales Orders.Dataflow")
    code, out, err = _run(capsys, "validate")
    assert code == 0, err
    assert "7 dataflows" in out
    code, out, _ = _run(capsys, "-C", str(project / "environments"), "environments")
    assert code == 0
    assert "local" in out


def test_the_search_stops_at_the_git_root(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inner = project / "tools" / "other-repo"
    inner.mkdir(parents=True)
    git.Repo.init(inner).close()
    code, _, err = _run(capsys, "-C", str(inner), "validate")
    assert code == 1
    assert "not a dataflow-gitops project" in err


def test_an_empty_folder_is_not_a_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    git.Repo.init(tmp_path).close()  # the search stops here, not in whatever holds tmp_path
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "plan", "-e", "local")
    assert code == 1
    assert err.startswith(f"Error: {tmp_path.resolve()}: not a dataflow-gitops project")
    assert "run `dfg init`" in err
    assert "create environments/local.yaml" not in err
    assert "Traceback" not in err


def test_a_missing_directory_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nonexistent"
    code, _, err = _run(capsys, "-C", str(missing), "validate")
    assert code == 1
    assert f"{missing}: no such directory" in err
    assert "dataflows/ folder" not in err


def test_a_mistyped_command_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "plna")
    assert code == 1
    assert "No such command 'plna'. Did you mean 'plan'?" in err
    code, _, err = _run(capsys, "frobnicate")
    assert code == 1
    assert "No such command 'frobnicate'. See dfg --help." in err


# -- status lines -----------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _record(message: str, *, status: bool) -> logging.LogRecord:
    record = logging.makeLogRecord({"msg": message, "levelno": logging.WARNING})
    if status:
        record.dfg_status = True
    return record


def test_a_status_line_updates_in_place_on_a_terminal() -> None:
    stream = Terminal()
    handler = StatusHandler(stream, terminal=True)
    handler.emit(_record("retry 1/6 in 0.2 s", status=True))
    handler.emit(_record("retry 2/6 in 0.5 s", status=True))
    handler.emit(_record("something else", status=False))
    assert stream.getvalue() == (
        "\r\x1b[Kretry 1/6 in 0.2 s\r\x1b[Kretry 2/6 in 0.5 s\nsomething else\n"
    )


def test_status_lines_are_plain_lines_in_a_log() -> None:
    stream = io.StringIO()
    handler = StatusHandler(stream, terminal=False)
    handler.emit(_record("retry 1/6 in 0.2 s", status=True))
    handler.emit(_record("retry 2/6 in 0.5 s", status=True))
    assert stream.getvalue() == "retry 1/6 in 0.2 s\nretry 2/6 in 0.5 s\n"


def test_a_dumb_terminal_gets_lines_not_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CI", "GITHUB_ACTIONS", "TF_BUILD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stderr", Terminal())
    monkeypatch.setenv("TERM", "xterm-256color")
    assert isinstance(reporter_for(color=True), RichReporter)
    monkeypatch.setenv("TERM", "dumb")
    assert isinstance(reporter_for(color=True), PlainReporterContext)
