"""Errors layer: an `EmulatorError` raised anywhere in state or handlers → the Fabric `ErrorResponse`
body and headers (`errorCode`, `message`, `requestId`, `moreDetails`; `x-ms-public-api-error-code`,
`RequestId`, `x-ms-request-id`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any


class EmulatorError(Exception):
    """A Fabric API error: HTTP status + stable `errorCode` + human message."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        more_details: Sequence[Mapping[str, Any]] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.more_details = list(more_details or [])
        self.headers = dict(headers or {})

    def body(self, request_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "errorCode": self.error_code,
            "message": self.message,
            "requestId": request_id,
        }
        if self.more_details:
            out["moreDetails"] = [dict(d) for d in self.more_details]
        if self.status == 429 or self.status >= 500:
            out["isRetriable"] = True
        return out

    def response_headers(self, request_id: str) -> dict[str, str]:
        return {
            **self.headers,
            "x-ms-public-api-error-code": self.error_code,
            "RequestId": request_id,
            "x-ms-request-id": request_id,
        }


def not_found(code: str, what: str, ident: str) -> EmulatorError:
    return EmulatorError(404, code, f"The requested {what} '{ident}' was not found.")


def bad_request(code: str, message: str) -> EmulatorError:
    return EmulatorError(400, code, message)


def is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36  # the hyphenated form only, as the API writes ids


def checked_uuid(value: object, field: str) -> None:
    """A body field the spec types as a uuid: absent is fine, anything else but a UUID is a 400."""
    if value is not None and not is_uuid(value):
        raise bad_request("InvalidInput", f"'{field}' must be a UUID.")
