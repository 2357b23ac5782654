"""Fabric client layer — creating without duplicates, and waiting out a reserved name.

A create (POST) is not idempotent: when its answer is lost, :func:`create` first looks for what
it may have made (the caller's ``find``) before trying again, so a retry never makes a second
item, folder or schedule. A name a recently deleted item still reserves
(``ItemDisplayNameNotAvailableYet``) is waited out by :func:`waiting_for_name`, bounded in total.
Both wait in the one retry loop (:meth:`Sender.retrying`), so each wait is the same status line
as any other retry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import httpx

from dataflow_gitops.errors import BadRequest, FabricError, TransportError
from dataflow_gitops.fabric.retry import Retry
from dataflow_gitops.fabric.sender import Sender

Json = dict[str, Any]
T = TypeVar("T")

# How long a create or rename waits for a recently deleted item's name to be released
# (ItemDisplayNameNotAvailableYet); fabric-cicd waits the same 300 s.
NAME_WAIT_S = 300.0
NAME_NOT_AVAILABLE_YET = "ItemDisplayNameNotAvailableYet"


def waiting_for_name(sender: Sender, call: Callable[[], T], *, name_wait_s: float) -> T:
    """Run ``call``; while the name is still reserved after a delete, wait and call again.

    The wait is bounded by ``name_wait_s`` in total (the sender's clock), not by a number of
    retries; past it the service's error is raised as it came.
    """

    def attempt() -> T | Retry:
        try:
            return call()
        except BadRequest as exc:
            if exc.error_code != NAME_NOT_AVAILABLE_YET:
                raise
            return Retry(exc, "Fabric: the name is still reserved by a deleted item")

    policy = replace(sender.policy, max_retries=None, deadline_s=name_wait_s)
    return sender.retrying(attempt, policy=policy)


def create(
    sender: Sender,
    url: str,
    body: Json,
    find: Callable[[], Json | None],
    *,
    what: str,
    name_wait_s: float,
    finish: Callable[[httpx.Response, str], Json | None],
) -> Json:
    """POST a create; after a lost answer, look for the created thing before trying again.

    ``finish(response, what)`` reads the answer (following a long-running operation).
    """
    lost = 0

    def attempt() -> Json | Retry:
        nonlocal lost
        try:
            response = waiting_for_name(
                sender, lambda: sender.send_once("POST", url, json=body), name_wait_s=name_wait_s
            )
        except BadRequest as exc:
            # Our earlier, lost attempt may have taken the name after all.
            if lost and exc.error_code == "ItemDisplayNameAlreadyInUse":
                found = find()
                if found is not None:
                    return found
            raise
        if response is not None:
            return _created(response, find, what=what, finish=finish)
        found = find()
        if found is not None:
            return found
        lost += 1
        failure = TransportError(
            f"no answer to create {what} after {lost} attempts",
            method="POST",
            url=url,
            hint="check the network and the workspace, then run again",
        )
        return Retry(failure, f"Fabric: the answer to create {what} was lost")

    return sender.retrying(attempt)


def _created(
    response: httpx.Response,
    find: Callable[[], Json | None],
    *,
    what: str,
    finish: Callable[[httpx.Response, str], Json | None],
) -> Json:
    result = finish(response, f"create {what}")
    if isinstance(result, dict) and result.get("id"):
        return result
    # An LRO without a result body: the created item is found by its name.
    found = find()
    if found is None:
        raise FabricError(
            f"create {what} succeeded but the new item cannot be found",
            hint="run the command again; it will not duplicate the item",
        )
    return found
