"""Pure tests of the unrender stage: template reversal, id learning, unsafe part paths."""

from __future__ import annotations

import pytest

from dataflow_gitops.config import Environment, parse_environment
from dataflow_gitops.errors import SourceError
from dataflow_gitops.pipeline.definition.parts import folder_name
from dataflow_gitops.pipeline.definition.render import OfflineLookup, render
from dataflow_gitops.pipeline.model import LiveDataflow, LiveItem, Part, Platform, SourceDataflow
from dataflow_gitops.pipeline.release.unrender import (
    ReverseIds,
    learn_reverse_ids,
    repository_name,
    unrender,
)

WS = "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13"
DEV_WS = "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10"
LH_DEV = "7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b27"
LH_TEST = "0c2e4a6d-1b3f-4d5e-8a7c-9e1f3b5d7a90"
METADATA = b'{"formatVersion": "202502", "name": "X", "queriesMetadata": {}, "connections": []}\n'


def _env(extra: str = "") -> Environment:
    text = (
        f"workspace_id: {WS}\nbindings:\n  workspaces:\n    {DEV_WS}: ${{workspace.id}}\n"
        f"  lakehouses:\n    {LH_DEV}: {LH_TEST}\n{extra}"
    )
    return parse_environment("test", text.encode(), path="environments/test.yaml", environ={})


def _source(name: str, lakehouse: str = LH_DEV) -> SourceDataflow:
    mashup = (
        'section Section1;\nshared T = Lakehouse.Contents([]){[workspaceId = "' + DEV_WS + '"]}[Data]'
        '{[lakehouseId = "' + lakehouse + '"]}[Data];\n'
    )
    platform = Platform("Dataflow", name, "5d1f3b5a-7c9e-4b1d-8f3a-5c7e9b1d3f64")
    parts = (Part("mashup.pq", mashup.encode()), Part("queryMetadata.json", METADATA))
    return SourceDataflow(name, f"dataflows/{name}.Dataflow", platform, parts)


def test_template_reversal() -> None:
    env = _env('display_name: "{name} [TEST]"\n')
    assert repository_name(env, "Sales [TEST]") == "Sales"
    assert repository_name(env, "Sales") is None
    assert repository_name(_env(), "Sales") == "Sales"


def test_learned_ids_turn_rendered_ids_back() -> None:
    env = _env()
    source = _source("A")
    rendered = render(source, env, OfflineLookup(env))
    reverse = learn_reverse_ids([(source, rendered)])
    assert reverse.lookup("lakehouseId", LH_TEST.upper()) == LH_DEV
    assert reverse.lookup("workspaceId", WS) == DEV_WS
    assert reverse.lookup("reference:workspaceId", WS) is None


def test_an_id_two_sources_render_to_is_ambiguous_and_left_alone() -> None:
    other = "9e1f3b5d-7a90-4c2e-8a6d-1b3f4d5e8a7c"
    env = _env(f"    {other}: {LH_TEST}\n")
    a, b = _source("A"), _source("B", lakehouse=other)
    pairs = [(s, render(s, env, OfflineLookup(env))) for s in (a, b)]
    assert learn_reverse_ids(pairs).lookup("lakehouseId", LH_TEST) is None


@pytest.mark.parametrize("path", ["../evil.pq", "/etc/passwd", "a/../../b", "c:\\x", "a\\b"])
def test_unsafe_part_paths_are_refused(path: str) -> None:
    live = LiveDataflow(
        item=LiveItem("id-1", "Dataflow", "X"),
        logical_id=None,
        parts=(Part("mashup.pq", b"section Section1;\n"), Part(path, b"{}")),
        fingerprint="f",
    )
    with pytest.raises(SourceError, match="unsafe part path"):
        unrender(live, _env(), ReverseIds(), folder="X.Dataflow")


def test_secret_values_never_reach_a_repository_file() -> None:
    text = f"workspace_id: {WS}\nreplace:\n  - find: REPLACE_ME\n    with: ${{env:API_KEY}}\n"
    env = parse_environment(
        "test", text.encode(), path="environments/test.yaml", environ={"API_KEY": "s3cr3t-key"}
    )
    source = SourceDataflow(
        "A",
        "dataflows/A.Dataflow",
        Platform("Dataflow", "A", "5d1f3b5a-7c9e-4b1d-8f3a-5c7e9b1d3f64"),
        (
            Part("mashup.pq", b'section Section1;\nshared K = "REPLACE_ME";\nshared T = 1;\n'),
            Part("queryMetadata.json", METADATA),
        ),
    )
    rendered = render(source, env, OfflineLookup(env))
    assert b"s3cr3t-key" in rendered.part("mashup.pq").data  # type: ignore[union-attr]
    live = LiveDataflow(
        item=LiveItem("id-1", "Dataflow", "A"),
        logical_id=source.platform.logical_id,
        parts=(
            Part("mashup.pq", b'section Section1;\nshared K = "s3cr3t-key!";\nshared T = 2;\n'),
            Part("queryMetadata.json", METADATA),
        ),
        fingerprint="f",
    )

    exported = unrender(live, env, ReverseIds(), source=source, rendered=rendered, folder="A.Dataflow")

    assert all(b"s3cr3t-key" not in p.data for p in exported.files)
    assert any("API_KEY" in note for note in exported.notes)
    # the reference stands where the value was; live's other change is not lost
    mashup = next(p for p in exported.files if p.path == "mashup.pq")
    assert b'shared K = "${env:API_KEY}!";' in mashup.data
    assert b"shared T = 2;" in mashup.data


@pytest.mark.parametrize(
    ("display_name", "folder"),
    [
        ("CON", "CO&#78;.Dataflow"),
        ("aux", "au&#120;.Dataflow"),
        ("NUL.backup", "NU&#76;.backup.Dataflow"),  # Windows reads the name before the first dot
        ("CON .x", "CO&#78; .x.Dataflow"),  # ...with trailing spaces ignored
        ("COM1", "COM&#49;.Dataflow"),
        ("lpt\u00b2", "lpt&#178;.Dataflow"),
        ("CONOUT$", "CONOUT&#36;.Dataflow"),
        ("CONSOLE", "CONSOLE.Dataflow"),
        ("COM10", "COM10.Dataflow"),
        ("Sales.CON", "Sales.CON.Dataflow"),
        ("Customers", "Customers.Dataflow"),
    ],
)
def test_folder_name_keeps_windows_device_names_off_disk(display_name: str, folder: str) -> None:
    assert folder_name(display_name) == folder


def _two_queries(first: str, line_end: str) -> bytes:
    text = f"section Section1;\nshared A = {first};\nshared B = 2;\n"
    return text.replace("\n", line_end).encode()


def test_a_merged_mashup_takes_the_line_endings_live_has() -> None:
    env = _env()
    platform = Platform("Dataflow", "X", "5d1f3b5a-7c9e-4b1d-8f3a-5c7e9b1d3f64")
    source = SourceDataflow(
        "X",
        "X.Dataflow",
        platform,
        (Part("mashup.pq", _two_queries("1", "\n")), Part("queryMetadata.json", METADATA)),
    )
    rendered = render(source, env, OfflineLookup(env))
    live = LiveDataflow(
        item=LiveItem("id-1", "Dataflow", "X"),
        logical_id=platform.logical_id,
        parts=(Part("mashup.pq", _two_queries("10", "\r\n")), Part("queryMetadata.json", METADATA)),
        fingerprint="f",
    )
    files = {
        p.path: p.data
        for p in unrender(
            live, env, ReverseIds(), source=source, rendered=rendered, folder="X.Dataflow"
        ).files
    }
    assert files["mashup.pq"] == _two_queries("10", "\r\n")
    assert files["queryMetadata.json"] == METADATA  # unchanged: the repository's own bytes


def test_a_changed_json_part_is_written_as_fabric_serialises_it() -> None:
    env = _env()
    platform = Platform("Dataflow", "X", "5d1f3b5a-7c9e-4b1d-8f3a-5c7e9b1d3f64")
    mashup = Part("mashup.pq", b"section Section1;\r\nshared A = 1;\r\n")
    source = SourceDataflow("X", "X.Dataflow", platform, (mashup, Part("queryMetadata.json", METADATA)))
    rendered = render(source, env, OfflineLookup(env))
    changed = b'{"formatVersion": "202502", "name": "Y", "queriesMetadata": {}, "connections": []}'
    live = LiveDataflow(
        item=LiveItem("id-1", "Dataflow", "Renamed"),
        logical_id=platform.logical_id,
        parts=(mashup, Part("queryMetadata.json", changed)),
        fingerprint="f",
    )
    files = {
        p.path: p.data
        for p in unrender(
            live, env, ReverseIds(), source=source, rendered=rendered, folder="X.Dataflow"
        ).files
    }
    assert files["queryMetadata.json"] == (
        b'{\n  "formatVersion": "202502",\n  "name": "Y",\n  "queriesMetadata": {},\n'
        b'  "connections": []\n}'
    )
    assert not files[".platform"].endswith(b"\n")
    assert files["mashup.pq"] == mashup.data
