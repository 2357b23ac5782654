"""Every mashup.pq of the example repository parses and prints back byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from example_repo import REPO_ROOT

from dataflow_gitops.pipeline.definition.mlang import dataflow_references, parameters, parse_section

MASHUPS = sorted((REPO_ROOT / "dataflows").glob("*.Dataflow/mashup.pq"))


@pytest.mark.parametrize("path", MASHUPS, ids=[p.parent.name for p in MASHUPS])
def test_example_mashup_round_trips(path: Path) -> None:
    text = path.read_bytes().decode("utf-8")
    doc = parse_section(text, path=str(path.relative_to(REPO_ROOT)))
    assert doc.print() == text
    assert doc.members, "an example dataflow has at least one query"
    for member in doc.members:
        assert text[member.start : member.end] == member.source
    for parameter in parameters(doc):
        assert text[parameter.span[0] : parameter.span[1]] == parameter.literal_text
    for ref in dataflow_references(doc):
        assert text[ref.dataflow_span[0] : ref.dataflow_span[1]] == f'"{ref.dataflow_id}"'


def test_the_example_repository_has_mashups_and_one_reader_of_two_dataflows() -> None:
    if not MASHUPS:
        pytest.skip("no example dataflows in this checkout yet")
    readers = {}
    for path in MASHUPS:
        refs = dataflow_references(parse_section(path.read_text(encoding="utf-8")))
        if refs:
            readers[path.parent.name] = {r.dataflow_id for r in refs}
    assert any(len(ids) >= 2 for ids in readers.values()), readers
