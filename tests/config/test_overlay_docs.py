"""docs/overlay-reference.md is generated from the schema and must be current; the schemas are
valid Draft 2020-12 and every property is described."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from example_repo import REPO_ROOT, load_script

from dataflow_gitops.config import load_schema


def test_reference_is_up_to_date() -> None:
    generated = load_script("gen_overlay_docs").generate()
    current = (REPO_ROOT / "docs" / "overlay-reference.md").read_text(encoding="utf-8")
    assert current == generated, "run: python scripts/gen_overlay_docs.py"
    for key in load_schema("environment.schema.json")["properties"]:
        assert f"`{key}`" in generated


@pytest.mark.parametrize("name", ["environment.schema.json", "project.schema.json"])
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    schema = load_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _objects(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            found.append(node)
        for value in node.values():
            found += _objects(value)
    elif isinstance(node, list):
        for value in node:
            found += _objects(value)
    return found


def test_every_object_is_closed_and_every_top_level_key_described() -> None:
    schema = load_schema("environment.schema.json")
    for node in _objects(schema):
        assert node.get("additionalProperties") is False, json.dumps(node)[:80]
    for key, prop in schema["properties"].items():
        described = prop.get("description") or schema["$defs"].get(
            prop.get("$ref", "").rsplit("/", 1)[-1], {}
        ).get("description")
        assert described, key
