"""Logging set-up for the CLI: plain or JSON lines on stderr; -v shows each API request.

A record marked as a status (``extra={"dfg_status": True}``: "retry 3/7 in 4 s") is one line that
updates in place on a terminal, or the detail of the progress bar when one is drawn; in a log
(CI, a file) each is its own line.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import IO, Any

from dataflow_gitops.cli.masking import MaskingFilter

CLEAR_LINE = "\r\x1b[K"

_status_sinks: list[Callable[[str], None]] = []
"""Where status lines go instead while a progress bar is on screen (the innermost last)."""


def push_status_sink(sink: Callable[[str], None]) -> None:
    _status_sinks.append(sink)


def pop_status_sink(sink: Callable[[str], None]) -> None:
    if sink in _status_sinks:
        _status_sinks.remove(sink)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        return json.dumps(entry)


class StatusHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Plain lines, except status records on a terminal: those overwrite each other."""

    def __init__(self, stream: IO[str], *, terminal: bool) -> None:
        super().__init__(stream)
        self.terminal = terminal
        self.open_line = False

    def emit(self, record: logging.LogRecord) -> None:
        if not getattr(record, "dfg_status", False) or not self.terminal:
            self.end_status_line()
            super().emit(record)
            return
        message = self.format(record)
        if _status_sinks:
            _status_sinks[-1](message)
            return
        try:
            self.stream.write(f"{CLEAR_LINE}{message}")
            self.flush()
            self.open_line = True
        except Exception:  # logging must never raise
            self.handleError(record)

    def end_status_line(self) -> None:
        """Finish an updating line, so the next output starts on a line of its own."""
        if self.open_line:
            self.open_line = False
            self.stream.write("\n")
            self.flush()


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def configure_logging(*, verbose: int, json_logs: bool) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = StatusHandler(sys.stderr, terminal=_is_terminal(sys.stderr) and not json_logs)
    handler.addFilter(MaskingFilter())
    handler.setFormatter(JsonFormatter() if json_logs else logging.Formatter("%(message)s"))
    root = logging.getLogger("dataflow_gitops")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def end_status_line() -> None:
    """Called before other output (an error line): a pending status line ends first."""
    for handler in logging.getLogger("dataflow_gitops").handlers:
        if isinstance(handler, StatusHandler):
            handler.end_status_line()
