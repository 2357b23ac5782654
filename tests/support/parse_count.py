"""Counting the M reader's whole-text parses and unknown-names walks: the seams tests use to prove
a text is read (or checked) once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from dataflow_gitops.pipeline.definition.mlang import document, names
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


def counting_name_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts whose unknown names are really looked for (in this process) from now on."""
    checked: list[str] = []
    original = names.find_unknown_names

    def counting(doc: SectionDocument) -> tuple[names.UnknownName, ...]:
        checked.append(doc.text)
        return original(doc)

    monkeypatch.setattr(names, "find_unknown_names", counting)
    return checked
