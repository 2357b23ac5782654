"""Smoke test of the benchmark harness at tiny N: both tools run against emulator subprocesses, the
offline measurement runs, and the documents come out with their structure. Asserts structure and
call counts, never timings."""

from __future__ import annotations

import math
from pathlib import Path

from benchmarks import report, suites
from benchmarks.emulator import Settings
from benchmarks.scenarios import (
    FIRST,
    OURS,
    PEER,
    PLAN_0,
    REDEPLOY_0,
    Cell,
    Matrix,
    run_chain,
    run_offline,
)


def test_harness_runs_both_tools_and_writes_the_report(tmp_path: Path) -> None:
    matrix = Matrix(
        cells=(Cell(2, None, ours=(FIRST, REDEPLOY_0, PLAN_0), peer=(FIRST,)),),
        offline_count=3,
        offline_bytes=2_000,
        # Operations answer "done" at the first poll with no Retry-After wait: the harness and
        # its counts are the same, without seconds of sleeping in each subprocess.
        settings=Settings(retry_after_s=0),
    )
    ours = run_chain(OURS, matrix, tmp_path, lambda line: None)
    peer = run_chain(PEER, matrix, tmp_path, lambda line: None)
    offline = run_offline(matrix, tmp_path)

    assert [(m.scenario, m.exit) for m in ours] == [(FIRST, 0), (REDEPLOY_0, 0), (PLAN_0, 0)]
    assert [(m.scenario, m.exit) for m in peer] == [(FIRST, 0)]
    first = ours[0]
    # Two creates, each a POST and its operation: at least 2 writes and more calls than writes.
    assert first.writes >= 2
    assert first.calls > first.writes
    # A no-change redeploy and a plan write nothing.
    assert ours[1].writes == 0
    assert ours[2].writes == 0
    assert peer[0].writes >= 2
    cold, warm, bare = offline["cold"], offline["warm"], offline["cold_no_names"]
    assert isinstance(cold, dict)
    assert isinstance(warm, dict)
    assert isinstance(bare, dict)
    for run in (cold, warm, bare):
        assert run["exit"] == 0
        assert run["dataflows"] == 3
        assert run["updates"] == 3  # the overlay's parameter changes one query in each
        assert not math.isnan(float(str(run["peak_rss_mb"])))
    # The first run parses every text; the repeat run rebuilds each from the read cache.
    assert (cold["parsed_ahead"], cold["from_cache"]) == (3, 0)
    assert (warm["parsed_ahead"], warm["from_cache"], warm["parse_calls"]) == (0, 3, 0)
    assert (bare["parsed_ahead"], bare["from_cache"]) == (3, 0)  # its own cache, removed after it

    text = report.render(ours + peer, offline, matrix, command="test", started="now", elapsed_s=1.0)
    assert "| off | 2 | first deploy |" in text
    assert "fabric-cicd has no plan" in text
    assert "## Targets" in text
    assert "## Missed targets" in text
    assert "| documents parsed / from the read cache | 3 / 0 | 0 / 3 | 3 / 0 |" in text
    assert "first run, `--no-names`" in text
    assert "repeat run (read cache filled by the first)" in text


def test_suite_summary_counts_junit_outcomes(tmp_path: Path) -> None:
    junit = tmp_path / "r.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="a" name="test_ok"/>'
        '<testcase classname="a" name="test_bad"><failure message="boom"/></testcase>'
        '<testcase classname="a" name="test_skip"><skipped message="no"/></testcase>'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    cases = suites.parse_junit(junit, "reliability")
    text = suites.render(cases, {"reliability": 1}, {"overlay": 150, "plan": 60}, command="test")

    assert [c.outcome for c in cases] == ["passed", "failed", "skipped"]
    assert "| 3 | 1 | 1 | 1 | 1 |" in text
    assert "| **total** | **210** |" in text
