"""⑥→⑦ a saved plan is evidence, not authority: the pure checks of pipeline/plan/proof.py on
hand-built plans (the end-to-end refusals are in tests/e2e/test_plan_trust.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_planfile import desired, live, workspace

from dataflow_gitops.errors import PlanError, StalePlanError
from dataflow_gitops.pipeline.model import ActionKind, Destination, Plan, PlanPolicy
from dataflow_gitops.pipeline.plan.planner import build_plan
from dataflow_gitops.pipeline.plan.proof import (
    check_bound,
    check_policy,
    check_proven,
    reproduce,
)

HERE = Destination("https://api.fabric.microsoft.com", "token:$FABRIC_TOKEN")


def _plan(*, body: str = "2", prune: bool = True) -> Plan:
    made = build_plan(
        [desired("Kept", body), desired("Same")],
        workspace(live("Kept"), live("Same"), live("Gone")),
        environment="prod",
        policy=PlanPolicy(prune=prune, prune_unrecorded=True),
        commit="c0ffee",
    )
    return replace(made, connection=HERE, source_hash="h1")


def _edited(plan: Plan, name: str, **changes: object) -> Plan:
    actions = tuple(replace(a, **changes) if a.name == name else a for a in plan.actions)  # type: ignore[arg-type]
    return replace(plan, actions=actions)


def test_the_same_plan_made_again_is_proven() -> None:
    check_proven(_plan(), _plan())


def test_an_edited_kind_is_refused() -> None:
    saved = _edited(_plan(), "Same", kind=ActionKind.DELETE)
    with pytest.raises(PlanError, match=r'"Same" \(the file says delete, a plan made now says noop\)'):
        check_proven(saved, _plan())


def test_a_payload_its_source_does_not_render_is_refused() -> None:
    with pytest.raises(PlanError, match=r'"Kept" \(its payload differs'):
        check_proven(_plan(body="3"), _plan(body="2"))


def test_live_that_moved_is_the_stale_plan_refusal() -> None:
    saved = _edited(_plan(), "Kept", live_fingerprint="another")
    with pytest.raises(StalePlanError, match="live definition changed"):
        check_proven(saved, _plan())


@pytest.mark.parametrize(
    ("workspace_id", "destination", "says"),
    [
        ("ws-other", HERE, "now resolves to workspace ws-other"),
        ("ws-1", replace(HERE, api="https://elsewhere.example"), "made for API"),
        ("ws-1", replace(HERE, identity="token:$OTHER"), "made for auth identity"),
    ],
)
def test_a_plan_bound_elsewhere_is_refused(
    workspace_id: str, destination: Destination, says: str
) -> None:
    with pytest.raises(PlanError, match=says):
        check_bound(_plan(), environment="prod", workspace_id=workspace_id, connection=destination)
    check_bound(_plan(), environment="prod", workspace_id="ws-1", connection=HERE)


def test_deletes_need_todays_flag_and_policy() -> None:
    saved = _plan()
    assert [a.kind for a in saved.actions].count(ActionKind.DELETE) == 1

    def policy(prune: bool, allow: bool) -> None:
        check_policy(
            saved,
            policy=PlanPolicy(prune=prune),
            managed_ids={"id-Gone"},
            allow_delete=allow,
            in_scope=lambda _: True,
        )

    with pytest.raises(PlanError, match="--allow-delete"):
        policy(prune=True, allow=False)
    with pytest.raises(PlanError, match="prune policy does not delete Gone"):
        policy(prune=False, allow=True)
    policy(prune=True, allow=True)


def test_a_dirty_plan_is_proven_only_while_its_sources_hash_the_same() -> None:
    saved = replace(_plan(), dirty=True)
    assert reproduce(saved, lambda ref: replace(_plan(), source_hash="h1")) is not None
    with pytest.raises(PlanError, match="changed since"):
        reproduce(saved, lambda ref: replace(_plan(), source_hash="h2"))


def test_a_commit_that_does_not_render_here_is_refused_with_the_trust_hint() -> None:
    def missing(ref: str | None) -> Plan:
        raise PlanError(f"unknown revision {ref}")

    with pytest.raises(PlanError, match="cannot be rendered here.*--trust-plan-file"):
        reproduce(_plan(), missing)
