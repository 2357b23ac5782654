"""④ diff: desired × live → DataflowDiff, on hand-built dataclasses (no HTTP)."""

from __future__ import annotations

import json

import pytest

from dataflow_gitops.errors import PlanError
from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.model import (
    KNOWN_AFTER_APPLY,
    ChangeKind,
    DesiredDataflow,
    IgnoreRule,
    LiveDataflow,
    LiveItem,
    Part,
    PartChange,
    QueryChange,
)
from dataflow_gitops.pipeline.plan.diff import (
    diff_dataflow,
    json_changes,
    mask,
    mask_diff,
)
from dataflow_gitops.pipeline.plan.planner import keep_ignored_live

MASHUP = """section Section1;
shared ServerName = "dev-sql.contoso.net" meta [IsParameterQuery = true, Type = type text];
shared #"Orders raw" = let
  Source = Sql.Database(ServerName, "SalesDB"),
  Nav = Source{[Schema = "sales", Item = "Orders"]}[Data]
in
  Nav;
shared Orders = let
  Kept = Table.SelectRows(#"Orders raw", each [Amount] > 0)
in
  Kept;
"""

METADATA = {
    "formatVersion": "202502",
    "name": "Sales",
    "queriesMetadata": {"Orders": {"queryId": "q1", "queryName": "Orders"}},
    "connections": [{"path": "Lakehouse", "kind": "Lakehouse", "connectionId": "conn-a"}],
}


def _parts(mashup: str, metadata: object, extra: dict[str, bytes] | None = None) -> tuple[Part, ...]:
    meta = metadata if isinstance(metadata, bytes) else json.dumps(metadata, indent=2).encode()
    parts = [Part("mashup.pq", mashup.encode()), Part("queryMetadata.json", meta)]
    parts += [Part(p, b) for p, b in (extra or {}).items()]
    return tuple(sorted(parts, key=lambda p: p.path))


def desired(
    mashup: str = MASHUP,
    metadata: object = METADATA,
    *,
    name: str = "Sales",
    display_name: str | None = None,
    description: str = "",
    extra: dict[str, bytes] | None = None,
) -> DesiredDataflow:
    shown = display_name or name
    platform = Part(".platform", json.dumps({"metadata": {"displayName": shown}}).encode())
    parts = tuple(sorted((*_parts(mashup, metadata, extra), platform), key=lambda p: p.path))
    return DesiredDataflow(
        name=name,
        display_name=shown,
        description=description,
        logical_id="L1",
        parts=parts,
        fingerprint=fingerprint(parts, display_name=shown, description=description),
    )


def live(
    mashup: str = MASHUP,
    metadata: object = METADATA,
    *,
    display_name: str = "Sales",
    description: str = "",
    extra: dict[str, bytes] | None = None,
) -> LiveDataflow:
    parts = _parts(mashup, metadata, extra)
    return LiveDataflow(
        item=LiveItem("item-1", "Dataflow", display_name, description),
        logical_id="L1",
        parts=parts,
        fingerprint=fingerprint(parts, display_name=display_name, description=description),
    )


def test_identical_dataflow_has_empty_diff() -> None:
    diff = diff_dataflow(desired(), live())
    assert not diff.changed
    assert diff.parts == diff.queries == diff.properties == ()


def test_json_key_order_and_formatting_do_not_count() -> None:
    reordered = json.dumps(dict(reversed(list(METADATA.items()))), separators=(",", ":")).encode()
    crlf = MASHUP.replace("\n", "\r\n")
    diff = diff_dataflow(desired(), live(crlf, reordered))
    assert not diff.changed


def test_query_order_does_not_count() -> None:
    header, *members = MASHUP.split("\nshared ")
    swapped = header + "\nshared " + "\nshared ".join(reversed(members))
    assert swapped.rstrip() != MASHUP.rstrip()
    assert not diff_dataflow(desired(swapped), live()).changed


def test_modified_query_gets_a_unified_diff_of_that_query_only() -> None:
    changed = MASHUP.replace("[Amount] > 0", "[Amount] > 100")
    diff = diff_dataflow(desired(changed), live())
    assert [(q.name, q.kind) for q in diff.queries] == [("Orders", ChangeKind.MODIFIED)]
    text = diff.queries[0].diff
    assert '-  Kept = Table.SelectRows(#"Orders raw", each [Amount] > 0)' in text
    assert '+  Kept = Table.SelectRows(#"Orders raw", each [Amount] > 100)' in text
    assert "Sql.Database" not in text  # other queries are not repeated
    assert diff.parts == ()


@pytest.mark.parametrize(
    ("new_mashup", "expected"),
    [
        (MASHUP + "shared Extra = 1;\n", [("Extra", ChangeKind.ADDED)]),
        (MASHUP.split("shared Orders =")[0], [("Orders", ChangeKind.REMOVED)]),
        (
            MASHUP.replace("shared Orders =", 'shared #"Orders v2" ='),
            [("Orders v2", ChangeKind.ADDED), ("Orders", ChangeKind.REMOVED)],
        ),
        (
            MASHUP.replace('"dev-sql.contoso.net"', '"prod-sql.contoso.net"'),
            [("ServerName", ChangeKind.MODIFIED)],
        ),
    ],
    ids=["added", "removed", "renamed", "parameter"],
)
def test_query_changes(new_mashup: str, expected: list[tuple[str, ChangeKind]]) -> None:
    diff = diff_dataflow(desired(new_mashup), live())
    assert [(q.name, q.kind) for q in diff.queries] == expected


def test_section_attribute_change_is_a_mashup_part_detail() -> None:
    staged = '[StagingDefinition = [Kind = "FastCopy"]]\n' + MASHUP
    diff = diff_dataflow(desired(staged), live())
    assert diff.queries == ()
    assert len(diff.parts) == 1
    assert diff.parts[0].path == "mashup.pq"
    assert diff.parts[0].details == (
        'section attribute: (none) → [StagingDefinition = [Kind = "FastCopy"]]',
    )


def test_unparsable_live_mashup_falls_back_to_a_text_diff() -> None:
    diff = diff_dataflow(desired(), live("section Broken; shared X = ;"))
    assert diff.queries == ()
    (part,) = diff.parts
    assert part.path == "mashup.pq"
    assert part.details[0].startswith("not comparable query by query")
    assert any(line.startswith("+shared Orders") for line in part.details)


def test_json_part_detail_lines() -> None:
    meta = json.loads(json.dumps(METADATA))
    meta["connections"][0]["connectionId"] = "conn-b"
    meta["queriesMetadata"]["Orders"]["loadEnabled"] = False
    del meta["name"]
    diff = diff_dataflow(desired(metadata=meta), live())
    assert diff.parts == (
        PartChange(
            "queryMetadata.json",
            ChangeKind.MODIFIED,
            (
                'connections[0].connectionId: "conn-a" → "conn-b"',
                'name: "Sales" → (absent)',
                "queriesMetadata.Orders.loadEnabled: (absent) → false",
            ),
        ),
    )


def test_json_changes_quote_awkward_keys() -> None:
    lines = json_changes({"a b": {"x": 1}, "n": 1}, {"a b": {"x": 2}, "n": 1})
    assert lines == ["['a b'].x: 1 → 2"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"a": True}, {"a": 1}),
        ({"a": [True]}, {"a": [1]}),
        ({"a": 0}, {"a": False}),
        ({"a": 1}, {"a": 1.0}),
    ],
)
def test_json_booleans_and_numbers_are_not_confused(old: object, new: object) -> None:
    assert json_changes(old, new) != []


def test_added_and_removed_parts_and_mdf_compared_as_json() -> None:
    mdf_old = b'{"b": 1, "a": [1, 2]}'
    mdf_same = b'{\n  "a": [1, 2],\n  "b": 1\n}'
    assert not diff_dataflow(desired(extra={"t.mdf": mdf_same}), live(extra={"t.mdf": mdf_old})).changed
    diff = diff_dataflow(desired(extra={"new.mdf": b"{}"}), live(extra={"old.txt": b"x"}))
    assert [(p.path, p.kind) for p in diff.parts] == [
        ("new.mdf", ChangeKind.ADDED),
        ("old.txt", ChangeKind.REMOVED),
    ]


def test_plain_text_part_gets_line_diff() -> None:
    diff = diff_dataflow(
        desired(extra={"notes.txt": b"one\ntwo\n"}), live(extra={"notes.txt": b"one\nthree\n"})
    )
    (part,) = diff.parts
    assert "-three" in part.details
    assert "+two" in part.details


def test_platform_is_never_a_part_change_but_name_and_description_are_properties() -> None:
    diff = diff_dataflow(
        desired(display_name="Sales v2", description="new"),
        live(display_name="Sales", description="old"),
    )
    assert diff.parts == ()
    assert diff.queries == ()
    assert [(p.name, p.old, p.new) for p in diff.properties] == [
        ("displayName", "Sales", "Sales v2"),
        ("description", "old", "new"),
    ]
    assert diff.changed
    assert not diff.definition_changed


def test_creation_lists_queries_and_parts_without_bodies() -> None:
    diff = diff_dataflow(desired(extra={"t.mdf": b"{}"}), None)
    assert [(q.name, q.kind, q.diff) for q in diff.queries] == [
        ("ServerName", ChangeKind.ADDED, ""),
        ("Orders raw", ChangeKind.ADDED, ""),
        ("Orders", ChangeKind.ADDED, ""),
    ]
    assert {p.path for p in diff.parts} == {"queryMetadata.json", "t.mdf"}


# ignore rules -----------------------------------------------------------------------------------


def _changed_connection() -> DesiredDataflow:
    meta = json.loads(json.dumps(METADATA))
    meta["connections"][0]["connectionId"] = "conn-b"
    return desired(MASHUP.replace("> 0", "> 1"), meta)


@pytest.mark.parametrize(
    ("rule", "parts", "queries", "ignored"),
    [
        (
            IgnoreRule(json_paths=("$.connections[*].connectionId",)),
            [],
            ["Orders"],
            ["queryMetadata.json: $.connections[*].connectionId"],
        ),
        (
            IgnoreRule(parts=("mashup.pq",), queries=("Ord*",)),
            ["queryMetadata.json"],
            [],
            ['mashup.pq: query "Orders"'],
        ),
        (
            IgnoreRule(parts=("queryMetadata.json",)),
            [],
            ["Orders"],
            ["queryMetadata.json: whole part ignored"],
        ),
        (
            IgnoreRule(dataflows=("Other*",), parts=("queryMetadata.json",)),
            ["queryMetadata.json"],
            ["Orders"],
            [],
        ),
    ],
    ids=["json-path", "query-glob", "whole-part", "other-dataflow"],
)
def test_ignore_rules(
    rule: IgnoreRule, parts: list[str], queries: list[str], ignored: list[str]
) -> None:
    diff = diff_dataflow(_changed_connection(), live(), [rule])
    assert [p.path for p in diff.parts] == parts
    assert [q.name for q in diff.queries] == queries
    assert list(diff.ignored) == ignored


def test_ignore_rule_that_hides_nothing_is_not_reported() -> None:
    rule = IgnoreRule(json_paths=("$.connections[*].connectionId",))
    assert diff_dataflow(desired(), live(), [rule]).ignored == ()


def test_bad_ignore_jsonpath_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="ignore rule for queryMetadata.json"):
        diff_dataflow(_changed_connection(), live(), [IgnoreRule(json_paths=("connections",))])


# pending values and secrets --------------------------------------------------------------------------


def test_pending_values_show_as_known_after_apply() -> None:
    token = KNOWN_AFTER_APPLY % "items.Dataflow.Orders.id"
    diff = diff_dataflow(
        desired(MASHUP + f'shared Ref = "{token}";\n'), live(MASHUP + 'shared Ref = "x";\n')
    )
    (query,) = diff.queries
    assert '+shared Ref = "(known after apply)";' in query.diff
    assert "known-after-apply:" not in query.diff


def test_mask_replaces_secret_values_longest_first() -> None:
    secrets = {"SHORT": "pa", "LONG": "pass-word"}
    assert mask("x pass-word y pa", secrets) == "x ${env:LONG} y ${env:SHORT}"
    diff = diff_dataflow(desired(MASHUP.replace("SalesDB", "pass-word")), live())
    masked = mask_diff(diff, secrets)
    assert "pass-word" not in masked.queries[0].diff
    assert "${env:LONG}" in masked.queries[0].diff
    assert mask_diff(diff, {}) is diff
    assert masked.queries[0] != QueryChange("Orders raw", ChangeKind.MODIFIED, diff.queries[0].diff)


def test_long_json_values_are_masked_before_being_shortened() -> None:
    secret = "0123456789-secret-value"
    meta = json.loads(json.dumps(METADATA))
    meta["connections"][0]["connectionId"] = "x" * 110 + secret  # the cut falls inside the secret
    diff = diff_dataflow(desired(metadata=meta), live(), secrets={"CONN": secret})
    (line,) = diff.parts[0].details
    assert "01234" not in line
    assert line.startswith('connections[0].connectionId: "conn-a" → "xxx')
    assert line.endswith("…")


# properties -------------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(doc=st.dictionaries(st.text(max_size=6), _json, max_size=5), indent=st.sampled_from([None, 1, 4]))
def test_reformatted_json_never_differs(doc: dict[str, object], indent: int | None) -> None:
    reordered = json.dumps(dict(reversed(list(doc.items()))), indent=indent).encode()
    assert not diff_dataflow(desired(metadata=doc), live(metadata=reordered)).changed


@settings(max_examples=60, deadline=None)
@given(
    old=st.dictionaries(st.text(max_size=4), _json, max_size=4),
    new=st.dictionaries(st.text(max_size=4), _json, max_size=4),
)
def test_json_lines_exist_exactly_when_documents_differ(
    old: dict[str, object], new: dict[str, object]
) -> None:
    same = json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True)
    assert (json_changes(old, new) == []) is same


# keep_ignored_live: what an ignore rule covers is written as live has it ------------------------


def _connections(*ids: str) -> dict[str, object]:
    conns = [{"path": f"P{i}", "kind": "Lakehouse", "connectionId": c} for i, c in enumerate(ids)]
    return {**METADATA, "connections": conns}


def test_wildcard_path_keeps_each_live_value_and_a_new_element_keeps_the_repository_value() -> None:
    rule = IgnoreRule(json_paths=("$.connections[*].connectionId",))
    mine = desired(metadata=_connections("repo-0", "repo-1", "repo-2"))
    kept, notes = keep_ignored_live(mine, live(metadata=_connections("live-0", "live-1")), [rule])
    part = kept.part("queryMetadata.json")
    assert part is not None
    ids = [c["connectionId"] for c in json.loads(part.data)["connections"]]
    # a third connection live lacks has nothing live to keep: the repository's id is written
    assert ids == ["live-0", "live-1", "repo-2"]
    assert notes == ("queryMetadata.json: $.connections[*].connectionId (live value kept)",)
    assert kept.fingerprint == fingerprint(kept.parts, display_name="Sales", description="")
    assert kept.part(".platform") == mine.part(".platform")


def test_nothing_to_keep_returns_the_desired_dataflow_itself() -> None:
    rule = IgnoreRule(json_paths=("$.connections[*].connectionId",))
    mine = desired()
    assert keep_ignored_live(mine, live(), [rule]) == (mine, ())
    assert keep_ignored_live(mine, None, [rule]) == (mine, ())
    other = IgnoreRule(dataflows=("Other*",), json_paths=("$.name",))
    changed = desired(metadata={**METADATA, "name": "Renamed"})
    assert keep_ignored_live(changed, live(), [other]) == (changed, ())


def test_a_pending_id_inside_a_kept_query_is_no_longer_pending() -> None:
    token = KNOWN_AFTER_APPLY % "items.Dataflow.Base.id"
    mashup = MASHUP.replace('"SalesDB"', f'"{token}"')
    mine = desired(mashup)
    mine = DesiredDataflow(
        mine.name,
        mine.display_name,
        "",
        "L1",
        mine.parts,
        mine.fingerprint,
        pending=("items.Dataflow.Base.id",),
    )
    rule = IgnoreRule(parts=("mashup.pq",), queries=("Orders raw",))
    kept, notes = keep_ignored_live(mine, live(), [rule])
    assert notes == ('mashup.pq: query "Orders raw" (live value kept)',)
    assert kept.pending == ()
    assert token not in kept.part("mashup.pq").text()  # type: ignore[union-attr]


def test_an_unparsable_live_mashup_keeps_the_repository_text() -> None:
    rule = IgnoreRule(parts=("mashup.pq",), queries=("Orders",))
    mine = desired()
    assert keep_ignored_live(mine, live("section S; shared = ;"), [rule]) == (mine, ())


def test_a_bad_jsonpath_in_an_ignore_rule_is_a_plan_error_before_anything_is_kept() -> None:
    rule = IgnoreRule(json_paths=("$[",))
    with pytest.raises(PlanError, match="ignore rule for queryMetadata.json"):
        keep_ignored_live(desired(metadata={**METADATA, "name": "x"}), live(), [rule])


# a rotated secret: the old value comes from live and is not a known secret any more -------------


def test_a_rotated_secret_never_shows_its_previous_value() -> None:
    old_secret, new_secret = "old-s3cret.contoso.net", "new-s3cret.contoso.net"
    secrets = {"SQL_SERVER": new_secret}
    before = MASHUP.replace("dev-sql.contoso.net", old_secret)
    after = MASHUP.replace("dev-sql.contoso.net", new_secret)
    meta_before = {**METADATA, "connections": [{"path": "x", "kind": "k", "connectionId": old_secret}]}
    meta_after = {**METADATA, "connections": [{"path": "x", "kind": "k", "connectionId": new_secret}]}
    d = diff_dataflow(desired(after, meta_after), live(before, meta_before), secrets=secrets)

    shown = "\n".join([q.diff for q in d.queries] + [x for p in d.parts for x in p.details])
    assert old_secret not in shown
    assert new_secret not in shown
    (query,) = d.queries
    assert query.name == "ServerName"
    # the old line shows the reference where the old value stood; the rest of the line is kept
    assert '-shared ServerName = "${env:SQL_SERVER}" meta [IsParameterQuery = true' in query.diff
    assert '+shared ServerName = "${env:SQL_SERVER}" meta [IsParameterQuery = true' in query.diff
    (detail,) = d.parts[0].details
    assert detail == 'connections[0].connectionId: (previous value hidden) → "${env:SQL_SERVER}"'


def test_an_old_line_that_differs_elsewhere_too_is_hidden_whole() -> None:
    secrets = {"TOKEN": "new-value-123"}
    before = MASHUP.replace('"dev-sql.contoso.net" meta [', '"old-value-999" meta [Old = 1, ')
    after = MASHUP.replace('"dev-sql.contoso.net"', '"new-value-123"')
    d = diff_dataflow(desired(after), live(before), secrets=secrets)
    (query,) = d.queries
    assert "old-value-999" not in query.diff
    assert "-(line hidden: it may hold the previous value of a secret)" in query.diff
    # lines that never held a secret reference keep their diff
    unrelated = diff_dataflow(desired(MASHUP.replace("> 0", "> 1")), live(), secrets=secrets)
    assert '-  Kept = Table.SelectRows(#"Orders raw", each [Amount] > 0)' in unrelated.queries[0].diff
