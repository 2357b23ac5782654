"""⑥ plan files: round trip, every PlanFileError, tampering, secret masking, stale-plan checks."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import jsonschema
import pytest

from dataflow_gitops.errors import PlanError, PlanFileError, StalePlanError
from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.model import (
    ActionKind,
    DesiredDataflow,
    LiveDataflow,
    LiveItem,
    LiveWorkspace,
    Part,
    Plan,
    PlanPolicy,
)
from dataflow_gitops.pipeline.plan.planfile import (
    dump_plan,
    load_plan,
    plan_document,
    plan_schema,
)
from dataflow_gitops.pipeline.plan.planner import build_plan
from dataflow_gitops.pipeline.plan.stale import check_preconditions

WS = "ws-1"
SECRET = "Sup3r-Secret!"
PATH = "plans/prod.json"


def _parts(body: str) -> tuple[Part, ...]:
    platform = json.dumps({"metadata": {"type": "Dataflow"}, "config": {"logicalId": "x"}})
    return (
        Part(".platform", platform.encode()),
        Part("mashup.pq", f"section Section1;\nshared Query = {body};\n".encode()),
        Part("queryMetadata.json", b'{"formatVersion": "202502"}'),
        Part("blob.bin", b"\xff\x00\xfe"),
    )


def desired(name: str, body: str = "1", *, secret_env: tuple[str, ...] = ()) -> DesiredDataflow:
    parts = _parts(body)
    return DesiredDataflow(
        name,
        name,
        f"about {name}",
        f"logical-{name}",
        parts,
        fingerprint(parts, display_name=name, description=f"about {name}"),
        secret_env=secret_env,
        folder=f"dataflows/{name}.Dataflow",
    )


def live(
    name: str, body: str = "1", *, item_id: str | None = None, logical_id: str | None = None
) -> LiveDataflow:
    parts = tuple(p for p in _parts(body) if p.path != ".platform")
    return LiveDataflow(
        LiveItem(item_id or f"id-{name}", "Dataflow", name, f"about {name}"),
        logical_id or f"logical-{name}",
        parts,
        fingerprint(parts, display_name=name, description=f"about {name}"),
    )


def workspace(*dataflows: LiveDataflow, workspace_id: str = WS) -> LiveWorkspace:
    return LiveWorkspace(workspace_id, tuple(d.item for d in dataflows), dataflows)


@pytest.fixture
def plan() -> Plan:
    """Create New, update Changed (with a secret in its definition), keep Same, delete Gone."""
    desireds = [
        desired("New"),
        desired("Changed", f'"{SECRET}"', secret_env=("DB_PASSWORD",)),
        desired("Same"),
    ]
    ws = workspace(live("Changed"), live("Same"), live("Gone"))
    return build_plan(
        desireds,
        ws,
        environment="prod",
        policy=PlanPolicy(prune=True, prune_unrecorded=True),
        commit="c0ffee",
        overlay_hash="abc123",
        created_at="2026-01-01T00:00:00Z",
        secrets={"DB_PASSWORD": SECRET},
    )


def _dump(plan: Plan) -> str:
    return dump_plan(plan, secrets={"DB_PASSWORD": SECRET, "UNUSED": "never-used-value"})


def test_round_trip(plan: Plan) -> None:
    loaded = load_plan(_dump(plan), path=PATH, environ={"DB_PASSWORD": SECRET})
    assert loaded == plan
    assert [a.kind for a in loaded.actions] == [
        ActionKind.CREATE,
        ActionKind.UPDATE,
        ActionKind.NOOP,
        ActionKind.DELETE,
    ]


def test_secret_value_never_in_the_file_and_reference_recorded(plan: Plan) -> None:
    text = _dump(plan)
    assert SECRET not in text
    doc = json.loads(text)
    payloads = [
        base64.b64decode(p["payload"])
        for a in doc["actions"]
        for p in a.get("desired", {}).get("parts", [])
    ]
    assert not any(SECRET.encode() in p for p in payloads)
    assert any(b"${env:DB_PASSWORD}" in p for p in payloads)
    assert doc["secret_env"] == ["DB_PASSWORD"]  # UNUSED appears nowhere, so it is not required


def test_file_carries_what_apply_and_review_need(plan: Plan) -> None:
    doc = json.loads(_dump(plan))
    assert doc["format_version"] == 2
    assert doc["tool"]["name"] == "dataflow-gitops"
    assert (doc["commit"], doc["overlay_hash"], doc["environment"], doc["workspace_id"]) == (
        "c0ffee",
        "abc123",
        "prod",
        WS,
    )
    update = doc["actions"][1]
    assert update["live_fingerprint"] == plan.actions[1].live_fingerprint
    assert update["desired_fingerprint"] == plan.actions[1].desired.fingerprint  # type: ignore[union-attr]
    assert update["diff"]["queries"][0]["name"] == "Query"
    assert doc["summary"] == {
        "create": 1,
        "update": 1,
        "delete": 1,
        "noop": 1,
        "move": 0,
        "folders_create": 0,
        "folders_delete": 0,
        "has_changes": True,
        "impact": "breaking",
    }
    jsonschema.validate(doc, plan_schema())


def test_unset_secret_variable_is_named(plan: Plan) -> None:
    with pytest.raises(PlanFileError, match="DB_PASSWORD") as caught:
        load_plan(_dump(plan), path=PATH, environ={})
    assert caught.value.path == PATH


def test_secret_resolved_from_another_value_is_tampering(plan: Plan) -> None:
    with pytest.raises(PlanFileError, match='"Changed" does not match its fingerprint'):
        load_plan(_dump(plan), path=PATH, environ={"DB_PASSWORD": "another value"})


def _edit(plan: Plan, change: Any) -> str:
    doc = json.loads(_dump(plan))
    change(doc)
    return json.dumps(doc)


def _tamper_payload(doc: dict[str, Any]) -> None:
    part = doc["actions"][0]["desired"]["parts"][1]
    part["payload"] = base64.b64encode(b"section Section1;\nshared Query = 666;\n").decode()


def _set(key: str, value: Any) -> Any:
    return lambda doc: doc.__setitem__(key, value)


BAD = [
    ("not-json", lambda p: "{not json", "invalid JSON"),
    ("not-object", lambda p: "[1, 2]", "no format_version"),
    (
        "wrong-version",
        lambda p: _edit(p, _set("format_version", 1)),
        "format_version 1 is not supported",
    ),
    ("schema-missing", lambda p: _edit(p, lambda d: d.pop("workspace_id")), "does not match its schema"),
    (
        "schema-kind",
        lambda p: _edit(p, lambda d: d["actions"][0].__setitem__("kind", "explode")),
        "schema at actions/0/kind",
    ),
    (
        "bad-fingerprint",
        lambda p: _edit(p, lambda d: d["actions"][1].__setitem__("live_fingerprint", "x")),
        "schema at actions/1/live_fingerprint",
    ),
    (
        "no-payloads",
        lambda p: json.dumps(plan_document(p, secrets={}, payloads=False)),
        "without payloads",
    ),
    (
        "payload-missing",
        lambda p: _edit(p, lambda d: d["actions"][0]["desired"].pop("parts")),
        "does not match its schema",
    ),
    ("tampered", lambda p: _edit(p, _tamper_payload), '"New" does not match its fingerprint'),
    (
        "renamed-after",
        lambda p: _edit(p, lambda d: d["actions"][0]["desired"].__setitem__("display_name", "Other")),
        "does not match its fingerprint",
    ),
]


@pytest.mark.parametrize(("case", "make", "message"), BAD, ids=[b[0] for b in BAD])
def test_plan_file_errors(plan: Plan, case: str, make: Any, message: str) -> None:
    with pytest.raises(PlanFileError, match=message) as caught:
        load_plan(make(plan), path=PATH, environ={"DB_PASSWORD": SECRET})
    assert caught.value.path == PATH
    assert caught.value.render().startswith(PATH + ": ")


def test_binary_parts_survive(plan: Plan) -> None:
    loaded = load_plan(_dump(plan), path=PATH, environ={"DB_PASSWORD": SECRET})
    part = loaded.actions[0].desired.part("blob.bin")  # type: ignore[union-attr]
    assert part is not None
    assert part.data == b"\xff\x00\xfe"


# stale checks -------------------------------------------------------------------------------------


def test_unchanged_live_passes(plan: Plan) -> None:
    check_preconditions(plan, workspace(live("Changed"), live("Same"), live("Gone")))


STALE = [
    (
        "moved",
        workspace(live("Changed", "42"), live("Same"), live("Gone")),
        ['"Changed" (live definition'],
    ),
    (
        "absent-now-exists-by-name",
        workspace(
            live("Changed"), live("Same"), live("Gone"), live("New", item_id="fresh", logical_id="zzz")
        ),
        ['"New" (planned as absent, now exists as item fresh)'],
    ),
    (
        "absent-now-exists-by-logical-id",
        workspace(
            live("Changed"), live("Same"), live("Gone"), live("Renamed", logical_id="logical-New")
        ),
        ['"New" (planned as absent'],
    ),
    ("vanished", workspace(live("Changed"), live("Same")), ['"Gone" (item id-Gone no longer exists)']),
    ("several", workspace(live("Changed", "7"), live("Same", "8")), ['"Changed"', '"Gone"']),
]


@pytest.mark.parametrize(("case", "now", "expected"), STALE, ids=[s[0] for s in STALE])
def test_stale_plan(plan: Plan, case: str, now: LiveWorkspace, expected: list[str]) -> None:
    with pytest.raises(StalePlanError) as caught:
        check_preconditions(plan, now)
    assert len(caught.value.items) == len(expected)
    for item, prefix in zip(caught.value.items, expected, strict=True):
        assert item.startswith(prefix)


def test_noop_drift_is_not_stale(plan: Plan) -> None:
    # "Same" is a no-op: apply writes nothing to it, so its drift cannot be overwritten.
    check_preconditions(plan, workspace(live("Changed"), live("Same", "99"), live("Gone")))


def test_other_workspace_is_refused(plan: Plan) -> None:
    with pytest.raises(PlanError, match="made for workspace ws-1, not ws-2"):
        check_preconditions(plan, workspace(workspace_id="ws-2"))


def test_loaded_plan_checks_like_the_original(plan: Plan) -> None:
    loaded = load_plan(_dump(plan), path=PATH, environ={"DB_PASSWORD": SECRET})
    with pytest.raises(StalePlanError):
        check_preconditions(loaded, workspace(live("Changed", "42"), live("Same"), live("Gone")))
    check_preconditions(replace(loaded), workspace(live("Changed"), live("Same"), live("Gone")))


def test_show_without_secrets_keeps_references_and_still_checks_the_rest(plan: Plan) -> None:
    shown = load_plan(_dump(plan), path=PATH, environ={}, resolve_secrets=False)
    changed = shown.actions[1].desired
    assert changed is not None
    mashup = changed.part("mashup.pq")
    assert mashup is not None
    assert "${env:DB_PASSWORD}" in mashup.text()
    assert changed.fingerprint == plan.actions[1].desired.fingerprint  # type: ignore[union-attr]
    with pytest.raises(PlanFileError, match='"New" does not match its fingerprint'):
        load_plan(_edit(plan, _tamper_payload), path=PATH, environ={}, resolve_secrets=False)


def test_dump_masks_diffs_and_reasons_even_if_the_plan_was_built_without_secrets() -> None:
    unmasked = build_plan(
        [desired("Changed", f'"{SECRET}"')],
        workspace(live("Changed")),
        environment="prod",
        policy=PlanPolicy(),
        created_at="2026-01-01T00:00:00Z",
    )
    assert SECRET in unmasked.actions[0].diff.queries[0].diff  # type: ignore[union-attr]
    text = dump_plan(unmasked, secrets={"DB_PASSWORD": SECRET})
    assert SECRET not in text
    assert json.loads(text)["secret_env"] == ["DB_PASSWORD"]


def test_schema_errors_stay_one_short_line(plan: Plan) -> None:
    def break_desired(doc: dict[str, Any]) -> None:
        doc["actions"][0]["desired"]["parts"] = [{"path": "x", "payload": "A" * 5000 + "!"}]

    with pytest.raises(PlanFileError) as caught:
        load_plan(_edit(plan, break_desired), path=PATH, environ={"DB_PASSWORD": SECRET})
    message = caught.value.render()
    assert "\n" not in message
    assert len(message) < 400
