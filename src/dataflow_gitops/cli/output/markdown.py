"""CLI output, markdown: Plan / ApplyResult → a pull-request comment or step summary.

The comment opens with a hidden marker (``<!-- dataflow-gitops plan: <env> -->``) so a workflow
can find and update its own comment instead of adding one per push, then the summary line and a
table, then one collapsed ``<details>`` per changed dataflow holding ```` ```diff ```` blocks.
GitHub rejects comments over 65,535 characters, so the result is held under ``max_chars``:
diff blocks are cut largest first, then whole sections, then table rows, and a note says how
much was cut and how to see the full plan.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

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
    verb,
)
from dataflow_gitops.cli.output.words import plural
from dataflow_gitops.pipeline.model import (
    Action,
    ActionKind,
    ApplyResult,
    DataflowDiff,
    Impact,
    OutcomeStatus,
    Plan,
)
from dataflow_gitops.pipeline.plan.impact import most_severe
from dataflow_gitops.pipeline.plan.schedules import schedule_line

_NOTE_RESERVE = 600  # room kept for the overflow note once anything is cut
_MIN_KEPT = 400  # below this, a trimmed diff is not worth showing at all
_ICON = {"create": "➕", "update": "✏️", "rename": "🔀", "delete": "🗑️", "no-op": ""}


@dataclass(slots=True)
class _Block:
    label: str
    body: str
    keep: int | None = None
    """Characters of ``body`` still shown once trimmed (0: the whole diff is cut)."""

    def render(self) -> str:
        if self.keep == 0:
            return f"{self.label}: diff cut ({len(self.body):,} characters)"
        shown = self.body if self.keep is None else self.body[: self.keep]
        fence = _fence(shown)
        text = f"{self.label}\n\n{fence}diff\n{shown}\n{fence}"
        if self.keep is not None:
            text += f"\n\n… {len(self.body) - len(shown):,} more characters of this diff cut"
        return text

    def trim(self, excess: int) -> int:
        """Shrink by at least ``excess`` characters (whole lines); return the characters cut."""
        keep = len(self.body) - excess - 100  # the trailing note costs about this much
        keep = self.body.rfind("\n", 0, keep) if keep > _MIN_KEPT else 0
        self.keep = max(keep, 0)
        return len(self.body) - self.keep


@dataclass(slots=True)
class _Section:
    name: str
    summary: str
    lead: list[str]
    blocks: list[_Block] = field(default_factory=list)
    dropped: bool = False

    def render(self) -> str:
        if self.dropped:
            return ""
        # Blank lines between everything: markdown would otherwise continue a list into a block.
        body = "\n\n".join([*self.lead, *(b.render() for b in self.blocks)])
        return f"<details><summary>{self.summary}</summary>\n\n{body}\n\n</details>\n"


def plan_markdown(plan: Plan, *, max_chars: int = 60_000) -> str:
    changes = [a for a in plan.actions if a.is_change]
    head = _head(plan)
    rows = [_row(a) for a in changes]
    sections = [_section(a) for a in changes]
    tail = _tail(plan)
    doc = _assemble(head, rows, sections, tail, "")
    if len(doc) <= max_chars:
        return doc
    budget = max_chars - _NOTE_RESERVE
    size = len(doc)
    blocks = sorted(
        ((s, b) for s in sections for b in s.blocks), key=lambda sb: len(sb[1].body), reverse=True
    )
    cut_chars, cut_dataflows = 0, set()
    for section, block in blocks:
        if size <= budget:
            break
        before = len(block.render())
        cut_chars += block.trim(size - budget)
        size += len(block.render()) - before
        cut_dataflows.add(section.name)
    dropped = 0
    for section in sorted(sections, key=lambda s: len(s.render()), reverse=True):
        if size <= budget:
            break
        size -= len(section.render())
        section.dropped = True
        dropped += 1
    shown_rows = len(rows)
    while size > budget and shown_rows > 0:
        shown_rows -= 1
        size -= len(rows[shown_rows]) + 1
    if shown_rows < len(rows):
        rows = [*rows[:shown_rows], f"| | … {plural(len(rows) - shown_rows, 'more dataflow')} | | | |"]
    note = _overflow_note(plan, cut_chars, len(cut_dataflows), dropped, len(changes) - shown_rows)
    doc = _assemble(head, rows, sections, tail, note)
    if len(doc) > max_chars:  # only a pathological header can get here (thousands of names)
        doc = doc[: max(0, max_chars - len(note) - 2)] + "\n\n" + note
    return doc[:max_chars]


def _assemble(head: str, rows: list[str], sections: list[_Section], tail: str, note: str) -> str:
    table = ""
    if rows:
        table = (
            "| | Dataflow | Action | Impact | Changes |\n|---|---|---|---|---|\n"
            + "\n".join(rows)
            + "\n"
        )
    parts = [head, table, note, *(s.render() for s in sections), tail]
    return "\n".join(p for p in parts if p).rstrip("\n") + "\n"


def _head(plan: Plan) -> str:
    impact = most_severe(a.impact for a in plan.actions)
    source = f"commit `{plan.commit[:12]}`" if plan.commit else "working tree"
    if plan.commit and plan.dirty:
        source += " + uncommitted changes"
    lines = [
        f"<!-- dataflow-gitops plan: {_comment_safe(plan.environment)} -->",
        f"### dataflow-gitops plan for `{_code(plan.environment)}`",
        "",
        f"**{summary_line(plan)}**",
        "",
        f"Workspace `{_code(plan.workspace_id)}` · {source}"
        + (f" · {plan.count(ActionKind.NOOP)} unchanged" if plan.count(ActionKind.NOOP) else "")
        + (f" · highest impact: **{impact.value}**" if impact is not Impact.NONE else ""),
    ]
    return "\n".join(lines) + "\n"


def _row(action: Action) -> str:
    name = _cell(action.display_name)
    if action.rename_from is not None:
        name = f"{_cell(action.rename_from)} → {name}"
    impact = f"**{action.impact.value}**" if action.impact is Impact.BREAKING else action.impact.value
    if action.kind is ActionKind.CREATE:
        impact = "new"  # a create changes nothing that exists
    label = verb(action)
    return f"| {_ICON.get(label, '')} | {name} | {label} | {impact} | {_cell(_changes(action))} |"


def _changes(action: Action) -> str:
    if action.kind is ActionKind.DELETE:
        return action.reason or "delete"
    diff = action.diff
    if diff is None:
        return ""
    counts = []
    if diff.queries:
        counts.append(plural(len(diff.queries), "query", "queries"))
    if diff.parts:
        counts.append(plural(len(diff.parts), "part"))
    if diff.schedules:
        counts.append(plural(len(diff.schedules), "schedule"))
    counts += [p.name for p in diff.properties]
    moving = move_line(action)
    if moving is not None:
        counts.append(moving)
    return ", ".join(counts)


def _section(action: Action) -> _Section:
    name = f"<strong>{html.escape(action.display_name)}</strong>"
    if action.rename_from is not None:
        name = f"{html.escape(action.rename_from)} → {name}"
    summary = f"{html.escape(verb(action))} {name}"
    if action.kind is ActionKind.CREATE:
        summary += " · new"
    elif action.impact is not Impact.NONE:
        summary += f" · {html.escape(action.impact.value)}"
    lead: list[str] = []
    moving = move_line(action)
    if moving is not None:
        lead.append(f"**{_inline(moving)}**")
    elif action.kind is ActionKind.CREATE and action.desired and action.desired.folder_path:
        lead.append(f"in folder `{_code(shown_folder(action.desired.folder_path))}`")
    if action.reason and action.kind is not ActionKind.CREATE:
        lead.append(f"> {_inline(action.reason)}")
    if action.desired is not None and action.desired.external:
        lead.append("\n".join(f"- {_inline(reference_line(r))}" for r in action.desired.external))
    section = _Section(action.display_name, summary, lead)
    diff = action.diff
    if action.kind is ActionKind.CREATE and diff is not None:
        listing = [f'+ query "{q.name}"' for q in diff.queries] + [f"+ {p.path}" for p in diff.parts]
        listing += [schedule_line(c) for c in diff.schedules]
        if listing:
            section.blocks.append(_Block("New definition:", "\n".join(listing)))
    elif diff is not None:
        if diff.properties:
            lead.append(
                "\n".join(f"- `{p.name}`: {_inline(p.old)} → {_inline(p.new)}" for p in diff.properties)
            )
        for query in diff.queries:
            section.blocks.append(
                _Block(f"**query `{_code(query.name)}`** ({query.kind.value})", query.diff)
            )
        for part in diff.parts:
            section.blocks.append(
                _Block(f"**{_inline(part.path)}** ({part.kind.value})", "\n".join(part.details))
            )
        if diff.schedules:
            section.blocks.append(
                _Block("**schedules**", "\n".join(schedule_line(c) for c in diff.schedules))
            )
        if diff.ignored:
            lead.append("\n".join(f"- ignored: {_inline(i)}" for i in diff.ignored))
    if pending(action):
        lead.append("\n".join(f"- `{_code(p)}`: {KNOWN_AFTER_APPLY}" for p in pending(action)))
    return section


def diff_markdown(diff: DataflowDiff) -> str:
    """One dataflow's differences as a collapsed section (no size budget: one dataflow)."""
    if not diff.changed:
        return f"**{_inline(diff.name)}**: no differences\n"
    action = Action(ActionKind.UPDATE, diff.name, diff.name, diff=diff)
    section = _section(action)
    section.summary = f"<strong>{html.escape(diff.name)}</strong> differs"
    return section.render()


def _tail(plan: Plan) -> str:
    lines = []
    if plan.folders:
        lines.append(
            "**Workspace folders:** " + ", ".join(f"`{_code(folder_title(f))}`" for f in plan.folders)
        )
    if plan.empty_folders:
        names = ", ".join(f"`{_code(shown_folder(p))}`" for p in plan.empty_folders)
        lines.append(f"**Folders left empty** (kept: prune is off): {names}")
    if plan.unmanaged:
        names = ", ".join(f"`{_code(n)}`" for n in plan.unmanaged)
        lines.append(f"**Unmanaged** (live, not in the repository, never touched): {names}")
    lines += [f"> ⚠️ {_inline(w)}" for w in plan.warnings]
    return "\n\n".join(lines) + ("\n" if lines else "")


def _overflow_note(
    plan: Plan, cut_chars: int, cut_dataflows: int, dropped: int, hidden_rows: int
) -> str:
    what = []
    if cut_chars:
        flows = plural(cut_dataflows, "dataflow")
        what.append(f"{cut_chars:,} characters of diff from {flows} were cut")
    if dropped:
        what.append(f"{plural(dropped, 'dataflow section')} {_were(dropped)} left out")
    if hidden_rows:
        what.append(f"{plural(hidden_rows, 'table row')} {_were(hidden_rows)} left out")
    env = _code(plan.environment)
    return (
        "> [!NOTE]\n> This plan was shortened to stay under GitHub's comment size limit: "
        + "; ".join(what or ["some text was cut"])
        + f". See the full plan with `dfg plan -e {env}`, or `dfg show PLANFILE` on the saved plan.\n"
    )


# escaping -------------------------------------------------------------------------------------


def _fence(body: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def _cell(text: str) -> str:
    return html.escape(" ".join(text.split())).replace("|", "\\|")


def _inline(text: str) -> str:
    return (
        html.escape(" ".join(text.split())).replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")
    )


def _code(text: str) -> str:
    return text.replace("`", "'").replace("\n", " ")


def _comment_safe(text: str) -> str:
    return text.replace("--", "- -").replace(">", "")


def apply_markdown(result: ApplyResult) -> str:
    marks = {OutcomeStatus.SUCCEEDED: "✅", OutcomeStatus.FAILED: "❌", OutcomeStatus.SKIPPED: "⏭️"}
    lines = [
        f"### dataflow-gitops apply to `{_code(result.environment)}`",
        "",
        f"**{apply_summary(result)}**",
        "",
        "| | Dataflow | Action | Item | Published | Detail |",
        "|---|---|---|---|---|---|",
    ]
    for o in result.outcomes:
        if quiet_noop(o):
            continue
        published = {None: "", True: "yes", False: "**failed**"}[o.published]
        label = "publish" if o.action.kind is ActionKind.NOOP else verb(o.action)
        if o.action.moves_from is not None:
            label += " + move"
        lines.append(
            f"| {marks[o.status]} | {_cell(o.action.display_name)} | {label} | "
            f"{_cell(o.item_id or '')} | {published} | {_cell(o.error or '')} |"
        )
    for f in result.folders:
        lines.append(
            f"| {marks[f.status]} | {_cell(shown_folder(f.action.path))} | folder "
            f"{f.action.kind.value} | {_cell(f.folder_id or '')} | | {_cell(f.error or '')} |"
        )
    return "\n".join(lines) + "\n"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"
