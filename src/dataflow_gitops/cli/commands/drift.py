"""`dfg drift`: desired (git) × last applied (record) × live, per dataflow; exit 2 on live drift.

Made for a scheduled CI job: the exit code says whether someone edited the workspace by hand,
and ``--format markdown`` goes straight into an issue or ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from dataflow_gitops import api
from dataflow_gitops.cli.commands.options import (
    annotate_error,
    env_option,
    format_option,
    project_dir,
    use_color,
    write_step_summary,
)
from dataflow_gitops.cli.output import Format
from dataflow_gitops.pipeline.model import DataflowDiff
from dataflow_gitops.pipeline.plan.schedules import schedule_line
from dataflow_gitops.pipeline.release.drift import DataflowDrift, DriftReport, DriftStatus

EXIT_DRIFT = 2
LABELS = {
    DriftStatus.IN_SYNC: ("=", "in sync", None),
    DriftStatus.PENDING: ("~", "pending git change", "yellow"),
    DriftStatus.LIVE_DRIFT: ("!", "live drift (changed outside git)", "red"),
    DriftStatus.BOTH: ("!", "live drift and a pending git change", "red"),
    DriftStatus.MISSING_LIVE: ("!", "missing live", "red"),
    DriftStatus.NOT_DEPLOYED: ("+", "in git, not deployed yet", "yellow"),
    DriftStatus.UNRECORDED: ("?", "live but not recorded as deployed", "yellow"),
    DriftStatus.UNMANAGED: ("?", "unmanaged (not in the repository)", None),
}


@click.command("drift")
@env_option
@format_option
@click.option("--ref", metavar="GITREF", help="Desired state from this commit instead of the checkout.")
def command(env: str, fmt: Format, ref: str | None) -> int:
    """Show what changed in ENV since the last apply, apart from what changed in git.

    Per dataflow: in sync; a pending git change (apply it with `dfg apply`); live drift, a
    hand edit made outside git (bring it into git with `dfg export`, or overwrite it with
    `dfg apply`); both; missing live; unmanaged. Live drift shows the per-query diff from the
    last applied definition to live. Exit 2 whenever live drifted, 0 otherwise.

    \b
    Examples:
      dfg drift -e prod
      dfg drift -e prod --format markdown >> "$GITHUB_STEP_SUMMARY"
      dfg drift -e prod --format json | jq '.dataflows[] | select(.live_drifted)'
    """
    color = use_color(fmt)
    with api.deployment(project_dir(), env) as dep:
        report = api.drift(dep, ref=ref)
    if fmt == "json":
        click.echo(json.dumps(drift_json(report), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(drift_markdown(report).rstrip("\n"))
    else:
        click.echo(drift_text(report, color=color).rstrip("\n"))
    write_step_summary(drift_markdown(report))
    if fmt != "json":  # annotations go to stdout: the JSON document must stay alone there
        for row in report.dataflows:
            if row.live_drifted:
                annotate_error(f"dfg drift {env}", f"{row.display_name}: {LABELS[row.status][1]}")
    return EXIT_DRIFT if report.live_drifted else 0


def summary(report: DriftReport) -> str:
    counts = {s: len(report.with_status(s)) for s in DriftStatus}
    shown = [f"{n} {LABELS[s][1]}" for s, n in counts.items() if n and s is not DriftStatus.IN_SYNC]
    head = "Live drift detected" if report.live_drifted else "No live drift"
    return f"{head}: {counts[DriftStatus.IN_SYNC]} in sync" + "".join(f", {x}" for x in shown) + "."


def _header(report: DriftReport) -> str:
    applied = (
        f"last applied commit {report.record_commit[:12]} at {report.record_time}"
        if report.record_commit and report.record_time
        # A CI checkout without the dfg/* tags looks like this: say so, or the job passes blind.
        else "no deployment record (in CI, fetch the dfg/* tags: git fetch --tags)"
    )
    desired = f"desired = {report.head_commit[:12]}" if report.head_commit else "desired = working tree"
    if report.head_commit and report.head_dirty:
        desired += " + uncommitted changes"
    return f"Drift in {report.environment} (workspace {report.workspace_id}): {applied}; {desired}"


def drift_text(report: DriftReport, *, color: bool = False) -> str:
    lines = [_header(report), ""]
    for row in report.dataflows:
        mark, label, fg = LABELS[row.status]
        text = f"  {mark} {row.display_name}: {label}" + (f" ({row.note})" if row.note else "")
        lines.append(click.style(text, fg=fg) if color and fg else text)
        for line in _diff_lines(row.diff):
            lines.append(f"      {line}")
    lines += ["", summary(report)]
    return "\n".join(lines) + "\n"


def _diff_lines(diff: DataflowDiff | None) -> list[str]:
    if diff is None:
        return []
    lines: list[str] = []
    for prop in diff.properties:
        lines.append(f"{prop.name}: {prop.old!r} → {prop.new!r}")
    for query in diff.queries:
        lines.append(f"query {query.name}: {query.kind.value}")
        lines += [f"  {x}" for x in query.diff.splitlines()]
    for part in diff.parts:
        lines.append(f"{part.path}: {part.kind.value}")
        lines += [f"  {x}" for x in part.details]
    lines += [schedule_line(s) for s in diff.schedules]
    return lines


def drift_markdown(report: DriftReport) -> str:
    out = [
        f"### dfg drift: {report.environment}",
        "",
        _header(report),
        "",
        "| dataflow | status | note |",
        "|---|---|---|",
    ]
    for row in report.dataflows:
        out.append(f"| {_cell(row.display_name)} | {LABELS[row.status][1]} | {_cell(row.note)} |")
    for row in report.dataflows:
        if row.diff is not None:
            body = "\n".join(_diff_lines(row.diff))
            out += [
                "",
                f"<details><summary>{_cell(row.display_name)}: last applied → live</summary>",
                "",
                "```diff",
                body,
                "```",
                "</details>",
            ]
    out += ["", f"**{summary(report)}**"]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def drift_json(report: DriftReport) -> dict[str, Any]:
    """The report as a ``schemas/drift.schema.json`` document."""
    return {
        "format_version": 1,
        "environment": report.environment,
        "workspace_id": report.workspace_id,
        "record": {"commit": report.record_commit, "time": report.record_time},
        "desired_commit": report.head_commit,
        "desired_dirty": report.head_dirty,
        "live_drifted": report.live_drifted,
        "summary": {s.value: len(report.with_status(s)) for s in DriftStatus},
        "dataflows": [_row_json(r) for r in report.dataflows],
    }


def _row_json(row: DataflowDrift) -> dict[str, Any]:
    diff = row.diff
    return {
        "name": row.name,
        "display_name": row.display_name,
        "status": row.status.value,
        "live_drifted": row.live_drifted,
        "item_id": row.item_id,
        "fingerprints": {"desired": row.desired, "recorded": row.recorded, "live": row.live},
        "note": row.note,
        "folders": {"desired": row.desired_folder, "live": row.live_folder},
        "diff": None
        if diff is None
        else {
            "properties": [{"name": p.name, "old": p.old, "new": p.new} for p in diff.properties],
            "queries": [{"name": q.name, "kind": q.kind.value, "diff": q.diff} for q in diff.queries],
            "parts": [
                {"path": p.path, "kind": p.kind.value, "details": list(p.details)} for p in diff.parts
            ],
            "schedules": [
                {
                    "job_type": s.job_type,
                    "kind": s.kind.value,
                    "schedule": s.schedule,
                    "before": s.before,
                }
                for s in diff.schedules
            ],
        },
    }
