"""Suite figures: pytest on ``tests/reliability``, ``tests/security``, ``tests/fuzz`` (JUnit XML, plus
the fuzz suites' case counts) → the text of ``docs/reliability.md``.

The fuzz tests write how many generated cases each property ran to ``DFG_FUZZ_STATS`` (a JSON
lines file), so the document reports cases actually run, not ``max_examples`` settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.scenarios import REPO_ROOT

SUITES = (
    ("reliability", "tests/reliability", "fault matrix against the emulator"),
    ("security", "tests/security", "token and secret scan, foreign Location, path traversal"),
    ("fuzz", "tests/fuzz", "generated bad input: overlays, definition parts, plan files"),
)


@dataclass(frozen=True, slots=True)
class Case:
    suite: str
    name: str
    outcome: str
    message: str = ""


def parse_junit(path: Path, suite: str) -> list[Case]:
    cases: list[Case] = []
    for node in ET.parse(path).getroot().iter("testcase"):
        name = node.get("name", "")
        outcome, message = "passed", ""
        for child in node:
            if child.tag in ("failure", "error"):
                outcome, message = "failed", (child.get("message") or "")[:200]
            elif child.tag == "skipped":
                outcome, message = "skipped", (child.get("message") or "")[:200]
        cases.append(Case(suite, name, outcome, message))
    return cases


def read_fuzz_stats(path: Path) -> dict[str, int]:
    counts: Counter[str] = Counter()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                counts[str(entry["property"])] += int(entry["cases"])
    return dict(counts)


def run(workdir: Path, *, command: str) -> str:
    stats = workdir / "fuzz-stats.jsonl"
    stats.unlink(missing_ok=True)
    env = {**os.environ, "DFG_FUZZ_STATS": str(stats)}
    cases: list[Case] = []
    exits: dict[str, int] = {}
    for suite, folder, _ in SUITES:
        junit = workdir / f"{suite}.xml"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                folder,
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={junit}",
                "-o",
                "junit_family=xunit2",
            ],
            cwd=REPO_ROOT,
            env=env,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        exits[suite] = done.returncode
        if junit.exists():
            cases.extend(parse_junit(junit, suite))
    return render(cases, exits, read_fuzz_stats(stats), command=command)


THREAT_MODEL = """\
## Threat model and plan-file trust

What a careless or hostile user can and cannot make dfg do; the suites above and
`tests/e2e/test_plan_trust.py`, `tests/e2e/test_export_safety.py`,
`tests/security/test_secret_flows.py` and `tests/integrations` prove each line.

- **A saved plan is evidence, not authority** ([plan-files.md](plan-files.md)). It is bound to
  the workspace, API and auth identity the environment resolves to *now* (else refused, nothing
  written); prune, `--allow-delete`, scope and protection come from today's overlay and command
  line, never from the file; apply re-plans from the plan's own commit (or its unchanged dirty
  working tree) and refuses any action whose kind, item, payload or shown diff differs, so an
  edited `noop` → `delete` or a rewritten payload with a recomputed fingerprint writes nothing.
  `--trust-plan-file` skips only that proof, for a source that cannot be reproduced here.
- **Export never loses git work**: it refuses to overwrite a file with uncommitted edits
  (`--overwrite-local` lets live win) or to undo a dataflow changed since the commit last
  applied (`--discard-pending`), naming the files or dataflows.
- **Secrets**: every value substituted from `${env:NAME}` is shown as that reference in every
  output (text, markdown, JSON, `-v` request lines, errors, logs), plan file and comment; records
  keep salted fingerprints, never values, and export writes the reference where live holds a
  secret value, current or rotated since.
- **Pull-request comments**: `dfg comment` edits or deletes only comments written by the
  token's own identity (GitHub `GET /user`, Azure DevOps `connectionData`), never another
  user's comment that carries the marker.
- Not defended: someone who can change the repository, the applying job's overlay or its
  environment variables.
"""


def render(cases: list[Case], exits: dict[str, int], fuzz: dict[str, int], *, command: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Reliability, security and bad-input suites",
        "",
        f"Generated by `{command}` on {when}; do not edit by hand. The same suites run in CI "
        "(`pytest tests/reliability tests/security tests/fuzz`).",
        "",
        "| suite | what | cases | passed | failed | skipped | pytest exit |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for suite, folder, what in SUITES:
        mine = [c for c in cases if c.suite == suite]
        count = Counter(c.outcome for c in mine)
        lines.append(
            f"| {suite} (`{folder}`) | {what} | {len(mine)} | {count['passed']} | {count['failed']} | "
            f"{count['skipped']} | {exits.get(suite, '–')} |"
        )
    lines += ["", THREAT_MODEL.rstrip("\n")]
    lines += ["", "## Generated bad input (hypothesis)", ""]
    if fuzz:
        lines += ["| property | generated cases run |", "|---|---:|"]
        lines += [f"| {name} | {n} |" for name, n in sorted(fuzz.items())]
        lines += [f"| **total** | **{sum(fuzz.values())}** |"]
    else:
        lines.append("No case counts were recorded.")
    for suite, _, _ in SUITES:
        mine = [c for c in cases if c.suite == suite]
        if not mine:
            continue
        lines += ["", f"## {suite}", "", "| case | result |", "|---|---|"]
        for c in mine:
            result = c.outcome if not c.message else f"{c.outcome}: {c.message}"
            lines.append(f"| `{c.name}` | {result.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


GENERATED_MARKER = "<!-- The suite results below are generated; edit only above this line. -->"


def keep_written_part(old: str, generated: str) -> str:
    """The hand-written guide of ``old`` (everything above the marker), then ``generated``."""
    written, found, _ = old.partition(GENERATED_MARKER)
    if not found:
        return generated
    demoted = generated.replace("# Reliability, security", "## Reliability, security", 1)
    return f"{written}{GENERATED_MARKER}\n\n{demoted}"
