"""Job runs: a connection + a dataflow name → job instances (run, wait, list, cancel).

``dfg run`` and ``dfg jobs`` call these (through ``api``) over the job scheduler API (run on
demand, get instance, list, cancel). Nothing here prints: progress while waiting goes through a callback;
waiting honours ``Retry-After`` (in the client) and cancels the job on timeout or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from dataflow_gitops.connection import Connection
from dataflow_gitops.errors import (
    BadRequest,
    DataflowGitopsError,
    FabricError,
    JobFailed,
    NotFound,
    OperationTimeout,
    RenderError,
)
from dataflow_gitops.fabric.jobs import newest_first
from dataflow_gitops.pipeline.model import DATAFLOW_TYPE, LiveItem

Json = dict[str, Any]
JOB_TYPES = {"execute": "Execute", "apply-changes": "ApplyChanges"}
"""``--job`` value → the Fabric job type."""


def find_dataflow(conn: Connection, name: str) -> LiveItem:
    """The live dataflow ``name`` names: a repository name (display-name template applied) or a
    live display name."""
    items = [i for i in conn.gateway.list_items(conn.workspace_id) if i.type == DATAFLOW_TYPE]
    shown = conn.environment.display_name_for(name)
    found = next((i for i in items if i.display_name == shown), None)
    found = found or next((i for i in items if i.display_name == name), None)
    if found is None:
        known = ", ".join(sorted(i.display_name for i in items)) or "none"
        raise RenderError(
            f"no dataflow named {name!r} in the workspace of {conn.environment.name}",
            where=f"workspace {conn.workspace_id}",
            hint=f"live dataflows: {known}",
        )
    return found


def run_job(
    conn: Connection, item: LiveItem, *, job: str = "execute", params: Mapping[str, str] | None = None
) -> str:
    """Start the job on ``item`` and return the job instance id.

    ``execute`` publishes first when needed (``ApplyChangesIfNeeded``: an apply writes a
    definition without publishing it); ``params`` are typed from the dataflow's discovered
    public parameters.
    """
    job_type = JOB_TYPES[job]
    params = params or {}
    client, ws = conn.client, conn.workspace_id
    if job_type != "Execute":
        if params:
            raise RenderError(
                f"--param applies to the execute job, not {job}",
                where=item.display_name,
                hint="drop --param, or use --job execute",
            )
        return client.run_job(ws, item.id, job_type)
    values = typed_parameters(item, params, _discover(conn, item) if params else None)
    return client.run_job(
        ws,
        item.id,
        job_type,
        execution_data={"executeOption": "ApplyChangesIfNeeded"},
        parameters=values or None,
    )


def _discover(conn: Connection, item: LiveItem) -> list[Json] | None:
    try:
        return conn.client.list_dataflow_parameters(conn.workspace_id, item.id)
    except (BadRequest, NotFound):
        return None  # not parametric, or the route is unavailable: send the values untyped


_CASTS: dict[str, Callable[[str], Any]] = {
    "integer": int,
    "number": float,
    "boolean": lambda v: {"true": True, "false": False}[v.strip().lower()],
}


def typed_parameters(
    item: LiveItem, params: Mapping[str, str], discovered: Sequence[Json] | None
) -> list[Json]:
    """``--param K=V`` values as job parameters, each cast to the discovered parameter's type."""
    types = {str(p.get("name")): str(p.get("type", "")) for p in discovered or ()}
    out: list[Json] = []
    for key, text in params.items():
        value: Any = text
        if discovered is not None:
            if key not in types:
                known = ", ".join(sorted(types)) or "none"
                raise RenderError(
                    f"{item.display_name} has no public parameter {key!r}",
                    where=item.display_name,
                    hint=f"its parameters: {known}",
                )
            cast = _CASTS.get(types[key].lower())
            try:
                value = cast(text) if cast else text
            except (ValueError, KeyError):
                raise RenderError(
                    f"parameter {key} is of type {types[key]}; {text!r} is not one",
                    where=item.display_name,
                    hint="e.g. --param DaysBack=30, --param Flag=true",
                ) from None
        out.append({"name": key, "type": "Automatic", "value": value})
    return out


def wait_job(
    conn: Connection,
    item: LiveItem,
    job_id: str,
    *,
    timeout_s: float,
    on_poll: Callable[[Json], None] | None = None,
) -> Json:
    """Poll the job to its end; cancel it on timeout or Ctrl-C; JobFailed on Failed/Cancelled."""
    client, ws = conn.client, conn.workspace_id
    with _cancel_on_abort(conn, item, job_id):
        final = client.wait_job(ws, item.id, job_id, timeout_s=timeout_s, on_poll=on_poll)
    status = str(final.get("status", ""))
    if status.lower() not in ("completed", "deduped"):
        raise JobFailed(
            job_id=job_id,
            status=status,
            failure_reason=final.get("failureReason"),
            where=item.display_name,
        )
    return final


@contextlib.contextmanager
def _cancel_on_abort(conn: Connection, item: LiveItem, job_id: str) -> Iterator[None]:
    try:
        yield
    except OperationTimeout as exc:
        cancel_job(conn, item, job_id)
        raise OperationTimeout(
            f"{exc.message}; the job was cancelled",
            where=item.display_name,
            hint="run again with a longer --timeout",
        ) from None
    except KeyboardInterrupt:
        with contextlib.suppress(DataflowGitopsError):
            cancel_job(conn, item, job_id)
        raise


def cancel_job(conn: Connection, item: LiveItem, job_id: str) -> None:
    try:
        conn.client.cancel_job(conn.workspace_id, item.id, job_id)
    except NotFound:
        raise FabricError(
            f"no job instance {job_id!r} for {item.display_name!r}",
            where=f"workspace of {conn.environment.name}",
            hint=f"list its job instances: dfg jobs -e {conn.environment.name} {item.display_name!r}",
        ) from None


def list_jobs(conn: Connection, item: LiveItem) -> list[Json]:
    """The item's job instances, newest first."""
    return newest_first(conn.client.list_jobs(conn.workspace_id, item.id))


def failure_text(reason: Mapping[str, Any] | None) -> str:
    """The service's failureReason, as it gave it (compact JSON)."""
    return json.dumps(dict(reason), ensure_ascii=False) if reason else "(no failureReason given)"
