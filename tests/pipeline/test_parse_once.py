"""Parse once, offline: validate, render and plan in one process read each M text once.

The source stage hands every snapshot the parts it read before (with their documents), render
passes the source's document on with its literals swapped, and the diff takes both sides'
documents from their parts. Counted at the reader's one seam (tests/support/parse_count.py).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from parse_count import counting_parses

from dataflow_gitops.config import load_environment, load_project
from dataflow_gitops.pipeline.definition.mashups import part_document
from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.definition.source import read_working_tree
from dataflow_gitops.pipeline.definition.source_cache import SourceCache
from dataflow_gitops.pipeline.definition.validate import validate
from dataflow_gitops.pipeline.model import (
    DATAFLOW_TYPE,
    MASHUP_PATH,
    LiveDataflow,
    LiveItem,
    LiveWorkspace,
    Part,
)
from dataflow_gitops.pipeline.plan.planner import build_plan
from dataflow_gitops.pipeline.workspace import read_workspace


def _live(parts: tuple[Part, ...], name: str, logical_id: str, n: int) -> LiveDataflow:
    item = LiveItem(id=f"00000000-0000-4000-8000-{n:012d}", type=DATAFLOW_TYPE, display_name=name)
    return LiveDataflow(item, logical_id, parts, fingerprint(parts, display_name=name, description=""))


def test_validate_render_and_plan_read_each_text_once(
    example_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mark = uuid.uuid4()  # texts no other test of this process read
    for path in example_copy.glob("dataflows/*.Dataflow/mashup.pq"):
        path.write_bytes(f"// {mark}\n".encode() + path.read_bytes())
    sources = [p.read_text(encoding="utf-8-sig") for p in example_copy.glob("dataflows/*/mashup.pq")]
    project = load_project(example_copy)
    environment = load_environment(project, "dev")

    with counting_parses(monkeypatch) as parsed:
        assert validate(example_copy).ok
        # Every source text once; besides them only what an overlay made of a text by more than a
        # literal swap (prod's date parameter), once each.
        assert all(parsed.count(text) == 1 for text in sources)
        assert len(parsed) == len(set(parsed))
        validated = len(parsed)

        desired = read_workspace(project, environment).desired
        snapshot = read_working_tree(project.root, project.dataflows_dir)
        live: list[LiveDataflow] = []
        edited = ""
        for n, source in enumerate(snapshot.dataflows):
            parts = source.parts
            if source.name == "Customers":  # live has another version of one query
                mashup = source.part(MASHUP_PATH)
                assert mashup is not None
                other = Part(MASHUP_PATH, mashup.data + b"// edited live\n")
                edited = other.text()
                parts = tuple(other if p.path == MASHUP_PATH else p for p in parts)
            live.append(_live(parts, source.name, source.platform.logical_id, n))
        workspace = LiveWorkspace("ws", tuple(d.item for d in live), tuple(live))
        plan = build_plan(desired, workspace, environment="dev", policy=environment.policy(()))
        assert {a.name for a in plan.actions if a.is_change} >= {"Customers"}
        # The second and third snapshots, render, diff, impact and ordering read nothing but
        # the one live text no snapshot holds.
        assert parsed[validated:] == [edited]


def test_the_source_cache_is_bounded_and_its_parts_keep_what_they_derived() -> None:
    cache = SourceCache(budget=25)
    first = cache.part("mashup.pq", b"section S;\nshared A = 1;")  # 24 bytes
    doc = part_document(first)
    assert cache.part("mashup.pq", bytes(bytearray(first.data))) is first  # one part per content
    assert cache.part("x.json", first.data) is not first  # and per path
    later = cache.part("mashup.pq", b"section S;\nshared A = 1;")
    assert later is not first  # dropped to stay within 25 bytes: read again as a new part
    assert part_document(first) is doc  # the dropped part still carries its document
