"""`--timeout` bounds each long-running operation (a clean error naming the option, exit 1), and
a long wait shows progress while it lasts. The emulator's operations need many polls; dfg runs
on a fake clock (the client's timing seam), so minutes of polling cost no wall time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_support import Live
from emulator_project import Cli
from fake_time import FakeTime

from dataflow_gitops.fabric import timing

SLOW = {"lro": "always", "retryAfterS": 5, "lroPolls": 40, "latencyMs": 0}


@pytest.fixture
def fake_clock() -> Iterator[FakeTime]:
    fake = FakeTime()
    with timing.using(sleep=fake.sleep, clock=fake.clock):
        yield fake


def test_timeout_bounds_an_operation(dfg: Cli, live: Live, fake_clock: FakeTime) -> None:
    live.control("POST", "config", SLOW)
    code, out, err = dfg(
        "apply", "-e", "e2e", "--auto-approve", "--target", "Products", "--timeout", "60"
    )
    assert code == 1, (out, err)
    assert "Traceback" not in out + err
    assert "still running after 60s" in out
    assert "--timeout" in out
    assert fake_clock.slept < 120


def test_a_long_operation_shows_progress(dfg: Cli, live: Live, fake_clock: FakeTime) -> None:
    live.control("POST", "config", {**SLOW, "lroPolls": 8})
    code, out, err = dfg("apply", "-e", "e2e", "--auto-approve", "--target", "Products")
    assert code == 0, (out, err)
    assert "create Dataflow 'Products': still Running after" in err
