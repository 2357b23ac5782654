"""Fabric client layer — paged lists: first page request → every ``value`` element of every page.

Follows ``continuationUri`` as given (only on the API origin) or repeats the request with
``continuationToken``; stops when both are absent or empty. A server that never stops is refused
with a clean error rather than followed forever: a cursor seen before, more than
:data:`MAX_PAGES` pages (a workspace holds at most 1,000 items; pages hold 100 or more), a long
run of empty pages, or a cursor longer than :data:`MAX_CURSOR_CHARS`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from dataflow_gitops.errors import FabricError
from dataflow_gitops.fabric.lro import json_object
from dataflow_gitops.fabric.origin import require_origin
from dataflow_gitops.fabric.sender import Sender

MAX_PAGES = 1000
MAX_EMPTY_PAGES = 50
MAX_CURSOR_CHARS = 8192


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
    where = f"GET {httpx.URL(url).path}"
    page = json_object(sender.send("GET", url, params=params))
    pages = empty = 0
    while True:
        pages += 1
        values = page.get("value") or []
        empty = 0 if values else empty + 1
        yield from (v for v in values if isinstance(v, dict))
        uri = page.get("continuationUri") or None
        token = page.get("continuationToken") or None
        if not uri and not token:
            return
        cursor = str(token or uri)
        if cursor in seen:
            raise _endless(f"the same continuation again ({cursor[:40]}…)", where)
        if len(cursor) > MAX_CURSOR_CHARS:
            raise _endless(f"a continuation of {len(cursor)} characters", where)
        if pages >= MAX_PAGES:
            raise _endless(f"more than {MAX_PAGES} pages", where)
        if empty >= MAX_EMPTY_PAGES:
            raise _endless(f"{empty} empty pages in a row", where)
        seen.add(cursor)
        if uri:
            require_origin(str(uri), sender.origin, what="continuationUri")
            page = json_object(sender.send("GET", str(uri)))
        else:
            page = json_object(sender.send("GET", with_token(url, params, str(token))))


def _endless(what: str, where: str) -> FabricError:
    return FabricError(
        f"the service returned {what} while paging",
        where=where,
        hint="paging would not end; nothing was changed, retry later",
    )
