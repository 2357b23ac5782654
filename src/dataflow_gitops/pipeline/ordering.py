"""⑦ apply, step 1: a Plan's actions → the dependency graph apply runs them by.

Two kinds of edge: ``requires`` (the dependency must have *succeeded*: a dataflow that reads
another is written after it, and not at all when it failed) and ``after`` (the other action must
merely have *finished*). Deletes run after every other action, one at a time in plan order (the
planner puts readers first), so a delete never races a write that still reads the item, and a
dataflow is not deleted when a reader of it could not be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dataflow_gitops.errors import DependencyError
from dataflow_gitops.pipeline.model import Action, ActionKind


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
