"""⑤ planner: pairing, prune rules, targets, ordering, pending values (hand-built dataclasses)."""

from __future__ import annotations

import json

import pytest

from dataflow_gitops.errors import DependencyError, PlanError
from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.model import (
    KNOWN_AFTER_APPLY,
    ZERO_GUID,
    ActionKind,
    DesiredDataflow,
    IgnoreRule,
    Impact,
    LiveDataflow,
    LiveItem,
    LiveWorkspace,
    Part,
    Plan,
    PlanPolicy,
)
from dataflow_gitops.pipeline.plan.planner import build_plan

WS = "ws-0001"


def _mashup(body: str, reads: str | None = None) -> str:
    text = f"section Section1;\nshared Query = {body};\n"
    if reads:
        text += (
            "shared Other = let\n  Source = PowerPlatform.Dataflows([]),\n"
            '  W = Source{[Id = "Workspaces"]}[Data],\n'
            f'  N2 = W{{[workspaceId = "{WS}"]}}[Data],\n'
            f'  N3 = N2{{[dataflowId = "{reads}"]}}[Data]\nin\n  N3;\n'
        )
    return text


def _parts(body: str, reads: str | None = None) -> tuple[Part, ...]:
    meta = {"formatVersion": "202502", "queriesMetadata": {}}
    return (
        Part("mashup.pq", _mashup(body, reads).encode()),
        Part("queryMetadata.json", json.dumps(meta).encode()),
    )


def desired(
    name: str,
    body: str = "1",
    *,
    logical_id: str | None = None,
    display_name: str | None = None,
    depends_on: tuple[str, ...] = (),
    pending: tuple[str, ...] = (),
) -> DesiredDataflow:
    shown = display_name or name
    text = body if not pending else '"' + KNOWN_AFTER_APPLY % pending[0] + '"'
    parts = _parts(text)
    return DesiredDataflow(
        name,
        shown,
        "",
        logical_id or f"logical-{name}",
        parts,
        fingerprint(parts, display_name=shown, description=""),
        depends_on=depends_on,
        pending=pending,
    )


def live(
    name: str,
    body: str = "1",
    *,
    item_id: str | None = None,
    logical_id: str | None = "auto",
    reads: str | None = None,
) -> LiveDataflow:
    parts = _parts(body, reads)
    return LiveDataflow(
        LiveItem(item_id or f"id-{name}", "Dataflow", name),
        f"logical-{name}" if logical_id == "auto" else logical_id,
        parts,
        fingerprint(parts, display_name=name, description=""),
    )


def workspace(*dataflows: LiveDataflow) -> LiveWorkspace:
    return LiveWorkspace(WS, tuple(d.item for d in dataflows), dataflows)


def plan(
    desireds: list[DesiredDataflow],
    live_ws: LiveWorkspace,
    policy: PlanPolicy | None = None,
    managed: tuple[str, ...] = (),
) -> Plan:
    return build_plan(
        desireds,
        live_ws,
        environment="test",
        policy=policy or PlanPolicy(),
        managed_ids=managed,
        created_at="2026-01-01T00:00:00Z",
    )


def kinds(p: Plan) -> list[tuple[ActionKind, str]]:
    return [(a.kind, a.name) for a in p.actions]


# pairing ------------------------------------------------------------------------------------------


def test_first_plan_creates_everything_without_live_fingerprint() -> None:
    p = plan([desired("A"), desired("B")], workspace())
    assert kinds(p) == [(ActionKind.CREATE, "A"), (ActionKind.CREATE, "B")]
    assert all(a.live_fingerprint is None and a.item_id is None for a in p.actions)
    assert p.workspace_id == WS
    assert p.environment == "test"
    assert p.has_changes


def test_unchanged_is_noop_and_changed_is_update_with_live_fingerprint() -> None:
    old_b = live("B", "1")
    p = plan([desired("A"), desired("B", "2")], workspace(live("A"), old_b))
    assert kinds(p) == [(ActionKind.NOOP, "A"), (ActionKind.UPDATE, "B")]
    update = p.actions[1]
    assert update.item_id == "id-B"
    assert update.live_fingerprint == old_b.fingerprint
    assert update.impact is Impact.NON_BREAKING
    assert update.diff is not None
    assert [q.name for q in update.diff.queries] == ["Query"]
    assert p.actions[0].live_fingerprint is not None


def test_pairs_by_logical_id_first_and_renames_in_place() -> None:
    p = plan([desired("New name", logical_id="logical-Old")], workspace(live("Old")))
    (action,) = p.actions
    assert action.kind is ActionKind.UPDATE
    assert action.item_id == "id-Old"
    assert action.rename_from == "Old"
    assert action.impact is Impact.METADATA_ONLY
    assert action.diff is not None
    assert [(c.name, c.old, c.new) for c in action.diff.properties] == [
        ("displayName", "Old", "New name"),
    ]
    assert "renamed from" in action.reason


def test_pairs_by_display_name_when_logical_id_differs_or_is_missing() -> None:
    p = plan(
        [desired("A", logical_id="other"), desired("B", logical_id=ZERO_GUID)],
        workspace(live("A", logical_id=None), live("B", logical_id="whatever")),
    )
    assert kinds(p) == [(ActionKind.NOOP, "A"), (ActionKind.NOOP, "B")]
    assert p.unmanaged == ()


def test_logical_id_match_wins_over_name_match() -> None:
    # "A" was renamed to "B" in the repo while a live "B" (another item) exists.
    p = plan(
        [desired("B", logical_id="logical-A")],
        workspace(live("A"), live("B", logical_id="logical-other")),
    )
    assert [(a.kind, a.item_id, a.rename_from) for a in p.actions] == [(ActionKind.UPDATE, "id-A", "A")]
    assert p.unmanaged == ("B",)
    (warning,) = p.warnings
    assert warning.startswith('"A" is renamed to "B", a name another live dataflow (id-B) still has')


def test_duplicate_live_names_are_a_plan_error() -> None:
    ws = workspace(live("A", item_id="1", logical_id=None), live("A", item_id="2", logical_id=None))
    with pytest.raises(PlanError, match='2 live dataflows are named "A"'):
        plan([desired("A", logical_id="x")], ws)


def test_two_dataflows_with_one_display_name_are_a_plan_error() -> None:
    with pytest.raises(PlanError, match='"A" and "B" both become the display name "Same"'):
        plan([desired("A", display_name="Same"), desired("B", display_name="Same")], workspace())


# unmanaged and prune --------------------------------------------------------------------------------


PRUNE_CASES = [
    ("no-prune", PlanPolicy(), ("id-Old",), [], ["Old"]),
    ("prune-recorded", PlanPolicy(prune=True), ("id-Old",), ["Old"], []),
    ("prune-unrecorded-off", PlanPolicy(prune=True), (), [], ["Old"]),
    ("prune-unrecorded-on", PlanPolicy(prune=True, prune_unrecorded=True), (), ["Old"], []),
    ("excluded", PlanPolicy(prune=True, prune_exclude=("O*",)), ("id-Old",), [], ["Old"]),
    ("target-other", PlanPolicy(prune=True, targets=("A",)), ("id-Old",), [], []),
    ("target-named", PlanPolicy(prune=True, targets=("Old",)), ("id-Old",), ["Old"], []),
]


@pytest.mark.parametrize(
    ("case", "policy", "managed", "deleted", "unmanaged"), PRUNE_CASES, ids=[c[0] for c in PRUNE_CASES]
)
def test_deletes_only_with_prune(
    case: str, policy: PlanPolicy, managed: tuple[str, ...], deleted: list[str], unmanaged: list[str]
) -> None:
    p = plan([desired("A")], workspace(live("A"), live("Old")), policy, managed)
    deletes = [a for a in p.actions if a.kind is ActionKind.DELETE]
    assert [a.name for a in deletes] == deleted
    assert list(p.unmanaged) == unmanaged
    for action in deletes:
        assert action.item_id == "id-Old"
        assert action.live_fingerprint is not None
        assert action.impact is Impact.BREAKING
        assert action.reason


def test_targets_limit_the_plan() -> None:
    p = plan(
        [desired("A", "2"), desired("B", "2")],
        workspace(live("A"), live("B")),
        PlanPolicy(targets=("B",)),
    )
    assert kinds(p) == [(ActionKind.UPDATE, "B")]


def test_unknown_target_lists_valid_names() -> None:
    with pytest.raises(PlanError) as caught:
        plan([desired("A"), desired("B")], workspace(live("Live")), PlanPolicy(targets=("Nope",)))
    assert "Nope" in str(caught.value)
    assert caught.value.hint == "valid names: A, B, Live"


def test_target_leaving_out_an_absent_dependency_warns() -> None:
    p = plan(
        [desired("Base"), desired("Top", depends_on=("Base",))],
        workspace(),
        PlanPolicy(targets=("Top",)),
    )
    assert kinds(p) == [(ActionKind.CREATE, "Top")]
    assert p.actions[0].depends_on == ()
    assert p.warnings == ('"Top" reads "Base", which is not in this plan (--target) and not live yet',)


# ordering -----------------------------------------------------------------------------------------


def test_dependencies_first_deletes_last() -> None:
    desireds = [
        desired("Top", depends_on=("Mid",)),
        desired("Mid", depends_on=("Base",)),
        desired("Base"),
        desired("Alone"),
    ]
    p = plan(desireds, workspace(live("Gone")), PlanPolicy(prune=True, prune_unrecorded=True))
    assert [a.name for a in p.actions] == ["Base", "Mid", "Top", "Alone", "Gone"]
    assert p.actions[1].depends_on == ("Base",)


def test_dependency_cycle_is_an_error() -> None:
    with pytest.raises(DependencyError, match="A → B → A"):
        plan([desired("A", depends_on=("B",)), desired("B", depends_on=("A",))], workspace())


def test_deletes_dependants_first() -> None:
    # Reader reads Source (by item id); Legacy reads Source by logicalId. Both go before Source.
    ws = workspace(
        live("Source"), live("Reader", reads="id-Source"), live("Legacy", reads="logical-Source")
    )
    p = plan([], ws, PlanPolicy(prune=True, prune_unrecorded=True))
    names = [a.name for a in p.actions]
    assert names.index("Source") > names.index("Reader")
    assert names.index("Source") > names.index("Legacy")
    assert set(names) == {"Source", "Reader", "Legacy"}


# other details ------------------------------------------------------------------------------------


def test_pending_values_are_known_after_apply_in_the_diff() -> None:
    d = desired("Top", pending=("items.Dataflow.Base.id",), depends_on=("Base",))
    p = plan([desired("Base"), d], workspace(live("Top")))
    top = next(a for a in p.actions if a.name == "Top")
    assert top.kind is ActionKind.UPDATE
    assert top.depends_on == ("Base",)
    assert [a.name for a in p.actions] == ["Base", "Top"]
    assert top.diff is not None
    assert "(known after apply)" in top.diff.queries[0].diff


def test_ignore_rules_from_the_policy_apply() -> None:
    rule = IgnoreRule(parts=("mashup.pq",), queries=("Query",))
    p = plan([desired("A", "2")], workspace(live("A")), PlanPolicy(ignore=(rule,)))
    assert kinds(p) == [(ActionKind.NOOP, "A")]
    assert p.actions[0].diff is not None
    assert p.actions[0].diff.ignored == ('mashup.pq: query "Query" (live value kept)',)
    # What would be written is what is live: the no-op's payload is live's.
    assert p.actions[0].desired is not None
    assert p.actions[0].desired.fingerprint == p.actions[0].live_fingerprint


# ignore rules keep the live value in what is written ---------------------------------------------


def _dataflows(
    desired_mashup: str, desired_meta: dict[str, object], live_mashup: str, live_meta: dict[str, object]
) -> tuple[DesiredDataflow, LiveDataflow]:
    def parts(mashup: str, meta: dict[str, object]) -> tuple[Part, ...]:
        return (
            Part("mashup.pq", mashup.encode()),
            Part("queryMetadata.json", json.dumps(meta).encode()),
        )

    mine, theirs = parts(desired_mashup, desired_meta), parts(live_mashup, live_meta)
    return (
        DesiredDataflow(
            "A", "A", "", "logical-A", mine, fingerprint(mine, display_name="A", description="")
        ),
        LiveDataflow(
            LiveItem("id-A", "Dataflow", "A"),
            "logical-A",
            theirs,
            fingerprint(theirs, display_name="A", description=""),
        ),
    )


def _written(p: Plan, path: str) -> str:
    desired = p.actions[0].desired
    assert desired is not None
    part = desired.part(path)
    assert part is not None
    return part.text()


META = {"formatVersion": "202502", "queriesMetadata": {}}


def test_an_update_for_another_reason_keeps_an_ignored_json_value_live() -> None:
    mine, theirs = _dataflows(
        _mashup("2"), {**META, "owner": "repo", "extra": "repo"}, _mashup("1"), {**META, "owner": "live"}
    )
    rule = IgnoreRule(parts=("queryMetadata.json",), json_paths=("$.owner", "$.extra"))
    p = plan([mine], workspace(theirs), PlanPolicy(ignore=(rule,)))
    action = p.actions[0]
    assert action.kind is ActionKind.UPDATE
    assert action.diff is not None
    assert [q.name for q in action.diff.queries] == ["Query"]
    assert action.diff.parts == ()
    written = json.loads(_written(p, "queryMetadata.json"))
    # the live value is kept, and a value only the repository has is not written either
    assert written == {**META, "owner": "live"}
    assert action.diff.ignored == (
        "queryMetadata.json: $.owner (live value kept)",
        "queryMetadata.json: $.extra (live value kept)",
    )
    assert action.desired is not None
    assert action.desired.fingerprint == fingerprint(
        action.desired.parts, display_name="A", description=""
    )
    assert action.desired.fingerprint != mine.fingerprint


def test_an_ignored_query_keeps_its_live_source_even_when_only_live_has_it() -> None:
    live_text = _mashup("1") + 'shared Note = "live";\nshared Kept = "only live";\n'
    mine, theirs = _dataflows(_mashup("2") + 'shared Note = "repo";\n', META, live_text, META)
    rule = IgnoreRule(parts=("mashup.pq",), queries=("Note", "Kept"))
    p = plan([mine], workspace(theirs), PlanPolicy(ignore=(rule,)))
    assert p.actions[0].kind is ActionKind.UPDATE
    written = _written(p, "mashup.pq")
    assert "shared Query = 2;" in written
    assert 'shared Note = "live";' in written
    assert 'shared Kept = "only live";' in written
    assert '"repo"' not in written
    assert p.actions[0].diff is not None
    assert [q.name for q in p.actions[0].diff.queries] == ["Query"]


def test_a_whole_ignored_part_is_written_as_live_has_it() -> None:
    mine, theirs = _dataflows(_mashup("2"), {**META, "v": 1}, _mashup("1"), {**META, "v": 2})
    rule = IgnoreRule(parts=("queryMetadata.json",))
    p = plan([mine], workspace(theirs), PlanPolicy(ignore=(rule,)))
    assert json.loads(_written(p, "queryMetadata.json"))["v"] == 2
    assert p.actions[0].diff is not None
    assert p.actions[0].diff.ignored == ("queryMetadata.json: whole part (live value kept)",)


def test_a_create_writes_the_repository_values() -> None:
    mine, _ = _dataflows(_mashup("2"), {**META, "owner": "repo"}, _mashup("1"), META)
    rule = IgnoreRule(json_paths=("$.owner",))
    p = plan([mine], workspace(), PlanPolicy(ignore=(rule,)))
    assert json.loads(_written(p, "queryMetadata.json"))["owner"] == "repo"
    assert p.actions[0].desired == mine


def test_secrets_are_masked_in_diffs() -> None:
    p = build_plan(
        [desired("A", '"s3cr3t-value"')],
        workspace(live("A")),
        environment="t",
        policy=PlanPolicy(),
        secrets={"DB_PASSWORD": "s3cr3t-value"},
    )
    text = p.actions[0].diff.queries[0].diff if p.actions[0].diff else ""
    assert "s3cr3t-value" not in text
    assert "${env:DB_PASSWORD}" in text


def test_plan_metadata_is_carried() -> None:
    p = build_plan(
        [],
        workspace(),
        environment="prod",
        policy=PlanPolicy(),
        commit="abc",
        dirty=True,
        ref="v1",
        overlay_hash="h",
    )
    assert (p.commit, p.dirty, p.ref, p.overlay_hash) == ("abc", True, "v1", "h")
    assert p.created_at.endswith("Z")
    assert not p.has_changes


# the example project --------------------------------------------------------------------------------


def _as_live(d: DesiredDataflow, item_id: str) -> LiveDataflow:
    """What getDefinition would return: same meaning, other JSON layout and newlines."""
    parts = []
    for part in d.parts:
        if part.path == ".platform":
            continue
        data = part.data
        if part.path.endswith(".json"):
            doc = json.loads(data)
            data = json.dumps(dict(reversed(list(doc.items()))), indent=4).encode()
        else:
            data = data.replace(b"\n", b"\r\n")
        parts.append(Part(part.path, data))
    live_parts = tuple(parts)
    return LiveDataflow(
        LiveItem(item_id, "Dataflow", d.display_name, d.description),
        d.logical_id,
        live_parts,
        fingerprint(live_parts, display_name=d.display_name, description=d.description),
    )


def test_example_project_plans_no_changes_then_one_parameter_update() -> None:
    from pathlib import Path

    from dataflow_gitops.config import load_environment, load_project
    from dataflow_gitops.pipeline.definition.mlang import parse_section, set_parameter
    from dataflow_gitops.pipeline.definition.render import OfflineLookup, render_all
    from dataflow_gitops.pipeline.definition.source import read_working_tree

    root = Path(__file__).resolve().parents[2]
    env = load_environment(load_project(root), "dev")
    desireds = list(render_all(read_working_tree(root), env, OfflineLookup(env)))
    assert len(desireds) >= 6
    ws = workspace(*(_as_live(d, f"id-{i}") for i, d in enumerate(desireds)))
    first = plan(desireds, ws)
    assert not first.has_changes, [a.diff for a in first.actions if a.is_change]
    assert {a.kind for a in first.actions} == {ActionKind.NOOP}

    index, target = next((i, d) for i, d in enumerate(desireds) if d.name == "Sales Orders")
    mashup = target.part("mashup.pq")
    assert mashup is not None
    new_text = set_parameter(parse_section(mashup.text()), "DaysBack", 90)
    parts = tuple(Part(p.path, new_text.encode()) if p.path == "mashup.pq" else p for p in target.parts)
    desireds[index] = DesiredDataflow(
        target.name,
        target.display_name,
        target.description,
        target.logical_id,
        parts,
        fingerprint(parts, display_name=target.display_name, description=target.description),
        depends_on=target.depends_on,
        pending=target.pending,
        folder=target.folder,
    )
    second = plan(desireds, ws)
    changed = [a for a in second.actions if a.is_change]
    assert [(a.kind, a.name, a.impact) for a in changed] == [
        (ActionKind.UPDATE, "Sales Orders", Impact.NON_BREAKING),
    ]
    assert changed[0].diff is not None
    (query,) = changed[0].diff.queries
    assert query.name == "DaysBack"
    assert "-shared DaysBack = 30 meta" in query.diff
    assert "+shared DaysBack = 90 meta" in query.diff
