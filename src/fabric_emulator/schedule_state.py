"""State layer, schedules: the Job Scheduler CRUD on an item's schedules, and the `.schedules`
definition part kept in step with them. Mixed into `State` (which owns the lock and the tables).

How Fabric takes schedules (docs/schedules.md): a `.schedules` part sent with createItem or
updateDefinition replaces the item's schedules; a definition without one leaves them as they are;
the part is kept byte for byte and returned by getDefinition until the schedules change through the
API, after which the part is written afresh from them."""

from __future__ import annotations

import base64
import dataclasses
import threading
import uuid
from typing import Any

from fabric_emulator import schedules as rules
from fabric_emulator.definitions import Part, encode
from fabric_emulator.errors import bad_request, not_found
from fabric_emulator.jobs import canonical_job_type
from fabric_emulator.model import Item
from fabric_emulator.timefmt import job_time


class ScheduleState:
    """The schedule half of `State`; `State` supplies these members."""

    _lock: threading.RLock

    def item(self, workspace_id: str, item_id: str, item_type: str | None = None) -> Item:
        raise NotImplementedError

    def now(self) -> float:
        raise NotImplementedError

    def _put(self, kind: str, obj: Any) -> None:
        raise NotImplementedError

    # -- the REST API ---------------------------------------------------------------------------
    def list_schedules(
        self, workspace_id: str, item_id: str, job_type: str, item_type: str | None = None
    ) -> list[rules.Schedule]:
        with self._lock:
            item = self.item(workspace_id, item_id, item_type)
            kind = canonical_job_type(item.type, job_type)
            return [s for s in item.schedules if s.job_type == kind]

    def schedule(
        self,
        workspace_id: str,
        item_id: str,
        job_type: str,
        schedule_id: str,
        item_type: str | None = None,
    ) -> rules.Schedule:
        with self._lock:
            found = self._find(self.item(workspace_id, item_id, item_type), job_type, schedule_id)
            return found

    def create_schedule(
        self,
        workspace_id: str,
        item_id: str,
        job_type: str,
        body: dict[str, Any],
        identity: str,
        item_type: str | None = None,
        schedule_id: str | None = None,
    ) -> rules.Schedule:
        enabled, configuration, data = rules.check_request(body)
        with self._lock:
            item = self.item(workspace_id, item_id, item_type)
            kind = canonical_job_type(item.type, job_type)
            if len(item.schedules) >= rules.MAX_SCHEDULES:
                raise bad_request(
                    "ScheduleExceedsLimit",
                    f"Item '{item.display_name}' already has {rules.MAX_SCHEDULES} schedules.",
                )
            made = self._new(kind, enabled, configuration, identity, data, schedule_id)
            self._store(item, (*item.schedules, made), rewrite_part=True)
            return made

    def update_schedule(
        self,
        workspace_id: str,
        item_id: str,
        job_type: str,
        schedule_id: str,
        body: dict[str, Any],
        identity: str,
    ) -> rules.Schedule:
        enabled, configuration, data = rules.check_request(body)
        with self._lock:
            item = self.item(workspace_id, item_id)
            old = self._find(item, job_type, schedule_id)
            new = dataclasses.replace(
                old,
                enabled=enabled,
                configuration=configuration,
                owner_id=rules.owner_id(identity),
                execution_data=data if data is not None else old.execution_data,
            )
            kept = tuple(new if s.id == old.id else s for s in item.schedules)
            self._store(item, kept, rewrite_part=True)
            return new

    def delete_schedule(self, workspace_id: str, item_id: str, job_type: str, schedule_id: str) -> None:
        with self._lock:
            item = self.item(workspace_id, item_id)
            gone = self._find(item, job_type, schedule_id)
            kept = tuple(s for s in item.schedules if s.id != gone.id)
            self._store(item, kept, rewrite_part=True)

    # -- the definition part --------------------------------------------------------------------
    def schedules_from_parts(self, item: Item, identity: str = "") -> Item:
        """`item` (with its new parts) with the schedules its `.schedules` part asks for, if any."""
        part = item.part(rules.SCHEDULES_PART)
        if part is None:
            return self._with_part(item, item.schedules) if item.schedules else item
        entries = rules.entries_of_part(_bytes(part))
        made = tuple(
            self._new(canonical_job_type(item.type, job_type), enabled, configuration, identity)
            for job_type, enabled, configuration in entries
        )
        return dataclasses.replace(item, schedules=made)

    # -- helpers --------------------------------------------------------------------------------
    def _find(self, item: Item, job_type: str, schedule_id: str) -> rules.Schedule:
        kind = canonical_job_type(item.type, job_type)
        for s in item.schedules:
            if s.id == schedule_id.lower() and s.job_type == kind:
                return s
        raise not_found("ScheduleNotFound", "schedule", schedule_id)

    def _new(
        self,
        kind: str,
        enabled: bool,
        configuration: dict[str, Any],
        identity: str,
        data: dict[str, Any] | None = None,
        schedule_id: str | None = None,
    ) -> rules.Schedule:
        return rules.Schedule(
            (schedule_id or str(uuid.uuid4())).lower(),
            kind,
            enabled,
            configuration,
            job_time(self.now()),
            rules.owner_id(identity),
            data,
        )

    def _store(self, item: Item, schedules: tuple[rules.Schedule, ...], *, rewrite_part: bool) -> None:
        updated = dataclasses.replace(item, schedules=schedules)
        if rewrite_part:
            updated = self._with_part(updated, schedules)
        self._put("item", updated)

    @staticmethod
    def _with_part(item: Item, schedules: tuple[rules.Schedule, ...]) -> Item:
        """The item whose `.schedules` part says what its schedules are (none: no part)."""
        others = tuple(p for p in item.parts if p.path != rules.SCHEDULES_PART)
        if not schedules:
            return dataclasses.replace(item, parts=others)
        part = Part(rules.SCHEDULES_PART, encode(rules.part_text(schedules)))
        return dataclasses.replace(item, parts=(*others, part))


def _bytes(part: Part) -> bytes:
    padded = part.payload + "=" * (-len(part.payload) % 4)
    return base64.b64decode(padded)
