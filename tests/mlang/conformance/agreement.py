"""The reader's verdict on a probe, and the agreement numbers against the stored oracle verdicts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.mlang.conformance.corpus import Probe

from dataflow_gitops.errors import MSyntaxError
from dataflow_gitops.pipeline.definition.mlang import parse_section

FIXTURE = Path(__file__).with_name("oracle.json")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    line: int | None = None
    column: int | None = None


def reader_verdict(text: str) -> Verdict:
    try:
        doc = parse_section(text)
        for member in doc.members:  # the trees too: a member's tree is built on first use
            member.expression  # noqa: B018
            member.attribute  # noqa: B018
    except MSyntaxError as error:
        return Verdict(False, error.line, error.column)
    return Verdict(True)


def oracle_entries() -> dict[str, dict[str, object]]:
    entries: dict[str, dict[str, object]] = json.loads(FIXTURE.read_text(encoding="utf-8"))["probes"]
    return entries


@dataclass(frozen=True)
class Numbers:
    probes: int
    same_verdict: int
    both_refuse: int
    same_line: int
    deliberate: int

    def line(self) -> str:
        verdict = 100 * self.same_verdict / max(self.probes, 1)
        lines = 100 * self.same_line / max(self.both_refuse, 1)
        return (
            f"{self.probes} probes, same verdict {self.same_verdict} ({verdict:.1f}%), "
            f"both refuse {self.both_refuse}, same line {self.same_line} ({lines:.1f}%), "
            f"deliberate differences {self.deliberate}"
        )


def numbers(
    probes: Iterable[Probe], entries: Mapping[str, Mapping[str, object]]
) -> tuple[Numbers, dict[str, Numbers]]:
    """(all, per group): verdict and line agreement of the reader with the oracle."""
    rows: dict[str, list[int]] = {}
    total = [0, 0, 0, 0, 0]
    for probe in probes:
        entry = entries[probe.id]
        mine = reader_verdict(probe.text)
        same = mine.ok == entry["ok"]
        both = not mine.ok and not entry["ok"]
        row = rows.setdefault(probe.group, [0, 0, 0, 0, 0])
        for counts in (row, total):
            counts[0] += 1
            counts[1] += same
            counts[2] += both
            counts[3] += both and mine.line == entry["line"]
            counts[4] += probe.differs is not None
    return Numbers(*total), {group: Numbers(*row) for group, row in rows.items()}


def report(probes: Iterable[Probe], entries: Mapping[str, Mapping[str, object]]) -> str:
    overall, groups = numbers(list(probes), entries)
    lines = [f"all: {overall.line()}"]
    lines += [f"  {group}: {n.line()}" for group, n in groups.items()]
    return "\n".join(lines)
