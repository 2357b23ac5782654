"""Fault matrix: each fault the emulator can inject, during a first apply and during an update.

For every case: the faulty apply exits 0 or 1 with one error line and no traceback; after the
fault clears, a re-run converges (the next plan shows no changes), names stay unique, the
unmanaged dataflow that was there before survives (no unintended delete), and every live
definition equals the desired one (nothing lost)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.generate import change_dataflows, write_dataflow
from reliability_support import WS, Cli, Probe, assert_clean, assert_converged

UNMANAGED = "Hand Made"
_WRITES = "(/items|/updateDefinition)$"  # creates and definition updates

# Probability faults are seeded: the same requests fail on every run, so the suite is repeatable.
FAULTS = {
    "429 storm": [{"kind": "throttle", "probability": 0.6, "count": None, "retryAfter": 2, "seed": 7}],
    "5xx": [
        {"kind": "status", "status": 500, "probability": 0.25, "count": None, "seed": 11},
        {"kind": "status", "status": 503, "probability": 0.15, "count": None, "seed": 13},
    ],
    "dropped connections": [{"kind": "drop", "probability": 0.3, "count": None, "seed": 17}],
    "dropped creates": [{"kind": "drop", "method": "POST", "path": "/items$", "count": 3}],
    "failed LRO": [{"kind": "lro_fail", "count": 2, "method": "POST", "path": _WRITES}],
    "failed LRO on read": [{"kind": "lro_fail", "count": 1, "path": "getDefinition$"}],
    "stuck LRO": [{"kind": "lro_stuck", "count": 1, "method": "POST", "path": _WRITES}],
    "expired token": [{"kind": "token_expired", "count": 2}],
    "expired token storm": [{"kind": "token_expired", "count": 50}],
    "persistent 500": [{"kind": "status", "status": 500, "count": None, "probability": 1.0}],
}


def _unmanaged(probe: Probe) -> None:
    # Created behind dfg's back: prune is off, so no apply may ever delete it.
    files = {
        "mashup.pq": "section Section1;\nshared A = 1;\n",
        "queryMetadata.json": {"formatVersion": "202502", "name": UNMANAGED, "queriesMetadata": {}},
    }
    probe.control(
        "POST", "seed", {"items": [{"workspaceId": WS, "displayName": UNMANAGED, "files": files}]}
    )


def _inject(probe: Probe, name: str) -> None:
    if name == "stuck LRO":
        # The client gives up after its LRO timeout (fake clock): make each poll cost 30 s.
        probe.control("POST", "config", {"retryAfterS": 30})
    for rule in FAULTS[name]:
        probe.fault(**rule)


def _assert_fault_fired(probe: Probe, name: str) -> None:
    """The case proves something only if the fault really hit dfg's requests."""
    statuses = {e["status"] for e in probe.requests()}
    kinds = {r["kind"] for r in FAULTS[name]}
    if "throttle" in kinds:
        assert 429 in statuses
    if "status" in kinds:
        assert statuses & {r["status"] for r in FAULTS[name]}
    if "drop" in kinds:
        assert 0 in statuses
    if "token_expired" in kinds:
        assert 401 in statuses
    if kinds & {"lro_fail", "lro_stuck"}:
        left = probe.control("GET", "faults")["value"]
        assert not [r for r in left if r["kind"] in kinds]  # every LRO fault was used up


def _recover(probe: Probe) -> None:
    probe.clear_faults()
    probe.control("POST", "config", {"retryAfterS": 0})


def _apply_under_fault_then_rerun(dfg: Cli, probe: Probe, fault: str) -> None:
    """An apply with ``fault`` injected ends cleanly (the fault did fire); without it, a re-run
    converges, deleting nothing."""
    _inject(probe, fault)

    code, out, err = dfg("apply", "-e", "rel", "--auto-approve")

    assert_clean(code, out, err)
    _assert_fault_fired(probe, fault)
    if fault in ("failed LRO", "failed LRO on read", "persistent 500", "expired token storm"):
        assert code == 1  # these cannot be retried away
    _recover(probe)
    assert_converged(dfg, probe, keep={UNMANAGED})
    assert not [w for w in probe.writes() if w.startswith("DELETE")]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_first_apply_under_fault_then_rerun_converges(dfg: Cli, probe: Probe, fault: str) -> None:
    _unmanaged(probe)
    _apply_under_fault_then_rerun(dfg, probe, fault)


@pytest.mark.parametrize("fault", ["5xx", "dropped connections", "failed LRO", "stuck LRO", "429 storm"])
def test_update_under_fault_then_rerun_converges(
    dfg: Cli, probe: Probe, project: Path, fault: str
) -> None:
    _unmanaged(probe)
    assert dfg("apply", "-e", "rel", "--auto-approve")[0] == 0
    change_dataflows(_generated(project), range(3), target_bytes=900, revision=7)
    write_dataflow(project / "dataflows", 99, target_bytes=900)  # and one new dataflow
    _apply_under_fault_then_rerun(dfg, probe, fault)


def test_persistent_failure_reports_one_line_and_writes_nothing_twice(dfg: Cli, probe: Probe) -> None:
    probe.fault(kind="status", status=503, count=None, probability=1.0, method="POST")

    code, out, err = dfg("apply", "-e", "rel", "--auto-approve")

    assert_clean(code, out, err)
    assert code == 1
    assert probe.dataflows() == []


def _generated(project: Path):  # the generator's view of the project folder
    from benchmarks.generate import GeneratedProject

    return GeneratedProject(project, project / "dataflows", ())
