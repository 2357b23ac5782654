"""HTTP exchange values between the app and the handlers: `Ctx` (a parsed request plus the runtime)
→ handler → `Reply` (status, JSON body or none, headers). Also the shared 202/LRO answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fabric_emulator.errors import bad_request, is_uuid
from fabric_emulator.lro import FAILED, STUCK, SUCCEEDED, Operation
from fabric_emulator.runtime import Emulator


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ctx:
    emu: Emulator
    method: str
    path: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    base_url: str  # "http://host:port", no trailing slash
    item_type: str | None = None  # "Dataflow" on the /dataflows routes
    identity: str = ""

    def object_body(self, *, required: bool = True) -> dict[str, Any]:
        if self.body is None and not required:
            return {}
        if not isinstance(self.body, dict):
            raise bad_request("InvalidRequest", "The request body must be a JSON object.")
        return self.body

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.query.get(name)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise bad_request("InvalidParameter", f"Query parameter '{name}' must be true or false.")
        return value.lower() == "true"

    def uuid_query(self, name: str) -> str | None:
        """A query parameter the spec types as a uuid: absent → None, anything else but a UUID → 400."""
        value = self.query.get(name)
        if value is None:
            return None
        if not is_uuid(value):
            raise bad_request("InvalidParameter", f"Query parameter '{name}' must be a UUID.")
        return value

    def include(self, allowed: tuple[str, ...]) -> set[str]:
        """The `include` query values (comma-separated), each one of `allowed` or a 400."""
        names = {v.strip() for v in self.query.get("include", "").split(",") if v.strip()}
        unknown = sorted(n for n in names if n not in allowed)
        if unknown:
            raise bad_request(
                "InvalidParameter",
                f"Unknown include value(s) {', '.join(unknown)}; use {', '.join(allowed)}.",
            )
        return names

    def operation_url(self, op_id: str) -> str:
        return f"{self.base_url}/v1/operations/{op_id}"

    def retry_after(self) -> str:
        return str(self.emu.config.retry_after_s)


def accepted(ctx: Ctx, op: Operation) -> Reply:
    return Reply(
        202,
        None,
        {
            "Location": ctx.operation_url(op.id),
            "x-ms-operation-id": op.id,
            "Retry-After": ctx.retry_after(),
        },
    )


def maybe_lro(ctx: Ctx, action: Callable[[], Any], *, sync_status: int, has_result: bool) -> Reply:
    """Run `action` and answer synchronously or with 202 + an operation, per `--lro` and faults."""
    emu = ctx.emu
    polls = emu.config.lro_polls
    fault = emu.faults.take(ctx.method, ctx.path, ("lro_fail",))
    if fault is not None:
        # A failed operation leaves the store untouched, as a failed Fabric operation does.
        error = {
            "errorCode": fault.error_code or "OperationFailed",
            "message": fault.message or "The operation failed (injected fault).",
        }
        return accepted(ctx, emu.state.add_operation(FAILED, polls, error=error))
    result = action()
    # Taken only now, so a request refused with a 4xx does not use up a stuck-LRO fault.
    stuck = emu.faults.take(ctx.method, ctx.path, ("lro_stuck",)) is not None
    mode = emu.config.lro_mode(ctx.path)
    if not (stuck or mode == "always" or (mode == "random" and emu.random.random() < 0.5)):
        return Reply(sync_status, result if has_result else None)
    outcome = STUCK if stuck else SUCCEEDED
    return accepted(ctx, emu.state.add_operation(outcome, polls, result=result if has_result else None))
