"""The pipeline's ports (③ observe, ⑦ apply, lookups) implemented over :class:`FabricClient`.

This is the only module of ``fabric/`` that knows the pipeline's types: it turns wire parts
(base64) into :class:`Part` values and back, and items into :class:`LiveItem` values.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dataflow_gitops.errors import Forbidden, JobFailed, NotFound, Unauthorized
from dataflow_gitops.fabric.client import FabricClient
from dataflow_gitops.fabric.schedules import Schedule, ScheduleConfig
from dataflow_gitops.pipeline.definition.parts import (
    decode_parts,
    encode_parts,
    fingerprint,
    parse_platform,
)
from dataflow_gitops.pipeline.definition.schedule_part import canonical
from dataflow_gitops.pipeline.model import (
    DATAFLOW_TYPE,
    PLATFORM_PATH,
    LiveDataflow,
    LiveFolder,
    LiveItem,
    Part,
    ReferenceStatus,
)

# Re-exported for the client layer's public surface; it lives with stage ③, needing only a listing.
from dataflow_gitops.pipeline.plan.observe import LiveLookup

APPLY_CHANGES = "ApplyChanges"
__all__ = ["APPLY_CHANGES", "FabricGateway", "LiveLookup", "to_live_item"]


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

    def find_dataflow(self, workspace_id: str, item_id: str) -> ReferenceStatus:
        """A dataflow of another workspace: EXISTS, MISSING (the workspace is visible and lacks
        it), or UNVERIFIED when this identity cannot see that workspace."""
        try:
            item = self._client.get_item(workspace_id, item_id)
        except (Forbidden, Unauthorized):
            return ReferenceStatus.UNVERIFIED
        except NotFound:
            # A 404 may mean "no such workspace for you" as well as "no such item".
            try:
                self._client.get_workspace(workspace_id)
            except (Forbidden, Unauthorized, NotFound):
                return ReferenceStatus.UNVERIFIED
            return ReferenceStatus.MISSING
        found = str(item.get("type", DATAFLOW_TYPE)) == DATAFLOW_TYPE
        return ReferenceStatus.EXISTS if found else ReferenceStatus.MISSING

    # FabricWriter -------------------------------------------------------------------------

    def create_dataflow(
        self,
        workspace_id: str,
        display_name: str,
        description: str,
        parts: Sequence[Part],
        *,
        folder_id: str | None = None,
    ) -> str:
        item = self._client.create_item(
            workspace_id,
            display_name=display_name,
            type=DATAFLOW_TYPE,
            description=description,
            definition={"parts": encode_parts(parts)},
            folder_id=folder_id,
        )
        return str(item["id"])

    def move_item(self, workspace_id: str, item_id: str, folder_id: str | None) -> None:
        """Into ``folder_id``, or to the workspace root with None; never a delete + create."""
        self._client.move_item(workspace_id, item_id, folder_id)

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

    # Folders ------------------------------------------------------------------------------

    def list_folders(self, workspace_id: str) -> Sequence[LiveFolder]:
        """Every folder of the workspace, at any depth."""
        return tuple(
            LiveFolder(f.id, f.display_name, f.parent_folder_id)
            for f in self._client.list_folders(workspace_id)
        )

    def create_folder(self, workspace_id: str, display_name: str, parent_id: str | None) -> str:
        return self._client.create_folder(workspace_id, display_name, parent_folder_id=parent_id).id

    def delete_folder(self, workspace_id: str, folder_id: str) -> None:
        self._client.delete_folder(workspace_id, folder_id)

    # Schedules ----------------------------------------------------------------------------

    def list_schedules(self, workspace_id: str, item_id: str, job_type: str) -> Sequence[Schedule]:
        return tuple(self._client.list_schedules(workspace_id, item_id, job_type))

    def create_schedule(
        self,
        workspace_id: str,
        item_id: str,
        job_type: str,
        *,
        enabled: bool,
        configuration: ScheduleConfig,
    ) -> str:
        return self._client.create_schedule(
            workspace_id, item_id, job_type, enabled=enabled, configuration=configuration
        ).id

    def update_schedule(
        self,
        workspace_id: str,
        item_id: str,
        job_type: str,
        schedule_id: str,
        *,
        enabled: bool,
        configuration: ScheduleConfig,
    ) -> None:
        self._client.update_schedule(
            workspace_id,
            item_id,
            job_type,
            schedule_id,
            enabled=enabled,
            configuration=configuration,
        )

    def delete_schedule(self, workspace_id: str, item_id: str, job_type: str, schedule_id: str) -> None:
        self._client.delete_schedule(workspace_id, item_id, job_type, schedule_id)

    def delete_schedules(
        self, workspace_id: str, item_id: str, job_type: str, configurations: Collection[str]
    ) -> int:
        deleted = 0
        for schedule in self._client.list_schedules(workspace_id, item_id, job_type):
            config = schedule.configuration
            if config is not None and canonical(config.to_json()) in configurations:
                self._client.delete_schedule(workspace_id, item_id, job_type, schedule.id)
                deleted += 1
        return deleted
