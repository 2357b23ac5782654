"""Saved plans, bound and proven: a plan file → the plan apply may carry out, or a refusal.

``dfg plan --out`` stamps the plan with where it goes (:func:`stamp`: the overlay's api and auth
identity, and for a dirty tree the hash of its sources). ``dfg apply PLANFILE`` calls
:func:`verify` before anything is written: the environment must still resolve to that place,
today's overlay and flags must allow every action, and a plan made now from the plan's own
source must hold the very same actions (``pipeline/plan/proof.py``). ``trust=True``
(``--trust-plan-file``) skips only that last proof. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import replace

from dataflow_gitops.config import Environment
from dataflow_gitops.deploy import Deployment, snapshot_at
from dataflow_gitops.deploy import plan as make_plan
from dataflow_gitops.errors import DataflowGitopsError, PlanError
from dataflow_gitops.pipeline.model import Connection, Plan
from dataflow_gitops.pipeline.plan.proof import (
    TRUST_HINT,
    check_bound,
    check_policy,
    check_proven,
    source_hash,
)


def connection_of(env: Environment) -> Connection:
    """The overlay's api and configured auth identity, secrets as ``${env:NAME}`` references."""
    auth = env.auth
    if env.embedded:
        identity = "embedded"
    elif auth.method == "token":
        identity = f"token:${auth.token_env}"
    else:
        identity = f"{auth.method}:{auth.client_id or 'default'}@{auth.tenant_id or 'default'}"
    return Connection(api=env.redact(env.api), identity=env.redact(identity))


def stamp(dep: Deployment, the_plan: Plan) -> Plan:
    """``the_plan`` with its connection, and the source hash a dirty-tree plan is proven by."""
    digest = ""
    if the_plan.ref is None and (the_plan.dirty or the_plan.commit is None):
        digest = source_hash(snapshot_at(dep.project, None))
    return replace(the_plan, connection=connection_of(dep.environment), source_hash=digest)


def verify(dep: Deployment, the_plan: Plan, *, allow_delete: bool, trust: bool = False) -> None:
    """Raise (nothing written) unless ``the_plan`` may be applied to ``dep`` as it is today."""
    env = dep.environment
    check_bound(
        the_plan,
        environment=env.name,
        workspace_id=dep.workspace_id,
        connection=connection_of(env),
    )
    latest = dep.records.latest(env.name)
    check_policy(
        the_plan,
        policy=env.policy(),
        managed_ids=latest.item_ids() if latest else frozenset(),
        allow_delete=allow_delete,
        in_scope=env.in_scope,
    )
    if not trust:
        check_proven(the_plan, replan(dep, the_plan))


def replan(dep: Deployment, the_plan: Plan) -> Plan:
    """The plan ``the_plan``'s own source makes today: its commit, or the working tree it was
    made on while that still hashes the same."""
    where = f"environment {the_plan.environment}"
    if the_plan.dirty or the_plan.commit is None:
        if source_hash(snapshot_at(dep.project, None)) != the_plan.source_hash:
            raise PlanError(
                "the plan was made on uncommitted sources that have changed since, so what it "
                "would write cannot be proven; nothing was written",
                where=where,
                hint=TRUST_HINT,
            )
        return make_plan(dep)
    try:
        return make_plan(dep, ref=the_plan.commit)
    except DataflowGitopsError as exc:
        raise PlanError(
            f"the plan's commit {the_plan.commit[:12]} cannot be rendered here ({exc.message}); "
            "a plan from another repository, or a commit not fetched; nothing was written",
            where=where,
            hint="fetch that commit, or " + TRUST_HINT,
        ) from None
