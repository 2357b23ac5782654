"""App layer: an ASGI request → control plane, or (latency, bearer auth, quota, faults) → route →
handler → JSON response with Fabric headers; `EmulatorError` → Fabric error body. Never a traceback:
an unexpected exception becomes a 500 `InternalServerError` body. Every /v1 call lands in the log."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from fabric_emulator import control, routes
from fabric_emulator.errors import EmulatorError
from fabric_emulator.exchange import Ctx, Reply
from fabric_emulator.faults import REQUEST_KINDS
from fabric_emulator.runtime import Emulator

logger = logging.getLogger("fabric_emulator")
_DEFAULT_FAULT_CODES = {
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
    429: "TooManyRequests",
    401: "TokenExpired",
}


_UNDROPPABLE = EmulatorError(
    503,
    "ServiceUnavailable",
    "Injected fault: the connection should have been dropped, but this server cannot drop one.",
    headers={"Retry-After": "1", "Connection": "close"},
)


class DropConnection(Exception):
    """Raised to close the client's connection without any response."""

    def __init__(self, identity: str) -> None:
        super().__init__("connection dropped (injected fault)")
        self.identity = identity


def _json_response(reply: Reply, request_id: str) -> Response:
    headers = {"RequestId": request_id, "x-ms-request-id": request_id, **reply.headers}
    if reply.body is None:
        # Clients (fabric-cicd) parse any body labelled JSON, so an empty one must not claim to be.
        return Response(b"", reply.status, headers, media_type="application/octet-stream")
    content = json.dumps(reply.body).encode("utf-8")
    return Response(content, reply.status, headers, media_type="application/json; charset=utf-8")


def _error_reply(error: EmulatorError, request_id: str) -> Reply:
    return Reply(error.status, error.body(request_id), error.response_headers(request_id))


class EmulatorApp:
    """The ASGI callable for one `Emulator`."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        request_id = str(uuid.uuid4())
        try:
            reply, identity = await self._handle(request, request_id)
        except DropConnection as drop:
            if _abort(send):
                self._log(request, 0, drop.identity, request_id)
                return
            # The server gives no handle on the connection: answer a clean, retryable 503 instead.
            logger.warning("cannot drop a connection on this server; answering 503 instead")
            reply = _error_reply(_UNDROPPABLE, request_id)
            identity = drop.identity
        if not request.url.path.startswith("/_emulator"):
            self._log(request, reply.status, identity, request_id)
        await _json_response(reply, request_id)(scope, receive, send)

    def _log(self, request: Request, status: int, identity: str, request_id: str) -> None:
        self.emu.log.add(
            {
                "method": request.method,
                "path": request.url.path,
                "query": request.url.query,
                "status": status,
                "identity": identity,
                "requestId": request_id,
                "time": self.emu.clock.now(),
            }
        )

    async def _handle(self, request: Request, request_id: str) -> tuple[Reply, str]:
        identity = ""
        try:
            raw = await request.body()
            path = request.url.path
            if path.startswith("/_emulator"):
                body = _parse_json(raw)
                return control.handle(self.emu, request.method, path, body, request_id), ""
            if self.emu.config.latency_ms:
                await self.emu.sleep(self.emu.config.latency_ms / 1000)
            identity = self._authenticate(request)
            self._admit(request.method, path, identity)
            return self._route(request, path, _parse_json(raw), identity), identity
        except EmulatorError as error:
            return _error_reply(error, request_id), identity
        except DropConnection:
            raise
        except Exception as exc:
            # One line, never a traceback on the console; the stack is there at DEBUG level.
            logger.error(
                "unexpected emulator error for %s %s: %s: %s",
                request.method,
                request.url.path,
                type(exc).__name__,
                exc,
            )
            logger.debug("stack of the unexpected error", exc_info=True)
            internal = EmulatorError(500, "InternalServerError", "The emulator hit an unexpected error.")
            return _error_reply(internal, request_id), identity

    def _authenticate(self, request: Request) -> str:
        header = request.headers.get("authorization")
        if header is None:
            raise EmulatorError(
                401,
                "TokenIsMissing",
                "The request has no Authorization header; send 'Authorization: Bearer <token>'.",
            )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise EmulatorError(
                401,
                "Unauthorized",
                "The Authorization header must be 'Bearer <token>' with a non-empty token.",
            )
        if self.emu.verify_token is None:
            return "anon-" + hashlib.sha256(token.strip().encode()).hexdigest()[:16]
        try:
            return self.emu.verify_token(token.strip())
        except Exception as exc:  # the auth helper's TokenRejected carries .error_code
            code = getattr(exc, "error_code", None)
            if code is None:
                raise
            raise EmulatorError(401, str(code), str(exc)) from None

    def _admit(self, method: str, path: str, identity: str) -> None:
        emu = self.emu
        retry = emu.quota.charge(identity, emu.clock.now(), emu.config.quota_per_minute)
        if retry is not None:
            message = "The caller exceeded the number of requests allowed in the current time frame."
            raise EmulatorError(429, "TooManyRequests", message, headers={"Retry-After": str(retry)})
        fault = emu.faults.take(method, path, REQUEST_KINDS)
        if fault is None:
            return
        if fault.kind == "drop":
            raise DropConnection(identity)
        if fault.kind == "throttle":
            raise EmulatorError(
                429,
                fault.error_code or "TooManyRequests",
                fault.message or "Throttled (injected fault).",
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault.kind == "token_expired":
            raise EmulatorError(401, "TokenExpired", fault.message or "The access token has expired.")
        code = fault.error_code or _DEFAULT_FAULT_CODES.get(fault.status, "InjectedFault")
        headers = {"Retry-After": str(fault.retry_after)} if fault.status in (429, 503) else {}
        raise EmulatorError(
            fault.status, code, fault.message or f"Injected fault {fault.status}.", headers=headers
        )

    def _route(self, request: Request, path: str, body: Any, identity: str) -> Reply:
        found = routes.match(request.method, path)
        if found is None:
            raise EmulatorError(404, "EntityNotFound", f"No such API: {request.method} {path}.")
        if isinstance(found, list):
            raise EmulatorError(
                405,
                "MethodNotAllowed",
                f"{request.method} is not allowed on {path}; use {', '.join(found)}.",
                headers={"Allow": ", ".join(found)},
            )
        route, params = found
        ctx = Ctx(
            self.emu,
            request.method,
            path,
            params,
            dict(request.query_params),
            body,
            f"{request.url.scheme}://{request.url.netloc}",
            route.item_type,
            identity,
        )
        return route.handler(ctx)


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise EmulatorError(400, "InvalidRequest", "The request body is not valid JSON.") from None
    except RecursionError:
        raise EmulatorError(
            400, "InvalidRequest", "The request body is nested too deeply to read."
        ) from None


def _abort(send: Send) -> bool:
    """Close the TCP connection without answering; False when that is impossible. This leans on
    uvicorn internals (its `send` is a bound method of the request cycle, which holds the
    transport), so any other server, or another uvicorn, gets the 503 fallback."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    abort = getattr(transport, "abort", None)
    if not callable(abort):
        return False
    abort()
    return True
