"""Sticky-comment bodies (integration layer): markdown + environment → comment texts under the limit.

The first line of each comment is a hidden marker (``<!-- dataflow-gitops plan: <env> -->``, as
``plan --format markdown`` writes it) by which the next run finds it again. GitHub rejects
comments over 65,535 characters, so a longer body becomes numbered parts, each with its own
marker, cut so that every part still renders.
"""

from __future__ import annotations

from collections.abc import Iterator

COMMENT_LIMIT = 65_535
MAX_PARTS = 10


def marker(env: str) -> str:
    """The hidden first line that identifies ``env``'s plan comment (as ``plan --format
    markdown`` writes it)."""
    safe = env.replace("--", "- -").replace(">", "")
    return f"<!-- dataflow-gitops plan: {safe} -->"


def part_marker(base: str, index: int) -> str:
    """The marker of part ``index`` (1-based); part 1 uses the base marker itself."""
    return base if index == 1 else base.replace(" -->", f" (part {index}) -->")


def split_body(body: str, base_marker: str, *, limit: int = COMMENT_LIMIT) -> list[str]:
    """``body`` as comments of at most ``limit`` characters, each opening with its part marker.

    Cuts fall on line ends; a cut inside a code fence or ``<details>`` block closes it and the
    next part reopens it, so every part renders. More than :data:`MAX_PARTS` parts: the last one
    is trimmed with a note.
    """
    text = body if body.lstrip().startswith(base_marker) else f"{base_marker}\n{body}"
    if len(text) <= limit:
        return [text]
    text = text.lstrip()[len(base_marker) :].lstrip("\n")
    reserve = 200  # a part's marker, the closing tags and the "continued" line
    budget = limit - reserve
    if budget < 100:
        raise ValueError("limit too small to split a comment")
    parts: list[str] = []
    current: list[str] = []
    size = 0
    fence: str | None = None
    details = 0
    reopen = ""
    for line in _lines(text, budget):
        if size + len(line) > budget and current:
            closing = ("```\n" if fence else "") + "</details>\n" * details
            parts.append(reopen + "".join(current) + closing)
            reopen = ("<details open><summary>(continued)</summary>\n\n" * details) + (
                f"{fence}\n" if fence else ""
            )
            current, size = [], len(reopen)
        current.append(line)
        size += len(line)
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence else stripped
        elif fence is None:
            details += stripped.count("<details") - stripped.count("</details>")
            details = max(details, 0)
    parts.append(reopen + "".join(current))
    if len(parts) > MAX_PARTS:
        kept = parts[: MAX_PARTS - 1]
        note = f"\n\n… {len(parts) - MAX_PARTS + 1} more part(s) not posted: see the job summary or log."
        last = parts[MAX_PARTS - 1]
        kept.append(last[: budget - len(note)] + note)
        parts = kept
    total = len(parts)
    return [
        f"{part_marker(base_marker, i)}\n" + (f"_Part {i} of {total}._\n\n" if total > 1 else "") + p
        for i, p in enumerate(parts, start=1)
    ]


def _lines(text: str, budget: int) -> Iterator[str]:
    for line in text.splitlines(keepends=True):
        while len(line) > budget:  # one enormous line: cut it hard
            yield line[:budget] + "\n"
            line = line[budget:]
        yield line
