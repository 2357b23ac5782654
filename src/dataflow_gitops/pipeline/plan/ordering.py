"""⑤ plan → ⑦ apply: actions → plan order, and a Plan's actions → the graph apply runs them by.

The planner orders writes topologically (:func:`dependency_order`: a dataflow after those it
reads) and deletes readers first (:func:`delete_order`); apply then builds :class:`Step` values.

Two kinds of edge: ``requires`` (the dependency must have *succeeded*: a dataflow that reads
another is written after it, and not at all when it failed) and ``after`` (the other action must
merely have *finished*). Deletes run after every other action, one at a time in plan order (the
planner puts readers first), so a delete never races a write that still reads the item, and a
dataflow is not deleted when a reader of it could not be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from dataflow_gitops.errors import DependencyError, MSyntaxError
from dataflow_gitops.pipeline.definition.mashups import part_document
from dataflow_gitops.pipeline.definition.mlang import dataflow_references
from dataflow_gitops.pipeline.model import MASHUP_PATH, ZERO_GUID, Action, ActionKind, LiveDataflow


@dataclass(frozen=True, slots=True)
class Step:
    """One action's place in the graph; indexes point into the plan's ``actions``."""

    index: int
    requires: frozenset[int] = frozenset()
    after: frozenset[int] = frozenset()

    @property
    def waits_for(self) -> frozenset[int]:
        return self.requires | self.after


def build_steps(actions: Sequence[Action]) -> tuple[Step, ...]:
    """The graph of ``actions``; raises DependencyError on a cycle (before anything is written).

    A dependency on a dataflow the plan does not touch (already live, or outside ``--target``)
    is no edge: nothing in this apply can change it.
    """
    writes = [i for i, a in enumerate(actions) if a.kind is not ActionKind.DELETE]
    by_name = {actions[i].name: i for i in writes}
    steps: list[Step] = []
    for i in writes:
        action = actions[i]
        names = set(action.depends_on)
        if action.desired is not None:
            names.update(action.desired.depends_on)
        requires = frozenset(by_name[n] for n in names if n in by_name and by_name[n] != i)
        steps.append(Step(i, requires=requires))
    # The planner lists a delete's readers (deleted before it) in depends_on. Deleting a dataflow
    # whose reader could not be deleted would break the reader, so those edges require success.
    # Only backward edges count: for live items reading each other in a cycle the plan order wins.
    earlier_deletes: dict[str, int] = {}
    previous_delete: int | None = None
    for i, action in enumerate(actions):
        if action.kind is not ActionKind.DELETE:
            continue
        after = set(writes) if previous_delete is None else {previous_delete}
        readers = frozenset(earlier_deletes[n] for n in action.depends_on if n in earlier_deletes)
        steps.append(Step(i, requires=readers, after=frozenset(after)))
        earlier_deletes[action.name] = i
        previous_delete = i
    _refuse_cycles(actions, steps)
    return tuple(sorted(steps, key=lambda s: s.index))


def _refuse_cycles(actions: Sequence[Action], steps: Sequence[Step]) -> None:
    waits = {s.index: set(s.waits_for) for s in steps}
    done: set[int] = set()
    while waits:
        ready = [i for i, deps in waits.items() if deps <= done]
        if not ready:
            names = sorted(actions[i].name for i in waits)
            raise DependencyError(
                f"dataflows depend on each other in a cycle: {', '.join(names)}",
                cycle=names,
                where="plan",
                hint="remove one of the references so the dataflows can be written in order",
            )
        for i in ready:
            done.add(i)
            del waits[i]


# plan order (the planner puts its actions in it) ----------------------------------------------


def dependency_order(actions: Sequence[Action]) -> list[Action]:
    """Topological order (dependencies first); ties keep the input order, so plans are stable."""
    by_name = {a.name: a for a in actions}
    done: set[str] = set()
    visiting: list[str] = []
    ordered: list[Action] = []

    def visit(action: Action) -> None:
        if action.name in done:
            return
        if action.name in visiting:
            cycle = [*visiting[visiting.index(action.name) :], action.name]
            raise DependencyError(
                f"dataflows read each other in a cycle: {' → '.join(cycle)}",
                cycle=cycle,
                hint="break the cycle: one of them must not read the other",
            )
        visiting.append(action.name)
        for dep in action.depends_on:
            if dep in by_name:
                visit(by_name[dep])
        visiting.pop()
        done.add(action.name)
        ordered.append(action)

    for action in actions:
        visit(action)
    return ordered


def delete_order(deletes: Sequence[Action], orphans: Sequence[LiveDataflow]) -> list[Action]:
    """Deletes with dependants first: a dataflow that reads another goes before the one it reads."""
    if len(deletes) < 2:
        return list(deletes)
    by_id = {o.id: o for o in orphans}
    # References name the item id, or the logicalId once fabric-cicd-style rewriting happened.
    key_to_name: dict[str, str] = {}
    for action in deletes:
        item = by_id[action.item_id or ""]
        key_to_name[item.id] = action.name
        if real_logical_id(item.logical_id):
            key_to_name[item.logical_id or ""] = action.name
    readers: dict[str, set[str]] = {a.name: set() for a in deletes}
    for action in deletes:
        for read in _reads(by_id[action.item_id or ""]):
            target = key_to_name.get(read)
            if target is not None and target != action.name:
                readers[target].add(action.name)
    # A dataflow is deleted after every dataflow that reads it: model that as a dependency.
    as_deps = [replace(a, depends_on=tuple(sorted(readers[a.name]))) for a in deletes]
    try:
        return dependency_order(as_deps)
    except DependencyError:
        return list(deletes)  # live items reading each other in a cycle: no order is better


def _reads(item: LiveDataflow) -> set[str]:
    part = item.part(MASHUP_PATH)
    if part is None:
        return set()
    try:
        doc = part_document(part)
    except MSyntaxError:
        return set()
    return {r.dataflow_id for r in dataflow_references(doc)}


def real_logical_id(logical_id: str | None) -> bool:
    return bool(logical_id) and logical_id != ZERO_GUID
