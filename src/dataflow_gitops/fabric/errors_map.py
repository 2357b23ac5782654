"""Fabric client layer — an error response → a typed :class:`FabricApiError`.

Status picks the class; errorCode (body, else ``x-ms-public-api-error-code``), message, requestId
(body, else ``RequestId``/``x-ms-request-id``) and moreDetails are carried as data. A body that is
not JSON still gives a typed error. Common codes get a hint that says what to do.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from dataflow_gitops.errors import (
    BadRequest,
    Conflict,
    FabricApiError,
    Forbidden,
    NotFound,
    ServerError,
    Throttled,
    Unauthorized,
)
from dataflow_gitops.fabric.http_log import display_url, request_id_of

_BY_STATUS: dict[int, type[FabricApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    429: Throttled,
}

_HINTS_BY_CODE = {
    "TokenExpired": "the access token expired and could not be refreshed; acquire a new one "
    "(auth method `token` cannot refresh itself)",
    "InvalidToken": "the token is not valid for Fabric; check the auth settings and that its "
    "audience is https://api.fabric.microsoft.com",
    "TokenIsMissing": "no bearer token was sent; check the environment's auth settings",
    "InsufficientPrivileges": "give the identity a workspace role that allows this "
    "(Contributor to write items, Member to run dataflows)",
    "InsufficientWorkspaceRole": "give the identity a higher workspace role (Admin for hard delete)",
    "InsufficientScopes": "the token lacks a needed scope; request "
    "https://api.fabric.microsoft.com/.default or the item scopes",
    "PrincipalTypeNotSupported": "this API does not accept service principals; run it as a user",
    "FeatureNotAvailable": "this API or option is not available for the item or tenant",
    "ItemDisplayNameNotAvailableYet": "the name belonged to a recently deleted item and is still "
    "reserved; wait a few minutes and retry",
    "ItemDisplayNameAlreadyInUse": "another item of this type already has this name; rename one "
    "of them or adopt the existing item",
    "ItemNotFound": "the item no longer exists or the id is wrong; run `dfg plan` again",
    "EntityNotFound": "the item no longer exists or the id is wrong; run `dfg plan` again",
    "WorkspaceNotFound": "check `workspace_id` in the environment overlay and the identity's access",
    "CorruptedPayload": "a definition part is not valid base64 or not valid content; run `dfg validate`",
    "InvalidDefinitionParts": "the definition parts are not a valid Dataflow definition; "
    "run `dfg validate`",
    "DataflowNotParametricError": "the dataflow declares no public parameters",
    "JobAlreadyCompleted": "the job instance has already finished",
    "TooManyRequestsForJobs": "too many jobs submitted for this item; wait and run it again",
}

_HINTS_BY_STATUS = {
    401: "check the credentials in the environment's auth settings",
    403: "check the identity's workspace role and the tenant setting "
    "'Service principals can use Fabric APIs'",
    429: "the identity's API quota is exhausted; retry later or lower --concurrency",
}


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = json.loads(response.content) if response.content else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _text_excerpt(response: httpx.Response) -> str:
    text = " ".join(response.content.decode("utf-8", "replace").split())
    return text[:200] if text else (response.reason_phrase or "no response body")


def error_code_of(response: httpx.Response) -> str:
    code = _body(response).get("errorCode")
    if isinstance(code, str) and code:
        return code
    return response.headers.get("x-ms-public-api-error-code") or f"HTTP{response.status_code}"


def api_error(response: httpx.Response, *, method: str, url: str | httpx.URL) -> FabricApiError:
    body = _body(response)
    code = error_code_of(response)
    message = body.get("message")
    if not isinstance(message, str) or not message:
        message = _text_excerpt(response)
    request_id = body.get("requestId") if isinstance(body.get("requestId"), str) else None
    details = body.get("moreDetails")
    more = [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    status = response.status_code
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else FabricApiError)
    hint = _HINTS_BY_CODE.get(code) or _HINTS_BY_STATUS.get(status)
    if hint is None and status >= 500:
        hint = "Fabric had a server-side problem; retry later"
    return cls(
        status=status,
        error_code=code,
        message=message,
        method=method,
        url=display_url(url),
        request_id=request_id or request_id_of(response),
        more_details=more,
        hint=hint,
    )
