"""The reader agrees with Microsoft's M parser on the conformance corpus (issue 15).

The verdicts of ``@microsoft/powerquery-parser`` are stored in ``oracle.json`` (regenerate with
``python scripts/regen_m_oracle.py``; this test needs no node). Every hand-written probe must get the
same verdict, and where both refuse, the error on the same line; a probe that differs on purpose
says why, and must still differ (so a record never outlives the difference it explains). Mutants
are held to the issue's bar: the same verdict always, the same line in at least 95% of refusals.
"""

from __future__ import annotations

import pytest
from tests.mlang.conformance.agreement import numbers, oracle_entries, reader_verdict
from tests.mlang.conformance.corpus import Probe, probes

PROBES = probes()
ENTRIES = oracle_entries()
GROUPS = {p.group for p in PROBES}
HAND_WRITTEN = [p for p in PROBES if p.group != "mutants"]


def test_the_stored_verdicts_are_those_of_the_present_corpus() -> None:
    stale = [p.id for p in PROBES if ENTRIES.get(p.id, {}).get("digest") != p.digest]
    extra = sorted(set(ENTRIES) - {p.id for p in PROBES})
    regenerate = "oracle.json is out of date: run python scripts/regen_m_oracle.py"
    assert not stale, f"{regenerate} (changed or new probes {stale[:5]})"
    assert not extra, f"{regenerate} (removed probes {extra[:5]})"
    deliberate = {p.id: p.differs for p in PROBES if p.differs}
    assert {k: v.get("differs") for k, v in ENTRIES.items() if v.get("differs")} == deliberate


def test_every_class_of_the_issue_is_represented() -> None:
    assert {
        "valid",
        "refused",
        "reader_right",
        "open",
        "positions",
        "deep",
        "bases",
        "mutants",
    } <= GROUPS
    counts = {g: sum(p.group == g for p in PROBES) for g in GROUPS}
    assert counts["mutants"] >= 500
    assert counts["refused"] >= 80
    assert counts["valid"] >= 70


@pytest.mark.parametrize("probe", HAND_WRITTEN, ids=lambda p: p.id)
def test_hand_written_probe(probe: Probe) -> None:
    oracle = ENTRIES[probe.id]
    mine = reader_verdict(probe.text)
    same_verdict = mine.ok == oracle["ok"]
    same_line = mine.ok or oracle["ok"] or mine.line == oracle["line"]
    if probe.differs is None:
        assert same_verdict, f"reader {mine}, Microsoft's parser {oracle}"
        assert same_line, f"reader refuses at line {mine.line}, Microsoft's parser at {oracle['line']}"
    else:
        assert not (same_verdict and same_line), (
            f"{probe.id} is recorded as a deliberate difference ({probe.differs}) but the reader "
            "now agrees: drop the record"
        )


def test_mutants_get_the_same_verdict_and_mostly_the_same_line() -> None:
    mutants = [p for p in PROBES if p.group == "mutants"]
    _, groups = numbers(mutants, ENTRIES)
    counted = groups["mutants"]
    assert counted.same_verdict == counted.probes
    assert counted.same_line >= 0.95 * counted.both_refuse


def test_deep_documents_read_and_deeper_ones_are_a_clean_syntax_error() -> None:
    deep = [p for p in PROBES if p.group == "deep"]
    assert len(deep) >= 6
    assert all(reader_verdict(p.text).ok for p in deep)
    absurd = "section S;\nshared A = " + "{" * 40_000 + "1" + "}" * 40_000 + ";"
    verdict = reader_verdict(absurd)
    assert not verdict.ok
    assert verdict.line == 2
