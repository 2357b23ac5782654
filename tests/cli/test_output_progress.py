"""Progress on a terminal (RichReporter) and in logs (PlainReporter), driven as apply drives them."""

from __future__ import annotations

import io
import re

from rich.console import Console

from dataflow_gitops.cli.progress import PlainReporterContext, RichReporter, in_ci, reporter_for

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _terminal(stream: io.StringIO) -> Console:
    return Console(file=stream, force_terminal=True, width=100, color_system="standard")


def test_rich_reporter_draws_a_bar_per_task_with_counts_and_detail() -> None:
    stream = io.StringIO()
    reporter = RichReporter(console=_terminal(stream))
    with reporter:
        reporter.start("apply", 2)
        reporter.advance("apply", "+ Sales: succeeded")
        # refresh() draws now, instead of on the bar's own clock: no sleeping in tests
        reporter._progress.refresh()
        drawn = _ANSI.sub("", stream.getvalue())
        assert "Applying" in drawn
        assert "1/2" in drawn
        assert "+ Sales: succeeded" in drawn
        reporter.advance("apply", "~ Orders: failed")
        reporter._progress.refresh()
        assert "2/2" in _ANSI.sub("", stream.getvalue())
        reporter.finish("apply")
        reporter.advance("apply", "late")  # after finish: ignored, no error
    assert "\x1b[" in stream.getvalue()  # it really drew on a terminal


def test_rich_reporter_ignores_tasks_it_never_started() -> None:
    stream = io.StringIO()
    with RichReporter(console=_terminal(stream)) as reporter:
        reporter.advance("observe", "A")
        reporter.finish("observe")
        reporter.start("observe", 1)
        reporter.advance("observe", "Products")
        reporter._progress.refresh()
    assert "Reading live definitions" in _ANSI.sub("", stream.getvalue())


def test_transient_bars_leave_no_line_behind() -> None:
    stream = io.StringIO()
    with RichReporter(console=_terminal(stream)) as reporter:
        reporter.start("apply", 1)
        reporter.advance("apply", "+ A: succeeded")
    # transient: the final frame erases the bar, so the last visible line is empty
    assert _ANSI.sub("", stream.getvalue().rsplit("\r", 1)[-1]).strip() == ""


def test_plain_lines_in_ci_and_bars_only_on_a_terminal() -> None:
    assert in_ci({"GITHUB_ACTIONS": "true"})
    assert in_ci({"TF_BUILD": "True"})
    assert not in_ci({"CI": "false"})
    assert not in_ci({})
    assert isinstance(reporter_for(color=False), PlainReporterContext)  # pytest's stderr: no TTY
