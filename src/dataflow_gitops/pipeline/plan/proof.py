"""⑥→⑦ a saved plan is evidence, not authority: binding, policy and proof before apply.

A plan file is a JSON document anyone with the file can edit. So at apply nothing in it is
taken on trust (docs/plan-files.md has the threat model):

- :func:`check_bound` — it goes where the environment resolves *now*: the same workspace and the
  same connection (api, configured auth identity), else refused.
- :func:`check_policy` — safety comes from today's overlay and command line: every action must be
  in today's scope, and a delete needs today's prune policy *and* ``--allow-delete``.
- :func:`check_proven` — every action equals the action a plan made now from the plan's own
  source (its commit, or the unchanged working tree) would hold: same kind, item, payload
  fingerprint and shown diff. An edited kind (noop → delete) or payload is refused.

:func:`verify_saved_plan` runs the three in that order; the caller passes how to re-plan.
All raise before anything is written. :func:`stamp` gives a new plan what they check later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from dataflow_gitops.config import Environment
from dataflow_gitops.errors import DataflowGitopsError, PlanError, StalePlanError
from dataflow_gitops.pipeline.model import (
    Action,
    ActionKind,
    Destination,
    Plan,
    PlanPolicy,
    Snapshot,
)
from dataflow_gitops.pipeline.plan.planfile import diff_document
from dataflow_gitops.pipeline.plan.planner import delete_reason
from dataflow_gitops.pipeline.plan.schedules import schedule_deletes

TRUST_HINT = "plan again, or pass --trust-plan-file to apply it unproven (see docs/plan-files.md)"


def destination_of(env: Environment) -> Destination:
    """The overlay's api and configured auth identity, secrets as ``${env:NAME}`` references.

    The identity is the configuration (method, tenant, client; for a token, the variable it is
    read from), not the token: CI may plan and apply with two tokens of one identity.
    """
    auth = env.auth
    if env.embedded:
        identity = "embedded"
    elif auth.method == "token":
        identity = f"token:${auth.token_env}"
    else:
        identity = f"{auth.method}:{auth.client_id or 'default'}@{auth.tenant_id or 'default'}"
    return Destination(api=env.redact(env.api.rstrip("/")), identity=env.redact(identity))


def stamp(plan: Plan, env: Environment, snapshot: Snapshot) -> Plan:
    """``plan`` with where it goes and the hash of the sources it was made from."""
    return replace(plan, connection=destination_of(env), source_hash=source_hash(snapshot))


def verify_saved_plan(
    plan: Plan,
    env: Environment,
    *,
    workspace_id: str,
    managed_ids: Collection[str],
    allow_delete: bool,
    replan: Callable[[str | None], Plan],
    trust: bool = False,
) -> None:
    """Bound, allowed today, proven (unless ``trust``): else raise, nothing written.

    ``replan(ref)`` makes the plan of ``env`` today from ``ref`` (None: the working tree).
    """
    check_bound(plan, environment=env.name, workspace_id=workspace_id, connection=destination_of(env))
    check_policy(
        plan,
        policy=env.policy(),
        managed_ids=managed_ids,
        allow_delete=allow_delete,
        in_scope=env.in_scope,
    )
    if not trust:
        check_proven(plan, reproduce(plan, replan))


def reproduce(plan: Plan, replan: Callable[[str | None], Plan]) -> Plan:
    """The plan ``plan``'s own source makes today: its commit, or the working tree it was made
    on while that still hashes the same."""
    where = f"environment {plan.environment}"
    if plan.dirty or plan.commit is None:
        now = replan(None)
        if now.source_hash != plan.source_hash:
            raise PlanError(
                "the plan was made on uncommitted sources that have changed since, so what it "
                "would write cannot be proven; nothing was written",
                where=where,
                hint=TRUST_HINT,
            )
        return now
    try:
        return replan(plan.commit)
    except DataflowGitopsError as exc:
        raise PlanError(
            f"the plan's commit {plan.commit[:12]} cannot be rendered here ({exc.message}); "
            "a plan from another repository, or a commit not fetched; nothing was written",
            where=where,
            hint="fetch that commit, or " + TRUST_HINT,
        ) from None


def source_hash(snapshot: Snapshot) -> str:
    """sha256 over every dataflow of ``snapshot``: folder, part paths and bytes, .platform too."""
    digest = hashlib.sha256()
    for dataflow in sorted(snapshot.dataflows, key=lambda d: d.folder):
        platform = dataflow.platform
        digest.update(f"\0dataflow\0{dataflow.folder}\0{dataflow.name}\0".encode())
        digest.update(f"{platform.display_name}\0{platform.logical_id}\0".encode())
        digest.update(f"{platform.description}\0".encode())
        for part in dataflow.parts:
            digest.update(f"\0part\0{part.path}\0{len(part.data)}\0".encode())
            digest.update(part.data)
    return digest.hexdigest()


def check_environment(plan: Plan, environment: str, *, where: str) -> None:
    """Refuse ``plan`` when it was made for another environment than ``environment``."""
    if plan.environment != environment:
        raise PlanError(
            f"the plan was made for environment {plan.environment!r}, not {environment!r}",
            where=where,
            hint=f"apply it with -e {plan.environment}, or plan again for {environment}",
        )


def check_bound(plan: Plan, *, environment: str, workspace_id: str, connection: Destination) -> None:
    """Refuse ``plan`` unless ``environment`` still resolves to where it was made to go."""
    where = f"environment {environment}"
    check_environment(plan, environment, where=where)
    if plan.workspace_id != workspace_id:
        raise PlanError(
            f"the plan was made for workspace {plan.workspace_id}, but {environment} now resolves "
            f"to workspace {workspace_id}; nothing was written",
            where=where,
            hint=f"plan again for {environment}",
        )
    if plan.connection is None:
        raise PlanError(
            "the plan does not say which API and identity it was made for (an older dfg made it)",
            where=where,
            hint="plan again with this version of dfg",
        )
    for label, then, now in (
        ("API", plan.connection.api, connection.api),
        ("auth identity", plan.connection.identity, connection.identity),
    ):
        if then != now:
            raise PlanError(
                f"the plan was made for {label} {then!r}, but {environment} now uses {now!r}; "
                "nothing was written",
                where=where,
                hint=f"plan again for {environment}",
            )


def check_policy(
    plan: Plan,
    *,
    policy: PlanPolicy,
    managed_ids: Collection[str],
    allow_delete: bool,
    in_scope: Callable[[str], bool],
) -> None:
    """Refuse what today's overlay and flags do not allow, whatever the file says."""
    where = f"environment {plan.environment}"
    outside = [a.name for a in plan.actions if a.kind is not ActionKind.DELETE and not in_scope(a.name)]
    if outside:
        raise PlanError(
            f"the plan writes dataflows outside today's scope: {', '.join(outside)}; "
            "nothing was written",
            where=where,
            hint="see `scope:` in the overlay; plan again",
        )
    refuse_deletes(plan, allowed=allow_delete)
    deletes = [a for a in plan.actions if a.kind is ActionKind.DELETE]
    managed = frozenset(managed_ids)
    refused = [
        a for a in deletes if delete_reason(a.display_name, a.item_id or "", policy, managed) is None
    ]
    if refused:
        raise PlanError(
            f"today's prune policy does not delete {_names(refused)} "
            "(prune off, excluded, or not deployed by dfg); nothing was written",
            where=where,
            hint="see `prune:` in the overlay; plan again",
        )


def refuse_deletes(plan: Plan, *, allowed: bool, what: str = "plan") -> None:
    """Refuse, before anything is written, a plan (``what``: or a promotion) whose deletes of
    dataflows or schedules ``--allow-delete`` did not allow."""
    deletes = [a.display_name for a in plan.actions if a.kind is ActionKind.DELETE]
    deletes += schedule_deletes(plan)
    if deletes and not allowed:
        count = f"{len(deletes)} dataflow{'' if len(deletes) == 1 else 's'}"
        raise PlanError(
            f"the {what} deletes {count}: {', '.join(deletes)}",
            where=f"environment {plan.environment}",
            hint="pass --allow-delete to apply the deletes too, or --target the others; "
            "nothing was written",
        )


def check_proven(plan: Plan, now: Plan) -> None:
    """Refuse every action of ``plan`` that differs from ``now``, the plan its source makes today.

    ``now`` may hold more actions (``plan`` was made with ``--target``); each of ``plan``'s must
    be there, identical in kind, item, payload and shown diff.
    """
    by_name = {a.name: a for a in now.actions}
    # Live moving since the plan is the stale-plan guard's refusal, said in its words.
    stale = [f'"{a.name}" ({why})' for a in plan.actions if (why := _moved(a, by_name.get(a.name)))]
    if stale:
        raise StalePlanError(stale, where=plan.environment)
    differing = [
        f'"{a.name}" ({why})' for a in plan.actions if (why := _difference(a, by_name.get(a.name)))
    ]
    if differing:
        raise PlanError(
            "the plan file does not match what its source renders now: "
            + "; ".join(differing)
            + "; nothing was written",
            where=f"environment {plan.environment}",
            hint=TRUST_HINT,
        )


def _moved(saved: Action, now: Action | None) -> str | None:
    if not saved.is_change or now is None:
        return None
    if saved.live_fingerprint is None:
        return f"planned as absent, now exists as item {now.item_id}" if now.item_id else None
    if now.item_id != saved.item_id:
        return f"item {saved.item_id} no longer exists"
    if now.live_fingerprint != saved.live_fingerprint:
        return "live definition changed"
    return None


def _difference(saved: Action, now: Action | None) -> str | None:
    if now is None:
        return "a plan made now has no such action"
    if saved.kind is not now.kind:
        return f"the file says {saved.kind}, a plan made now says {now.kind}"
    if saved.item_id != now.item_id or saved.rename_from != now.rename_from:
        return "it targets another item"
    fingerprints = (
        saved.desired.fingerprint if saved.desired else None,
        now.desired.fingerprint if now.desired else None,
    )
    if fingerprints[0] != fingerprints[1]:
        return "its payload differs from what its source renders"
    shown = (
        diff_document(saved.diff) if saved.diff else None,
        diff_document(now.diff) if now.diff else None,
    )
    if shown[0] != shown[1]:
        return "the diff it shows differs from its payload's"
    return None


def _names(actions: Sequence[Action]) -> str:
    return ", ".join(a.display_name for a in actions)
