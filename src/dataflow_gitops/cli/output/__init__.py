"""CLI output: Plan / DataflowDiff / ApplyResult → text, markdown or JSON. Pure formatting, no I/O.

``text`` is for terminals and CI logs (Terraform's manner), ``markdown`` for pull-request
comments and ``$GITHUB_STEP_SUMMARY`` (size-budgeted, with a hidden marker for sticky comments),
``json`` for machines (the ``plan.schema.json`` document without payloads).
"""

from __future__ import annotations

from typing import Literal

from dataflow_gitops.cli.output.jsonout import apply_json, diff_json, plan_json
from dataflow_gitops.cli.output.markdown import apply_markdown, diff_markdown, plan_markdown
from dataflow_gitops.cli.output.text import apply_text, diff_text, plan_text
from dataflow_gitops.pipeline.model import ApplyResult, DataflowDiff, Plan

Format = Literal["text", "markdown", "json"]
FORMATS: tuple[Format, ...] = ("text", "markdown", "json")
GITHUB_COMMENT_LIMIT = 65_535


def format_plan(plan: Plan, fmt: Format, *, color: bool = False, max_chars: int = 60_000) -> str:
    """Render ``plan``; ``max_chars`` bounds the markdown form (GitHub caps comments at 65,535)."""
    if fmt == "text":
        return plan_text(plan, color=color)
    if fmt == "markdown":
        return plan_markdown(plan, max_chars=max_chars)
    if fmt == "json":
        return plan_json(plan)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def format_apply_result(result: ApplyResult, fmt: Format, *, color: bool = False) -> str:
    if fmt == "text":
        return apply_text(result, color=color)
    if fmt == "markdown":
        return apply_markdown(result)
    if fmt == "json":
        return apply_json(result)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def format_diff(diff: DataflowDiff, fmt: Format, *, color: bool = False) -> str:
    """One dataflow's differences, e.g. for ``dfg drift``."""
    if fmt == "text":
        return diff_text(diff, color=color)
    if fmt == "markdown":
        return diff_markdown(diff)
    if fmt == "json":
        return diff_json(diff)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


__all__ = [
    "FORMATS",
    "GITHUB_COMMENT_LIMIT",
    "Format",
    "format_apply_result",
    "format_diff",
    "format_plan",
]
