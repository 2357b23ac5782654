"""Fixtures for the M reader tests: the spec example mashup and small helpers."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dataflow_gitops.pipeline.definition.mlang import nodes, parse_section

SPEC_EXAMPLE = Path("/work/shared/fabric-api-spec/dataflow/examples/GetDataflowDefinition.json")
# The mashup.pq of the spec's GetDataflowDefinition example, for machines without the spec files.
SPEC_MASHUP = (
    '[StagingDefinition = [Kind = "FastCopy"]]\n'
    "section Section1;\n"
    "shared Query = let\n"
    '  Source = Table.FromRows(Json.Document(Binary.Decompress(Binary.FromText("i45WMlTSUXLOzynNzTOKR7'
    'CNgexYnWglIyRZIyRZI6XYWAA=", BinaryEncoding.Base64), Compression.Deflate)), let _t = ((type nullab'
    "le text) meta [Serialized.Text = true]) in type table [Column1 = _t, Column2 = _t, Column3 = _t]),"
    "\n"
    '  #"Changed column type" = Table.TransformColumnTypes(Source, {{"Column1", Int64.Type}, {"Column2",'
    ' type text}, {"Column3", type text}})\n'
    "in\n"
    '  #"Changed column type";\n'
    '[ItemType = "MDF"]\n'
    'shared #"MDF transform" = "___ExternalResource-Placeholder___";\n'
)


def _find_part(obj: Any, path: str) -> str | None:
    if isinstance(obj, dict):
        if obj.get("path") == path and "payload" in obj:
            return base64.b64decode(obj["payload"]).decode("utf-8")
        children = list(obj.values())
    elif isinstance(obj, list):
        children = obj
    else:
        return None
    for child in children:
        found = _find_part(child, path)
        if found is not None:
            return found
    return None


@pytest.fixture(scope="session")
def spec_mashup() -> str:
    if not SPEC_EXAMPLE.exists():
        return SPEC_MASHUP
    text = _find_part(json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8")), "mashup.pq")
    assert text is not None
    return text


@pytest.fixture
def expr() -> Callable[[str], nodes.Node]:
    """The syntax tree of one expression, parsed as the only member of a document."""

    def parse(text: str) -> nodes.Node:
        doc = parse_section(f"section S;\nshared X = {text};")
        member = doc.members[0]
        assert member.expression_text == text
        return member.expression

    return parse
