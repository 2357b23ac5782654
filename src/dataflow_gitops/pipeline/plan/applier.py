"""⑦ apply: Plan → FabricWriter calls (ordered, concurrent) → ApplyResult.

Like sqlmesh's plan evaluator: :func:`apply_plan` checks the plan against live before writing
anything, then an :class:`ActionVisitor` runs each action through ``visit_<kind>()``. A thread
pool runs independent actions side by side; an action starts once every dataflow it reads has
been written (its ``requires`` in :mod:`pipeline.ordering`), and ids of dataflows created in this
run are bound into their dependants just before those are written (late binding).

Workspace folders: the plan's folder creates run first, parents first, one at a time (their
ids are what creates and moves need); a create then names its folder (``folderId``) and an
update whose folder changed moves the item (items move API, the item id kept). Folder removals
run last, children first, and only when every item action succeeded.

Fabric errors become failed outcomes (one line each) and never abort independent actions;
any other exception is a bug and propagates.

Ctrl-C or SIGTERM (:mod:`dataflow_gitops.interrupts`) stops the scheduling at once: the calls in
flight get at most the stop's grace period, actions not started are skipped, actions still in
flight after it are failed ("state unknown"), and the result says it was interrupted, so the
caller records the partial deployment and exits 130/143.

A failed publish (ApplyChanges) leaves the definition written, so the next plan is a no-op; the
deployment record marks the item unpublished, and ``apply --publish`` passes those ids as
``republish``: their no-op actions publish again, so re-running converges. Progress counts the
actions that do something (changes and such publishes), not the no-ops.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace

from dataflow_gitops import interrupts
from dataflow_gitops.errors import DataflowGitopsError, PlanError
from dataflow_gitops.pipeline.definition.bindings import bind_pending
from dataflow_gitops.pipeline.model import (
    DATAFLOW_TYPE,
    Action,
    ActionKind,
    ActionOutcome,
    ApplyResult,
    DesiredDataflow,
    FolderAction,
    FolderActionKind,
    FolderOutcome,
    LiveItem,
    LiveWorkspace,
    OutcomeStatus,
    Plan,
)
from dataflow_gitops.pipeline.plan.folders import folder_ids, place_workspace
from dataflow_gitops.pipeline.plan.ordering import Step, build_steps
from dataflow_gitops.pipeline.plan.proof import refuse_deletes
from dataflow_gitops.pipeline.plan.schedules import removed_schedules
from dataflow_gitops.pipeline.plan.stale import check_preconditions
from dataflow_gitops.pipeline.ports import FabricWriter, LiveReader, NullReporter, Reporter

TASK = "apply"
_QUIET = NullReporter()
_SYMBOLS = {ActionKind.CREATE: "+", ActionKind.UPDATE: "~", ActionKind.DELETE: "-"}
# How often the scheduler looks at the stop while actions run (a signal does not wake a wait
# on every platform).
_POLL_S = 0.2


def dataflow_id_expression(display_name: str) -> str:
    """The lookup expression render leaves pending for a dataflow not created yet."""
    return f"items.Dataflow.{display_name}.id"


def apply_plan(
    plan: Plan,
    *,
    reader: LiveReader,
    writer: FabricWriter,
    concurrency: int = 8,
    publish: bool = False,
    allow_delete: bool = False,
    reporter: Reporter = _QUIET,
    check_stale: bool = True,
    republish: Collection[str] = (),
) -> ApplyResult:
    """Carry out ``plan`` and return every action's outcome, in plan order.

    Refused before any write (raising): deletes without ``allow_delete`` (PlanError), a live
    item that moved since the plan when ``check_stale`` (StalePlanError), a dependency cycle, an
    action kind no visitor handles. Afterwards it never raises for a Fabric failure: the
    result says which actions failed or were skipped, and a new plan holds only those.

    Each outcome carries the action as executed: late-bound ids filled in, so its desired
    fingerprint is the one now live (what deployment records keep). ``check_stale=False`` fits a
    plan made moments ago in the same process: it saves the getDefinition of every dataflow.
    ``republish``: item ids whose earlier publish failed; with ``publish`` their no-ops publish.
    """
    if concurrency < 1:
        raise PlanError(
            f"concurrency must be at least 1, not {concurrency}", hint="pass --concurrency 1 or more"
        )
    refuse_deletes(plan, allowed=allow_delete)
    visitor = ActionVisitor(plan.workspace_id, writer, publish=publish, republish=republish)
    for action in plan.actions:
        visitor.method_for(action)
    steps = build_steps(plan.actions)
    live = _observe(plan.workspace_id, reader, with_definitions=check_stale)
    if check_stale:
        check_preconditions(plan, live)
    visitor.folders = folder_ids(live.folders)
    created = [visitor.visit_folder(f) for f in plan.folders if f.kind is FolderActionKind.CREATE]
    runner = _Runner(plan.actions, steps, visitor, _known_ids(live.items), reporter)
    stop = interrupts.current()
    outcomes = runner.run(concurrency, stop)
    clean = not runner.interrupted and all(o.status is OutcomeStatus.SUCCEEDED for o in outcomes)
    removed = [
        visitor.visit_folder(f) if clean else _folder_skipped(f)
        for f in plan.folders
        if f.kind is FolderActionKind.DELETE
    ]
    return ApplyResult(
        plan.environment,
        plan.workspace_id,
        outcomes,
        (*created, *removed),
        interrupted=stop.signum if runner.interrupted else None,
    )


class ActionVisitor:
    """Turns one action into writer calls; ``visit_<kind>`` raises DataflowGitopsError on failure."""

    def __init__(
        self,
        workspace_id: str,
        writer: FabricWriter,
        *,
        publish: bool,
        republish: Collection[str] = (),
    ) -> None:
        self.workspace_id = workspace_id
        self.writer = writer
        self.publish = publish
        self.republish = frozenset(republish) if publish else frozenset()
        self.folders: dict[str, str] = {}
        """Casefolded folder path → id: the live folders, and those created by this apply."""

    def folder_id(self, path: str) -> str | None:
        """The id of the workspace folder ``path`` (None for the root)."""
        if not path:
            return None
        found = self.folders.get(path.casefold())
        if found is None:
            raise PlanError(
                f"the workspace folder {path}/ does not exist (creating it failed)",
                hint="see the folder's own error; apply again once it is fixed",
            )
        return found

    def visit_folder(self, action: FolderAction) -> FolderOutcome:
        """Create or remove one folder; a failure is an outcome, as for items."""
        try:
            if action.kind is FolderActionKind.CREATE:
                existing = self.folders.get(action.path.casefold())
                if existing is None:
                    parent, _, name = action.path.rpartition("/")
                    existing = self.writer.create_folder(self.workspace_id, name, self.folder_id(parent))
                    self.folders[action.path.casefold()] = existing
                return FolderOutcome(action, OutcomeStatus.SUCCEEDED, folder_id=existing)
            self.writer.delete_folder(self.workspace_id, action.folder_id or "")
            return FolderOutcome(action, OutcomeStatus.SUCCEEDED, folder_id=action.folder_id)
        except DataflowGitopsError as exc:
            return FolderOutcome(
                action, OutcomeStatus.FAILED, folder_id=action.folder_id, error=one_line(exc)
            )

    def does_something(self, action: Action) -> bool:
        """A change, or a no-op whose earlier publish failed and is retried now."""
        return action.is_change or (action.item_id or "") in self.republish

    def method_for(self, action: Action) -> Callable[[Action], ActionOutcome]:
        method: Callable[[Action], ActionOutcome] | None = getattr(self, f"visit_{action.kind}", None)
        if method is None:
            raise PlanError(
                f"unknown action kind {str(action.kind)!r}",
                where=action.name,
                hint="the plan was made by another version of dfg; plan again",
            )
        return method

    def visit(self, action: Action) -> ActionOutcome:
        try:
            return self.method_for(action)(action)
        except DataflowGitopsError as exc:
            return ActionOutcome(
                action, OutcomeStatus.FAILED, item_id=action.item_id, error=one_line(exc)
            )

    def visit_create(self, action: Action) -> ActionOutcome:
        desired = _desired(action)
        item_id = self.writer.create_dataflow(
            self.workspace_id,
            desired.display_name,
            desired.description,
            desired.parts,
            folder_id=self.folder_id(desired.folder_path),
        )
        return self._written(action, item_id)

    def visit_update(self, action: Action) -> ActionOutcome:
        """Definition changes go through updateDefinition; a rename or description change rides
        along with ``updateMetadata=true`` (one call, and the name and content change together).
        A metadata-only change is a PATCH, which needs no definition upload and no LRO."""
        desired = _desired(action)
        item_id = _item_id(action)
        diff = action.diff
        # Without a diff nothing says the metadata is unchanged, so send it too.
        metadata = action.rename_from is not None or diff is None or bool(diff.properties)
        if diff is not None and not diff.changed and action.rename_from is None:
            metadata = False  # a move alone: nothing else to write
        if diff is None or diff.definition_changed:
            self.writer.update_definition(
                self.workspace_id, item_id, desired.parts, update_metadata=metadata
            )
        elif metadata:
            changed = {p.name for p in diff.properties}
            renamed = action.rename_from is not None or "displayName" in changed
            self.writer.update_properties(
                self.workspace_id,
                item_id,
                display_name=desired.display_name if renamed else None,
                description=desired.description if "description" in changed else None,
            )
        if action.moves_from is not None:
            self.writer.move_item(self.workspace_id, item_id, self.folder_id(desired.folder_path))
        self._remove_schedules(action, item_id)
        return self._written(action, item_id)

    def _remove_schedules(self, action: Action, item_id: str) -> None:
        """Schedule removes prune allowed: a definition without the part leaves live schedules
        alone, so each is a Job Scheduler DELETE (none left when the part already replaced them)."""
        removes = removed_schedules(action)
        for job_type in dict.fromkeys(job for job, _ in removes):
            configs = {config for job, config in removes if job == job_type}
            self.writer.delete_schedules(self.workspace_id, item_id, job_type, configs)

    def visit_delete(self, action: Action) -> ActionOutcome:
        item_id = _item_id(action)
        self.writer.delete_item(self.workspace_id, item_id)
        return ActionOutcome(action, OutcomeStatus.SUCCEEDED, item_id=item_id)

    def visit_noop(self, action: Action) -> ActionOutcome:
        if action.item_id and action.item_id in self.republish:
            return self._written(action, action.item_id)
        return ActionOutcome(action, OutcomeStatus.SUCCEEDED, item_id=action.item_id)

    def _written(self, action: Action, item_id: str) -> ActionOutcome:
        if not self.publish:
            return ActionOutcome(action, OutcomeStatus.SUCCEEDED, item_id=item_id)
        try:
            self.writer.publish(self.workspace_id, item_id)
        except DataflowGitopsError as exc:
            return ActionOutcome(
                action,
                OutcomeStatus.SUCCEEDED,
                item_id=item_id,
                published=False,
                error=f"written, but publishing failed: {one_line(exc)}",
            )
        return ActionOutcome(action, OutcomeStatus.SUCCEEDED, item_id=item_id, published=True)


class _Runner:
    """Schedules the steps on a thread pool; only the calling thread touches its state."""

    def __init__(
        self,
        actions: Sequence[Action],
        steps: Sequence[Step],
        visitor: ActionVisitor,
        known_ids: Mapping[str, str],
        reporter: Reporter,
    ) -> None:
        self.actions = actions
        self.waiting = {s.index: s for s in steps}
        self.visitor = visitor
        self.ids = dict(known_ids)
        self.reporter = reporter
        self.outcomes: dict[int, ActionOutcome] = {}
        self.counted = {i for i, a in enumerate(actions) if visitor.does_something(a)}
        self.interrupted = False

    def run(self, concurrency: int, stop: interrupts.Stop) -> tuple[ActionOutcome, ...]:
        """Submit at most ``concurrency`` actions at a time, so that a bug or Ctrl-C stops the
        apply after the calls in flight rather than after everything queued."""
        self.reporter.start(TASK, len(self.counted))
        queue: deque[int] = deque()
        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dfg-apply")
        running: dict[Future[ActionOutcome], int] = {}
        try:
            with stop.shielded():
                while not stop.requested:
                    queue.extend(self._ready())
                    while queue and len(running) < concurrency and not stop.requested:
                        index = queue.popleft()
                        try:
                            action = self._bind(self.actions[index])
                        except DataflowGitopsError as exc:
                            self._fail(index, exc)
                            continue
                        running[pool.submit(self.visitor.visit, action)] = index
                    if not running:
                        # a binding failure may have settled what others wait for: look again
                        queue.extend(self._ready())
                        if not queue:
                            break
                        continue
                    done, _ = wait(running, timeout=_POLL_S, return_when=FIRST_COMPLETED)
                    for future in done:
                        # result() re-raises a bug from the worker; the pool drains and exits.
                        self._finish(running.pop(future), future.result())
                if stop.requested:
                    self._wind_down(running, queue, stop)
        finally:
            # After an interrupt a call may hang in a socket read: never wait for it here.
            pool.shutdown(wait=not stop.requested, cancel_futures=True)
        self.reporter.finish(TASK)
        return tuple(self.outcomes[i] for i in range(len(self.actions)))

    def _wind_down(
        self, running: dict[Future[ActionOutcome], int], queue: deque[int], stop: interrupts.Stop
    ) -> None:
        """After a stop: the grace period for the calls in flight, then every action settled."""
        self.interrupted = True
        done, pending = wait(running, timeout=stop.grace_s)
        for future in done:
            try:
                outcome = future.result()
            except Exception as exc:  # a bug, but the record of the others matters more now
                outcome = _unknown(self.actions[running[future]], f"{type(exc).__name__}")
            self._finish(running[future], outcome)
        for future in pending:
            self._finish(running[future], _unknown(self.actions[running[future]], "still running"))
        name = interrupts.signal_name(stop.signum)
        for index in [*queue, *sorted(self.waiting)]:
            action = self.actions[index]
            if index not in self.outcomes:
                self._finish(
                    index,
                    ActionOutcome(
                        action,
                        OutcomeStatus.SKIPPED,
                        item_id=action.item_id,
                        error=f"not started: interrupted ({name})",
                    ),
                )
        self.waiting.clear()

    def _ready(self) -> list[int]:
        """Indexes whose waits are over, in plan order; settles skipped actions on the way."""
        ready: list[int] = []
        progressed = True
        while progressed:
            progressed = False
            for index, step in sorted(self.waiting.items()):
                if not step.waits_for <= self.outcomes.keys():
                    continue
                del self.waiting[index]
                progressed = True
                blocked = sorted(
                    self.actions[i].name
                    for i in step.requires
                    if self.outcomes[i].status is not OutcomeStatus.SUCCEEDED
                )
                if blocked:
                    self._finish(index, _skipped(self.actions[index], blocked))
                else:
                    ready.append(index)
        return ready

    def _bind(self, action: Action) -> Action:
        desired = action.desired
        if desired is None or not desired.pending:
            return action
        missing = [p for p in desired.pending if p not in self.ids]
        if missing:
            raise PlanError(
                f"no id for {', '.join(missing)}: the dataflow does not exist in the workspace",
                where=action.name,
                hint="add the dataflow it reads to the plan (check --target)",
            )
        bound = bind_pending(desired, {p: self.ids[p] for p in desired.pending})
        return replace(action, desired=bound)

    def _fail(self, index: int, exc: DataflowGitopsError) -> None:
        action = self.actions[index]
        self._finish(
            index,
            ActionOutcome(action, OutcomeStatus.FAILED, item_id=action.item_id, error=one_line(exc)),
        )

    def _finish(self, index: int, outcome: ActionOutcome) -> None:
        self.outcomes[index] = outcome
        action = outcome.action
        if (
            outcome.status is OutcomeStatus.SUCCEEDED
            and outcome.item_id
            and action.kind is not ActionKind.DELETE
        ):
            self.ids[dataflow_id_expression(action.display_name)] = outcome.item_id
        if index in self.counted:
            # a counted no-op is a publish retried, nothing else
            what = "publish" if action.kind is ActionKind.NOOP else _SYMBOLS.get(action.kind, "?")
            self.reporter.advance(TASK, f"{what} {action.display_name}: {outcome.status}")


def _unknown(action: Action, why: str) -> ActionOutcome:
    return ActionOutcome(
        action,
        OutcomeStatus.FAILED,
        item_id=action.item_id,
        error=f"interrupted in flight ({why}): it may or may not have been applied; plan again to see",
    )


def _skipped(action: Action, blocked: Sequence[str]) -> ActionOutcome:
    names = ", ".join(blocked)
    if action.kind is ActionKind.DELETE:
        why = f"not deleted: {names}, which reads it, could not be deleted"
    else:
        why = f"not applied: it reads {names}, which did not apply"
    return ActionOutcome(action, OutcomeStatus.SKIPPED, item_id=action.item_id, error=why)


def one_line(exc: DataflowGitopsError) -> str:
    return " ".join(str(exc).split())


def _desired(action: Action) -> DesiredDataflow:
    if action.desired is None:
        raise PlanError(
            f"the {action.kind} action has no desired definition",
            where=action.name,
            hint="the plan is incomplete; plan again",
        )
    return action.desired


def _item_id(action: Action) -> str:
    if not action.item_id:
        raise PlanError(
            f"the {action.kind} action has no item id",
            where=action.name,
            hint="the plan is incomplete; plan again",
        )
    return action.item_id


def _observe(workspace_id: str, reader: LiveReader, *, with_definitions: bool) -> LiveWorkspace:
    folders = tuple(reader.list_folders(workspace_id))
    listed = place_workspace(
        LiveWorkspace(workspace_id, tuple(reader.list_items(workspace_id)), (), folders)
    )
    if not with_definitions:
        return listed
    dataflows = [i for i in listed.items if i.type == DATAFLOW_TYPE]
    read = tuple(reader.read_dataflows(workspace_id, dataflows))
    return LiveWorkspace(workspace_id, listed.items, read, folders)


def _folder_skipped(action: FolderAction) -> FolderOutcome:
    return FolderOutcome(
        action,
        OutcomeStatus.SKIPPED,
        folder_id=action.folder_id,
        error="not removed: an item action of this apply did not succeed",
    )


def _known_ids(items: Sequence[LiveItem]) -> dict[str, str]:
    """Ids of dataflows already live: a dependant planned before its dependency existed binds to it."""
    return {dataflow_id_expression(i.display_name): i.id for i in items if i.type == DATAFLOW_TYPE}
