"""Counting the M reader's whole-text parses: the seam tests use to prove a text is read once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from dataflow_gitops.pipeline.definition.mlang import document
from dataflow_gitops.pipeline.definition.mlang.document import SectionDocument


@contextmanager
def counting_parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every text the reader parses whole while the block runs, in order (one entry per parse)."""
    parsed: list[str] = []
    original = document._parse

    def counting(text: str, path: str, *, trees: bool = False) -> SectionDocument:
        parsed.append(text)
        return original(text, path, trees=trees)

    with monkeypatch.context() as patch:
        patch.setattr(document, "_parse", counting)
        yield parsed
