"""Logging set-up for the CLI: plain or JSON lines on stderr; -v shows each API request."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from dataflow_gitops.cli.masking import MaskingFilter


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        return json.dumps(entry)


def configure_logging(*, verbose: int, json_logs: bool) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(MaskingFilter())
    handler.setFormatter(JsonFormatter() if json_logs else logging.Formatter("%(message)s"))
    root = logging.getLogger("dataflow_gitops")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
