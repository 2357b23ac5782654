"""⑦ apply, interrupted: once the stop is requested no action starts, a call in flight gets the
grace period, and every action ends settled (done, in flight → failed "unknown", not started →
skipped), with the result marked interrupted. Also the Stop itself and the signal handlers."""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence

import pytest

from dataflow_gitops import interrupts
from dataflow_gitops.errors import StoppedError
from dataflow_gitops.pipeline.model import Action, ActionKind, OutcomeStatus, Part, Plan
from dataflow_gitops.pipeline.plan.applier import apply_plan
from fakes import WORKSPACE_ID, FakeFabric, make_desired


class StoppingFabric(FakeFabric):
    """Creating ``stop_after`` requests the stop; creating ``hang`` blocks until released."""

    def __init__(self, stop_after: str, hang: str | None = None) -> None:
        super().__init__()
        self.stop_after = stop_after
        self.hang = hang
        self.release = threading.Event()
        self.hang_started = threading.Event()
        self.started: list[str] = []

    def create_dataflow(
        self,
        workspace_id: str,
        display_name: str,
        description: str,
        parts: Sequence[Part],
        *,
        folder_id: str | None = None,
        _log: bool = True,
    ) -> str:
        self.started.append(display_name)
        if display_name == self.hang:
            self.hang_started.set()
            self.release.wait(10)
        item_id = super().create_dataflow(
            workspace_id, display_name, description, parts, folder_id=folder_id, _log=_log
        )
        if display_name == self.stop_after:
            if self.hang is not None:
                self.hang_started.wait(10)  # so the stop finds it in flight
            interrupts.current().request(signal.SIGTERM)
        return item_id


def plan_of(*names: str) -> Plan:
    actions = tuple(Action(ActionKind.CREATE, n, n, desired=make_desired(n)) for n in names)
    return Plan("test", WORKSPACE_ID, actions, commit="a" * 40)


def test_no_action_starts_after_the_stop() -> None:
    fake = StoppingFabric(stop_after="A")
    with interrupts.handling():
        result = apply_plan(plan_of("A", "B", "C"), reader=fake, writer=fake, concurrency=1)
    assert fake.started == ["A"]
    assert [o.status for o in result.outcomes] == [
        OutcomeStatus.SUCCEEDED,
        OutcomeStatus.SKIPPED,
        OutcomeStatus.SKIPPED,
    ]
    assert result.interrupted == signal.SIGTERM
    assert "not started: interrupted (SIGTERM)" in str(result.outcomes[1].error)


def test_a_call_in_flight_past_the_grace_is_unknown() -> None:
    fake = StoppingFabric(stop_after="A", hang="B")
    try:
        with interrupts.handling() as stop:
            stop.grace_s = 0.3
            result = apply_plan(plan_of("A", "B", "C"), reader=fake, writer=fake, concurrency=2)
    finally:
        fake.release.set()
    statuses = {o.action.name: o.status for o in result.outcomes}
    assert statuses == {
        "A": OutcomeStatus.SUCCEEDED,
        "B": OutcomeStatus.FAILED,
        "C": OutcomeStatus.SKIPPED,
    }
    assert "may or may not have been applied" in str(result.outcomes[1].error)
    assert "C" not in fake.started


def test_stop_sleep_and_check() -> None:
    stop = interrupts.Stop(grace_s=0.0)
    stop.sleep(0.0)
    stop.check()
    stop.request(signal.SIGINT)
    with pytest.raises(StoppedError, match="SIGINT"):
        stop.check("POST x")
    with pytest.raises(StoppedError):
        stop.sleep(5.0)  # past the grace period: refused at once, no wait


def test_handlers_raise_once_then_exit_at_once_and_are_restored() -> None:
    before = signal.getsignal(signal.SIGINT)
    lines: list[str] = []
    codes: list[int] = []
    with interrupts.handling(echo=lines.append, hard_exit=codes.append) as stop:
        with pytest.raises(interrupts.Interrupted) as caught:
            signal.raise_signal(signal.SIGINT)
        assert caught.value.exit_code == 130
        assert stop.requested
        signal.raise_signal(signal.SIGINT)  # the second one: out at once
        assert codes == [130]
        assert "again: exiting now" in lines[-1]
    assert signal.getsignal(signal.SIGINT) is before
    assert not interrupts.current().requested


def test_a_signal_in_a_shielded_block_only_sets_the_stop() -> None:
    with interrupts.handling(echo=lambda _: None, hard_exit=lambda _: None) as stop:
        with stop.shielded():
            signal.raise_signal(signal.SIGINT)
        assert stop.requested
        assert stop.signum == signal.SIGINT
