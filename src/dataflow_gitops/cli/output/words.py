"""CLI output, words: counts with their noun in the right number ("1 dataflow", "3 files")."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``plural(1, "dataflow")`` → ``1 dataflow``; ``plural(3, "query", "queries")`` → ``3 queries``."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"
