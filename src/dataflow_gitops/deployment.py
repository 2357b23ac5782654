"""One environment, connected: project + overlay + workspace connection + deployment records.

:class:`Deployment` is what plan, apply, drift, export and promote take; :func:`deployment`
opens one (and, for a writer, holds the environment's lock); :func:`workspace` runs stages ①–③
for it (:func:`offline_workspace` with nothing live, :func:`other_workspace` for another
environment) through :func:`pipeline.workspace.read_workspace`, the one place they are wired.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dataflow_gitops.adapters.locks import environment_lock
from dataflow_gitops.adapters.read_ahead import ProjectReadAhead
from dataflow_gitops.adapters.record_stores import open_store
from dataflow_gitops.config import Environment, Project, load_environment, load_project
from dataflow_gitops.connection import Connection, connect
from dataflow_gitops.pipeline.ports import Reporter
from dataflow_gitops.pipeline.release.records import RecordStore
from dataflow_gitops.pipeline.workspace import Live, Workspace, read_workspace

READ_CONCURRENCY = 32


@dataclass(frozen=True, slots=True)
class Deployment:
    """One environment, connected: what plan, apply, drift, export and promote need."""

    project: Project
    environment: Environment
    connection: Connection
    records: RecordStore
    read_ahead: ProjectReadAhead

    @property
    def workspace_id(self) -> str:
        return self.connection.workspace_id

    @property
    def live(self) -> Live:
        return Live(self.connection.gateway, self.connection.workspace_id)


@contextlib.contextmanager
def deployment(
    project_dir: Path,
    env: str,
    *,
    concurrency: int = 8,
    write: bool = False,
    timeout_s: float | None = None,
) -> Iterator[Deployment]:
    """Load ``env``'s overlay and connect to its workspace for the duration of the block.

    ``write`` (apply, promote) holds the environment's lock for the block, from the plan to the
    record, so a second writer is refused at once (LockedError naming the holder).
    ``timeout_s`` bounds each long-running operation and publish job (``--timeout``; None: the
    defaults of :func:`connection.connect`).
    """
    project = load_project(project_dir)
    environment = load_environment(project, env)
    with contextlib.ExitStack() as stack:
        if write:
            stack.enter_context(environment_lock(project.root, environment.name))
        # Reads (getDefinition per dataflow, each an LRO that waits out Retry-After) dominate a
        # plan and change nothing, so they fan out wider than writes; ``concurrency`` still
        # bounds the writes apply() makes. Under a quota the shared per-identity throttle paces
        # them all.
        conn = stack.enter_context(
            connect(
                project,
                environment,
                concurrency=max(concurrency, READ_CONCURRENCY),
                timeout_s=timeout_s,
            )
        )
        root = project.root
        yield Deployment(project, environment, conn, open_store(root), ProjectReadAhead(root))


def workspace(
    dep: Deployment,
    *,
    ref: str | None = None,
    reporter: Reporter | None = None,
    targets: Sequence[str] = (),
) -> Workspace:
    """Stages ①–③ for ``dep``'s environment: desired (working tree or ``ref``) and live.

    With ``targets``, the other dataflows are identified but not parsed (a broken folder among
    them cannot block the targets).
    """
    return read_workspace(
        dep.project,
        dep.environment,
        ref=ref,
        records=dep.records,
        live=dep.live,
        reporter=reporter,
        targets=targets,
        read_ahead=dep.read_ahead,
    )


def offline_workspace(project: Project, env: str, *, ref: str | None = None) -> Workspace:
    """Stages ①–② for ``env`` with nothing live: item ids only the workspace knows stay visible
    placeholders (``${items.…}``)."""
    return read_workspace(
        project,
        load_environment(project, env),
        ref=ref,
        records=open_store(project.root),
        read_ahead=ProjectReadAhead(project.root),
    )


def other_workspace(dep: Deployment, env: Environment, commit: str) -> Workspace:
    """Stages ①–③ for another environment of ``dep``'s project at ``commit``, connected for the
    call only (promote's check of what the source environment runs). A commit that no longer
    renders gives no desired dataflows and a warning; the live side is read all the same."""
    with connect(dep.project, env) as conn:
        return read_workspace(
            dep.project,
            env,
            ref=commit,
            records=dep.records,
            live=Live(conn.gateway, conn.workspace_id),
            read_ahead=dep.read_ahead,
            strict=False,
        )
