"""Fabric client layer — the ``-v`` request log: one exchange → one INFO line.

``METHOD /path?query STATUS 123ms requestId=…``. Never a header, a body or a token; query values
that could be secrets are masked, so the same display form is safe in error messages too.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode

import httpx

LOGGER = logging.getLogger("dataflow_gitops.fabric.http")

# continuationToken is an opaque paging cursor, not a credential; these are.
_SECRET_PARAMS = frozenset(
    {
        "access_token",
        "token",
        "id_token",
        "code",
        "client_secret",
        "secret",
        "password",
        "sig",
        "signature",
        "key",
        "api_key",
        "apikey",
        "assertion",
        "client_assertion",
    }
)


def _query(url: httpx.URL) -> str:
    query = url.query.decode("ascii", "replace")
    if not query:
        return ""
    pairs = [
        (k, "***" if k.lower() in _SECRET_PARAMS else v)
        for k, v in parse_qsl(query, keep_blank_values=True)
    ]
    return "?" + urlencode(pairs, safe="%=/:")


def path_for_log(url: str | httpx.URL) -> str:
    """``/v1/path?query`` with secret query values masked."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    return parsed.path + _query(parsed)


def display_url(url: str | httpx.URL) -> str:
    """The full URL for error messages, secret query values masked."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{parsed.host}{port}{path_for_log(parsed)}"


def request_id_of(response: httpx.Response) -> str | None:
    value = response.headers.get("RequestId") or response.headers.get("x-ms-request-id")
    return str(value) if value else None


def log_exchange(
    method: str,
    url: str | httpx.URL,
    outcome: int | str,
    elapsed_s: float,
    request_id: str | None = None,
) -> None:
    if not LOGGER.isEnabledFor(logging.INFO):
        return
    line = f"{method} {path_for_log(url)} {outcome} {round(elapsed_s * 1000)}ms"
    if request_id:
        line += f" requestId={request_id}"
    LOGGER.info(line)
