"""CLI output, text: Plan / ApplyResult → terminal lines in Terraform's manner.

Each changed dataflow gets a header (``+ create``, ``~ update``, ``~ rename``, ``- delete``) with
its impact tag, then its changes indented: per-query unified diffs, JSON detail lines, property
changes. Unchanged dataflows are counted, not listed. Colour (click styles) only when asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import click

from dataflow_gitops.cli.output.summary import (
    KNOWN_AFTER_APPLY,
    apply_summary,
    folder_title,
    move_line,
    pending,
    quiet_noop,
    reference_line,
    shown_folder,
    summary_line,
    title,
)
from dataflow_gitops.cli.output.words import plural
from dataflow_gitops.pipeline.model import (
    Action,
    ActionKind,
    ApplyResult,
    ChangeKind,
    DataflowDiff,
    FolderActionKind,
    Impact,
    OutcomeStatus,
    Plan,
)
from dataflow_gitops.pipeline.plan.schedules import schedule_line

_STYLES: dict[str, Callable[[str], str]] = {
    "green": lambda text: click.style(text, fg="green"),
    "yellow": lambda text: click.style(text, fg="yellow"),
    "red": lambda text: click.style(text, fg="red"),
    "cyan": lambda text: click.style(text, fg="cyan"),
    "bold": lambda text: click.style(text, bold=True),
    "dim": lambda text: click.style(text, dim=True),
}
_KIND_COLOR = {ActionKind.CREATE: "green", ActionKind.UPDATE: "yellow", ActionKind.DELETE: "red"}
_CHANGE_SYMBOL = {ChangeKind.ADDED: "+", ChangeKind.REMOVED: "-", ChangeKind.MODIFIED: "~"}
_INDENT = "    "


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        if not self.color or not text:
            return text
        return _STYLES[style](text)

    def diff_line(self, line: str) -> str:
        if line.startswith(("+++", "---")):
            return self(line, "bold")
        if line.startswith("@@"):
            return self(line, "cyan")
        if line.startswith("+"):
            return self(line, "green")
        if line.startswith("-"):
            return self(line, "red")
        return line


def plan_text(plan: Plan, *, color: bool = False) -> str:
    paint = _Painter(color)
    lines = [_header(plan), ""]
    changes = [a for a in plan.actions if a.is_change]
    if changes or plan.folders:
        lines += ["dataflow-gitops will perform the following actions:", ""]
        made = [f for f in plan.folders if f.kind is FolderActionKind.CREATE]
        for folder in made:
            lines.append(paint(f"  {folder_title(folder)}", "green"))
        if made:
            lines.append("")
        for action in changes:
            lines += _action_lines(action, paint)
            lines.append("")
    unchanged = plan.count(ActionKind.NOOP)
    if unchanged and changes:
        lines += [f"{plural(unchanged, 'dataflow')} unchanged.", ""]
    removed = [f for f in plan.folders if f.kind is FolderActionKind.DELETE]
    for folder in removed:
        lines.append(paint(f"  {folder_title(folder)}", "red"))
    if removed:
        lines.append("")
    if plan.empty_folders:
        lines.append("Folders left empty (kept: prune is off):")
        lines += [f"  {shown_folder(path)}" for path in plan.empty_folders]
        lines.append("")
    externals = [(a.name, r) for a in plan.actions if a.desired is not None for r in a.desired.external]
    if externals:
        lines.append("References outside the repository:")
        lines += [f'  "{name}": {reference_line(r)}' for name, r in externals]
        lines.append("")
    if plan.unmanaged:
        lines.append("Unmanaged live dataflows (not in the repository; never touched):")
        lines += [f'  "{name}"' for name in plan.unmanaged]
        lines.append("")
    ignored = [(a.name, i) for a in plan.actions if a.diff for i in a.diff.ignored]
    if ignored:
        lines.append("Differences hidden by ignore rules:")
        lines += [f'  "{name}": {what}' for name, what in ignored]
        lines.append("")
    for warning in plan.warnings:
        lines.append(paint(f"Warning: {warning}", "yellow"))
    if plan.warnings:
        lines.append("")
    lines.append(paint(summary_line(plan), "bold"))
    return "\n".join(lines) + "\n"


def _header(plan: Plan) -> str:
    source = f"commit {plan.commit[:12]}" if plan.commit else "working tree (no git commit)"
    if plan.commit and plan.dirty:
        source += " + uncommitted changes"
    if plan.ref:
        source += f" (ref {plan.ref})"
    return f'Plan for environment "{plan.environment}" (workspace {plan.workspace_id}), {source}'


def _action_lines(action: Action, paint: _Painter) -> list[str]:
    # A create changes nothing that exists: no impact tag (plans saved by older versions had one).
    untagged = action.impact is Impact.NONE or action.kind is ActionKind.CREATE
    tag = "" if untagged else f"  [{action.impact.value}]"
    head = paint(f"  {title(action)}", _KIND_COLOR.get(action.kind, "bold"))
    lines = [head + (paint(tag, "red") if action.impact is Impact.BREAKING else tag)]
    moving = move_line(action)
    if moving is not None:
        lines.append(paint(f"{_INDENT}{moving}", "cyan"))
    elif action.kind is ActionKind.CREATE and action.desired and action.desired.folder_path:
        lines.append(f"{_INDENT}in folder {shown_folder(action.desired.folder_path)}")
    if action.reason and action.kind is not ActionKind.CREATE:
        lines.append(f"{_INDENT}# {action.reason}")
    if action.diff is not None:
        lines += _diff_lines(action.diff, creating=action.kind is ActionKind.CREATE, paint=paint)
    lines += [f"{_INDENT}{expr}: {KNOWN_AFTER_APPLY}" for expr in pending(action)]
    return lines


def _diff_lines(diff: DataflowDiff, *, creating: bool, paint: _Painter) -> list[str]:
    lines: list[str] = []
    for query in diff.queries:
        lines.append(f'{_INDENT}{_CHANGE_SYMBOL[query.kind]} query "{query.name}"')
        if query.diff and not creating:
            lines += _indented((paint.diff_line(d) for d in query.diff.splitlines()), 2)
    for part in diff.parts:
        lines.append(f"{_INDENT}{_CHANGE_SYMBOL[part.kind]} {part.path}")
        lines += _indented((paint.diff_line(d) for d in part.details), 2)
    lines += [f"{_INDENT}{schedule_line(change)}" for change in diff.schedules]
    for prop in diff.properties:
        lines.append(f'{_INDENT}~ {prop.name}: "{prop.old}" → "{prop.new}"')
    return lines


def _indented(lines: Iterable[str], depth: int) -> list[str]:
    return [_INDENT * depth + line for line in lines]


def apply_text(result: ApplyResult, *, color: bool = False) -> str:
    paint = _Painter(color)
    lines = [f'Apply to environment "{result.environment}" (workspace {result.workspace_id}):', ""]
    for outcome in result.outcomes:
        action = outcome.action
        if quiet_noop(outcome):
            continue
        mark = {
            OutcomeStatus.SUCCEEDED: ("ok", "green"),
            OutcomeStatus.FAILED: ("FAILED", "red"),
            OutcomeStatus.SKIPPED: ("skipped", "yellow"),
        }[outcome.status]
        what = f'publish "{action.display_name}"' if action.kind is ActionKind.NOOP else title(action)
        line = f"  {paint(mark[0], mark[1])}  {what}"
        if outcome.item_id:
            line += f"  (item {outcome.item_id})"
        if outcome.published is True:
            line += "  published"
        elif outcome.published is False:
            line += "  " + paint("publish failed", "red")
        if outcome.error:
            line += f": {outcome.error}"
        lines.append(line)
    for folder in result.folders:
        mark = {
            OutcomeStatus.SUCCEEDED: ("ok", "green"),
            OutcomeStatus.FAILED: ("FAILED", "red"),
            OutcomeStatus.SKIPPED: ("skipped", "yellow"),
        }[folder.status]
        line = f"  {paint(mark[0], mark[1])}  {folder_title(folder.action)}"
        if folder.folder_id:
            line += f"  (folder {folder.folder_id})"
        if folder.error:
            line += f": {folder.error}"
        lines.append(line)
    lines += ["", paint(apply_summary(result), "bold")]
    return "\n".join(lines) + "\n"


def diff_text(diff: DataflowDiff, *, color: bool = False) -> str:
    """One dataflow's differences (``dfg drift``): the body of an update, or a no-change line."""
    paint = _Painter(color)
    if not diff.changed:
        lines = [f'  "{diff.name}": no differences']
    else:
        lines = [paint(f'  ~ "{diff.name}"', "yellow"), *_diff_lines(diff, creating=False, paint=paint)]
    lines += [f"    (ignored) {what}" for what in diff.ignored]
    return "\n".join(lines) + "\n"
