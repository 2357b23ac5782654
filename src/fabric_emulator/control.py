"""Control plane (moto-api): `/_emulator/...` requests (no auth, not under /v1) → reset, seed, fault
rules, request log, state dump, runtime config, clock and (strict auth) OAuth clients. Used by tests,
benchmarks, `dfg demo` and people (docs/emulator.md).

    POST   /_emulator/reset      empty tenant + startup workspaces and knobs; faults, log, quota cleared
    POST   /_emulator/seed       {"workspaces": [{"id"?, "displayName", "description"?, "capacityId"?}],
                                  "folders": [{"workspaceId", "id"?, "displayName", "parentFolderId"?}],
                                  "items": [{"workspaceId", "id"?, "type"="Dataflow", "displayName",
                                             "description"?, "folderId"?, "definition"? | "files"?:
                                             {path: text or JSON}, "schedules"?: [{"jobType",
                                             "id"?, "enabled", "configuration"}]}],
                                  "jobs": [{"workspaceId", "itemId", "id"?, "jobType", "durationS"?,
                                            "outcome"?}],
                                  "operations": [{"id"?, "status", "result"?, "error"?}]}
                                 → the created objects (items add "logicalId"); all or nothing
    GET    /_emulator/faults     {"value": [rule]};  POST a rule (→ 201 rule) or a list (→ {"value"})
    DELETE /_emulator/faults[/{id}]   all rules, or one
           rule = {"kind": status|throttle|drop|token_expired|lro_fail|lro_stuck, "method"=".*",
                   "path"=".*" (regex, searched in the path), "count"=1 | null, "probability"?,
                   "status"=500, "errorCode"?, "message"?, "retryAfter"=1, "seed"?}
    GET    /_emulator/requests   {"value": [{"method", "path", "query", "status", "identity",
                                  "requestId", "time"}]} (status 0 = dropped);  DELETE clears it
    GET    /_emulator/state      {"workspaces", "folders", "items" (+ "parts", "schedules"),
                                  "operations", "jobs"} in API shapes
    GET|POST /_emulator/config   {"lro", "latencyMs", "quotaPerMinute", "pageSize", "jobDurationS",
                                  "jobOutcome", "jobStartDelayS", "lroPolls", "retryAfterS",
                                  "lroRoutes", "seed", "nameReservationS", "jobDedupe",
                                  "jobsPerMinute"}; POST changes
                                  the keys it names
    POST   /_emulator/clock      {"advanceSeconds": N} moves the emulator clock (LROs, jobs, quota,
                                  token expiry) without waiting → {"now"}
    GET    /_emulator/clients    strict auth only: {"tenant", "authority", "tokenEndpoint", "caFile",
                                  "scope", "value": [{"clientId", "secret", "certificate",
                                  "federated"} (booleans: which credentials it has)]}
    POST   /_emulator/clients    {"clientId", "secret"?, "certificatePem"?, "federated"?: {"issuer",
                                  "publicKeyPem", "subject", "audience"?}} → 201, the same facts
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from fabric_emulator.definitions import encode
from fabric_emulator.errors import EmulatorError, bad_request
from fabric_emulator.exchange import Reply
from fabric_emulator.faults import FaultRule
from fabric_emulator.runtime import Emulator
from fabric_emulator.state import State

FABRIC_SCOPE = "https://api.fabric.microsoft.com/.default"


def handle(emu: Emulator, method: str, path: str, body: Any, request_id: str) -> Reply:
    action = path[len("/_emulator") :].strip("/")
    name, _, rest = action.partition("/")
    found = _ACTIONS.get((method, name))
    if found is None or (rest and (method, name) != ("DELETE", "faults")):
        raise EmulatorError(
            404, "EntityNotFound", f"No control-plane action {method} /_emulator/{action}."
        )
    return found(emu, body, rest)


Action = Callable[[Emulator, Any, str], Reply]


def _reset(emu: Emulator, body: Any, rest: str) -> Reply:
    emu.reset()
    return Reply(200, {"status": "reset"})


def _list_faults(emu: Emulator, body: Any, rest: str) -> Reply:
    return Reply(200, {"value": [r.to_json() for r in emu.faults.list()]})


def _add_faults(emu: Emulator, body: Any, rest: str) -> Reply:
    rules = body if isinstance(body, list) else [_object(body)]
    added = [emu.faults.add(FaultRule.from_json(r)).to_json() for r in rules]
    return Reply(201, added[0] if isinstance(body, dict) else {"value": added})


def _delete_faults(emu: Emulator, body: Any, rule_id: str) -> Reply:
    if rule_id and not emu.faults.remove(rule_id):
        raise EmulatorError(404, "EntityNotFound", f"No fault rule '{rule_id}'.")
    if not rule_id:
        emu.faults.clear()
    return _list_faults(emu, body, "")


def _clear_requests(emu: Emulator, body: Any, rest: str) -> Reply:
    emu.log.clear()
    return Reply(200, {"value": []})


def _set_config(emu: Emulator, body: Any, rest: str) -> Reply:
    changes = _object(body)
    emu.config.update(changes)
    if "seed" in changes:
        emu.reseed()
    return Reply(200, emu.config.to_json())


def _advance_clock(emu: Emulator, body: Any, rest: str) -> Reply:
    advance = _object(body).get("advanceSeconds", 0)
    finite = isinstance(advance, int | float) and not isinstance(advance, bool)
    if not finite or not math.isfinite(advance) or advance < 0:
        raise bad_request("InvalidRequest", "'advanceSeconds' must be a number >= 0.")
    emu.clock.advance(float(advance))
    return Reply(200, {"now": emu.clock.now()})


_ACTIONS: dict[tuple[str, str], Action] = {
    ("POST", "reset"): _reset,
    ("POST", "seed"): lambda emu, body, _: Reply(200, seed(emu, _object(body))),
    ("GET", "faults"): _list_faults,
    ("POST", "faults"): _add_faults,
    ("DELETE", "faults"): _delete_faults,
    ("GET", "requests"): lambda emu, body, _: Reply(200, {"value": emu.log.entries()}),
    ("DELETE", "requests"): _clear_requests,
    ("GET", "state"): lambda emu, body, _: Reply(200, dump(emu.state)),
    ("GET", "config"): lambda emu, body, _: Reply(200, emu.config.to_json()),
    ("POST", "config"): _set_config,
    ("POST", "clock"): _advance_clock,
    ("GET", "clients"): lambda emu, body, _: Reply(200, clients(emu)),
    ("POST", "clients"): lambda emu, body, _: Reply(201, register_client(emu, _object(body))),
}


def dump(state: State) -> dict[str, list[dict[str, Any]]]:
    """Everything, in API shapes (items add `logicalId`, their stored `parts` and their
    `schedules`, each with its `jobType`)."""
    with state.lock:
        now = state.now()
        items = [
            {
                **i.to_json(),
                "logicalId": i.logical_id,
                "parts": [p.to_json() for p in i.parts],
                "schedules": [{**s.to_json(), "jobType": s.job_type} for s in i.schedules],
            }
            for i in state.items.values()
        ]
        return {
            "workspaces": [w.to_json() for w in state.workspaces.values()],
            "folders": [f.to_json() for f in state.folders.values()],
            "items": items,
            "operations": [{"id": o.id, **o.to_json(now)} for o in state.operations.values()],
            "jobs": [j.to_json(now) for j in state.jobs.values()],
        }


def _authority(emu: Emulator) -> Any:
    if emu.authority is None:
        raise bad_request(
            "StrictAuthOff",
            "The emulator runs without --strict-auth, so any bearer token is accepted and there "
            "are no clients to register; restart it with --strict-auth.",
        )
    return emu.authority


def clients(emu: Emulator) -> dict[str, Any]:
    """Where and how to sign in, and the registered client ids (never their credentials)."""
    authority = _authority(emu)
    directory = authority.directory
    federated = {f.client_id for f in directory.federated}
    registered = [
        {
            "clientId": c.client_id,
            "secret": c.secret is not None,
            "certificate": c.public_key is not None,
            "federated": c.client_id in federated,
        }
        for c in directory.clients.values()
    ]
    return {
        "tenant": authority.tenant,
        "authority": authority.authority_url,
        "tokenEndpoint": authority.token_endpoint,
        "caFile": authority.ca_file,
        "scope": FABRIC_SCOPE,
        "value": registered,
    }


def register_client(emu: Emulator, body: Mapping[str, Any]) -> dict[str, Any]:
    """{"clientId", "secret"?, "certificatePem"?, "federated"?: {"issuer", "publicKeyPem",
    "subject", "audience"?}} → the sign-in facts (as GET) for that client."""
    authority = _authority(emu)
    client_id, secret = body.get("clientId"), body.get("secret")
    cert, federated = body.get("certificatePem"), body.get("federated")
    unknown = sorted(set(body) - {"clientId", "secret", "certificatePem", "federated"})
    if unknown:
        raise bad_request("InvalidRequest", f"Unknown client keys: {', '.join(unknown)}.")
    if not isinstance(client_id, str) or not client_id.strip():
        raise bad_request("InvalidRequest", "'clientId' must be a non-empty string.")
    if any(v is not None and not isinstance(v, str) for v in (secret, cert)):
        raise bad_request("InvalidRequest", "'secret' and 'certificatePem' must be strings.")
    if federated is not None and not isinstance(federated, dict):
        raise bad_request("InvalidRequest", "'federated' must be an object.")
    missing = [k for k in ("issuer", "publicKeyPem", "subject") if federated and k not in federated]
    if federated is not None and (missing or not federated):
        need = ", ".join(missing or ["issuer", "publicKeyPem", "subject"])
        raise bad_request("InvalidRequest", f"'federated' needs {need}.")
    try:
        # A secret or certificate replaces the client's earlier ones; federation alone adds to them.
        if secret is not None or cert is not None or client_id not in authority.directory.clients:
            authority.register_client(
                client_id, secret=secret, certificate_pem=cert.encode() if cert else None
            )
        if federated is not None:
            extra = {"audience": federated["audience"]} if "audience" in federated else {}
            authority.trust_federated_issuer(
                str(federated["issuer"]),
                str(federated["publicKeyPem"]).encode(),
                client_id=client_id,
                subject=str(federated["subject"]),
                **extra,
            )
    except (ValueError, TypeError) as exc:
        raise bad_request("InvalidRequest", f"Cannot register client '{client_id}': {exc}.") from None
    out = clients(emu)
    out["value"] = [c for c in out["value"] if c["clientId"] == client_id]
    return out


def _object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request("InvalidRequest", "The control-plane body must be a JSON object.")
    return body


def seed(emu: Emulator, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create workspaces, folders, items, job instances and operations in one call: all of them,
    or (on any error) none."""
    try:
        with emu.state.all_or_nothing():
            return _seed(emu, body)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise bad_request("InvalidRequest", f"Bad seed document: {exc!r}.") from None


def _seed(emu: Emulator, body: Mapping[str, Any]) -> dict[str, Any]:
    state = emu.state
    made: dict[str, list[dict[str, Any]]] = {"workspaces": [], "folders": [], "items": []}
    for ws in body.get("workspaces", []):
        made["workspaces"].append(
            state.create_workspace(
                ws.get("displayName"), ws.get("description"), ws.get("id"), ws.get("capacityId")
            ).to_json()
        )
    for folder in body.get("folders", []):
        made["folders"].append(
            state.create_folder(
                folder["workspaceId"],
                folder.get("displayName"),
                folder.get("parentFolderId"),
                folder.get("id"),
            ).to_json()
        )
    for item in body.get("items", []):
        request = {
            k: item[k]
            for k in ("displayName", "type", "description", "folderId", "definition")
            if k in item
        }
        request.setdefault("type", "Dataflow")
        files = item.get("files")
        if isinstance(files, Mapping):
            # Convenience for tests: plain-text files instead of base64 parts.
            parts = [
                {
                    "path": p,
                    "payload": encode(t if isinstance(t, str) else json.dumps(t)),
                    "payloadType": "InlineBase64",
                }
                for p, t in files.items()
            ]
            request["definition"] = {"parts": parts}
        created = state.create_item(item["workspaceId"], request, item.get("id"))
        for schedule in item.get("schedules", []):
            state.create_schedule(
                created.workspace_id,
                created.id,
                schedule.get("jobType", "Execute"),
                schedule,
                "seed",
                schedule_id=schedule.get("id"),
            )
        made["items"].append({**created.to_json(), "logicalId": created.logical_id})
    for job in body.get("jobs", []):
        instance = state.start_job(
            job["workspaceId"],
            job["itemId"],
            job.get("jobType", "Execute"),
            float(job.get("durationS", 0)),
            job.get("outcome", "Completed"),
            job_id=job.get("id"),
        )
        made.setdefault("jobs", []).append(instance.to_json(state.now()))
    for op in body.get("operations", []):
        status = op.get("status", "Succeeded")
        outcome = "Stuck" if status == "Running" else status
        # A seeded terminal operation is already finished (-1: no poll needed).
        polls = 0 if outcome == "Stuck" else -1
        created_op = state.add_operation(
            outcome, polls, result=op.get("result"), error=op.get("error"), operation_id=op.get("id")
        )
        made.setdefault("operations", []).append({"id": created_op.id})
    return made
