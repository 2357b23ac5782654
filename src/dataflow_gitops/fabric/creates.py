"""Fabric client layer — creating without duplicates, and waiting out a reserved name.

A create (POST) is not idempotent: when its answer is lost, :func:`create` first looks for what
it may have made (the caller's ``find``) before trying again, so a retry never makes a second
item, folder or schedule. A name a recently deleted item still reserves
(``ItemDisplayNameNotAvailableYet``) is waited out by :func:`waiting_for_name`, bounded in total.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from dataflow_gitops.errors import BadRequest, FabricError, TransportError
from dataflow_gitops.fabric.transport import STATUS, Sender

Json = dict[str, Any]
T = TypeVar("T")
LOGGER = logging.getLogger(__name__)

# How long a create or rename waits for a recently deleted item's name to be released
# (ItemDisplayNameNotAvailableYet); fabric-cicd waits the same 300 s.
NAME_WAIT_S = 300.0
NAME_NOT_AVAILABLE_YET = "ItemDisplayNameNotAvailableYet"


def waiting_for_name(sender: Sender, call: Callable[[], T], *, name_wait_s: float) -> T:
    """Run ``call``; while the name is still reserved after a delete, wait and call again.

    The wait is bounded by ``name_wait_s`` in total (the sender's clock); past it the
    service's error is raised as it came.
    """
    start = sender.clock()
    attempt = 0
    while True:
        try:
            return call()
        except BadRequest as exc:
            if exc.error_code != NAME_NOT_AVAILABLE_YET:
                raise
            delay = sender.backoff(attempt)
            if sender.clock() - start + delay > name_wait_s:
                raise
        LOGGER.warning(  # a wait of seconds to minutes: shown without -v, as retries are
            "Fabric: the name is still reserved by a deleted item — retry %d in %.0f s",
            attempt + 1,
            delay,
            extra=STATUS,
        )
        sender.sleep(delay)
        attempt += 1


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
    while True:
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
        found = find()
        if found is not None:
            return found
        if lost >= sender.policy.max_retries:
            raise TransportError(
                f"no answer to create {what} after {lost + 1} attempts",
                method="POST",
                url=url,
                hint="check the network and the workspace, then run again",
            )
        sender.sleep(sender.backoff(lost))
        lost += 1
