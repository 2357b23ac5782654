"""CLI layer, progress: the pipeline's :class:`Reporter` rendered for people (rich bars on a
terminal) or for logs (one line per task, for CI). Everything goes to stderr, so ``--format
json`` on stdout stays machine-readable.

In a log each action appears once: in the result the command prints on stdout, not also as a
progress line. A task's line is written when its first item is done, so a command that fails
before reaching Fabric (auth) prints no "Reading live definitions" first."""

from __future__ import annotations

import logging
import os
import sys
import threading
from types import TracebackType
from typing import IO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from dataflow_gitops.cli.logs import JsonFormatter, pop_status_sink, push_status_sink
from dataflow_gitops.cli.output.words import plural

LABELS = {"observe": "Reading live definitions", "apply": "Applying"}
NOUN = ("dataflow", "dataflows")
CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "TF_BUILD")


def in_ci(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return any(env.get(name, "").lower() not in ("", "0", "false") for name in CI_VARIABLES)


class PlainReporter:
    """One line per task, written when its first item is done: readable in a CI log.

    ``steps`` names the tasks whose every item also gets a line (none by default: the command's
    result lists each action).
    """

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        steps: tuple[str, ...] = (),
        json_lines: bool = False,
    ) -> None:
        self._stream = stream
        self._steps = steps
        self._json_lines = json_lines
        self._done: dict[str, int] = {}
        self._total: dict[str, int] = {}
        self._lock = threading.Lock()

    def start(self, task: str, total: int) -> None:
        with self._lock:
            self._done[task], self._total[task] = 0, total

    def advance(self, task: str, detail: str = "") -> None:
        with self._lock:
            self._done[task] = self._done.get(task, 0) + 1
            first = self._done[task] == 1
            total = self._total.get(task, 0)
            count = f"[{self._done[task]}/{total or '?'}]"
        if first and total:
            self._line(f"{LABELS.get(task, task)}: {plural(total, *NOUN)}")
        # "= name" is a no-op: in a log only the writes are worth a line.
        if task in self._steps and not detail.startswith("= "):
            self._line(f"  {count} {detail}".rstrip())

    def waiting(self, task: str, detail: str) -> None:
        self._line(f"  ... {detail}")

    def finish(self, task: str) -> None:
        pass

    def _line(self, text: str) -> None:
        if self._json_lines:
            # --json-logs: every stderr line is one JSON object, progress included.
            record = logging.makeLogRecord(
                {"name": "dataflow_gitops.progress", "levelname": "INFO", "msg": text.strip()}
            )
            text = JsonFormatter().format(record)
        click.echo(text, file=self._stream or sys.stderr)


class RichReporter:
    """A progress bar per task on an interactive terminal; use it as a context manager."""

    def __init__(self, *, color: bool = True, console: Console | None = None) -> None:
        console = console or Console(stderr=True, no_color=not color)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            console=console,
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichReporter:
        self._progress.start()
        push_status_sink(self.status)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pop_status_sink(self.status)
        self._progress.stop()

    def status(self, message: str) -> None:
        """A wait (a retry) shown as the newest bar's detail, which it updates in place."""
        if self._tasks:
            self._progress.update(list(self._tasks.values())[-1], detail=message)
        else:
            self._progress.console.print(message)

    def start(self, task: str, total: int) -> None:
        self._tasks[task] = self._progress.add_task(LABELS.get(task, task), total=total, detail="")

    def advance(self, task: str, detail: str = "") -> None:
        if task in self._tasks:
            self._progress.update(self._tasks[task], advance=1, detail=detail)

    def waiting(self, task: str, detail: str) -> None:
        if task in self._tasks:
            self._progress.update(self._tasks[task], detail=detail)

    def finish(self, task: str) -> None:
        if task in self._tasks:
            self._progress.remove_task(self._tasks.pop(task))


def reporter_for(*, color: bool, json_logs: bool = False) -> RichReporter | PlainReporterContext:
    """Bars on a terminal outside CI, one line per task otherwise; JSON lines with
    ``--json-logs``."""
    # TERM=dumb cannot redraw a bar in place: lines instead, as in a log.
    if sys.stderr.isatty() and not in_ci() and not json_logs and os.environ.get("TERM") != "dumb":
        return RichReporter(color=color)
    return PlainReporterContext(json_lines=json_logs)


class PlainReporterContext(PlainReporter):
    def __enter__(self) -> PlainReporterContext:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
