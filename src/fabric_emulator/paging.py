"""Pagination: a full result list + the request's query → one page with `continuationToken` /
`continuationUri` in the body (both absent on the last page); bad token → `InvalidContinuationToken`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from fabric_emulator.errors import bad_request

_PREFIX = "dfe1:"


def _encode(offset: int) -> str:
    return base64.b64encode(f"{_PREFIX}{offset}".encode()).decode("ascii")


def _decode(token: str) -> int:
    try:
        text = base64.b64decode(token, validate=True).decode("ascii")
        if not text.startswith(_PREFIX):
            raise ValueError(token)
        offset = int(text[len(_PREFIX) :])
        if offset < 0:
            raise ValueError(token)
        return offset
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_request(
            "InvalidContinuationToken",
            "The continuationToken is not valid; repeat the request without it to start over.",
        ) from None


def page(
    values: Sequence[dict[str, Any]], query: Mapping[str, str], page_size: int, url_base: str, path: str
) -> dict[str, Any]:
    """`url_base` is `http://host:port`; other query parameters (such as `type`) stay in the URI."""
    token = query.get("continuationToken")
    start = _decode(token) if token else 0
    end = start + page_size
    body: dict[str, Any] = {"value": list(values[start:end])}
    if end < len(values):
        next_token = _encode(end)
        params = {k: v for k, v in query.items() if k != "continuationToken"}
        params["continuationToken"] = next_token
        body["continuationToken"] = quote(next_token, safe="")
        body["continuationUri"] = f"{url_base}{path}?{urlencode(params)}"
    return body
