"""An in-memory Fabric workspace for pure pipeline tests: LiveReader + FabricWriter + Lookup.

It keeps the service rules the pipeline relies on (display names unique per type, ``.platform``
honoured on create and ignored on update unless ``update_metadata``) and can be scripted to
fail: ``fake.fail("create", "Sales")`` makes the next create of "Sales" raise. Every writer
call is logged as ``("start"|"end", op, display name)`` so tests can check ordering, and
``on_call`` runs inside each call (in the worker thread) to hold or synchronise it.

End-to-end tests use the real emulator over HTTP instead; this is for the pure stages.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from dataflow_gitops.errors import BadRequest, DataflowGitopsError, JobFailed, NotFound
from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.definition.schedule_part import entries_of, part_with
from dataflow_gitops.pipeline.model import (
    DATAFLOW_TYPE,
    KNOWN_AFTER_APPLY,
    PLATFORM_PATH,
    SCHEDULES_PATH,
    DesiredDataflow,
    LiveDataflow,
    LiveFolder,
    LiveItem,
    Part,
    ReferenceStatus,
)

WORKSPACE_ID = "5b2c0000-0000-4000-8000-000000000001"


@dataclass(frozen=True, slots=True)
class Stored:
    item: LiveItem
    logical_id: str | None
    parts: tuple[Part, ...]


class FakeFabric:
    def __init__(self, workspace_id: str = WORKSPACE_ID) -> None:
        self.workspace_id = workspace_id
        self.items: dict[str, Stored] = {}
        self.folders: dict[str, LiveFolder] = {}
        self.visible: dict[tuple[str, str], ReferenceStatus] = {}
        """(workspace id, item id) of other workspaces → what find_dataflow answers."""
        self.events: list[tuple[str, str, str]] = []
        self.published: list[str] = []
        self.on_call: Callable[[str, str], None] | None = None
        self._failures: dict[tuple[str, str], list[DataflowGitopsError]] = {}
        self._lock = threading.Lock()

    # scripting ---------------------------------------------------------------------------

    def fail(
        self, op: str, display_name: str, error: DataflowGitopsError | None = None, *, times: int = 1
    ) -> None:
        """Make the next ``times`` calls of ``op`` on ``display_name`` raise ``error``."""
        errors = [error or self._api_error(op, display_name) for _ in range(times)]
        self._failures.setdefault((op, display_name), []).extend(errors)

    def seed(self, desired: DesiredDataflow) -> str:
        """Put a dataflow live as if an earlier apply had written it; return its id."""
        return self.create_dataflow(
            self.workspace_id, desired.display_name, desired.description, desired.parts, _log=False
        )

    def by_name(self, display_name: str) -> Stored | None:
        return next((s for s in self.items.values() if s.item.display_name == display_name), None)

    def live(self, display_name: str) -> LiveDataflow:
        stored = self.by_name(display_name)
        assert stored is not None, f"{display_name} is not live"
        return self._live(stored)

    def writes(self) -> list[tuple[str, str]]:
        return [(op, name) for kind, op, name in self.events if kind == "start"]

    # LiveReader --------------------------------------------------------------------------

    def list_items(self, workspace_id: str) -> Sequence[LiveItem]:
        self._check_workspace(workspace_id)
        with self._lock:
            return [s.item for s in self.items.values()]

    def read_dataflows(
        self,
        workspace_id: str,
        items: Sequence[LiveItem],
        *,
        on_read: Callable[[LiveDataflow], None] | None = None,
    ) -> Sequence[LiveDataflow]:
        self._check_workspace(workspace_id)
        placed = {i.id: i for i in items}
        read = [self._live(self.items[i.id]) for i in items if i.id in self.items]
        read = [replace(d, item=placed.get(d.id, d.item)) for d in read]
        for live in read:
            if on_read is not None:
                on_read(live)
        return read

    def list_folders(self, workspace_id: str) -> Sequence[LiveFolder]:
        self._check_workspace(workspace_id)
        with self._lock:
            return list(self.folders.values())

    def find_dataflow(self, workspace_id: str, item_id: str) -> ReferenceStatus:
        return self.visible.get((workspace_id, item_id), ReferenceStatus.UNVERIFIED)

    # folders -----------------------------------------------------------------------------

    def create_folder(self, workspace_id: str, display_name: str, parent_id: str | None) -> str:
        with self._call("create_folder", display_name):
            self._check_workspace(workspace_id)
            with self._lock:
                taken = any(
                    f.parent_folder_id == parent_id and f.display_name.lower() == display_name.lower()
                    for f in self.folders.values()
                )
                if taken:
                    raise self._api_error("create_folder", display_name)
                folder = LiveFolder(str(uuid.uuid4()), display_name, parent_id)
                self.folders[folder.id] = folder
            return folder.id

    def delete_folder(self, workspace_id: str, folder_id: str) -> None:
        folder = self.folders[folder_id]
        with self._call("delete_folder", folder.display_name), self._lock:
            busy = any(f.parent_folder_id == folder_id for f in self.folders.values()) or any(
                s.item.folder_id == folder_id for s in self.items.values()
            )
            if busy:
                raise self._api_error("delete_folder", folder.display_name)
            del self.folders[folder_id]

    def move_item(self, workspace_id: str, item_id: str, folder_id: str | None) -> None:
        stored = self._get(workspace_id, item_id)
        with self._call("move", stored.item.display_name), self._lock:
            self.items[item_id] = replace(stored, item=replace(stored.item, folder_id=folder_id))

    def folder(self, path: str) -> str:
        """Create ``path`` (parents too) as if by hand; return the innermost folder's id."""
        parent: str | None = None
        for name in path.split("/"):
            found = next(
                (
                    f
                    for f in self.folders.values()
                    if f.parent_folder_id == parent and f.display_name == name
                ),
                None,
            )
            if found is None:
                found = LiveFolder(str(uuid.uuid4()), name, parent)
                self.folders[found.id] = found
            parent = found.id
        assert parent is not None
        return parent

    # Lookup ------------------------------------------------------------------------------

    def resolve(self, expression: str) -> str | None:
        if expression == "workspace.id":
            return self.workspace_id
        head, item_type, rest = (expression.split(".", 2) + ["", ""])[:3]
        name, _, prop = rest.rpartition(".")
        if head != "items" or prop != "id":
            return None
        return next(
            (
                s.item.id
                for s in self.items.values()
                if s.item.type == item_type and s.item.display_name == name
            ),
            None,
        )

    # FabricWriter ------------------------------------------------------------------------

    def create_dataflow(
        self,
        workspace_id: str,
        display_name: str,
        description: str,
        parts: Sequence[Part],
        *,
        folder_id: str | None = None,
        _log: bool = True,
    ) -> str:
        with self._call("create", display_name, log=_log):
            self._check_workspace(workspace_id)
            platform = _platform(parts)
            name = platform.get("displayName", display_name)
            self._check_free(name, None)
            item = LiveItem(
                str(uuid.uuid4()),
                DATAFLOW_TYPE,
                name,
                platform.get("description", description),
                folder_id=folder_id,
            )
            with self._lock:
                self.items[item.id] = Stored(item, platform.get("logicalId"), _without_platform(parts))
            return item.id

    def update_definition(
        self, workspace_id: str, item_id: str, parts: Sequence[Part], *, update_metadata: bool
    ) -> None:
        stored = self._get(workspace_id, item_id)
        with self._call("update_definition", stored.item.display_name):
            item = stored.item
            if update_metadata:
                platform = _platform(parts)
                self._check_free(platform.get("displayName", item.display_name), item_id)
                item = replace(
                    item,
                    display_name=platform.get("displayName", item.display_name),
                    description=platform.get("description", item.description),
                )
            with self._lock:
                self.items[item_id] = Stored(item, stored.logical_id, _without_platform(parts))

    def update_properties(
        self, workspace_id: str, item_id: str, *, display_name: str | None, description: str | None
    ) -> None:
        stored = self._get(workspace_id, item_id)
        with self._call("update_properties", stored.item.display_name):
            if display_name is not None:
                self._check_free(display_name, item_id)
            item = replace(
                stored.item,
                display_name=display_name or stored.item.display_name,
                description=stored.item.description if description is None else description,
            )
            with self._lock:
                self.items[item_id] = replace(stored, item=item)

    def delete_item(self, workspace_id: str, item_id: str) -> None:
        stored = self._get(workspace_id, item_id)
        with self._call("delete", stored.item.display_name), self._lock:
            del self.items[item_id]

    def delete_schedules(
        self, workspace_id: str, item_id: str, job_type: str, configurations: Collection[str]
    ) -> int:
        """Schedules live in the stored ``.schedules`` part here (as the emulator keeps them)."""
        stored = self._get(workspace_id, item_id)
        with self._call("delete_schedules", stored.item.display_name):
            part = next((p for p in stored.parts if p.path == SCHEDULES_PATH), None)
            entries = entries_of(part.data if part else None)
            keep = [
                e for e in entries if e.job_type != job_type or e.configuration not in configurations
            ]
            if len(keep) == len(entries) or part is None:
                return 0
            data = part_with(part.data, keep)
            parts = tuple(Part(p.path, data) if p is part else p for p in stored.parts)
            with self._lock:
                self.items[item_id] = replace(stored, parts=parts)
            return len(entries) - len(keep)

    def publish(self, workspace_id: str, item_id: str) -> None:
        stored = self._get(workspace_id, item_id)
        with self._call("publish", stored.item.display_name), self._lock:
            self.published.append(stored.item.display_name)

    # internals ---------------------------------------------------------------------------

    def _call(self, op: str, display_name: str, *, log: bool = True) -> _Call:
        return _Call(self, op, display_name, log)

    def _take_failure(self, op: str, display_name: str) -> DataflowGitopsError | None:
        with self._lock:
            queued = self._failures.get((op, display_name))
            return queued.pop(0) if queued else None

    def _live(self, stored: Stored) -> LiveDataflow:
        item = stored.item
        return LiveDataflow(
            item,
            stored.logical_id,
            stored.parts,
            fingerprint(stored.parts, display_name=item.display_name, description=item.description),
        )

    def _get(self, workspace_id: str, item_id: str) -> Stored:
        self._check_workspace(workspace_id)
        with self._lock:
            stored = self.items.get(item_id)
        if stored is None:
            raise NotFound(
                status=404,
                error_code="ItemNotFound",
                message="The item does not exist",
                method="GET",
                url=f"/v1/workspaces/{workspace_id}/items/{item_id}",
            )
        return stored

    def _check_workspace(self, workspace_id: str) -> None:
        if workspace_id != self.workspace_id:
            raise NotFound(
                status=404,
                error_code="WorkspaceNotFound",
                message="no such workspace",
                method="GET",
                url=f"/v1/workspaces/{workspace_id}",
            )

    def _check_free(self, display_name: str, item_id: str | None) -> None:
        with self._lock:
            taken = any(
                s.item.display_name == display_name and s.item.id != item_id for s in self.items.values()
            )
        if taken:
            raise BadRequest(
                status=400,
                error_code="ItemDisplayNameAlreadyInUse",
                message=f"Item display name '{display_name}' is already in use",
                method="POST",
                url=f"/v1/workspaces/{self.workspace_id}/items",
            )

    def _api_error(self, op: str, display_name: str) -> DataflowGitopsError:
        if op == "publish":
            return JobFailed(
                job_id="job-1",
                status="Failed",
                failure_reason={
                    "errorCode": "MashupParseError",
                    "message": f"{display_name}: the query does not parse",
                },
            )
        return BadRequest(
            status=400,
            error_code="InvalidDefinitionParts",
            message=f"scripted failure of {op} for {display_name}",
            method="POST",
            url=f"/v1/workspaces/{self.workspace_id}/items",
            request_id="req-1",
        )


class _Call:
    """Logs start/end of one writer call, runs ``on_call`` and raises a scripted failure."""

    def __init__(self, fake: FakeFabric, op: str, display_name: str, log: bool) -> None:
        self.fake, self.op, self.name, self.log = fake, op, display_name, log

    def _event(self, kind: str) -> None:
        if self.log:
            with self.fake._lock:
                self.fake.events.append((kind, self.op, self.name))

    def __enter__(self) -> None:
        self._event("start")
        if self.log and self.fake.on_call is not None:
            self.fake.on_call(self.op, self.name)
        failure = self.fake._take_failure(self.op, self.name)
        if failure is not None:
            self._event("end")
            raise failure

    def __exit__(self, *exc: object) -> None:
        self._event("end")


def _platform(parts: Sequence[Part]) -> dict[str, str]:
    part = next((p for p in parts if p.path == PLATFORM_PATH), None)
    if part is None:
        return {}
    doc = json.loads(part.data)
    return {**doc.get("metadata", {}), **doc.get("config", {})}


def _without_platform(parts: Sequence[Part]) -> tuple[Part, ...]:
    return tuple(sorted((p for p in parts if p.path != PLATFORM_PATH), key=lambda p: p.path))


def make_desired(
    name: str,
    *,
    query: str = "1",
    logical_id: str | None = None,
    display_name: str | None = None,
    description: str = "",
    depends_on: Sequence[str] = (),
    pending: Sequence[str] = (),
    extra: str = "",
) -> DesiredDataflow:
    """A small, valid DesiredDataflow; ``pending`` expressions appear as KNOWN_AFTER_APPLY tokens."""
    shown = display_name or name
    logical = logical_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"dfg-test/{name}"))
    platform = {
        "$schema": "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/"
        "platformProperties/2.0.0/schema.json",
        "metadata": {"type": DATAFLOW_TYPE, "displayName": shown, "description": description},
        "config": {"version": "2.0", "logicalId": logical},
    }
    reads = "".join(f'\nshared Read{i} = "{KNOWN_AFTER_APPLY % p}";' for i, p in enumerate(pending))
    mashup = f"section Section1;\nshared Query = {query};{reads}{extra}\n"
    metadata = {"formatVersion": "202502", "name": shown, "queriesMetadata": {}, "connections": []}
    parts = (
        Part(PLATFORM_PATH, json.dumps(platform).encode()),
        Part("mashup.pq", mashup.encode()),
        Part("queryMetadata.json", json.dumps(metadata).encode()),
    )
    return DesiredDataflow(
        name=name,
        display_name=shown,
        description=description,
        logical_id=logical,
        parts=parts,
        fingerprint=fingerprint(parts, display_name=shown, description=description),
        depends_on=tuple(depends_on),
        pending=tuple(pending),
    )
