"""Generated bad plan files → ``dfg apply -e ENV PLANFILE`` refuses: exit 1, one error line, no
traceback, no write. The cases start from a real saved plan (one update) and break it: a value of
the wrong JSON type where the schema fixes one, a truncated file, arbitrary bytes, a stale live
fingerprint, or another environment's name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from benchmarks.generate import write_dataflow
from fuzz_support import ENV, Harness
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# One value of each JSON type but null (null is allowed where the schema makes a field optional).
BY_TYPE: dict[type, Any] = {str: "x", int: 7, bool: True, list: [], dict: {}}


def _json_type(value: Any) -> type:
    return bool if isinstance(value, bool) else type(value)


@pytest.fixture
def saved_plan(harness: Harness) -> dict[str, Any]:
    write_dataflow(harness.root / "dataflows", 0, target_bytes=700, revision=3)
    out = harness.root / "saved.json"
    code, _, err = harness.dfg("plan", "-e", ENV, "--out", str(out))
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert [a["kind"] for a in doc["actions"]].count("update") == 1
    return doc


def _paths(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Fields whose JSON type the plan schema fixes: top level, each action, each desired.

    Fields that are null are left out: they are the optional ones, which may also hold a value.
    """
    paths: list[tuple[Any, ...]] = [(k,) for k in doc]
    for i, action in enumerate(doc["actions"]):
        paths += [("actions", i, k) for k in action]
        if isinstance(action.get("desired"), dict):
            paths += [("actions", i, "desired", k) for k in action["desired"]]
    return [p for p in paths if _get(doc, p) is not None]


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _apply(harness: Harness, text: str | bytes) -> str:
    bad = harness.root / "bad-plan.json"
    if isinstance(text, bytes):
        bad.write_bytes(text)
    else:
        bad.write_text(text, encoding="utf-8")
    return harness.check_refused("apply", "-e", ENV, str(bad))


@settings(parent=FUZZ, max_examples=30)
@given(data=st.data())
def test_wrong_type_in_plan_is_refused(
    harness: Harness, saved_plan: dict[str, Any], data: st.DataObject
) -> None:
    doc = json.loads(json.dumps(saved_plan))
    path = data.draw(st.sampled_from(_paths(doc)))
    original = _json_type(_get(doc, path))
    kind = data.draw(st.sampled_from([t for t in BY_TYPE if t is not original]))
    _set(doc, path, BY_TYPE[kind])

    _apply(harness, json.dumps(doc))


@settings(parent=FUZZ)
@given(data=st.data())
def test_truncated_or_garbled_plan_is_refused(
    harness: Harness, saved_plan: dict[str, Any], data: st.DataObject
) -> None:
    text = json.dumps(saved_plan, indent=2)
    if data.draw(st.booleans()):
        # Every proper prefix of a JSON object is invalid JSON.
        _apply(harness, text[: data.draw(st.integers(min_value=0, max_value=len(text) - 1))])
    else:
        _apply(harness, b"\x00" + data.draw(st.binary(max_size=200)))


@settings(parent=FUZZ, max_examples=8)
@given(position=st.integers(min_value=0), digit=st.sampled_from("0123456789abcdef"))
def test_stale_live_fingerprint_is_refused(
    harness: Harness, saved_plan: dict[str, Any], position: int, digit: str
) -> None:
    doc = json.loads(json.dumps(saved_plan))
    action = next(a for a in doc["actions"] if a["kind"] == "update")
    fingerprint = action["live_fingerprint"]
    hex_at = [i for i, c in enumerate(fingerprint) if c in "0123456789abcdef"]
    i = hex_at[position % len(hex_at)]
    new = digit if digit != fingerprint[i] else ("1" if digit == "0" else "0")
    action["live_fingerprint"] = fingerprint[:i] + new + fingerprint[i + 1 :]

    line = _apply(harness, json.dumps(doc))

    assert action["name"] in line or "changed" in line or "moved" in line or "stale" in line.lower()


def test_plan_for_another_environment_is_refused(harness: Harness, saved_plan: dict[str, Any]) -> None:
    other = harness.root / "environments" / "other.yaml"
    other.write_text((harness.root / "environments" / f"{ENV}.yaml").read_text(encoding="utf-8"))
    doc = dict(saved_plan, environment="other")
    _apply(harness, json.dumps(doc))
    Path(other).unlink()
