"""Fabric client layer — FabricClient: typed endpoint methods → the API's JSON (dicts in, dicts out).

One client per environment. Every call goes through :class:`~.transport.Sender` (throttle, retries,
token, log, typed errors); 202 answers are followed by :mod:`.lro`; lists are read to the end by
:mod:`.pagination`. Definition parts are ``{"path", "payload", "payloadType"}`` dicts, base64
encoded by the caller. Thread-safe: callers fan out with a ThreadPoolExecutor.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from dataflow_gitops.errors import FabricError, TransportError
from dataflow_gitops.fabric import timing
from dataflow_gitops.fabric.auth import TokenProvider
from dataflow_gitops.fabric.creates import NAME_WAIT_S, create, waiting_for_name
from dataflow_gitops.fabric.folders import Folder
from dataflow_gitops.fabric.jobs import (
    instance_id_from_location,
    newest_instance,
    wait_for_job,
)
from dataflow_gitops.fabric.lro import json_object, json_or_none, wait_for_operation
from dataflow_gitops.fabric.origin import api_root
from dataflow_gitops.fabric.pagination import iterate_pages
from dataflow_gitops.fabric.retry import RetryPolicy
from dataflow_gitops.fabric.schedules import Schedule, ScheduleConfig, schedule_request
from dataflow_gitops.fabric.sender import Sender
from dataflow_gitops.fabric.throttle import Throttle, shared_throttle

Json = dict[str, Any]

# Wall time one response body may take to arrive (a definition of many MB on a slow link is
# seconds); past it the request counts as unanswered and is retried if safe.
BODY_DEADLINE_S = 120.0


def _seg(value: str) -> str:
    """One path segment from an id; never lets a value add segments to the URL."""
    if not value or value in {".", ".."}:
        raise FabricError(f"invalid id {value!r} in an API path", hint="check the ids in the plan")
    return quote(value, safe="")


class FabricClient:
    def __init__(
        self,
        base_url: str,
        tokens: TokenProvider,
        *,
        concurrency: int = 8,
        timeout_s: float = 60,
        deadline_s: float = 600,
        max_retries: int = 6,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        transport: httpx.BaseTransport | None = None,
        lro_timeout_s: float = 600,
        throttle: Throttle | None = None,
        jitter: Callable[[], float] = random.random,
        name_wait_s: float = NAME_WAIT_S,
        body_deadline_s: float = BODY_DEADLINE_S,
    ) -> None:
        # None: the process's timing (real, interruptible waits; tests: timing.using).
        default = timing.current()
        self.on_wait: Callable[[str], None] | None = None
        """Hears that a long operation or job is still running (the CLI's progress)."""
        self._root, origin = api_root(base_url)
        self._identity = tokens.identity
        self._lro_timeout_s = lro_timeout_s
        self._name_wait_s = name_wait_s
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        # verify stays at its default (on); plain http is only possible for loopback (api_root).
        self._http = httpx.Client(
            transport=transport, timeout=timeout_s, limits=limits, follow_redirects=False
        )
        self._sender = Sender(
            self._http,
            tokens,
            origin,
            policy=RetryPolicy(max_retries=max_retries, deadline_s=deadline_s),
            throttle=throttle or shared_throttle(tokens.identity),
            concurrency=concurrency,
            sleep=sleep or default.sleep,
            clock=clock or default.clock,
            jitter=jitter,
            body_deadline_s=body_deadline_s,
        )

    def __repr__(self) -> str:
        return f"FabricClient({self._root!r}, identity={self._identity!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FabricClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- workspaces ---------------------------------------------------------------------------

    def list_workspaces(self) -> list[Json]:
        return list(iterate_pages(self._sender, self._url("workspaces")))

    def get_workspace(self, ws: str) -> Json:
        return self._get(self._url("workspaces", ws))

    def create_workspace(self, name: str) -> Json:
        def find() -> Json | None:
            return next((w for w in self.list_workspaces() if w.get("displayName") == name), None)

        return self._create(
            self._url("workspaces"), {"displayName": name}, find, what=f"workspace {name!r}"
        )

    # -- items --------------------------------------------------------------------------------

    def list_items(
        self,
        ws: str,
        type: str | None = None,
        *,
        root_folder_id: str | None = None,
        recursive: bool = True,
    ) -> list[Json]:
        """Items of the workspace (each with its ``folderId`` when it sits in a folder).

        Every item at any depth by default; ``root_folder_id`` lists below that folder only, and
        ``recursive=False`` only its direct children.
        """
        params: dict[str, str] = {"type": type} if type else {}
        if root_folder_id:
            params["rootFolderId"] = root_folder_id
        if not recursive:
            params["recursive"] = "false"
        items = iterate_pages(self._sender, self._url("workspaces", ws, "items"), params or None)
        if type is None:
            return list(items)
        # The service's type filter has been wrong before (notes §12): check every item.
        return [i for i in items if str(i.get("type", "")).lower() == type.lower()]

    def get_item(self, ws: str, id: str) -> Json:
        return self._get(self._url("workspaces", ws, "items", id))

    def create_item(
        self,
        ws: str,
        *,
        display_name: str,
        type: str,
        description: str = "",
        definition: Mapping[str, Any] | Sequence[Json] | None = None,
        folder_id: str | None = None,
    ) -> Json:
        """Create an item and return the Item.

        ``definition`` is an ItemDefinition (``{"parts": [...]}``) or just its list of parts.
        """
        body: Json = {"displayName": display_name, "type": type, "description": description}
        if isinstance(definition, Mapping):
            body["definition"] = dict(definition)
        elif definition is not None:
            body["definition"] = {"parts": list(definition)}
        if folder_id:
            body["folderId"] = folder_id

        def find() -> Json | None:
            return next(
                (i for i in self.list_items(ws, type) if i.get("displayName") == display_name), None
            )

        return self._create(
            self._url("workspaces", ws, "items"), body, find, what=f"{type} {display_name!r}"
        )

    def update_item(
        self, ws: str, id: str, *, display_name: str | None = None, description: str | None = None
    ) -> Json:
        body: Json = {}
        if display_name is not None:
            body["displayName"] = display_name
        if description is not None:
            body["description"] = description
        url = self._url("workspaces", ws, "items", id)

        def patch() -> Json:
            return json_object(self._sender.send("PATCH", url, json=body))

        if display_name is None:
            return patch()
        return waiting_for_name(self._sender, patch, name_wait_s=self._name_wait_s)

    def delete_item(self, ws: str, id: str, hard: bool = False) -> None:
        params = {"hardDelete": "true"} if hard else None
        self._sender.send("DELETE", self._url("workspaces", ws, "items", id), params=params)

    def move_item(self, ws: str, id: str, target_folder_id: str | None) -> list[Json]:
        """Move an item (with its children) into a folder, or to the workspace root with None.

        Returns the moved items (``MovedItems.value``) as the service lists them.
        """
        body: Json = {"targetFolderId": target_folder_id} if target_folder_id else {}
        answer = json_or_none(
            self._sender.send("POST", self._url("workspaces", ws, "items", id, "move"), json=body)
        )
        values = answer.get("value") if isinstance(answer, dict) else None
        return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []

    def get_definition(self, ws: str, id: str) -> list[Json]:
        url = self._url("workspaces", ws, "items", id, "getDefinition")
        body = self._maybe_lro(self._sender.send("POST", url), what=f"getDefinition of item {id}")
        definition = (body or {}).get("definition") or {}
        parts = definition.get("parts") if isinstance(definition, dict) else None
        if not isinstance(parts, list):
            raise FabricError(
                "getDefinition returned no definition parts",
                where=f"item {id}",
                hint="the item may not support definitions",
            )
        return [p for p in parts if isinstance(p, dict)]

    def update_definition(
        self, ws: str, id: str, parts: Sequence[Json], *, update_metadata: bool
    ) -> None:
        url = self._url("workspaces", ws, "items", id, "updateDefinition")
        params = {"updateMetadata": "true" if update_metadata else "false"}
        response = self._sender.send(
            "POST", url, json={"definition": {"parts": list(parts)}}, params=params
        )
        self._maybe_lro(response, what=f"updateDefinition of item {id}")

    def list_dataflow_parameters(self, ws: str, id: str) -> list[Json]:
        return list(
            iterate_pages(self._sender, self._url("workspaces", ws, "dataflows", id, "parameters"))
        )

    # -- folders ------------------------------------------------------------------------------

    def list_folders(
        self, ws: str, *, root_folder_id: str | None = None, recursive: bool = True
    ) -> list[Folder]:
        """Folders of the workspace: all of them by default, or below ``root_folder_id``."""
        params: dict[str, str] = {"recursive": "true" if recursive else "false"}
        if root_folder_id:
            params["rootFolderId"] = root_folder_id
        pages = iterate_pages(self._sender, self._url("workspaces", ws, "folders"), params)
        return [Folder.from_json(f) for f in pages]

    def get_folder(self, ws: str, id: str) -> Folder:
        return Folder.from_json(self._get(self._url("workspaces", ws, "folders", id)))

    def create_folder(
        self, ws: str, display_name: str, *, parent_folder_id: str | None = None
    ) -> Folder:
        """Create a folder in ``parent_folder_id`` (the workspace root when None)."""
        body: Json = {"displayName": display_name}
        if parent_folder_id:
            body["parentFolderId"] = parent_folder_id

        def find() -> Json | None:
            for folder in self.list_folders(ws, root_folder_id=parent_folder_id, recursive=False):
                if folder.display_name == display_name:
                    return {
                        "id": folder.id,
                        "displayName": folder.display_name,
                        "workspaceId": folder.workspace_id,
                        "parentFolderId": folder.parent_folder_id,
                    }
            return None

        created = self._create(
            self._url("workspaces", ws, "folders"), body, find, what=f"folder {display_name!r}"
        )
        return Folder.from_json(created)

    def rename_folder(self, ws: str, id: str, display_name: str) -> Folder:
        url = self._url("workspaces", ws, "folders", id)
        answer = json_or_none(self._sender.send("PATCH", url, json={"displayName": display_name}))
        return Folder.from_json(answer if isinstance(answer, dict) else {})

    def move_folder(self, ws: str, id: str, target_folder_id: str | None) -> Folder:
        """Move a folder under another one, or to the workspace root with None."""
        body: Json = {"targetFolderId": target_folder_id} if target_folder_id else {}
        url = self._url("workspaces", ws, "folders", id, "move")
        answer = json_or_none(self._sender.send("POST", url, json=body))
        return Folder.from_json(answer if isinstance(answer, dict) else {})

    def delete_folder(self, ws: str, id: str) -> None:
        """Delete an empty folder; the service refuses one with items or folders (FolderNotEmpty)."""
        self._sender.send("DELETE", self._url("workspaces", ws, "folders", id))

    # -- schedules (Job Scheduler) ------------------------------------------------------------

    def list_schedules(self, ws: str, id: str, job_type: str) -> list[Schedule]:
        url = self._url("workspaces", ws, "items", id, "jobs", job_type, "schedules")
        return [Schedule.from_json(s) for s in iterate_pages(self._sender, url)]

    def get_schedule(self, ws: str, id: str, job_type: str, schedule_id: str) -> Schedule:
        return Schedule.from_json(self._get(self._schedule_url(ws, id, job_type, schedule_id)))

    def create_schedule(
        self,
        ws: str,
        id: str,
        job_type: str,
        *,
        enabled: bool,
        configuration: ScheduleConfig,
        execution_data: Mapping[str, Any] | None = None,
    ) -> Schedule:
        """Create a schedule for one job type of an item (the service allows 20 per item).

        After a lost answer, a schedule of the same settings found on the item is taken as the
        one created, so a retry never adds a second.
        """
        url = self._url("workspaces", ws, "items", id, "jobs", job_type, "schedules")
        body = schedule_request(enabled, configuration, execution_data)

        def find() -> Json | None:
            for schedule in self.list_schedules(ws, id, job_type):
                if schedule.enabled == enabled and schedule.configuration == configuration:
                    return {"id": schedule.id}
            return None

        created = self._create(url, body, find, what=f"{job_type} schedule of item {id}")
        if set(created) == {"id"}:
            return self.get_schedule(ws, id, job_type, str(created["id"]))
        return Schedule.from_json(created)

    def update_schedule(
        self,
        ws: str,
        id: str,
        job_type: str,
        schedule_id: str,
        *,
        enabled: bool,
        configuration: ScheduleConfig,
        execution_data: Mapping[str, Any] | None = None,
    ) -> Schedule:
        body = schedule_request(enabled, configuration, execution_data)
        url = self._schedule_url(ws, id, job_type, schedule_id)
        answer = json_or_none(self._sender.send("PATCH", url, json=body))
        return Schedule.from_json(answer if isinstance(answer, dict) else {})

    def delete_schedule(self, ws: str, id: str, job_type: str, schedule_id: str) -> None:
        self._sender.send("DELETE", self._schedule_url(ws, id, job_type, schedule_id))

    # -- jobs ---------------------------------------------------------------------------------

    def run_job(
        self,
        ws: str,
        id: str,
        job_type: str,
        *,
        execution_data: Json | None = None,
        parameters: Sequence[Json] | None = None,
    ) -> str:
        """Start a job instance and return its id."""
        body: Json = {}
        if execution_data is not None:
            body["executionData"] = execution_data
        if parameters is not None:
            body["parameters"] = list(parameters)
        url = self._url("workspaces", ws, "items", id, "jobs", job_type, "instances")
        response = self._sender.send_once("POST", url, json=body or None)
        if response is None:
            # Replaying could start the job twice; let a human look first.
            raise TransportError(
                f"the answer to starting the {job_type} job was lost",
                method="POST",
                url=url,
                hint="the job may be running; check `dfg jobs` before running again",
            )
        job_id = instance_id_from_location(response.headers.get("Location"))
        if job_id:
            return job_id
        newest = newest_instance(self.list_jobs(ws, id), job_type)
        if newest is None or not newest.get("id"):
            raise FabricError(
                f"the {job_type} job was accepted but no job instance can be found",
                where=f"item {id}",
                hint="check `dfg jobs` for it",
            )
        return str(newest["id"])

    def get_job(self, ws: str, id: str, job_id: str) -> Json:
        return self._get(self._job_url(ws, id, job_id))

    def list_jobs(self, ws: str, id: str) -> list[Json]:
        return list(
            iterate_pages(self._sender, self._url("workspaces", ws, "items", id, "jobs", "instances"))
        )

    def cancel_job(self, ws: str, id: str, job_id: str) -> None:
        # Also after Ctrl-C: stopping the job we started is what the interrupt asks for.
        self._sender.send("POST", self._job_url(ws, id, job_id) + "/cancel", cleanup=True)

    def wait_job(
        self,
        ws: str,
        id: str,
        job_id: str,
        *,
        timeout_s: float,
        on_poll: Callable[[Json], None] | None = None,
    ) -> Json:
        """Poll until the instance is Completed, Failed, Cancelled or Deduped and return it."""
        return wait_for_job(
            self._sender,
            self._job_url(ws, id, job_id),
            timeout_s=timeout_s,
            on_poll=on_poll,
            on_wait=self.on_wait,
            what=f"job {job_id}",
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _url(self, *segments: str) -> str:
        return "/".join([self._root, *(_seg(s) for s in segments)])

    def _job_url(self, ws: str, id: str, job_id: str) -> str:
        return self._url("workspaces", ws, "items", id, "jobs", "instances", job_id)

    def _schedule_url(self, ws: str, id: str, job_type: str, schedule_id: str) -> str:
        return self._url("workspaces", ws, "items", id, "jobs", job_type, "schedules", schedule_id)

    def _get(self, url: str) -> Json:
        return json_object(self._sender.send("GET", url))

    def _create(self, url: str, body: Json, find: Callable[[], Json | None], *, what: str) -> Json:
        return create(
            self._sender,
            url,
            body,
            find,
            what=what,
            name_wait_s=self._name_wait_s,
            finish=self._maybe_lro,
        )

    def _maybe_lro(self, response: httpx.Response, what: str) -> Json | None:
        if response.status_code == 202:
            result = wait_for_operation(
                self._sender,
                response,
                api_root=self._root,
                timeout_s=self._lro_timeout_s,
                what=what,
                on_wait=self.on_wait,
            )
            return result if isinstance(result, dict) else None
        return json_object(response) or None
