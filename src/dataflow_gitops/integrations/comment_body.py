"""Sticky comments (integration layer): markdown + environment → comments upserted in a store.

The first line of each comment is a hidden marker (``<!-- dataflow-gitops plan: <env> -->``, as
``plan --format markdown`` writes it) by which the next run finds it again. GitHub rejects
comments over 65,535 characters, so a longer body becomes numbered parts, each with its own
marker, cut so that every part still renders. :func:`upsert` works on any
:class:`CommentStore`: GitHub issue comments, Azure Repos pull-request threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

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


# -- upserting ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostedComment:
    id: str
    body: str
    url: str = ""
    author: str = ""
    """The forge's id of whoever wrote it (GitHub login, Azure DevOps identity id)."""


@dataclass(frozen=True, slots=True)
class CommentResult:
    action: Literal["created", "updated", "unchanged"]
    urls: tuple[str, ...]
    """The comment (or its parts), in order."""
    deleted: int = 0
    """Parts of an earlier, longer comment that were removed."""


class CommentStore(Protocol):
    """The comments of one pull request, on some forge."""

    def comments(self) -> list[PostedComment]: ...

    def me(self) -> str:
        """The identity the token acts as, asked of the forge (compared with ``author``)."""
        ...

    def create(self, body: str) -> str:
        """Post a comment; return its URL."""
        ...

    def update(self, comment_id: str, body: str) -> str: ...

    def delete(self, comment_id: str) -> None: ...


def upsert(store: CommentStore, body: str, *, base_marker: str) -> CommentResult:
    """Create the sticky comment or edit it in place; parts left from a longer body are deleted.

    Only comments the token's own identity wrote are edited or deleted: anyone can open a comment
    with the marker, and dfg must never rewrite or remove what another person said.
    """
    wanted = split_body(body, base_marker)
    existing: dict[int, PostedComment] = {}
    me = store.me()
    for comment in store.comments():
        if comment.author != me:
            continue
        for index in range(1, MAX_PARTS + 1):
            if comment.body.startswith(part_marker(base_marker, index)) and index not in existing:
                existing[index] = comment
                break
    urls: list[str] = []
    changed = created = False
    for index, part in enumerate(wanted, start=1):
        old = existing.get(index)
        if old is None:
            urls.append(store.create(part))
            created = True
        elif old.body != part:
            urls.append(store.update(old.id, part))
            changed = True
        else:
            urls.append(old.url)
    stale = [c for i, c in existing.items() if i > len(wanted)]
    for comment in stale:
        store.delete(comment.id)
    action: Literal["created", "updated", "unchanged"] = "unchanged"
    if created and not existing:
        action = "created"
    elif created or changed or stale:
        action = "updated"
    return CommentResult(action=action, urls=tuple(urls), deleted=len(stale))
