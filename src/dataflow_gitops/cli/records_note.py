"""CLI layer: deployment records written before the project became a git repository.

Outside git, records go to ``.dataflow-gitops/records/<env>.jsonl``; once the project is a git
repository with a commit, they are tags, and the file is no longer read. Its records cannot become
tags (they name no commit), so they are shown and warned about rather than silently dropped.
"""

from __future__ import annotations

from pathlib import Path

from dataflow_gitops.adapters.record_stores import FileRecords, open_store
from dataflow_gitops.cli.output.words import plural
from dataflow_gitops.pipeline.release.records import DeploymentRecord


def records_from_before_git(root: Path, env: str) -> tuple[Path, tuple[DeploymentRecord, ...]]:
    """The records file of ``env`` and its records, when git tags have taken over (else none)."""
    files = FileRecords(root)
    path = files.path(env)
    if not path.is_file() or isinstance(open_store(root), FileRecords):
        return path, ()
    return path, files.history(env)


def before_git_note(root: Path, env: str) -> str | None:
    """One warning line about ``env``'s records from before git, or None if there are none."""
    path, records = records_from_before_git(root, env)
    if not records:
        return None
    shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    return (
        f"warning: {shown} holds {plural(len(records), 'deployment')} recorded before this was a "
        f"git repository; records are git tags now, so the next apply to {env} does not know "
        f"what those deployed (`dfg history -e {env}` lists them)"
    )
