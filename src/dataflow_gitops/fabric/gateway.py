"""The pipeline's ports (③ observe, ⑦ apply, lookups) implemented over :class:`FabricClient`.

This is the only module of ``fabric/`` that knows the pipeline's types: it turns wire parts
(base64) into :class:`Part` values and back, and items into :class:`LiveItem` values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dataflow_gitops.errors import JobFailed
from dataflow_gitops.fabric.client import FabricClient
from dataflow_gitops.pipeline.definition.parts import (
    decode_parts,
    encode_parts,
    fingerprint,
    parse_platform,
)
from dataflow_gitops.pipeline.model import (
    DATAFLOW_TYPE,
    PLATFORM_PATH,
    LiveDataflow,
    LiveItem,
    Part,
)

APPLY_CHANGES = "ApplyChanges"


def to_live_item(item: Mapping[str, Any]) -> LiveItem:
    return LiveItem(
        id=str(item["id"]),
        type=str(item.get("type", "")),
        display_name=str(item.get("displayName", "")),
        description=str(item.get("description") or ""),
        folder_id=item.get("folderId") or None,
    )


class FabricGateway:
    """LiveReader + FabricWriter over one client; ``concurrency`` bounds parallel getDefinition."""

    def __init__(
        self, client: FabricClient, *, concurrency: int = 8, publish_timeout_s: float = 1800.0
    ) -> None:
        self._client = client
        self._concurrency = max(1, concurrency)
        self._publish_timeout_s = publish_timeout_s

    # LiveReader ---------------------------------------------------------------------------

    def list_items(self, workspace_id: str) -> Sequence[LiveItem]:
        return tuple(to_live_item(i) for i in self._client.list_items(workspace_id))

    def read_dataflow(self, workspace_id: str, item: LiveItem) -> LiveDataflow:
        parts = decode_parts(self._client.get_definition(workspace_id, item.id))
        logical_id: str | None = None
        body: list[Part] = []
        for part in parts:
            if part.path == PLATFORM_PATH:
                logical_id = parse_platform(part.data, path=f"{item.display_name}/.platform").logical_id
            else:
                body.append(part)
        body.sort(key=lambda p: p.path)
        return LiveDataflow(
            item=item,
            logical_id=logical_id,
            parts=tuple(body),
            fingerprint=fingerprint(body, display_name=item.display_name, description=item.description),
        )

    def read_dataflows(
        self,
        workspace_id: str,
        items: Sequence[LiveItem],
        *,
        on_read: Callable[[LiveDataflow], None] | None = None,
    ) -> Sequence[LiveDataflow]:
        """getDefinition of every dataflow among ``items``, concurrently, in ``items`` order.

        ``on_read`` is called (on a worker thread) as each definition arrives, for progress.
        """
        dataflows = [i for i in items if i.type == DATAFLOW_TYPE]
        if not dataflows:
            return ()

        def read(item: LiveItem) -> LiveDataflow:
            live = self.read_dataflow(workspace_id, item)
            if on_read is not None:
                on_read(live)
            return live

        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(dataflows))) as pool:
            return tuple(pool.map(read, dataflows))

    # FabricWriter -------------------------------------------------------------------------

    def create_dataflow(
        self, workspace_id: str, display_name: str, description: str, parts: Sequence[Part]
    ) -> str:
        item = self._client.create_item(
            workspace_id,
            display_name=display_name,
            type=DATAFLOW_TYPE,
            description=description,
            definition={"parts": encode_parts(parts)},
        )
        return str(item["id"])

    def update_definition(
        self, workspace_id: str, item_id: str, parts: Sequence[Part], *, update_metadata: bool
    ) -> None:
        self._client.update_definition(
            workspace_id, item_id, encode_parts(parts), update_metadata=update_metadata
        )

    def update_properties(
        self, workspace_id: str, item_id: str, *, display_name: str | None, description: str | None
    ) -> None:
        self._client.update_item(
            workspace_id, item_id, display_name=display_name, description=description
        )

    def delete_item(self, workspace_id: str, item_id: str) -> None:
        self._client.delete_item(workspace_id, item_id)

    def publish(self, workspace_id: str, item_id: str) -> None:
        job_id = self._client.run_job(workspace_id, item_id, APPLY_CHANGES)
        final = self._client.wait_job(workspace_id, item_id, job_id, timeout_s=self._publish_timeout_s)
        status = str(final.get("status", ""))
        if status != "Completed":
            raise JobFailed(
                job_id=job_id,
                status=status,
                failure_reason=final.get("failureReason"),
                where=f"ApplyChanges of item {item_id}",
            )


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
