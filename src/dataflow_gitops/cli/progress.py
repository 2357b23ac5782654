"""CLI layer, progress: the pipeline's :class:`Reporter` rendered for people (rich bars on a
terminal) or for logs (one plain line per step, for CI). Everything goes to stderr, so
``--format json`` on stdout stays machine-readable."""

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

from dataflow_gitops.cli.logs import JsonFormatter

LABELS = {"observe": "Reading live definitions", "apply": "Applying"}
CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "TF_BUILD")


def in_ci(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return any(env.get(name, "").lower() not in ("", "0", "false") for name in CI_VARIABLES)


class PlainReporter:
    """One line per start/finish, and per apply step: readable in a CI log."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        steps: tuple[str, ...] = ("apply",),
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
        if total:
            self._line(f"{LABELS.get(task, task)}: {total} item(s)")

    def advance(self, task: str, detail: str = "") -> None:
        with self._lock:
            self._done[task] = self._done.get(task, 0) + 1
            count = f"[{self._done[task]}/{self._total.get(task, '?')}]"
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
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

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


def reporter_for(
    *, color: bool, quiet: bool = False, json_logs: bool = False
) -> RichReporter | PlainReporterContext:
    """Bars on a terminal outside CI, plain lines otherwise (``quiet``: start lines only);
    JSON lines with ``--json-logs``."""
    if sys.stderr.isatty() and not in_ci() and not json_logs:
        return RichReporter(color=color)
    return PlainReporterContext(steps=() if quiet else ("apply",), json_lines=json_logs)


class PlainReporterContext(PlainReporter):
    def __enter__(self) -> PlainReporterContext:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
