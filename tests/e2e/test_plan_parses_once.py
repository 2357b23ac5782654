"""Each M text is parsed once per process: the source stage's parts carry their documents to
render, diff and plan, a rendered document is the source's with its literals swapped, and a live
definition is read only when it differs from what the plan wants, and then once."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from e2e_support import Live
from emulator_project import commit_all
from parse_count import counting_parses

from dataflow_gitops import api
from dataflow_gitops.adapters.read_ahead import NO_CACHE_ENV


def _mashups(project: Path) -> dict[str, str]:
    return {
        path.parent.name: path.read_text(encoding="utf-8-sig")
        for path in sorted(project.glob("dataflows/*.Dataflow/mashup.pq"))
    }


def test_a_plan_reads_each_distinct_mashup_once(
    project: Path, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No persistent read cache (every read is one this process makes), and texts that no other
    # test of this process read before.
    monkeypatch.setenv(NO_CACHE_ENV, "1")
    mark = uuid.uuid4()
    for path in project.glob("dataflows/*.Dataflow/mashup.pq"):
        path.write_bytes(f"// {mark}\n".encode() + path.read_bytes())
    commit_all(project, "unique texts")
    sources = _mashups(project)

    with counting_parses(monkeypatch) as parsed:
        with api.deployment(project, "e2e", write=True) as dep:
            applied = api.apply(dep, api.plan(dep), check_stale=False)
        assert applied.result.ok
        # Validate, render, plan and apply of seven dataflows: each source text read once, and
        # nothing else (the overlay's parameter and bindings swap literals: no new text to read).
        assert sorted(parsed) == sorted(sources.values())

        deployed = live.mashup(live.dataflows()["Customers"])
        customers = project / "dataflows" / "Customers.Dataflow" / "mashup.pq"
        customers.write_bytes(customers.read_bytes() + b"// reviewed\n")
        commit_all(project, "a comment")
        before = len(parsed)
        with api.deployment(project, "e2e") as dep:
            again = api.plan(dep)
            api.plan(dep)  # and a second plan in the same process reads nothing new
        changed = [a.name for a in again.actions if a.is_change]
        assert changed == ["Customers"]
        # The changed source, and the live definition it is compared with, once each; the six
        # others were read by the first plan, and live equals what this plan wants.
        assert sorted(parsed[before:]) == sorted([_mashups(project)["Customers.Dataflow"], deployed])
    assert len(parsed) == len(set(parsed))
