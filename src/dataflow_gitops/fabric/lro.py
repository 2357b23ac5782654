"""Fabric client layer — long-running operations: a 202 response → the operation's result (or None).

Polls ``Location`` (or ``/operations/{x-ms-operation-id}``) with ``Retry-After`` as the floor
between polls and a small growing default when it is absent, until ``Succeeded`` or ``Failed``
or the overall timeout. On success, a ``Location`` that points at ``…/result`` is fetched; no
``Location`` means the operation has no result (notes §2). ``Undefined`` is an error, as in
fabric-cicd.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from dataflow_gitops.errors import FabricError, OperationFailed, OperationTimeout
from dataflow_gitops.fabric.origin import require_origin
from dataflow_gitops.fabric.retry import retry_after_s
from dataflow_gitops.fabric.sender import Sender

_RUNNING = frozenset({"notstarted", "running"})


def default_poll_delay(polls: int) -> float:
    """Between polls when the service gives no ``Retry-After``: 0.5 s, 1 s, 2 s … at most 5 s."""
    return min(5.0, 0.5 * 2.0**polls)


def json_or_none(response: httpx.Response) -> Any:
    if not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError:
        raise FabricError(
            f"expected a JSON body from {response.request.method} {response.request.url.path}, "
            f"got {response.headers.get('Content-Type', 'no content type')}",
            hint="the API answered in an unexpected format; check the `api:` URL",
        ) from None


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}``, and any other JSON (a list, a string,
    a number) is a clean FabricError rather than an AttributeError later on."""
    body = json_or_none(response)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise FabricError(
            f"expected a JSON object from {response.request.method} {response.request.url.path}, "
            f"got a JSON {_json_kind(body)}",
            hint="the API answered in an unexpected format; check the `api:` URL",
        )
    return body


def _json_kind(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean"}.get(type(value), "number")


class WaitNotice:
    """Says, through ``report``, that a wait goes on: first after :data:`NOTICE_AFTER_S` of the
    given clock, then every :data:`NOTICE_EVERY_S`; so a long operation or job shows progress."""

    def __init__(self, report: Callable[[str], None] | None, clock: Callable[[], float]) -> None:
        self._report = report
        self._clock = clock
        self._started = clock()
        self._next = self._started + NOTICE_AFTER_S

    def __call__(self, what: str, status: str) -> None:
        now = self._clock()
        if self._report is None or now < self._next:
            return
        self._next = now + NOTICE_EVERY_S
        self._report(f"{what}: still {status or 'running'} after {now - self._started:.0f}s")


NOTICE_AFTER_S = 10.0
NOTICE_EVERY_S = 15.0


def wait_for_operation(
    sender: Sender,
    accepted: httpx.Response,
    *,
    api_root: str,
    timeout_s: float,
    what: str,
    on_wait: Callable[[str], None] | None = None,
) -> Any:
    """Follow the operation started by ``accepted`` (a 202) and return its result, if any.

    ``on_wait`` hears that a long operation is still running (progress, not every poll).
    """
    operation_id = accepted.headers.get("x-ms-operation-id", "")
    location = accepted.headers.get("Location")
    if not location:
        if not operation_id:
            raise FabricError(
                "the service answered 202 without Location or x-ms-operation-id",
                where=what,
                hint="cannot follow the operation; retry later",
            )
        location = f"{api_root}/operations/{operation_id}"
    require_origin(location, sender.origin, what=f"operation Location of {what}")
    started = sender.clock()
    notice = WaitNotice(on_wait, sender.clock)
    floor = retry_after_s(accepted)
    polls = 0
    status = "NotStarted"
    while True:
        notice(what, status)
        delay = floor if floor is not None else default_poll_delay(polls)
        if sender.clock() - started + delay > timeout_s:
            raise OperationTimeout(
                f"operation {operation_id or location} still running after {timeout_s:.0f}s",
                where=what,
                hint="it may still finish in Fabric; check the item, then run again, or give "
                "more time with --timeout",
            )
        sender.sleep(delay)
        polled = sender.send("GET", location)
        polls += 1
        state = json_object(polled)
        status = str(state.get("status", ""))
        operation_id = polled.headers.get("x-ms-operation-id", operation_id)
        next_location = polled.headers.get("Location")
        if status == "Succeeded":
            return _result(sender, next_location, location, what)
        if status == "Failed":
            raw = state.get("error")
            error: dict[str, Any] = raw if isinstance(raw, dict) else {}
            raise OperationFailed(
                operation_id=operation_id or location,
                error_code=str(error.get("errorCode") or "UnknownError"),
                message=str(error.get("message") or "no error details given"),
                more_details=[d for d in error.get("moreDetails") or [] if isinstance(d, dict)],
                where=what,
            )
        if status.lower() not in _RUNNING:
            # Undefined (and any state we do not know) cannot be trusted to end well.
            raise OperationFailed(
                operation_id=operation_id or location,
                error_code=status or "NoStatus",
                message="the operation reported a state that is not a progress state",
                where=what,
            )
        if next_location:
            require_origin(next_location, sender.origin, what=f"operation Location of {what}")
            location = next_location
        floor = retry_after_s(polled)


def _result(sender: Sender, result_location: str | None, state_location: str, what: str) -> Any:
    if not result_location or result_location == state_location:
        return None
    require_origin(result_location, sender.origin, what=f"operation result of {what}")
    return json_object(sender.send("GET", result_location))
