"""The seams between the pure pipeline and the outside world (③ observe, ⑦ apply, lookups).

The pipeline depends on these Protocols only; ``fabric/gateway.py`` implements them over HTTP,
and tests may implement them in memory for pure-stage tests.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Protocol

from dataflow_gitops.pipeline.definition.mlang.document import SectionDocument
from dataflow_gitops.pipeline.model import (
    LiveDataflow,
    LiveFolder,
    LiveItem,
    Part,
    ReferenceStatus,
)


class Lookup(Protocol):
    """Resolves dynamic overlay values against the target workspace.

    ``expression`` is what stands inside ``${…}``: ``workspace.id``, ``items.Lakehouse.Sales.id``.
    Returns None when the value does not exist (yet).
    """

    def resolve(self, expression: str) -> str | None: ...


class LiveReader(Protocol):
    def list_items(self, workspace_id: str) -> Sequence[LiveItem]:
        """Every item of the workspace (all types, all pages)."""
        ...

    def read_dataflows(
        self,
        workspace_id: str,
        items: Sequence[LiveItem],
        *,
        on_read: Callable[[LiveDataflow], None] | None = None,
    ) -> Sequence[LiveDataflow]:
        """getDefinition for each dataflow item, concurrently; order follows ``items``.

        ``on_read`` is called as each definition arrives (possibly on another thread).
        """
        ...

    def list_folders(self, workspace_id: str) -> Sequence[LiveFolder]:
        """Every folder of the workspace, at any depth (Folders API, recursive)."""
        ...

    def find_dataflow(self, workspace_id: str, item_id: str) -> ReferenceStatus:
        """Whether a dataflow another workspace holds exists, as far as this identity can see:
        UNVERIFIED when the workspace itself is not visible (never an error)."""
        ...


class FabricWriter(Protocol):
    def create_dataflow(
        self,
        workspace_id: str,
        display_name: str,
        description: str,
        parts: Sequence[Part],
        *,
        folder_id: str | None = None,
    ) -> str:
        """Create the item with its definition (``.platform`` included) in ``folder_id`` (the
        workspace root when None); return the item id."""
        ...

    def move_item(self, workspace_id: str, item_id: str, folder_id: str | None) -> None:
        """Move the item into ``folder_id`` (the root when None): same item, never recreated."""
        ...

    def create_folder(self, workspace_id: str, display_name: str, parent_id: str | None) -> str:
        """Create a folder under ``parent_id`` (the root when None); return its id."""
        ...

    def delete_folder(self, workspace_id: str, folder_id: str) -> None:
        """Delete an empty folder (the service refuses one that is not empty)."""
        ...

    def update_definition(
        self, workspace_id: str, item_id: str, parts: Sequence[Part], *, update_metadata: bool
    ) -> None: ...

    def update_properties(
        self, workspace_id: str, item_id: str, *, display_name: str | None, description: str | None
    ) -> None: ...

    def delete_item(self, workspace_id: str, item_id: str) -> None: ...

    def delete_schedules(
        self, workspace_id: str, item_id: str, job_type: str, configurations: Collection[str]
    ) -> int:
        """Delete (Job Scheduler API) the item's ``job_type`` schedules whose configuration, as
        canonical JSON (``schedule_part.canonical``), is one of ``configurations``; return how
        many were deleted (none when the definition write already removed them)."""
        ...

    def publish(self, workspace_id: str, item_id: str) -> None:
        """Run the ApplyChanges job and wait for it; raise JobFailed when it fails."""
        ...


class ReadAhead(Protocol):
    """Reads many M texts at once, before the stages ask for their documents (the source
    stage's read-ahead: a persistent read cache, worker processes)."""

    def read(
        self,
        texts: Sequence[str],
        *,
        names: bool = False,
        known: Mapping[str, SectionDocument] | None = None,
    ) -> Mapping[str, SectionDocument]:
        """The document of each text of ``texts`` that is valid M (an invalid one is left out:
        the stage that reads it reports its error, with its own path); ``known`` are documents
        already read (``names`` is all they need). With ``names``, each document also knows its
        unknown names (``dfg validate``)."""
        ...


class Reporter(Protocol):
    """Progress for long stages; the CLI renders it (rich bar, plain CI lines), core never prints."""

    def start(self, task: str, total: int) -> None: ...

    def advance(self, task: str, detail: str = "") -> None: ...

    def waiting(self, task: str, detail: str) -> None:
        """A long wait inside ``task`` goes on (an operation or job still running)."""
        ...

    def finish(self, task: str) -> None: ...


class NullReporter:
    def start(self, task: str, total: int) -> None:
        pass

    def advance(self, task: str, detail: str = "") -> None:
        pass

    def waiting(self, task: str, detail: str) -> None:
        pass

    def finish(self, task: str) -> None:
        pass
