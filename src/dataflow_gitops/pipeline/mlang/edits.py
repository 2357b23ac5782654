"""Span edits (stage ② render): text + non-overlapping (span, replacement) pairs → new text.

The one way the tool rewrites M: everything outside the replaced spans stays byte-for-byte.
"""

from __future__ import annotations

from collections.abc import Sequence


def apply_edits(text: str, edits: Sequence[tuple[tuple[int, int], str]]) -> str:
    """Replace each ``(start, end)`` span of ``text``; ``ValueError`` if spans overlap or are outside."""
    ordered = sorted(edits, key=lambda edit: edit[0])
    pieces: list[str] = []
    cursor = 0
    for (start, end), replacement in ordered:
        if not 0 <= start <= end <= len(text):
            raise ValueError(f"edit span ({start}, {end}) is outside the text (length {len(text)})")
        if start < cursor:
            raise ValueError(f"edit span ({start}, {end}) overlaps the previous edit (ends at {cursor})")
        pieces.append(text[cursor:start])
        pieces.append(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)
