"""⑦ apply on the in-memory FakeFabric: order, late binding, failures, gates, publish, convergence."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from dataflow_gitops.adapters.record_stores import FileRecords
from dataflow_gitops.errors import DependencyError, PlanError, StalePlanError
from dataflow_gitops.pipeline.definition.bindings import bind_pending
from dataflow_gitops.pipeline.model import (
    KNOWN_AFTER_APPLY,
    Action,
    ActionKind,
    ApplyResult,
    ChangeKind,
    DataflowDiff,
    DesiredDataflow,
    LiveWorkspace,
    OutcomeStatus,
    Plan,
    PlanPolicy,
    PropertyChange,
    QueryChange,
)
from dataflow_gitops.pipeline.plan.applier import apply_plan
from dataflow_gitops.pipeline.plan.planner import build_plan
from dataflow_gitops.pipeline.release.records import managed_ids, record_from_result, unpublished_ids
from fakes import WORKSPACE_ID, FakeFabric, make_desired

ENV = "test"


def ref(name: str) -> str:
    return f"items.Dataflow.{name}.id"


def create(desired: DesiredDataflow) -> Action:
    return Action(
        ActionKind.CREATE,
        desired.name,
        desired.display_name,
        desired=desired,
        depends_on=desired.depends_on,
    )


def plan_of(*actions: Action) -> Plan:
    return Plan(ENV, WORKSPACE_ID, tuple(actions), commit="a" * 40)


def replan(fake: FakeFabric, desired: list[DesiredDataflow]) -> Plan:
    """A stand-in planner: what render + diff + plan would make against the fake's live state."""
    actions = []
    for d in desired:
        values = {p: v for p in d.pending if (v := fake.resolve(p)) is not None}
        if values:
            d = bind_pending(d, values)
        stored = fake.by_name(d.display_name)
        if stored is None:
            actions.append(create(d))
            continue
        live = fake.live(d.display_name)
        changed = live.fingerprint != d.fingerprint
        diff = DataflowDiff(
            d.name, queries=(QueryChange("Query", ChangeKind.MODIFIED),) if changed else ()
        )
        actions.append(
            Action(
                ActionKind.UPDATE if changed else ActionKind.NOOP,
                d.name,
                d.display_name,
                item_id=live.id,
                desired=d,
                live_fingerprint=live.fingerprint,
                diff=diff,
                depends_on=d.depends_on,
            )
        )
    return plan_of(*actions)


def by_name(result: ApplyResult) -> dict[str, object]:
    return {o.action.name: o for o in result.outcomes}


def started(fake: FakeFabric, op: str, name: str) -> int:
    return fake.events.index(("start", op, name))


def ended(fake: FakeFabric, op: str, name: str) -> int:
    return fake.events.index(("end", op, name))


@pytest.fixture
def fake() -> FakeFabric:
    return FakeFabric()


def chain() -> list[DesiredDataflow]:
    """Base ← Mid ← Top (each reads the one before, created in the same apply) + three independents."""
    base = make_desired("Base")
    mid = make_desired("Mid", depends_on=["Base"], pending=[ref("Base")])
    top = make_desired("Top", depends_on=["Mid"], pending=[ref("Mid")])
    return [top, mid, base, make_desired("A"), make_desired("B"), make_desired("C")]


# ordering, concurrency, late binding ------------------------------------------------------


def test_dependencies_first_even_with_four_workers(fake: FakeFabric) -> None:
    independents = threading.Barrier(3, timeout=10)

    def hold(op: str, name: str) -> None:
        if name in {"A", "B", "C"}:
            independents.wait()  # passes only if the three run at the same time

    fake.on_call = hold
    result = apply_plan(plan_of(*map(create, chain())), reader=fake, writer=fake, concurrency=4)

    assert result.ok, result.outcomes
    assert started(fake, "create", "Mid") > ended(fake, "create", "Base")
    assert started(fake, "create", "Top") > ended(fake, "create", "Mid")
    assert [o.action.name for o in result.outcomes] == ["Top", "Mid", "Base", "A", "B", "C"]


def test_writes_never_exceed_the_concurrency(fake: FakeFabric) -> None:
    pairs = threading.Barrier(2, timeout=10)  # two at a time must overlap...
    fake.on_call = lambda op, name: pairs.wait()
    names = [make_desired(n) for n in "ABCDEF"]
    assert apply_plan(plan_of(*map(create, names)), reader=fake, writer=fake, concurrency=2).ok
    in_flight = most = 0
    for kind, _, _ in fake.events:  # ...and never three
        in_flight += 1 if kind == "start" else -1
        most = max(most, in_flight)
    assert most == 2


def test_ids_created_in_the_same_apply_are_bound_into_dependants(fake: FakeFabric) -> None:
    result = apply_plan(plan_of(*map(create, chain())), reader=fake, writer=fake)
    base_id = fake.by_name("Base").item.id
    mid = fake.live("Mid")
    text = mid.part("mashup.pq").text()
    assert base_id in text
    assert "known-after-apply" not in text
    outcome = by_name(result)["Mid"]
    # the outcome carries the action as executed, so its fingerprint is the one now live
    assert outcome.action.desired.fingerprint == mid.fingerprint
    assert outcome.action.desired.pending == ()


def test_pending_id_of_a_dataflow_already_live_binds_from_the_listing(fake: FakeFabric) -> None:
    base_id = fake.seed(make_desired("Base"))
    reader = make_desired("Reader", depends_on=["Base"], pending=[ref("Base")])
    result = apply_plan(plan_of(create(reader)), reader=fake, writer=fake, check_stale=False)
    assert result.ok
    assert base_id in fake.live("Reader").part("mashup.pq").text()


def test_unresolvable_pending_id_fails_that_action_only(fake: FakeFabric) -> None:
    orphan = make_desired("Orphan", pending=[ref("Nowhere")])
    child = make_desired("Child", depends_on=["Orphan"], pending=[ref("Orphan")])
    plan = plan_of(create(orphan), create(child), create(make_desired("Fine")))
    outcomes = by_name(apply_plan(plan, reader=fake, writer=fake, concurrency=1))
    assert outcomes["Orphan"].status is OutcomeStatus.FAILED
    assert "items.Dataflow.Nowhere.id" in outcomes["Orphan"].error
    assert outcomes["Child"].status is OutcomeStatus.SKIPPED
    alone = by_name(apply_plan(plan_of(create(orphan), create(child)), reader=fake, writer=fake))
    assert [alone["Orphan"].status, alone["Child"].status] == [
        OutcomeStatus.FAILED,
        OutcomeStatus.SKIPPED,
    ]
    assert outcomes["Fine"].status is OutcomeStatus.SUCCEEDED
    assert fake.writes() == [("create", "Fine")]


def test_a_cycle_is_refused_before_writing(fake: FakeFabric) -> None:
    one = make_desired("One", depends_on=["Two"])
    two = make_desired("Two", depends_on=["One"])
    with pytest.raises(DependencyError, match="cycle"):
        apply_plan(plan_of(create(one), create(two)), reader=fake, writer=fake)
    assert fake.events == []


# failures -------------------------------------------------------------------------------


def test_failure_skips_dependants_and_spares_independents(fake: FakeFabric) -> None:
    fake.fail("create", "Base")
    result = apply_plan(plan_of(*map(create, chain())), reader=fake, writer=fake)
    outcomes = by_name(result)
    assert outcomes["Base"].status is OutcomeStatus.FAILED
    assert "InvalidDefinitionParts" in outcomes["Base"].error
    assert "\n" not in outcomes["Base"].error
    assert outcomes["Mid"].status is OutcomeStatus.SKIPPED
    assert "Base" in outcomes["Mid"].error
    assert outcomes["Top"].status is OutcomeStatus.SKIPPED
    assert "Mid" in outcomes["Top"].error
    assert {n for n in "ABC" if outcomes[n].status is OutcomeStatus.SUCCEEDED} == {"A", "B", "C"}
    assert not result.ok
    assert fake.by_name("Mid") is None
    assert fake.by_name("Top") is None


def test_a_bug_is_not_swallowed_and_stops_the_apply(fake: FakeFabric) -> None:
    def explode(op: str, name: str) -> None:
        if name == "X":
            raise RuntimeError("bug in the writer")

    fake.on_call = explode
    plan = plan_of(create(make_desired("X")), create(make_desired("Y")))
    with pytest.raises(RuntimeError, match="bug in the writer"):
        apply_plan(plan, reader=fake, writer=fake, concurrency=1)
    assert fake.writes() == [("create", "X")]  # nothing new starts after a bug


def test_unknown_action_kind_is_refused_before_writing(fake: FakeFabric) -> None:
    odd = replace(create(make_desired("Odd")), kind="teleport")
    with pytest.raises(PlanError, match="unknown action kind 'teleport'"):
        apply_plan(plan_of(create(make_desired("X")), odd), reader=fake, writer=fake)
    assert fake.events == []


# deletes --------------------------------------------------------------------------------


def delete_of(fake: FakeFabric, name: str) -> Action:
    live = fake.live(name)
    return Action(ActionKind.DELETE, name, name, item_id=live.id, live_fingerprint=live.fingerprint)


def test_deletes_need_allow_delete_and_nothing_is_written_without(fake: FakeFabric) -> None:
    fake.seed(make_desired("Gone"))
    plan = plan_of(create(make_desired("New")), delete_of(fake, "Gone"))
    with pytest.raises(PlanError, match="--allow-delete") as info:
        apply_plan(plan, reader=fake, writer=fake)
    assert "Gone" in str(info.value)
    assert fake.events == []
    assert fake.by_name("Gone") is not None


def test_deletes_run_after_every_other_action(fake: FakeFabric) -> None:
    for name in ("Gone1", "Gone2"):
        fake.seed(make_desired(name))
    plan = plan_of(delete_of(fake, "Gone1"), *map(create, chain()), delete_of(fake, "Gone2"))
    result = apply_plan(plan, reader=fake, writer=fake, allow_delete=True, concurrency=4)
    assert result.ok
    first_delete = min(started(fake, "delete", "Gone1"), started(fake, "delete", "Gone2"))
    assert all(ended(fake, "create", n) < first_delete for n in ("Base", "Mid", "Top", "A", "B", "C"))
    assert fake.by_name("Gone1") is None
    assert fake.by_name("Gone2") is None


def test_a_dataflow_is_not_deleted_while_a_reader_of_it_survives(fake: FakeFabric) -> None:
    fake.seed(make_desired("Source"))
    fake.seed(make_desired("Reader"))
    fake.fail("delete", "Reader")
    reader = delete_of(fake, "Reader")
    source = replace(delete_of(fake, "Source"), depends_on=("Reader",))
    result = apply_plan(plan_of(reader, source), reader=fake, writer=fake, allow_delete=True)
    outcomes = by_name(result)
    assert outcomes["Reader"].status is OutcomeStatus.FAILED
    assert outcomes["Source"].status is OutcomeStatus.SKIPPED
    assert "Reader, which reads it" in outcomes["Source"].error
    assert fake.by_name("Source") is not None


def test_deletes_reading_each_other_in_a_cycle_still_run_in_plan_order(fake: FakeFabric) -> None:
    fake.seed(make_desired("P"))
    fake.seed(make_desired("Q"))
    p = replace(delete_of(fake, "P"), depends_on=("Q",))
    q = replace(delete_of(fake, "Q"), depends_on=("P",))
    assert apply_plan(plan_of(p, q), reader=fake, writer=fake, allow_delete=True).ok
    assert fake.writes() == [("delete", "P"), ("delete", "Q")]


# stale plans ----------------------------------------------------------------------------


def test_stale_plan_writes_nothing(fake: FakeFabric) -> None:
    old = make_desired("Sales", query="1")
    fake.seed(old)
    plan = replan(fake, [make_desired("Sales", query="2"), make_desired("Other")])
    # someone edits Sales in the portal, and creates "Other" by hand, after the plan was made
    fake.update_definition(
        WORKSPACE_ID,
        fake.live("Sales").id,
        make_desired("Sales", query="3").parts,
        update_metadata=False,
    )
    fake.seed(make_desired("Other", query="99"))
    fake.events.clear()
    with pytest.raises(StalePlanError) as info:
        apply_plan(plan, reader=fake, writer=fake)
    assert set(info.value.items) == {
        '"Sales" (live definition changed)',
        f'"Other" (planned as absent, now exists as item {fake.live("Other").id})',
    }
    assert fake.events == []
    assert "shared Query = 3;" in fake.live("Sales").part("mashup.pq").text()


# updates and renames --------------------------------------------------------------------


def test_rename_keeps_the_item_and_rides_on_update_definition(fake: FakeFabric) -> None:
    item_id = fake.seed(make_desired("Sales", display_name="Sales"))
    desired = make_desired("Sales", display_name="Sales v2", query="2")
    live = fake.live("Sales")
    action = Action(
        ActionKind.UPDATE,
        "Sales",
        "Sales v2",
        item_id=item_id,
        desired=desired,
        live_fingerprint=live.fingerprint,
        rename_from="Sales",
        diff=DataflowDiff(
            "Sales",
            queries=(QueryChange("Query", ChangeKind.MODIFIED),),
            properties=(PropertyChange("displayName", "Sales", "Sales v2"),),
        ),
    )
    result = apply_plan(plan_of(action), reader=fake, writer=fake)
    assert result.ok
    assert fake.writes() == [("update_definition", "Sales")]
    assert fake.live("Sales v2").id == item_id
    assert fake.live("Sales v2").fingerprint == desired.fingerprint


def test_metadata_only_change_is_a_patch(fake: FakeFabric) -> None:
    item_id = fake.seed(make_desired("Sales"))
    desired = make_desired("Sales", description="Daily sales")
    action = Action(
        ActionKind.UPDATE,
        "Sales",
        "Sales",
        item_id=item_id,
        desired=desired,
        live_fingerprint=fake.live("Sales").fingerprint,
        diff=DataflowDiff("Sales", properties=(PropertyChange("description", "", "Daily sales"),)),
    )
    assert apply_plan(plan_of(action), reader=fake, writer=fake).ok
    assert fake.writes() == [("update_properties", "Sales")]
    assert fake.live("Sales").item.description == "Daily sales"
    assert fake.live("Sales").fingerprint == desired.fingerprint


def test_noop_calls_nothing(fake: FakeFabric) -> None:
    fake.seed(make_desired("Same"))
    result = apply_plan(replan(fake, [make_desired("Same")]), reader=fake, writer=fake, publish=True)
    assert result.outcomes[0].status is OutcomeStatus.SUCCEEDED
    assert result.outcomes[0].published is None
    assert fake.events == []


# publish --------------------------------------------------------------------------------


def test_publish_after_each_write(fake: FakeFabric) -> None:
    fake.seed(make_desired("Changed"))
    plan = replan(fake, [make_desired("Changed", query="2"), make_desired("New")])
    result = apply_plan(plan, reader=fake, writer=fake, publish=True)
    assert result.ok
    assert sorted(fake.published) == ["Changed", "New"]
    assert all(o.published is True for o in result.outcomes)
    assert started(fake, "publish", "New") > ended(fake, "create", "New")


def test_failed_publish_is_reported_with_its_reason(fake: FakeFabric) -> None:
    fake.fail("publish", "Bad")
    result = apply_plan(
        plan_of(create(make_desired("Bad")), create(make_desired("Good"))),
        reader=fake,
        writer=fake,
        publish=True,
    )
    outcomes = by_name(result)
    assert outcomes["Bad"].status is OutcomeStatus.SUCCEEDED  # the definition was written
    assert outcomes["Bad"].published is False
    assert "publishing failed" in outcomes["Bad"].error
    assert "MashupParseError" in outcomes["Bad"].error
    assert outcomes["Good"].published is True
    assert not result.ok


# convergence and progress ---------------------------------------------------------------


def test_rerun_after_failure_converges(fake: FakeFabric) -> None:
    desired = chain()
    fake.fail("create", "Mid")
    first = apply_plan(replan(fake, desired), reader=fake, writer=fake)
    assert not first.ok

    second_plan = replan(fake, desired)
    changes = sorted(a.name for a in second_plan.actions if a.is_change)
    assert changes == ["Mid", "Top"]
    assert apply_plan(second_plan, reader=fake, writer=fake).ok

    third_plan = replan(fake, desired)
    assert not third_plan.has_changes
    assert all(
        o.status is OutcomeStatus.SUCCEEDED
        for o in apply_plan(third_plan, reader=fake, writer=fake).outcomes
    )
    assert KNOWN_AFTER_APPLY % ref("Base") not in fake.live("Mid").part("mashup.pq").text()


class RecordingReporter:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def start(self, task: str, total: int) -> None:
        self.calls.append(("start", task, str(total)))

    def advance(self, task: str, detail: str = "") -> None:
        self.calls.append(("advance", task, detail))

    def waiting(self, task: str, detail: str) -> None:
        self.calls.append(("waiting", task, detail))

    def finish(self, task: str) -> None:
        self.calls.append(("finish", task))


def test_progress_goes_to_the_reporter(fake: FakeFabric) -> None:
    fake.fail("create", "Base")
    reporter = RecordingReporter()
    apply_plan(plan_of(*map(create, chain())), reader=fake, writer=fake, reporter=reporter)
    assert reporter.calls[0] == ("start", "apply", "6")
    assert reporter.calls[-1] == ("finish", "apply")
    details = [c[2] for c in reporter.calls if c[0] == "advance"]
    assert len(details) == 6
    assert "+ Base: failed" in details
    assert "+ Mid: skipped" in details
    assert "+ A: succeeded" in details


def test_progress_counts_only_the_changes(fake: FakeFabric) -> None:
    for name in ("A", "B", "C"):
        fake.seed(make_desired(name))
    plan = replan(fake, [make_desired("A"), make_desired("B", query="2"), make_desired("C")])
    reporter = RecordingReporter()
    apply_plan(plan, reader=fake, writer=fake, reporter=reporter)
    assert reporter.calls == [
        ("start", "apply", "1"),
        ("advance", "apply", "~ B: succeeded"),
        ("finish", "apply"),
    ]


def test_a_failed_publish_is_retried_on_a_noop_named_in_republish(fake: FakeFabric) -> None:
    fake.fail("publish", "Bad")
    first = apply_plan(
        plan_of(create(make_desired("Bad")), create(make_desired("Good"))),
        reader=fake,
        writer=fake,
        publish=True,
    )
    record = record_from_result(first, plan_of(), actor="ci")
    waiting = unpublished_ids(record)
    assert waiting == {by_name(first)["Bad"].item_id}
    assert fake.published == ["Good"]

    again = replan(fake, [make_desired("Bad"), make_desired("Good")])
    assert not again.has_changes
    # Without --publish nothing is retried (and nothing is counted as work).
    quiet = apply_plan(again, reader=fake, writer=fake, republish=waiting)
    assert fake.published == ["Good"]
    assert all(o.published is None for o in quiet.outcomes)

    reporter = RecordingReporter()
    retried = apply_plan(
        again, reader=fake, writer=fake, publish=True, republish=waiting, reporter=reporter
    )
    assert fake.published == ["Good", "Bad"]
    assert by_name(retried)["Bad"].published is True
    assert by_name(retried)["Good"].published is None  # already published: not again
    assert ("advance", "apply", "publish Bad: succeeded") in reporter.calls
    assert reporter.calls[0] == ("start", "apply", "1")
    later = record_from_result(retried, plan_of(), actor="ci", previous=record)
    assert unpublished_ids(later) == frozenset()
    assert {i.name: i.published for i in later.items} == {"Bad": True, "Good": True}


def test_concurrency_below_one_is_refused(fake: FakeFabric) -> None:
    with pytest.raises(PlanError, match="concurrency"):
        apply_plan(plan_of(), reader=fake, writer=fake, concurrency=0)


# with the real planner and records ------------------------------------------------------


def planned(fake: FakeFabric, desired: list[DesiredDataflow], **policy: object) -> Plan:
    """What `dfg plan` does, minus render: bind ids that now exist, observe, build_plan."""
    bound = []
    for d in desired:
        values = {p: v for p in d.pending if (v := fake.resolve(p)) is not None}
        bound.append(bind_pending(d, values) if values else d)
    items = tuple(fake.list_items(WORKSPACE_ID))
    live = LiveWorkspace(WORKSPACE_ID, items, tuple(fake.read_dataflows(WORKSPACE_ID, items)))
    store_ids = policy.pop("managed_ids", ())
    return build_plan(
        bound, live, environment=ENV, policy=PlanPolicy(**policy), managed_ids=store_ids, commit="b" * 40
    )


def test_plan_apply_record_loop_converges_and_prunes(fake: FakeFabric, tmp_path) -> None:
    store = FileRecords(tmp_path)
    desired = chain()
    fake.fail("create", "Mid")

    first_plan = planned(fake, desired)
    assert first_plan.count(ActionKind.CREATE) == 6
    first = apply_plan(first_plan, reader=fake, writer=fake)
    store.write(record_from_result(first, first_plan, actor="ci"))
    assert {o.action.name for o in first.outcomes if o.status is not OutcomeStatus.SUCCEEDED} == {
        "Mid",
        "Top",
    }

    second_plan = planned(fake, desired)
    assert sorted(a.name for a in second_plan.actions if a.is_change) == ["Mid", "Top"]
    second = apply_plan(second_plan, reader=fake, writer=fake)
    assert second.ok
    store.write(record_from_result(second, second_plan, actor="ci", previous=store.latest(ENV)))
    assert {i.name for i in store.latest(ENV).items} == {"Base", "Mid", "Top", "A", "B", "C"}

    assert not planned(fake, desired).has_changes

    # "C" leaves the repository: with prune, the record makes it a managed item to delete
    kept = [d for d in desired if d.name != "C"]
    prune_plan = planned(fake, kept, prune=True, managed_ids=managed_ids(store, ENV))
    assert [(a.kind, a.name) for a in prune_plan.actions if a.is_change] == [(ActionKind.DELETE, "C")]
    pruned = apply_plan(prune_plan, reader=fake, writer=fake, allow_delete=True)
    assert pruned.ok
    store.write(record_from_result(pruned, prune_plan, actor="ci", previous=store.latest(ENV)))
    assert fake.by_name("C") is None
    assert "C" not in {i.name for i in store.latest(ENV).items}
    assert not planned(fake, kept, prune=True, managed_ids=managed_ids(store, ENV)).has_changes
