"""③ observe: the target workspace through the :class:`LiveReader` port → items and live dataflows.

``fabric/gateway.py`` is the adapter that implements the port over HTTP; this stage decides
what is read (every folder and item, each item placed in its folder path, then the definition of
every dataflow among them), reports progress, checks references to dataflows of other
workspaces as far as the identity can see, and resolves the overlay's dynamic values
(``${workspace.id}``, ``${items.<Type>.<name>.id}``) against the listing.
"""

from __future__ import annotations

from collections.abc import Sequence

from dataflow_gitops.pipeline.model import (
    DATAFLOW_TYPE,
    DesiredDataflow,
    LiveDataflow,
    LiveFolder,
    LiveItem,
    ReferenceStatus,
)
from dataflow_gitops.pipeline.plan.folders import place
from dataflow_gitops.pipeline.ports import LiveReader, NullReporter, Reporter

OBSERVE = "observe"
"""The progress task name of the live read."""


def list_placed(
    reader: LiveReader, workspace_id: str
) -> tuple[tuple[LiveItem, ...], tuple[LiveFolder, ...]]:
    """Every item of the workspace, all types (render resolves Lakehouse ids among them), each
    placed in its folder path; and every folder (Folders API, recursive)."""
    folders = tuple(reader.list_folders(workspace_id))
    return place(reader.list_items(workspace_id), folders), folders


def check_references(
    reader: LiveReader, desired: Sequence[DesiredDataflow]
) -> dict[tuple[str, str], ReferenceStatus]:
    """(workspace id, dataflow id), lowercase → what the identity finds for each reference to a
    dataflow of another workspace; one call per distinct target, never an error."""
    found: dict[tuple[str, str], ReferenceStatus] = {}
    for dataflow in desired:
        for ref in dataflow.external:
            key = (ref.workspace_id.lower(), ref.dataflow_id.lower())
            if key not in found:
                found[key] = reader.find_dataflow(ref.workspace_id, ref.dataflow_id)
    return found


def read_live(
    reader: LiveReader,
    workspace_id: str,
    items: Sequence[LiveItem],
    *,
    reporter: Reporter | None = None,
) -> tuple[LiveDataflow, ...]:
    """getDefinition of every dataflow among ``items``, in ``items`` order, with progress."""
    progress = reporter or NullReporter()
    dataflows = [i for i in items if i.type == DATAFLOW_TYPE]
    progress.start(OBSERVE, len(dataflows))

    def on_read(live: LiveDataflow) -> None:
        progress.advance(OBSERVE, live.display_name)

    try:
        return tuple(reader.read_dataflows(workspace_id, dataflows, on_read=on_read))
    finally:
        progress.finish(OBSERVE)


class LiveLookup:
    """Resolves ``workspace.id`` and ``items.<Type>.<name>.id`` from one workspace listing."""

    def __init__(self, workspace_id: str, items: Sequence[LiveItem]) -> None:
        self._workspace_id = workspace_id
        self._ids: dict[tuple[str, str], str] = {}
        for item in items:
            self._ids.setdefault((item.type.lower(), item.display_name), item.id)

    def resolve(self, expression: str) -> str | None:
        if expression == "workspace.id":
            return self._workspace_id
        head, _, rest = expression.partition(".")
        if head != "items" or not rest.endswith(".id"):
            return None
        item_type, _, name = rest[: -len(".id")].partition(".")
        return self._ids.get((item_type.lower(), name))
