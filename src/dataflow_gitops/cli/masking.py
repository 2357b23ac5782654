"""The CLI's output boundary for secrets: stdout, stderr and log lines pass :func:`mask`.

Whatever a command prints (a plan whose display names came from a template with ``${env:X}``,
an error quoting a substituted workspace name, a ``-v`` request line to a secret ``api:`` URL)
goes through one of these, so every value substituted from ``${env:…}`` in this run is shown as
its reference. Commands need not remember to mask.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import TextIO

from dataflow_gitops import secret_mask as secrets


class MaskedStream:
    """A text stream that masks what is written to it. It deliberately has no ``buffer``: click
    would write bytes there, past the masking."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str | bytes) -> int:
        if isinstance(text, bytes):
            # click.echo(bytes) finds no `buffer` here and hands the bytes to write()
            masked = secrets.mask(text.decode("utf-8", "surrogateescape"))
            buffer = getattr(self._stream, "buffer", None)
            if buffer is not None:
                self._stream.flush()
                buffer.write(masked.encode("utf-8", "surrogateescape"))
            else:
                self._stream.write(masked)
            return len(text)
        self._stream.write(secrets.mask(text))
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:
        return getattr(self._stream, "errors", None)

    @property
    def closed(self) -> bool:
        return bool(getattr(self._stream, "closed", False))


class MaskingFilter(logging.Filter):
    """Masks a log record's message before any formatter (plain or JSON) sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = secrets.mask(record.getMessage())
        record.args = None
        return True


@contextlib.contextmanager
def masked_output() -> Iterator[None]:
    """For one CLI run: forget earlier secrets, mask stdout and stderr, then restore them."""
    secrets.forget_all()
    saved = sys.stdout, sys.stderr
    sys.stdout = MaskedStream(saved[0])
    sys.stderr = MaskedStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        secrets.forget_all()
