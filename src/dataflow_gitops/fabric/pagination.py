"""Fabric client layer — paged lists: first page request → every ``value`` element of every page.

Follows ``continuationUri`` as given (only on the API origin) or repeats the request with
``continuationToken``; stops when both are absent or empty, and refuses a cursor it has seen
before, which would otherwise loop forever.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from dataflow_gitops.errors import FabricError
from dataflow_gitops.fabric.lro import json_object
from dataflow_gitops.fabric.origin import require_origin
from dataflow_gitops.fabric.transport import Sender


def with_token(url: str, params: Mapping[str, str], token: str) -> str:
    base = str(httpx.URL(url, params=dict(params))) if params else url
    # The token arrives URL-encoded already (notes §3); "%" stays so it is not encoded twice.
    return f"{base}{'&' if '?' in base else '?'}continuationToken={quote(token, safe='%')}"


def iterate_pages(
    sender: Sender,
    url: str,
    params: Mapping[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    params = dict(params or {})
    seen: set[str] = set()
    page = json_object(sender.send("GET", url, params=params))
    while True:
        values = page.get("value") or []
        yield from (v for v in values if isinstance(v, dict))
        uri = page.get("continuationUri") or None
        token = page.get("continuationToken") or None
        if not uri and not token:
            return
        cursor = str(token or uri)
        if cursor in seen:
            raise FabricError(
                f"the service returned the same continuation again ({cursor[:40]}…) while paging",
                where=f"GET {httpx.URL(url).path}",
                hint="paging would loop forever; retry later",
            )
        seen.add(cursor)
        if uri:
            require_origin(str(uri), sender.origin, what="continuationUri")
            page = json_object(sender.send("GET", str(uri)))
        else:
            page = json_object(sender.send("GET", with_token(url, params, str(token))))
