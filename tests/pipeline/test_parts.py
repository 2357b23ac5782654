from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataflow_gitops.errors import SourceError
from dataflow_gitops.pipeline.definition.parts import (
    PLATFORM_SCHEMA,
    canonical_bytes,
    decode_parts,
    encode_parts,
    fingerprint,
    parse_platform,
    platform_part,
    safe_part_path,
)
from dataflow_gitops.pipeline.model import Part, Platform

LOGICAL_ID = "018b9992-976d-40c5-a0e4-1b53a9a4c7b5"


def _platform_json(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "$schema": "https://example/schema.json",
        "metadata": {"type": "Dataflow", "displayName": "Sales Orders"},
        "config": {"version": "2.0", "logicalId": LOGICAL_ID},
    }
    doc.update(overrides)
    return doc


# codec -------------------------------------------------------------------------------------


def test_encode_then_decode_round_trips_bytes_and_sorts_by_path() -> None:
    parts = [
        Part("mashup.pq", b"section Section1;\r\nshared A = 1;"),
        Part("Inventory transform.mdf", b'{"name": "MDF"}'),
        Part("queryMetadata.json", '{"name": "Caf\u00e9"}'.encode()),
    ]
    wire = encode_parts(parts)
    assert all(w["payloadType"] == "InlineBase64" for w in wire)
    assert base64.b64decode(wire[0]["payload"]) == parts[0].data
    assert decode_parts(wire) == tuple(sorted(parts, key=lambda p: p.path))


def test_decode_rejects_bad_base64_naming_the_part() -> None:
    with pytest.raises(SourceError, match=r"part 'mashup\.pq' is not valid base64"):
        decode_parts([{"path": "mashup.pq", "payload": "not base64!!", "payloadType": "InlineBase64"}])


def test_decode_rejects_other_payload_types() -> None:
    with pytest.raises(SourceError, match="payloadType"):
        decode_parts([{"path": "mashup.pq", "payload": "", "payloadType": "SomethingElse"}])


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "../escape.pq", "a/../../b", "dir\\file", "nul\x00.pq", "", "C:/x", "a//b", "./a"],
)
def test_unsafe_part_paths_are_refused(path: str) -> None:
    with pytest.raises(SourceError, match="unsafe part path"):
        safe_part_path(path)
    with pytest.raises(SourceError, match="unsafe part path"):
        decode_parts([{"path": path, "payload": "", "payloadType": "InlineBase64"}])


@pytest.mark.parametrize("path", ["mashup.pq", "Inventory transform.mdf", "sub/dir/x.json", ".platform"])
def test_safe_part_paths_pass_unchanged(path: str) -> None:
    assert safe_part_path(path) == path


# .platform ---------------------------------------------------------------------------------


def test_parse_platform_reads_type_name_description_and_logical_id() -> None:
    doc = _platform_json(
        metadata={"type": "Dataflow", "displayName": "Sales Orders", "description": "Orders"}
    )
    platform = parse_platform(json.dumps(doc, indent=2).encode(), path="x/.platform")
    assert platform == Platform("Dataflow", "Sales Orders", LOGICAL_ID, "Orders")


def test_platform_part_round_trips_through_parse_platform() -> None:
    platform = Platform("Dataflow", "Ventes €", LOGICAL_ID, "with description")
    part = platform_part(platform)
    assert part.path == ".platform"
    assert parse_platform(part.data, path=".platform") == platform
    assert json.loads(part.data)["config"] == {"version": "2.0", "logicalId": LOGICAL_ID}


def test_platform_part_omits_an_empty_description() -> None:
    data = json.loads(platform_part(Platform("Dataflow", "A", LOGICAL_ID)).data)
    assert "description" not in data["metadata"]


def test_platform_not_json_names_file_and_line() -> None:
    with pytest.raises(SourceError) as info:
        parse_platform(b'{\n  "metadata": {\n    "type": "Dataflow",,\n  }\n}', path="d/.platform")
    assert info.value.path == "d/.platform"
    assert info.value.line == 3
    assert str(info.value).startswith("d/.platform:3: invalid JSON")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"version": "2.0"}, "has no config.logicalId"),
        ({"version": "2.0", "logicalId": ""}, "is empty, all zeros or not a GUID"),
        ({"version": "2.0", "logicalId": "00000000-0000-0000-0000-000000000000"}, "all zeros"),
        ({"version": "2.0", "logicalId": "not-a-guid"}, "not a GUID"),
    ],
)
def test_platform_logical_id_problems(config: dict[str, str], expected: str) -> None:
    data = json.dumps(_platform_json(config=config), indent=2).encode()
    with pytest.raises(SourceError, match=expected) as info:
        parse_platform(data, path="d/.platform")
    assert info.value.line is not None
    assert info.value.line > 1
    assert "\n" not in str(info.value)


def test_platform_of_another_item_type_is_refused_with_its_line() -> None:
    doc = _platform_json(metadata={"type": "Notebook", "displayName": "N"})
    data = json.dumps(doc, indent=2).encode()
    with pytest.raises(SourceError, match="metadata.type is 'Notebook', not 'Dataflow'") as info:
        parse_platform(data, path="d/.platform")
    assert info.value.line == 4


def test_platform_type_is_case_sensitive() -> None:
    data = json.dumps(_platform_json(metadata={"type": "dataflow", "displayName": "x"})).encode()
    with pytest.raises(SourceError, match="not 'Dataflow'"):
        parse_platform(data, path=".platform")


def test_platform_without_display_name() -> None:
    data = json.dumps(_platform_json(metadata={"type": "Dataflow"})).encode()
    with pytest.raises(SourceError, match="displayName is missing"):
        parse_platform(data, path=".platform")


# canonical forms and fingerprints ------------------------------------------------------------


def test_canonical_json_ignores_key_order_whitespace_and_bom() -> None:
    a = Part("queryMetadata.json", b'{"b": 1, "a": [1, 2]}')
    b = Part("queryMetadata.json", '\ufeff{\r\n  "a": [1,2],\r\n  "b": 1\r\n}\r\n'.encode())
    assert canonical_bytes(a) == canonical_bytes(b) == b'{"a":[1,2],"b":1}'


def test_canonical_text_normalises_bom_line_endings_and_trailing_newlines() -> None:
    a = Part("mashup.pq", b"section S;\nshared A = 1;")
    b = Part("mashup.pq", b"\xef\xbb\xbfsection S;\r\nshared A = 1;\r\n\r\n")
    assert canonical_bytes(a) == canonical_bytes(b) == b"section S;\nshared A = 1;\n"


def test_canonical_text_keeps_meaningful_whitespace() -> None:
    a = Part("mashup.pq", b"shared A = 1;")
    b = Part("mashup.pq", b"shared  A = 1;")
    assert canonical_bytes(a) != canonical_bytes(b)


def test_fingerprint_is_stable_across_formatting_but_not_content() -> None:
    parts = (Part("queryMetadata.json", b'{"a": 1}'), Part("mashup.pq", b"section S;\n"))
    same = (Part("mashup.pq", b"section S;\r\n"), Part("queryMetadata.json", b'{ "a":1 }'))
    changed = (Part("queryMetadata.json", b'{"a": 2}'), Part("mashup.pq", b"section S;\n"))
    fp = fingerprint(parts, display_name="X", description="")
    assert len(fp) == 64
    assert fingerprint(same, display_name="X", description="") == fp
    assert fingerprint(changed, display_name="X", description="") != fp


def test_fingerprint_covers_name_and_description_but_not_platform() -> None:
    parts = (Part("mashup.pq", b"section S;\n"),)
    with_platform = parts + (platform_part(Platform("Dataflow", "X", LOGICAL_ID)),)
    fp = fingerprint(parts, display_name="X", description="d")
    assert fingerprint(with_platform, display_name="X", description="d") == fp
    assert fingerprint(parts, display_name="Y", description="d") != fp
    assert fingerprint(parts, display_name="X", description="e") != fp
    # the length prefixes keep field boundaries: ("Xd", "") is not ("X", "d")
    assert fingerprint(parts, display_name="Xd", description="") != fp


def test_fingerprint_distinguishes_part_paths() -> None:
    a = (Part("a.mdf", b"{}"),)
    b = (Part("b.mdf", b"{}"),)
    assert fingerprint(a, display_name="", description="") != fingerprint(
        b, display_name="", description=""
    )


# properties ---------------------------------------------------------------------------------


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Za-z0-9 _-]{1,12}\.(pq|json|mdf)", fullmatch=True), st.binary(max_size=64)
        ),
        max_size=5,
        unique_by=lambda t: t[0],
    )
)
def test_codec_round_trip(entries: list[tuple[str, bytes]]) -> None:
    parts = tuple(sorted((Part(p, d) for p, d in entries), key=lambda p: p.path))
    assert decode_parts(encode_parts(parts)) == parts


@settings(max_examples=60, deadline=None)
@given(_json_values, st.integers(min_value=0, max_value=4), st.booleans())
def test_json_fingerprint_ignores_formatting(doc: object, indent: int, bom: bool) -> None:
    compact = Part("queryMetadata.json", json.dumps(doc).encode())
    pretty_text = json.dumps(doc, indent=indent, ensure_ascii=False).replace("\n", "\r\n")
    pretty = Part("queryMetadata.json", (b"\xef\xbb\xbf" if bom else b"") + pretty_text.encode())
    assert canonical_bytes(compact) == canonical_bytes(pretty)
    assert fingerprint([compact], display_name="n", description="") == fingerprint(
        [pretty], display_name="n", description=""
    )


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=12),
    st.text(max_size=12),
    st.text(alphabet='ab"\\\n\u00e9\u2028\x00\U0001f600', max_size=8),
)
def test_platform_part_is_what_the_indenting_encoder_writes(
    display_name: str, description: str, logical_id: str
) -> None:
    # What Fabric Git sync writes: json.dumps(indent=2), no final newline.
    metadata = {"type": "Dataflow", "displayName": display_name}
    if description:
        metadata["description"] = description
    doc = {
        "$schema": PLATFORM_SCHEMA,
        "metadata": metadata,
        "config": {"version": "2.0", "logicalId": logical_id},
    }
    expected = json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")
    part = platform_part(Platform("Dataflow", display_name, logical_id, description))
    assert part.data == expected


def test_a_schedules_part_compares_by_meaning() -> None:
    # Fabric may serialise .schedules with other spacing than the repository: no difference.
    from dataflow_gitops.pipeline.definition.parts import canonical_bytes

    compact = Part(".schedules", b'{"schedules":[{"enabled":true,"jobType":"Execute"}]}')
    spaced = Part(
        ".schedules", b'{\r\n  "schedules": [\r\n    {"jobType": "Execute", "enabled": true}\r\n  ]\r\n}'
    )
    assert canonical_bytes(compact) == canonical_bytes(spaced)
