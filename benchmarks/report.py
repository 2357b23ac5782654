"""Benchmark report: measurements + offline result + machine facts → ``docs/benchmarks.md`` text.

Targets are checked here, and a missed one gets its explanation from the same figures (calls,
quota-bound limit, time per call), so the document never claims what the run did not show.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.scenarios import (
    FIRST,
    FIRST_C8,
    OFFLINE_TARGET_COUNT,
    OURS,
    PEER,
    PLAN_0,
    REDEPLOY_0,
    SCENARIOS,
    Matrix,
    Measurement,
)

OFFLINE_SECONDS = 3.0
OFFLINE_MB = 400.0


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    goal: str
    measured: str
    met: bool | None
    """None: not measured in this run."""
    why: str = ""


def _num(doc: dict[str, object], key: str) -> float:
    try:
        return float(str(doc.get(key, "nan")))
    except ValueError:
        return float("nan")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} logical CPUs{memory}, "
        f"Python {platform.python_version()}; load average at the end of the run {load} (other "
        "work shared the machine)"
    )


def _find(
    results: Sequence[Measurement], tool: str, scenario: str, n: int, quota: int | None
) -> Measurement | None:
    for m in results:
        if (m.tool, m.scenario, m.n, m.quota) == (tool, scenario, n, quota):
            return m
    return None


def _secs(m: Measurement | None) -> str:
    if m is None:
        return "–"
    text = f"{m.seconds:.1f} s"
    if m.exit not in (0, 2):
        text += f" (exit {m.exit})"
    return text


def _calls(m: Measurement | None) -> str:
    if m is None:
        return "–"
    text = f"{m.calls} ({m.calls_per_dataflow:.1f}/df)"
    if m.throttled:
        text += f", {m.throttled}×429"
    return text


def _bound(m: Measurement | None) -> str:
    if m is None or m.quota_bound_s is None:
        return ""
    return f"{m.quota_bound_s:.0f} s"


def results_table(results: Sequence[Measurement]) -> list[str]:
    lines = [
        "| quota | N | scenario | dfg time | dfg calls | dfg quota-bound | fabric-cicd time | "
        "fabric-cicd calls | fabric-cicd quota-bound | dfg ÷ fabric-cicd |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    cells = sorted({(m.quota or 0, m.n) for m in results})
    for quota_key, n in cells:
        quota = quota_key or None
        for scenario in SCENARIOS:
            ours = _find(results, OURS, scenario, n, quota)
            peer = _find(results, PEER, FIRST if scenario == FIRST_C8 else scenario, n, quota)
            if ours is None:
                peer = None if scenario == FIRST_C8 else peer
            if ours is None and peer is None:
                continue
            ratio = f"{ours.seconds / peer.seconds:.3f}×" if ours and peer and peer.seconds else "–"
            if scenario == PLAN_0 and peer is None:
                ratio = "fabric-cicd has no plan"
            lines.append(
                f"| {quota or 'off'}{'/min' if quota else ''} | {n} | {scenario} | {_secs(ours)} | "
                f"{_calls(ours)} | {_bound(ours)} | {_secs(peer)} | {_calls(peer)} | {_bound(peer)} "
                f"| {ratio} |"
            )
    return lines


def targets(results: Sequence[Measurement], offline: dict[str, object]) -> list[Target]:
    out: list[Target] = []
    for scenario, limit, label in (
        (FIRST, 0.25, "first deploy"),
        (REDEPLOY_0, 0.10, "no-change redeploy"),
    ):
        ours = _find(results, OURS, scenario, 50, None)
        peer = _find(results, PEER, scenario, 50, None)
        if ours is None or peer is None:
            out.append(Target(f"{label}, N=50", f"≤ {limit}× fabric-cicd", "not in this run", None))
            continue
        ratio = ours.seconds / peer.seconds
        why = ""
        if ratio > limit:
            per_call_ours = ours.seconds / max(ours.calls, 1)
            why = (
                f"dfg made {ours.calls} calls ({ours.calls_per_dataflow:.1f} per dataflow) in "
                f"{ours.seconds:.1f} s ({per_call_ours * 1000:.0f} ms per call on average); "
                f"fabric-cicd made {peer.calls} calls in {peer.seconds:.1f} s. Each create / "
                "getDefinition is an LRO that waits out `Retry-After` (1 s) twice, about 2.3 s per "
                "dataflow, so the time is ~N ÷ (calls in flight) × 2.3 s: writes default to 4 in "
                "flight (`dfg apply --concurrency`), reads to 32."
            )
            c8 = _find(results, OURS, FIRST_C8, 50, None)
            if scenario == FIRST and c8 is not None:
                why += (
                    f" The same deploy with `--concurrency 8` took {c8.seconds:.1f} s "
                    f"({c8.seconds / peer.seconds:.3f}×)"
                )
                if c8.seconds > 0.85 * ours.seconds:
                    why += (
                        ": twice the writes in flight did not make it faster, so dfg's concurrency "
                        f"is not what bounds it here; the emulator served {c8.calls / c8.seconds:.1f} "
                        "calls/s to dfg on this shared 2-CPU machine (see the load average above), "
                        "while fabric-cicd's calls are spaced out by its own sleeps."
                    )
                else:
                    why += "."
        out.append(
            Target(f"{label}, N=50", f"≤ {limit}× fabric-cicd", f"{ratio:.3f}×", ratio <= limit, why)
        )
    throttled = [m for m in results if m.tool == OURS and m.scenario == PLAN_0 and m.quota]
    if not throttled:
        out.append(Target("no-change plan, throttled", "≤ 1.3× quota-bound", "not in this run", None))
    for m in throttled:
        bound = m.quota_bound_s or 0.0
        if bound < 60:
            # Under one window's worth of calls the fixed-window quota never throttles.
            out.append(
                Target(
                    f"no-change plan, N={m.n}, quota {m.quota}/min",
                    "≤ 1.3× quota-bound",
                    f"{m.seconds:.1f} s vs bound {bound:.1f} s ({m.calls} calls fit in one quota "
                    "window; not throttled)",
                    m.seconds <= max(1.3 * bound, bound + 5.0),
                )
            )
            continue
        ratio = m.seconds / bound
        why = (
            ""
            if ratio <= 1.3
            else (
                f"{m.calls} calls, {m.throttled} answered 429; waiting out Retry-After windows "
                f"accounts for the time above the bound."
            )
        )
        out.append(
            Target(
                f"no-change plan, N={m.n}, quota {m.quota}/min",
                "≤ 1.3× quota-bound",
                f"{m.seconds:.1f} s vs bound {bound:.1f} s = {ratio:.2f}×",
                ratio <= 1.3,
                why,
            )
        )
    out.extend(offline_targets(offline))
    return out


OFFLINE_PHASES = (
    ("warm", "repeat run (read cache filled by the first)"),
    ("cold", "first run (nothing cached)"),
)


def _phase(offline: dict[str, object], phase: str) -> dict[str, object]:
    run = offline.get(phase)
    return run if isinstance(run, dict) else {}


def _workers(run: dict[str, object]) -> int:
    count = _num(run, "workers")
    return int(count) if count >= 1 else 1  # NaN (not measured) compares false


def peak_mb(run: dict[str, object]) -> float:
    """Peak resident memory of the run: this process and its M-reading workers together."""
    tree = _num(run, "tree_peak_rss_mb")
    return tree if tree == tree else _num(run, "peak_rss_mb")  # NaN: an older result file


def offline_targets(offline: dict[str, object]) -> list[Target]:
    count = int(str(offline.get("count", 0))) or 1
    scale = OFFLINE_TARGET_COUNT / count
    out: list[Target] = []
    for phase, label in OFFLINE_PHASES:
        run = _phase(offline, phase)
        measured = _num(run, "seconds")
        seconds, peak = measured * scale, peak_mb(run)
        met = seconds < OFFLINE_SECONDS and peak < OFFLINE_MB and run.get("exit") == 0
        shown = (
            f"{seconds:.2f} s"
            if scale == 1
            else f"{measured:.1f} s for {count} → ~{seconds:.0f} s for {OFFLINE_TARGET_COUNT} (linear)"
        )
        out.append(
            Target(
                f"offline validate+render+diff, {OFFLINE_TARGET_COUNT} dataflows, {label}",
                f"< {OFFLINE_SECONDS:.0f} s and < {OFFLINE_MB:.0f} MB",
                f"{shown}, peak RSS {peak:.0f} MB",
                met,
                "" if met else offline_why(run, count, cold=phase == "cold"),
            )
        )
    return out


def offline_why(run: dict[str, object], count: int, *, cold: bool) -> str:
    mb = _num(run, "mashup_bytes") / 1e6
    steps = (
        f"validate {_num(run, 'validate_s'):.1f} s, render {_num(run, 'render_s'):.1f} s, "
        f"diff + plan {_num(run, 'diff_s'):.1f} s for {count} dataflows"
    )
    if not cold:
        return (
            f"{steps}; {_num(run, 'from_cache'):.0f} documents came from the read cache and "
            f"{_num(run, 'parsed_ahead') + _num(run, 'parse_calls'):.0f} were parsed."
        )
    workers = _workers(run)
    read_s = _num(run, "validate_s")
    rate = mb * 1000 / max(read_s * workers, 1e-9)
    return (
        f"{steps}. With nothing cached every one of the {mb:.0f} MB of M is tokenized and parsed "
        f"once (validate must check every query's syntax, and it builds every query's syntax tree "
        "for the unknown-names check: the `--no-names` column is the same run without it), in "
        f"{workers} process(es): validate's "
        f"{read_s:.1f} s is almost all of it, about {rate:.0f} KB/s per process. 1,000 × 50 KB in "
        "3 s needs about 17 MB/s, beyond a pure-Python recursive-descent reader on this machine; "
        "the read cache is what makes every later run fast, and the GitHub action keeps it between "
        "CI runs."
    )


def offline_section(offline: dict[str, object], matrix: Matrix) -> list[str]:
    cold, warm = _phase(offline, "cold"), _phase(offline, "warm")
    bare = _phase(offline, "cold_no_names")

    def row(name: str, key: str) -> str:
        return f"| {name} | " + " | ".join(f"{_num(r, key):.2f} s" for r in (cold, warm, bare)) + " |"

    def counts(run: dict[str, object]) -> str:
        return f"{_num(run, 'parsed_ahead'):.0f} / {_num(run, 'from_cache'):.0f}"

    def peak(run: dict[str, object]) -> str:
        return (
            f"{peak_mb(run):.0f} MB ({_num(run, 'peak_rss_mb'):.0f}; "
            f"{_num(run, 'worker_peak_rss_mb'):.0f})"
        )

    total = " | ".join(f"**{_num(r, 'seconds'):.2f} s**" for r in (cold, warm, bare))
    return [
        f"{offline.get('count')} generated dataflows, {_num(cold, 'mashup_bytes') / 1e6:.1f} MB of M "
        f"in total (~{matrix.offline_bytes // 1000} KB each); an overlay parameter changes one query "
        "in every dataflow, so the diff compares every query and renders a line diff for each. "
        "Fresh processes one after the other: the first with nothing cached, the second with "
        "the read cache (`.dataflow-gitops/cache/`) the first one left, as on a developer's machine "
        "or a CI runner that restores it; before them, a first run with `dfg validate --no-names`, "
        "to show what the default unknown-names check costs.",
        "",
        "| step | first run | repeat run | first run, `--no-names` |",
        "|---|---:|---:|---:|",
        row("validate (`dfg validate`)", "validate_s"),
        row("render", "render_s"),
        row("diff + plan", "diff_s"),
        f"| **total** | {total} |",
        f"| documents parsed / from the read cache | {counts(cold)} | {counts(warm)} | {counts(bare)} |",
        f"| processes reading M (this one and its workers) | {_num(cold, 'workers'):.0f} | "
        f"{_num(warm, 'workers'):.0f} | {_num(bare, 'workers'):.0f} |",
        f"| peak RSS: all processes (this one; largest worker) | {peak(cold)} | {peak(warm)} | "
        f"{peak(bare)} |",
        "",
        f"{_num(warm, 'updates'):.0f} updates planned, exit {cold.get('exit')} / {warm.get('exit')}; "
        f"process after imports: {_num(cold, 'base_rss_mb'):.0f} MB.",
    ]


def render(
    results: Sequence[Measurement],
    offline: dict[str, object],
    matrix: Matrix,
    *,
    command: str,
    started: str,
    elapsed_s: float,
) -> str:
    s = matrix.settings
    lines = [
        "# Benchmarks: dfg vs fabric-cicd 1.4.0",
        "",
        "Generated by the benchmark command; do not edit by hand.",
        "",
        f"- **Command:** `{command}` (started {started}, took {elapsed_s / 60:.1f} min)",
        f"- **Machine:** {machine()}",
        f"- **Emulator:** `fabric-emulator --latency-ms {s.latency_ms} --lro {s.lro}` (a subprocess per "
        "tool, same settings; every create / getDefinition / updateDefinition answers 202 and is "
        "polled; the emulator's default `Retry-After: 1` on operations), quota off, and 200 calls/min "
        "per identity where the table says so.",
        "- **dfg:** `dfg apply -e bench --auto-approve` / `dfg plan -e bench` with default options, "
        "in a fresh process (the clock starts after imports).",
        "- **fabric-cicd:** `publish_all_items` with its default retry delays, in a fresh process; "
        "it has no plan step and writes every item on every run.",
        "- Every timed run uses a fresh token (a fresh quota identity): it starts with a full window. "
        "Calls are counted from the emulator's request log (`/_emulator/requests`), retries and "
        "429 answers included. The quota-bound limit is calls × 60 s ÷ quota.",
        "- Generated dataflows: ~3 KB of M each (parameters and 10–20 filtered queries), the same "
        "folders for both tools.",
        "",
        "## Results",
        "",
        *results_table(results),
        "",
        "## Offline: validate + render + diff",
        "",
        *offline_section(offline, matrix),
        "",
        "## Targets",
        "",
        "| target | goal | measured | met |",
        "|---|---|---|---|",
    ]
    found = targets(results, offline)
    for t in found:
        verdict = "not measured" if t.met is None else ("yes" if t.met else "**no**")
        lines.append(f"| {t.name} | {t.goal} | {t.measured} | {verdict} |")
    missed = [t for t in found if t.met is False]
    lines += ["", "## Missed targets", ""]
    if not missed:
        lines.append("None in this run.")
    for t in missed:
        lines.append(f"- **{t.name}** ({t.measured}): {t.why}")
    failures = [m for m in results if m.exit not in (0, 2)]
    if failures:
        lines += ["", "## Failed runs", ""]
        lines += [
            f"- {m.tool}, {m.scenario}, N={m.n}: exit {m.exit}: `{m.detail.strip()[-200:]}`"
            for m in failures
        ]
    return "\n".join(lines) + "\n"
