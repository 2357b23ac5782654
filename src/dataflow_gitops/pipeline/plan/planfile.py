"""⑥ planfile: Plan ⇄ versioned JSON (``schemas/plan.schema.json``).

A saved plan is what a reviewer approved, so applying it must write exactly that, to exactly
the state it was planned against. The file therefore carries the rendered payloads (secret
values replaced by ``${env:NAME}`` references, re-resolved at load), the desired fingerprint of
each (recomputed at load: a mismatch means the file was edited), and the live fingerprint each
action was planned against, which :func:`.stale.check_preconditions` compares with a fresh read
of the workspace before anything is written.

Format 2 added workspace folders (``live_folder``, ``desired.folder_path``, the plan's
``folders`` and ``empty_folders``) and references outside the repository (``desired.external``);
a format 1 file is refused with the advice to plan again, as any other version is.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from dataflow_gitops import __version__
from dataflow_gitops.errors import PlanFileError
from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.model import (
    Action,
    ActionKind,
    ChangeKind,
    DataflowDiff,
    DesiredDataflow,
    Destination,
    ExternalReference,
    FolderAction,
    FolderActionKind,
    Impact,
    Part,
    PartChange,
    Plan,
    PropertyChange,
    QueryChange,
    ReferenceStatus,
    ScheduleChange,
    ScheduleChangeKind,
)
from dataflow_gitops.pipeline.plan.diff import mask
from dataflow_gitops.pipeline.plan.impact import most_severe

FORMAT_VERSION = 2
_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def dump_plan(plan: Plan, *, secrets: Mapping[str, str]) -> str:
    """The plan file text; no value of ``secrets`` (name → value) appears in it."""
    return (
        json.dumps(plan_document(plan, secrets=secrets, payloads=True), indent=2, ensure_ascii=False)
        + "\n"
    )


def plan_document(plan: Plan, *, secrets: Mapping[str, str], payloads: bool) -> dict[str, Any]:
    """The plan as a ``plan.schema.json`` document (``payloads=False``: for output, no parts)."""
    live_secrets = {k: v for k, v in secrets.items() if v}
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "payloads": payloads,
        "tool": {"name": "dataflow-gitops", "version": __version__},
        "environment": plan.environment,
        "workspace_id": plan.workspace_id,
        "commit": plan.commit,
        "dirty": plan.dirty,
        "dirty_paths": list(plan.dirty_paths),
        "ref": plan.ref,
        "overlay_hash": plan.overlay_hash,
        "source_hash": plan.source_hash,
        "connection": (
            {"api": mask(plan.connection.api, live_secrets), "identity": plan.connection.identity}
            if plan.connection
            else None
        ),
        "created_at": plan.created_at,
        "summary": {
            "create": plan.count(ActionKind.CREATE),
            "update": plan.count(ActionKind.UPDATE),
            "delete": plan.count(ActionKind.DELETE),
            "noop": plan.count(ActionKind.NOOP),
            "move": plan.moves,
            "folders_create": sum(1 for f in plan.folders if f.kind is FolderActionKind.CREATE),
            "folders_delete": sum(1 for f in plan.folders if f.kind is FolderActionKind.DELETE),
            "has_changes": plan.has_changes,
            "impact": most_severe(a.impact for a in plan.actions).value,
        },
        "secret_env": [],
        "unmanaged": list(plan.unmanaged),
        "warnings": list(plan.warnings),
        "folders": [
            {"kind": f.kind.value, "path": f.path, "folder_id": f.folder_id, "reason": f.reason}
            for f in plan.folders
        ],
        "empty_folders": list(plan.empty_folders),
        "actions": [_action_doc(a, live_secrets, payloads) for a in plan.actions],
    }
    # Any text may hold a substituted value: a display name from a template with ${env:X}, a
    # description, diff lines, reasons. Only structural fields (ids, hashes, kinds) are kept as
    # they are; load_plan resolves the references in the rest again.
    doc["actions"] = [_mask_strings(a, live_secrets) for a in doc["actions"]]
    doc["warnings"] = _mask_strings(doc["warnings"], live_secrets)
    doc["unmanaged"] = _mask_strings(doc["unmanaged"], live_secrets)
    text = json.dumps(doc, ensure_ascii=False)
    doc["secret_env"] = sorted(n for n in live_secrets if _ref(n) in text or _payload_mentions(doc, n))
    return doc


def _ref(name: str) -> str:
    return "${env:" + name + "}"


def _action_doc(action: Action, secrets: Mapping[str, str], payloads: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": action.kind.value,
        "name": action.name,
        "display_name": action.display_name,
        "item_id": action.item_id,
        "impact": action.impact.value,
        "live_fingerprint": action.live_fingerprint,
        "desired_fingerprint": action.desired.fingerprint if action.desired else None,
        "rename_from": action.rename_from,
        "live_folder": action.live_folder,
        "moves_from": action.moves_from,
        "depends_on": list(action.depends_on),
        "reason": action.reason,
        "diff": diff_document(action.diff) if action.diff else None,
    }
    if action.desired is not None:
        d = action.desired
        doc["desired"] = {
            "name": d.name,
            "display_name": d.display_name,
            "description": d.description,
            "logical_id": d.logical_id,
            "folder": d.folder,
            "folder_path": d.folder_path,
            "external": [
                {
                    "query": r.query,
                    "workspace_id": r.workspace_id,
                    "dataflow_id": r.dataflow_id,
                    "status": r.status.value,
                }
                for r in d.external
            ],
            "depends_on": list(d.depends_on),
            "pending": list(d.pending),
            "secret_env": list(d.secret_env),
        }
        if payloads:
            doc["desired"]["parts"] = [
                {"path": p.path, "payload": _encode(p.data, secrets)} for p in d.parts
            ]
    return doc


def diff_document(diff: DataflowDiff) -> dict[str, Any]:
    """A diff as the plan schema's ``diff`` object."""
    return {
        "parts": [
            {"path": p.path, "kind": p.kind.value, "details": list(p.details)} for p in diff.parts
        ],
        "queries": [{"name": q.name, "kind": q.kind.value, "diff": q.diff} for q in diff.queries],
        "properties": [{"name": c.name, "old": c.old, "new": c.new} for c in diff.properties],
        "ignored": list(diff.ignored),
        "schedules": [
            {
                "job_type": c.job_type,
                "kind": c.kind.value,
                "schedule": c.schedule,
                "before": c.before,
                "configuration": c.configuration,
                "kept": c.kept,
            }
            for c in diff.schedules
        ],
    }


def _encode(data: bytes, secrets: Mapping[str, str]) -> str:
    # Binary parts cannot hold an ${env:...} substitution, so they are written as they are.
    with contextlib.suppress(UnicodeDecodeError):
        data = mask(data.decode("utf-8"), secrets).encode("utf-8")
    return base64.b64encode(data).decode("ascii")


# Values that are never derived from an overlay: ids, hashes, kinds and the (already masked,
# base64) payloads. Masking them could only corrupt them.
_STRUCTURAL = frozenset(
    {"kind", "item_id", "impact", "live_fingerprint", "desired_fingerprint", "logical_id", "payload"}
)


def _mask_strings(value: Any, secrets: Mapping[str, str]) -> Any:
    return _map_strings(value, lambda text: mask(text, secrets))


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_map_strings(v, change) for v in value]
    if isinstance(value, dict):
        return {k: v if k in _STRUCTURAL else _map_strings(v, change) for k, v in value.items()}
    return value


def _payload_mentions(doc: dict[str, Any], name: str) -> bool:
    ref = _ref(name)
    for action in doc["actions"]:
        for part in action.get("desired", {}).get("parts", ()):
            if ref in _decode_text(part["payload"]):
                return True
    return False


def _decode_text(payload: str) -> str:
    return base64.b64decode(payload).decode("utf-8", errors="replace")


# loading --------------------------------------------------------------------------------------


@cache
def plan_schema() -> dict[str, Any]:
    """The published plan document schema (package data ``schemas/plan.schema.json``)."""
    text = resources.files("dataflow_gitops").joinpath("schemas/plan.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Any:
    schema = plan_schema()
    return jsonschema.validators.validator_for(schema)(schema)


def load_plan(text: str, *, path: str, environ: Mapping[str, str], resolve_secrets: bool = True) -> Plan:
    """Read a saved plan; secret references are re-resolved from ``environ``.

    ``resolve_secrets=False`` is for showing a plan (``dfg show``) where the secrets are not
    set: payloads keep their ``${env:NAME}`` references, and a payload holding one cannot be
    checked against its fingerprint. Such a plan must never be applied.
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise PlanFileError(
            f"not a plan file: invalid JSON ({exc})",
            path=path,
            hint="pass the file `dfg plan --out` wrote",
        ) from None
    if not isinstance(doc, dict) or "format_version" not in doc:
        raise PlanFileError(
            "not a plan file: no format_version", path=path, hint="pass the file `dfg plan --out` wrote"
        )
    if doc["format_version"] != FORMAT_VERSION:
        raise PlanFileError(
            f"plan format_version {doc['format_version']!r} is not supported (this dfg reads "
            f"{FORMAT_VERSION})",
            path=path,
            hint="make the plan again with this version of dfg",
        )
    error = jsonschema.exceptions.best_match(_validator().iter_errors(doc))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        raise PlanFileError(
            f"plan file does not match its schema at {where}: {_brief(error.message)}",
            path=path,
            hint="plan files must not be edited; make the plan again",
        )
    if not doc["payloads"]:
        raise PlanFileError(
            "this is plan output without payloads, not a saved plan",
            path=path,
            hint="save a plan with `dfg plan --out FILE` and apply that file",
        )
    resolved = _resolve_env(doc["secret_env"], environ, path) if resolve_secrets else None
    if resolved:
        doc["actions"] = [_resolve_identity(a, resolved) for a in doc["actions"]]
    actions = tuple(_action(a, resolved, path) for a in doc["actions"])
    return Plan(
        environment=doc["environment"],
        workspace_id=doc["workspace_id"],
        actions=actions,
        commit=doc["commit"],
        dirty=doc["dirty"],
        dirty_paths=tuple(doc.get("dirty_paths", ())),
        ref=doc.get("ref"),
        overlay_hash=doc["overlay_hash"],
        created_at=doc["created_at"],
        unmanaged=tuple(doc["unmanaged"]),
        warnings=tuple(doc["warnings"]),
        folders=tuple(
            FolderAction(FolderActionKind(f["kind"]), f["path"], f["folder_id"], f["reason"])
            for f in doc["folders"]
        ),
        empty_folders=tuple(doc["empty_folders"]),
        connection=_connection(doc.get("connection")),
        source_hash=doc.get("source_hash", ""),
    )


def _connection(doc: dict[str, str] | None) -> Destination | None:
    # The api stays as written (secrets as references): apply compares it with the overlay's
    # api masked the same way.
    return Destination(doc["api"], doc["identity"]) if doc else None


def _brief(message: str, limit: int = 160) -> str:
    # jsonschema quotes whole instances; an error stays one short line.
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _resolve_env(names: list[str], environ: Mapping[str, str], path: str) -> dict[str, str]:
    missing = [n for n in names if not environ.get(n)]
    if missing:
        raise PlanFileError(
            f"the plan needs the secret environment variable {', '.join(missing)}, which is unset",
            path=path,
            hint=f"set {', '.join(missing)} as when the plan was made, then apply again",
        )
    return {n: environ[n] for n in names}


def _action(doc: dict[str, Any], secrets: Mapping[str, str] | None, path: str) -> Action:
    desired = _desired(doc, secrets, path) if "desired" in doc else None
    return Action(
        kind=ActionKind(doc["kind"]),
        name=doc["name"],
        display_name=doc["display_name"],
        item_id=doc["item_id"],
        desired=desired,
        live_fingerprint=doc["live_fingerprint"],
        diff=_diff(doc["name"], doc["diff"]) if doc["diff"] is not None else None,
        impact=Impact(doc["impact"]),
        rename_from=doc["rename_from"],
        depends_on=tuple(doc["depends_on"]),
        reason=doc["reason"],
        live_folder=doc["live_folder"],
    )


def _desired(action: dict[str, Any], secrets: Mapping[str, str] | None, path: str) -> DesiredDataflow:
    """``secrets`` None: references stay unresolved, and parts holding one are not verified."""
    d = action["desired"]
    parts = tuple(
        Part(p["path"], _decode(p["payload"], secrets or {}, action["name"], path)) for p in d["parts"]
    )
    actual = fingerprint(parts, display_name=d["display_name"], description=d["description"])
    unverifiable = secrets is None and any(
        _REFERENCE.search(p.data.decode("utf-8", "replace")) for p in parts
    )
    if unverifiable:
        actual = action["desired_fingerprint"]
    elif actual != action["desired_fingerprint"]:
        raise PlanFileError(
            f'the payload of "{action["name"]}" does not match its fingerprint (the file was edited)',
            path=path,
            hint="never edit a saved plan; make the plan again",
        )
    return DesiredDataflow(
        name=d["name"],
        display_name=d["display_name"],
        description=d["description"],
        logical_id=d["logical_id"],
        parts=parts,
        fingerprint=actual,
        depends_on=tuple(d["depends_on"]),
        pending=tuple(d["pending"]),
        secret_env=tuple(d["secret_env"]),
        folder=d["folder"],
        folder_path=d["folder_path"],
        external=tuple(
            ExternalReference(
                r["query"], r["workspace_id"], r["dataflow_id"], ReferenceStatus(r["status"])
            )
            for r in d["external"]
        ),
    )


def _decode(payload: str, secrets: Mapping[str, str], name: str, path: str) -> bytes:
    try:
        data = base64.b64decode(payload, validate=True)
    except binascii.Error:
        raise PlanFileError(
            f'a payload of "{name}" is not valid base64',
            path=path,
            hint="never edit a saved plan; make the plan again",
        ) from None
    if not secrets:
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return _resolve(text, secrets).encode("utf-8")


def _resolve_identity(action: dict[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    """The names an action writes, with their references resolved (its diff and reason stay
    masked: they are only shown)."""

    def back(value: Any) -> Any:
        return _map_strings(value, lambda text: _resolve(text, secrets))

    shown = {"diff", "reason", "desired"}
    resolved = {k: v if k in shown else back(v) for k, v in action.items()}
    if "desired" in action:
        resolved["desired"] = {k: v if k == "parts" else back(v) for k, v in action["desired"].items()}
    return resolved


def _resolve(text: str, secrets: Mapping[str, str]) -> str:
    """``${env:NAME}`` references of ``secrets`` back to their values (the inverse of mask)."""
    return _REFERENCE.sub(lambda m: secrets.get(m.group(1), m.group(0)), text)


def _diff(name: str, doc: dict[str, Any]) -> DataflowDiff:
    return DataflowDiff(
        name=name,
        parts=tuple(
            PartChange(p["path"], ChangeKind(p["kind"]), tuple(p["details"])) for p in doc["parts"]
        ),
        queries=tuple(QueryChange(q["name"], ChangeKind(q["kind"]), q["diff"]) for q in doc["queries"]),
        properties=tuple(PropertyChange(c["name"], c["old"], c["new"]) for c in doc["properties"]),
        ignored=tuple(doc["ignored"]),
        schedules=tuple(
            ScheduleChange(
                c["job_type"],
                ScheduleChangeKind(c["kind"]),
                c["schedule"],
                c["before"],
                c["configuration"],
                c["kept"],
            )
            for c in doc.get("schedules", ())
        ),
    )
