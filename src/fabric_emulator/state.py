"""State layer (moto's models.py): workspaces, folders, items with definitions, operations and job
instances, with every Fabric rule and `EmulatorError`, and no HTTP. Thread-safe (one lock); each
mutation is written through to `Storage` so a `--db` emulator survives restarts."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fabric_emulator import definitions as defs
from fabric_emulator.errors import EmulatorError, bad_request, not_found
from fabric_emulator.folder_state import FolderState
from fabric_emulator.jobs import (
    TERMINAL,
    JobInstance,
    canonical_job_type,
    check_job_parameters,
    new_job,
)
from fabric_emulator.lro import Operation
from fabric_emulator.model import Folder, Item, Workspace
from fabric_emulator.naming import MAX_DESCRIPTION, NameReservations, checked_text, item_type_name
from fabric_emulator.schedule_state import ScheduleState
from fabric_emulator.storage import MemoryStorage, Storage


def _new_id() -> str:
    return str(uuid.uuid4())


class State(FolderState, ScheduleState):
    """The whole emulated tenant. Public methods take and return plain values or records."""

    def __init__(self, clock: Callable[[], float], storage: Storage | None = None) -> None:
        self._clock = clock
        self._storage: Storage = storage or MemoryStorage()
        self._lock = threading.RLock()
        self.workspaces: dict[str, Workspace] = {}
        self.folders: dict[str, Folder] = {}
        self.items: dict[str, Item] = {}
        self.operations: dict[str, Operation] = {}
        self.jobs: dict[str, JobInstance] = {}
        self._reserved = NameReservations()
        self._load()

    # -- persistence -------------------------------------------------------------------------
    _KINDS: dict[str, Any] = {
        "workspace": Workspace,
        "folder": Folder,
        "item": Item,
        "operation": Operation,
        "job": JobInstance,
    }

    _TABLES = dict(
        workspace="workspaces", folder="folders", item="items", operation="operations", job="jobs"
    )

    def _table(self, kind: str) -> dict[str, Any]:
        table: dict[str, Any] = getattr(self, self._TABLES[kind])
        return table

    def _load(self) -> None:
        for kind, records in self._storage.load().items():
            cls = self._KINDS.get(kind)
            if cls is None:
                continue
            for record in records:
                obj = cls.from_record(record)
                self._table(kind)[obj.id] = obj

    def _put(self, kind: str, obj: Any) -> None:
        self._table(kind)[obj.id] = obj
        self._storage.put(kind, obj.id, obj.to_record())

    def _drop(self, kind: str, ident: str) -> None:
        self._table(kind).pop(ident, None)
        self._storage.delete(kind, ident)

    def clear(self) -> None:
        with self._lock:
            for kind in self._KINDS:
                self._table(kind).clear()
            self._reserved.clear()
            self._storage.clear()

    def close(self) -> None:
        self._storage.close()

    @contextlib.contextmanager
    def all_or_nothing(self) -> Iterator[None]:
        """Changes made inside stay only if the block finishes; an exception puts back every table
        (and the storage) as it was, so a failed seed leaves nothing behind."""
        with self._lock:
            before = {kind: dict(self._table(kind)) for kind in self._KINDS}
            try:
                yield
            except BaseException:
                for kind, table in before.items():
                    for ident in set(self._table(kind)) - set(table):
                        self._drop(kind, ident)
                    for obj in table.values():
                        if self._table(kind).get(obj.id) is not obj:
                            self._put(kind, obj)
                raise

    @property
    def lock(self) -> threading.RLock:
        """Held by readers that need several tables at one moment (the control plane's dump)."""
        return self._lock

    def now(self) -> float:
        return self._clock()

    # -- workspaces --------------------------------------------------------------------------
    def list_workspaces(self) -> list[Workspace]:
        with self._lock:
            return list(self.workspaces.values())

    def workspace(self, workspace_id: str) -> Workspace:
        with self._lock:
            found = self.workspaces.get(workspace_id.lower())
            if found is None:
                raise not_found("WorkspaceNotFound", "workspace", workspace_id)
            return found

    def create_workspace(
        self,
        display_name: Any,
        description: Any = None,
        workspace_id: str | None = None,
        capacity_id: Any = None,
        domain_id: Any = None,
    ) -> Workspace:
        name = checked_text(display_name, "displayName", required=True)
        desc = checked_text(description, "description", limit=4000) or ""
        assert name is not None
        with self._lock:
            if any(w.display_name.lower() == name.lower() for w in self.workspaces.values()):
                message = f"A workspace named '{name}' already exists."
                raise bad_request("WorkspaceNameAlreadyExists", message)
            ws = Workspace((workspace_id or _new_id()).lower(), name, desc)
            if isinstance(capacity_id, str) and capacity_id:
                ws = dataclasses.replace(ws, capacity_id=capacity_id)
            if isinstance(domain_id, str) and domain_id:
                ws = dataclasses.replace(ws, domain_id=domain_id.lower())
            if ws.id in self.workspaces:
                raise bad_request("InvalidInput", f"Workspace id '{ws.id}' is already used.")
            self._put("workspace", ws)
            return ws

    # -- items -------------------------------------------------------------------------------
    def item(self, workspace_id: str, item_id: str, item_type: str | None = None) -> Item:
        with self._lock:
            self.workspace(workspace_id)
            found = self.items.get(item_id.lower())
            if (
                found is None
                or found.workspace_id != workspace_id.lower()
                or (item_type is not None and found.type != item_type)
            ):
                raise not_found("ItemNotFound", "item", item_id)
            return found

    def list_items(
        self,
        workspace_id: str,
        item_type: str | None = None,
        recursive: bool = True,
        root_folder_id: str | None = None,
    ) -> list[Item]:
        with self._lock:
            ws = self.workspace(workspace_id)
            wanted = item_type_name(item_type) if item_type else None
            root = self._folder_or_root(ws.id, root_folder_id)
            parents = self._subtree(ws.id, root, recursive)
            return [
                i
                for i in self.items.values()
                if i.workspace_id == ws.id
                and i.folder_id in parents
                and (wanted is None or i.type == wanted)
            ]

    def _check_name(self, workspace_id: str, item_type: str, name: str, except_id: str | None) -> None:
        for other in self.items.values():
            if (
                other.workspace_id == workspace_id
                and other.type == item_type
                and other.id != except_id
                and other.display_name.lower() == name.lower()
            ):
                raise bad_request(
                    "ItemDisplayNameAlreadyInUse",
                    f"Item display name '{name}' is already used by another {item_type}.",
                )
        self._reserved.check(workspace_id, item_type, name, self._clock())

    def _check_logical_id(self, workspace_id: str, logical_id: str, except_id: str | None) -> None:
        for other in self.items.values():
            if (
                other.workspace_id == workspace_id
                and other.logical_id == logical_id
                and other.id != except_id
            ):
                message = (
                    f"logicalId '{logical_id}' is already used by item "
                    f"'{other.display_name}' in this workspace."
                )
                raise bad_request("InvalidPlatformFile", message)

    def create_item(
        self,
        workspace_id: str,
        body: dict[str, Any],
        item_id: str | None = None,
        identity: str = "",
    ) -> Item:
        """Create from a CreateItemRequest-shaped body (displayName, type, description, folderId,
        definition); a `.schedules` part in the definition creates its schedules."""
        name = checked_text(body.get("displayName"), "displayName", required=True)
        desc = checked_text(body.get("description"), "description", limit=MAX_DESCRIPTION) or ""
        assert name is not None
        item_type = item_type_name(body.get("type"))
        if body.get("definition") is not None and body.get("creationPayload") is not None:
            raise bad_request(
                "RequestWithDefinitionAndCreationPayloadNotSupported",
                "Send either 'definition' or 'creationPayload', not both.",
            )
        parsed = None
        if body.get("definition") is not None:
            parsed = defs.parse_definition(item_type, body["definition"])
        with self._lock:
            ws = self.workspace(workspace_id)
            folder = self._folder_or_root(ws.id, body.get("folderId"))
            self._check_name(ws.id, item_type, name, None)
            logical_id = defs.platform_logical_id(parsed.platform if parsed else None)
            if logical_id is not None:
                self._check_logical_id(ws.id, logical_id, None)
            parts = parsed.parts if parsed else ()
            if not parts and item_type == "Dataflow":
                parts = defs.default_dataflow_parts(name)
            item = Item(
                (item_id or _new_id()).lower(),
                ws.id,
                item_type,
                name,
                desc,
                logical_id or defs.new_logical_id(),
                parts,
                folder,
                parsed.format if parsed else None,
                creator=identity,
            )
            item = self.schedules_from_parts(item, identity)
            self._put("item", item)
            return item

    def update_item(
        self, workspace_id: str, item_id: str, body: dict[str, Any], item_type: str | None = None
    ) -> Item:
        name = checked_text(body.get("displayName"), "displayName")
        desc = checked_text(body.get("description"), "description", limit=MAX_DESCRIPTION)
        with self._lock:
            item = self.item(workspace_id, item_id, item_type)
            if name is not None:
                if not name.strip():
                    raise bad_request("InvalidInput", "'displayName' must not be empty.")
                self._check_name(item.workspace_id, item.type, name, item.id)
                item = dataclasses.replace(item, display_name=name)
            if desc is not None:
                item = dataclasses.replace(item, description=desc)
            self._put("item", item)
            return item

    def delete_item(
        self,
        workspace_id: str,
        item_id: str,
        item_type: str | None = None,
        reserve_name_s: float = 0.0,
    ) -> None:
        """Delete; with `reserve_name_s` the name stays taken that long, as in Fabric after a delete."""
        with self._lock:
            item = self.item(workspace_id, item_id, item_type)
            self._drop("item", item.id)
            if reserve_name_s > 0:
                until = self._clock() + reserve_name_s
                self._reserved.hold(item.workspace_id, item.type, item.display_name, until)

    def move_item(self, workspace_id: str, item_id: str, target_folder_id: Any) -> Item:
        with self._lock:
            item = self.item(workspace_id, item_id)
            item = dataclasses.replace(
                item, folder_id=self._folder_or_root(item.workspace_id, target_folder_id)
            )
            self._put("item", item)
            return item

    def get_definition(
        self, workspace_id: str, item_id: str, item_type: str | None = None
    ) -> dict[str, Any]:
        with self._lock:
            item = self.item(workspace_id, item_id, item_type)
            platform = defs.platform_part(
                item.type, item.display_name, item.description, item.logical_id
            )
            definition: dict[str, Any] = {"parts": [p.to_json() for p in (*item.parts, platform)]}
            if item.definition_format:
                definition["format"] = item.definition_format
            return {"definition": definition}

    def update_definition(
        self,
        workspace_id: str,
        item_id: str,
        definition: Any,
        update_metadata: bool,
        item_type: str | None = None,
        identity: str = "",
    ) -> Item:
        with self._lock:
            item = self.item(workspace_id, item_id, item_type)
            parsed = defs.parse_definition(item.type, definition)
            # The whole definition is replaced; `.platform` counts only with updateMetadata=true.
            item = dataclasses.replace(item, parts=parsed.parts, definition_format=parsed.format)
            item = self.schedules_from_parts(item, identity)
            if update_metadata and parsed.platform is not None:
                name, desc = defs.platform_metadata(parsed.platform)
                if name is not None and name != item.display_name:
                    checked_text(name, "displayName", required=True)
                    self._check_name(item.workspace_id, item.type, name, item.id)
                    item = dataclasses.replace(item, display_name=name)
                if desc is not None:
                    item = dataclasses.replace(item, description=checked_text(desc, "description") or "")
            self._put("item", item)
            return item

    # -- operations --------------------------------------------------------------------------
    def add_operation(
        self,
        outcome: str,
        polls_needed: int,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        operation_id: str | None = None,
    ) -> Operation:
        now = self._clock()
        op = Operation(
            (operation_id or _new_id()).lower(),
            now,
            now,
            outcome,
            polls_needed,
            result=result,
            error=error,
        )
        with self._lock:
            self._put("operation", op)
        return op

    def poll_operation(self, operation_id: str) -> Operation:
        with self._lock:
            op = self._operation(operation_id)
            op = op.polled(self._clock())
            self._put("operation", op)
            return op

    def _operation(self, operation_id: str) -> Operation:
        op = self.operations.get(operation_id.lower())
        if op is None:
            raise not_found("OperationNotFound", "operation", operation_id)
        return op

    def operation_result(self, operation_id: str) -> dict[str, Any]:
        with self._lock:
            op = self._operation(operation_id)
            status = op.status(self._clock())
            if status != "Succeeded":
                raise bad_request(
                    "OperationNotSucceeded",
                    f"Operation '{operation_id}' is {status}; poll it until it succeeds.",
                )
            if op.result is None:
                raise bad_request("OperationHasNoResult", f"Operation '{operation_id}' has no result.")
            return op.result

    # -- jobs --------------------------------------------------------------------------------
    def start_job(
        self,
        workspace_id: str,
        item_id: str,
        job_type: str | None,
        duration: float,
        outcome: str,
        item_type: str | None = None,
        job_id: str | None = None,
        parameter_names: Sequence[str] = (),
        start_delay: float = 0.0,
        dedupe: bool = False,
    ) -> JobInstance:
        """`dedupe`: a run while one of the same type is active on the item ends `Deduped`."""
        with self._lock:
            item = self.item(workspace_id, item_id, item_type)
            kind = canonical_job_type(item.type, job_type)
            check_job_parameters(item, kind, parameter_names)
            now = self._clock()
            busy = dedupe and any(
                j.item_id == item.id and j.job_type == kind and j.status(now) not in TERMINAL
                for j in self.jobs.values()
            )
            ident = (job_id or _new_id()).lower()
            job = new_job(item, kind, ident, now, (start_delay, duration), outcome, deduped=busy)
            self._put("job", job)
            return job

    def job(self, workspace_id: str, item_id: str, job_id: str) -> JobInstance:
        with self._lock:
            item = self.item(workspace_id, item_id)
            found = self.jobs.get(job_id.lower())
            if found is None or found.item_id != item.id:
                raise not_found("JobInstanceNotFound", "job instance", job_id)
            return found

    def list_jobs(self, workspace_id: str, item_id: str) -> list[JobInstance]:
        with self._lock:
            item = self.item(workspace_id, item_id)
            return [j for j in self.jobs.values() if j.item_id == item.id]

    def cancel_job(self, workspace_id: str, item_id: str, job_id: str) -> JobInstance:
        with self._lock:
            job = self.job(workspace_id, item_id, job_id)
            now = self._clock()
            if job.status(now) in TERMINAL:
                raise EmulatorError(
                    409,
                    "JobAlreadyCompleted",
                    f"Job instance '{job_id}' already finished as {job.status(now)}.",
                )
            job = job.cancelled(now)
            self._put("job", job)
            return job
