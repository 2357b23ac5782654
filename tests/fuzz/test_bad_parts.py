"""Generated bad definition parts (``mashup.pq``, ``queryMetadata.json``, ``.platform``) in one
dataflow of an otherwise good project → ``dfg apply --auto-approve`` refuses the whole apply:
exit 1, one error line, no traceback, no write. Each case is broken by construction."""

from __future__ import annotations

import json

from fuzz_support import ENV, Harness
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FOLDER = "dataflows/Bench Flow 0001.Dataflow"
FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def _write(harness: Harness, name: str, data: bytes) -> None:
    harness.restore()
    (harness.root / FOLDER / name).write_bytes(data)


@settings(parent=FUZZ)
@given(prefix=st.text(max_size=300), cut=st.integers(min_value=0, max_value=2_000))
def test_broken_mashup_is_refused(harness: Harness, prefix: str, cut: int) -> None:
    original = (harness.pristine / FOLDER / "mashup.pq").read_text(encoding="utf-8")
    # Any text followed by `shared Broken = (;` is not a valid section document.
    text = original[: min(cut, len(original))] + prefix + "\nshared Broken = (;\n"
    _write(harness, "mashup.pq", text.encode("utf-8"))

    line = harness.check_refused("apply", "-e", ENV, "--auto-approve")

    assert "Bench Flow 0001" in line


@settings(parent=FUZZ, max_examples=15)
@given(raw=st.binary(max_size=100))
def test_mashup_that_is_not_utf8_is_refused(harness: Harness, raw: bytes) -> None:
    _write(harness, "mashup.pq", b"section Section1;\nshared A = \xff\xfe" + raw)

    harness.check_refused("apply", "-e", ENV, "--auto-approve")


@settings(parent=FUZZ)
@given(data=st.data())
def test_bad_query_metadata_is_refused(harness: Harness, data: st.DataObject) -> None:
    broken = data.draw(
        st.one_of(
            # Unterminated object: never valid JSON.
            st.text(max_size=60).map(lambda t: "{" + t.replace("}", "")),
            # Valid JSON, but not an object.
            json_values.filter(lambda v: not isinstance(v, dict)).map(json.dumps),
        )
    )
    _write(harness, "queryMetadata.json", broken.encode("utf-8"))

    harness.check_refused("apply", "-e", ENV, "--auto-approve")


@settings(parent=FUZZ)
@given(data=st.data())
def test_bad_platform_is_refused(harness: Harness, data: st.DataObject) -> None:
    platform = json.loads((harness.pristine / FOLDER / ".platform").read_text(encoding="utf-8"))
    family = data.draw(st.sampled_from(["json", "type", "logical-id", "not-object", "metadata"]))
    if family == "json":
        text = "{" + data.draw(st.text(max_size=40)).replace("}", "")
    elif family == "type":
        platform["metadata"]["type"] = data.draw(st.text(max_size=12).filter(lambda t: t != "Dataflow"))
        text = json.dumps(platform)
    elif family == "logical-id":
        platform["config"]["logicalId"] = data.draw(
            st.one_of(st.just(""), st.integers(), st.lists(st.integers(), max_size=2), st.none())
        )
        text = json.dumps(platform)
    elif family == "metadata":
        platform["metadata"] = data.draw(st.one_of(st.integers(), st.text(max_size=8), st.none()))
        text = json.dumps(platform)
    else:
        text = json.dumps(data.draw(json_values.filter(lambda v: not isinstance(v, dict))))
    _write(harness, ".platform", text.encode("utf-8"))

    harness.check_refused("apply", "-e", ENV, "--auto-approve")


@settings(parent=FUZZ, max_examples=3)
@given(part=st.sampled_from(["mashup.pq", "queryMetadata.json", ".platform"]))
def test_missing_part_is_refused(harness: Harness, part: str) -> None:
    harness.restore()
    (harness.root / FOLDER / part).unlink()

    harness.check_refused("apply", "-e", ENV, "--auto-approve")
