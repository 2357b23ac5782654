"""Export, ② render in reverse ("unrender"): LiveDataflow + its source and rendering → repository files.

A three-way merge per part, so that what live did not change comes back byte for byte:

- a part whose live content equals the rendered one (canonically) is the source file unchanged;
- ``mashup.pq`` is merged query by query: a query live left as rendered is the source's text; a
  changed or new query is live's text with the overlay's ids turned back (below); a parameter
  the overlay sets keeps the repository's value (the overlay would override a new one anyway),
  with a note;
- JSON parts are merged value by value: where live equals the rendering, the source value stays
  (replace/set rules and bindings undone for free); elsewhere live's value, ids turned back;
- ``.platform``: the display-name template reversed, the source's logicalId.

Ids are turned back with :class:`ReverseIds`, learned by lining up each source with its own
rendering (``workspaceId``/``lakehouseId``/``warehouseId``/``dataflowId`` literals, connection
ids, gateway): a rendered id that came from two different source ids is ambiguous and stays.
Nothing here touches the disk; paths are checked by :func:`parts.safe_part_path`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dataflow_gitops.config import Environment
from dataflow_gitops.errors import MSyntaxError, RenderError, SourceError
from dataflow_gitops.pipeline.definition.bindings import connection_key
from dataflow_gitops.pipeline.definition.mashups import part_document
from dataflow_gitops.pipeline.definition.mlang import (
    SectionDocument,
    apply_edits,
    dataflow_references,
    field_literals,
    format_literal,
    parameters,
)
from dataflow_gitops.pipeline.definition.parts import (
    canonical_bytes,
    fabric_json,
    platform_part,
    safe_part_path,
)
from dataflow_gitops.pipeline.definition.schedule_part import entries_of, part_with
from dataflow_gitops.pipeline.model import (
    DATAFLOW_TYPE,
    MASHUP_PATH,
    PLATFORM_PATH,
    SCHEDULES_PATH,
    DesiredDataflow,
    LiveDataflow,
    Part,
    Platform,
    SourceDataflow,
)
from dataflow_gitops.secret_mask import MIN_LENGTH, mask

ID_FIELDS = ("workspaceId", "lakehouseId", "warehouseId", "dataflowId")
REFERENCE = "reference:"
JSON_ID_FIELDS = ("connectionId", "gatewayObjectId")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class ReverseIds:
    """Rendered id → source id, per kind of place (``lakehouseId``, ``reference:workspaceId``…)."""

    ids: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def lookup(self, kind: str, value: str) -> str | None:
        key = connection_key(value) if kind == "connectionId" else value.strip().lower()
        return self.ids.get((kind, key))


@dataclass(frozen=True, slots=True)
class ExportedDataflow:
    """One dataflow as repository files: ``folder`` is relative to the export directory
    (``Bronze/IBMI/Orders.Dataflow``: its workspace folder path, then its item folder)."""

    name: str
    folder: str
    files: tuple[Part, ...]
    """Every file of the folder, ``.platform`` included."""
    removed: tuple[str, ...] = ()
    moved_from: str | None = None
    """The folder (relative to the export directory) the repository holds it in, when the
    dataflow was moved to another workspace folder: export moves that folder, files and all."""
    """Source parts live no longer has (their files are deleted)."""
    notes: tuple[str, ...] = ()
    new: bool = False


def learn_reverse_ids(pairs: Sequence[tuple[SourceDataflow, DesiredDataflow]]) -> ReverseIds:
    """What each rendered id was in the repository, from every (source, its rendering) pair."""
    seen: dict[tuple[str, str], set[str]] = {}

    def note(kind: str, rendered: str, source: str) -> None:
        key = connection_key(rendered) if kind == "connectionId" else rendered.strip().lower()
        if key != (connection_key(source) if kind == "connectionId" else source.strip().lower()):
            seen.setdefault((kind, key), set()).add(source)

    for source, rendered in pairs:
        for kind, before, after in _mashup_pairs(source, rendered):
            note(kind, after, before)
        for kind, before, after in _metadata_pairs(source, rendered):
            note(kind, after, before)
    return ReverseIds({key: next(iter(values)) for key, values in seen.items() if len(values) == 1})


def _id_literals(doc: SectionDocument) -> list[tuple[str, str, str]]:
    """(member, kind, value) of every id literal, references marked, in source order."""
    spans = {s for r in dataflow_references(doc) for s in (r.workspace_span, r.dataflow_span)}
    return [
        (lit.member, (REFERENCE if lit.span in spans else "") + lit.field, lit.value)
        for lit in field_literals(doc, ID_FIELDS)
    ]


def _mashup_pairs(source: SourceDataflow, rendered: DesiredDataflow) -> list[tuple[str, str, str]]:
    before, after = source.part(MASHUP_PATH), rendered.part(MASHUP_PATH)
    if before is None or after is None:
        return []
    try:
        old = _id_literals(part_document(before))
        new = _id_literals(part_document(after))
    except (MSyntaxError, SourceError):
        return []
    if [(m, k) for m, k, _ in old] != [(m, k) for m, k, _ in new]:
        return []  # a replace rule reshaped the queries: nothing lines up safely
    return [(kind, a, b) for (_, kind, a), (_, _, b) in zip(old, new, strict=True)]


def _metadata_pairs(source: SourceDataflow, rendered: DesiredDataflow) -> list[tuple[str, str, str]]:
    old, new = _json_of(source.part("queryMetadata.json")), _json_of(rendered.part("queryMetadata.json"))
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []
    pairs: list[tuple[str, str, str]] = []
    a, b = old.get("connections"), new.get("connections")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for x, y in zip(a, b, strict=True):
            a_id = x.get("connectionId") if isinstance(x, dict) else None
            b_id = y.get("connectionId") if isinstance(y, dict) else None
            if isinstance(a_id, str) and isinstance(b_id, str):
                pairs.append(("connectionId", a_id, b_id))
    if isinstance(old.get("gatewayObjectId"), str) and isinstance(new.get("gatewayObjectId"), str):
        pairs.append(("gatewayObjectId", old["gatewayObjectId"], new["gatewayObjectId"]))
    return pairs


def _json_of(part: Part | None) -> Any:
    if part is None:
        return None
    try:
        return json.loads(part.data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


# pairing --------------------------------------------------------------------------------------


def pair_live(rendered: Mapping[str, DesiredDataflow], live: Sequence[LiveDataflow]) -> dict[str, str]:
    """Live item id → repository name: by logicalId, then by (rendered) display name."""
    by_logical = {d.logical_id.lower(): d.name for d in rendered.values()}
    by_display = {d.display_name: d.name for d in rendered.values()}
    pairs: dict[str, str] = {}
    for one in live:
        name = by_logical.get((one.logical_id or "").lower()) or by_display.get(one.display_name)
        if name is not None and name not in pairs.values():
            pairs[one.id] = name
    return pairs


def wanted_ids(names: Sequence[str], pairs: Mapping[str, str], live: Sequence[LiveDataflow]) -> set[str]:
    """Ids of the live dataflows ``names`` ask for (repository or live display names)."""
    wanted: set[str] = set()
    for name in names:
        found = [d.id for d in live if d.display_name == name or pairs.get(d.id) == name]
        if not found:
            known = ", ".join(sorted(d.display_name for d in live)) or "none"
            raise RenderError(
                f"no live dataflow named {name!r}", where="export", hint=f"live dataflows: {known}"
            )
        wanted.update(found)
    return wanted


# unrender ---------------------------------------------------------------------------------------


def repository_name(env: Environment, display_name: str, known: Sequence[str] = ()) -> str | None:
    """The repository name whose rendered display name is ``display_name`` (template reversed).

    ``known`` names are tried first (per-dataflow templates); None when the template cannot
    have produced the name.
    """
    for name in known:
        if env.display_name_for(name) == display_name:
            return name
    prefix, marker, suffix = env.display_name.partition("{name}")
    if not marker:
        return None
    if display_name.startswith(prefix) and display_name.endswith(suffix):
        middle = display_name[len(prefix) : len(display_name) - len(suffix)]
        if middle:
            return middle
    return None


def unrender(
    live: LiveDataflow,
    env: Environment,
    reverse: ReverseIds,
    *,
    source: SourceDataflow | None = None,
    rendered: DesiredDataflow | None = None,
    platform_bytes: bytes | None = None,
    folder: str,
) -> ExportedDataflow:
    """``live`` as the files of its repository folder (see the module docstring).

    ``source``/``rendered`` are the repository dataflow paired with ``live`` and its rendering
    for ``env`` (None for a dataflow only live has); ``platform_bytes`` the source folder's
    ``.platform`` file, kept as is when name, description and logicalId did not change.
    """
    notes: list[str] = []
    name = _name(live, env, source, rendered, notes)
    sources = {p.path: p for p in (source.parts if source else ())}
    renders = {p.path: p for p in (rendered.parts if rendered else ())}
    overlay_params = env.parameters_for(source.name) if source else {}
    files: list[Part] = []
    for part in live.parts:
        path = safe_part_path(part.path)
        if path == PLATFORM_PATH:
            continue
        before, after = sources.get(path), renders.get(path)
        if path == SCHEDULES_PATH:
            kept = _merge_schedules(part, before, after, env, source, notes)
            files += [kept] if kept is not None else []
        elif (
            before is not None and after is not None and canonical_bytes(after) == canonical_bytes(part)
        ):
            files.append(before)
        elif path == MASHUP_PATH:
            text = _merge_mashup(part, before, after, reverse, overlay_params, notes)
            files.append(Part(path, text.encode("utf-8")))
        elif path.endswith((".json", ".mdf")):
            files.append(Part(path, _merge_json(part, before, after, reverse)))
        else:
            files.append(part)
    files = _without_secrets(files, sources, env, notes)
    description = live.item.description
    logical_id = (source.platform.logical_id if source else None) or live.logical_id
    if not logical_id:
        logical_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"fabric-item:{live.id}"))
    platform = Platform(DATAFLOW_TYPE, name, logical_id, description)
    if source is not None and platform == source.platform and platform_bytes is not None:
        files.append(Part(PLATFORM_PATH, platform_bytes))
    else:
        files.append(platform_part(platform))
    live_paths = {p.path for p in files}
    removed = tuple(sorted(p for p in sources if p not in live_paths))
    return ExportedDataflow(
        name=name,
        folder=folder,
        files=tuple(sorted(files, key=lambda p: p.path)),
        removed=removed,
        notes=tuple(notes),
        new=source is None,
    )


def _without_secrets(
    files: list[Part], sources: Mapping[str, Part], env: Environment, notes: list[str]
) -> list[Part]:
    """Values the overlay read from ``${env:…}`` may be secrets: they never reach a repository
    file. A part that would hold one gets the ``${env:NAME}`` reference in its place, with a
    note, so the live change still shows in ``git diff`` (past values of rotated secrets:
    ``export_guard``)."""
    del sources  # the reference is written in place of the value; the rest of live's edit stays
    secrets = {name: value for name, value in env.secret_pairs if len(value) >= MIN_LENGTH}
    kept: list[Part] = []
    for part in files:
        try:
            text = part.data.decode("utf-8")
        except UnicodeDecodeError:
            kept.append(part)
            continue
        masked = mask(text, secrets)
        if masked != text:
            notes.append(
                f"{part.path} held a value the overlay reads from the environment "
                f"({', '.join(env.secret_env)}); written as its ${{env:…}} reference: review it"
            )
            part = Part(part.path, masked.encode("utf-8"))
        kept.append(part)
    return kept


def _name(
    live: LiveDataflow,
    env: Environment,
    source: SourceDataflow | None,
    rendered: DesiredDataflow | None,
    notes: list[str],
) -> str:
    if source is not None and rendered is not None and live.display_name == rendered.display_name:
        return source.name
    known = [source.name] if source else []
    name = repository_name(env, live.display_name, known)
    if name is None:
        notes.append(
            f"display name {live.display_name!r} does not fit the template "
            f"{env.display_name!r}; kept as is"
        )
        name = live.display_name
    if source is not None and name != source.name:
        notes.append(f"renamed in the workspace: {source.name!r} → {name!r}")
    return name


def _merge_schedules(
    live: Part,
    before: Part | None,
    after: Part | None,
    env: Environment,
    source: SourceDataflow | None,
    notes: list[str],
) -> Part | None:
    """The reverse overlay of ``.schedules``: per job type the overlay sets, the repository's
    schedules stay (an environment's schedule never reaches the shared part); the other job types
    are written as live has them. The repository's bytes are kept when that changes nothing."""
    settings = env.schedules_for(source.name) if source is not None else ()
    overlaid = {s.job_type: s.where for s in settings}
    live_entries = entries_of(live.data)
    if after is not None and set(entries_of(after.data)) == set(live_entries):
        return before  # nothing changed live (None: the part only came from the overlay)
    ours = entries_of(before.data if before else None)
    merged = [e for e in ours if e.job_type in overlaid]
    merged += [e for e in live_entries if e.job_type not in overlaid]
    rendered = entries_of(after.data if after else None)
    for job_type, where in overlaid.items():
        if {e for e in live_entries if e.job_type == job_type} != {
            e for e in rendered if e.job_type == job_type
        }:
            notes.append(
                f"{SCHEDULES_PATH}: the {job_type} schedules differ live; the overlay sets them "
                f"({where}): kept the repository's"
            )
    if before is not None and set(merged) == set(ours):
        return before
    if before is None and not merged:
        return None
    return Part(SCHEDULES_PATH, part_with(before.data if before else None, merged))


def _merge_mashup(
    part: Part,
    before: Part | None,
    after: Part | None,
    reverse: ReverseIds,
    overlay_params: Mapping[str, Any],
    notes: list[str],
) -> str:
    text = part.data.decode("utf-8-sig")
    try:
        live = part_document(part)
        old = part_document(before) if before else None
        new = part_document(after) if after else None
    except (MSyntaxError, SourceError) as exc:
        notes.append(f"mashup.pq: {exc.message}; exported as live has it")
        return text
    edits: list[tuple[tuple[int, int], str]] = []
    if (
        live.members
        and old is not None
        and new is not None
        and new.members
        and old.members
        and text[: live.members[0].start] == new.text[: new.members[0].start]
    ):
        edits.append(((0, live.members[0].start), old.text[: old.members[0].start]))
    declared = {p.name for p in parameters(live)}
    for member in live.members:
        was = old.member(member.name) if old else None
        rendered = new.member(member.name) if new else None
        if was is not None and rendered is not None and member.source == rendered.source:
            replacement = was.source
        elif was is not None and member.name in overlay_params and member.name in declared:
            where = getattr(overlay_params[member.name], "where", "the overlay")
            notes.append(
                f"parameter {member.name} differs live; the overlay sets it ({where}): "
                "change the value there"
            )
            replacement = was.source
        else:
            replacement = _reverse_member(live, member.name, member.start, member.source, reverse)
        if replacement != member.source:
            edits.append(((member.start, member.end), replacement))
    return as_line_endings_of(text, apply_edits(text, edits)) if edits else text


def as_line_endings_of(live: str, text: str) -> str:
    """``text`` in the line endings ``live`` uses throughout (CRLF, most Fabric mashups, or LF):
    queries kept from the repository must not mix theirs into a file the workspace wrote."""
    crlf = live.count("\r\n")
    lf = live.count("\n")
    if lf and crlf == lf:
        return text.replace("\r\n", "\n").replace("\n", "\r\n")
    if lf and not crlf:
        return text.replace("\r\n", "\n")
    return text  # mixed (or one line): as merged


def _reverse_member(doc: SectionDocument, name: str, start: int, text: str, reverse: ReverseIds) -> str:
    edits: list[tuple[tuple[int, int], str]] = []
    spans = {s for r in dataflow_references(doc) for s in (r.workspace_span, r.dataflow_span)}
    for lit in field_literals(doc, ID_FIELDS):
        if lit.member != name:
            continue
        kind = (REFERENCE if lit.span in spans else "") + lit.field
        original = reverse.lookup(kind, lit.value)
        if original is not None:
            edits.append(((lit.span[0] - start, lit.span[1] - start), format_literal(original, "text")))
    return apply_edits(text, edits) if edits else text


def _merge_json(part: Part, before: Part | None, after: Part | None, reverse: ReverseIds) -> bytes:
    live = _json_of(part)
    if live is None:
        return part.data
    if before is None or after is None:
        merged = _reverse_json(live, None, reverse)
        return part.data if merged == live else _dump(merged)
    return _dump(_merge_value(_json_of(before), _json_of(after), live, None, reverse))


def _merge_value(source: Any, rendered: Any, live: Any, key: str | None, reverse: ReverseIds) -> Any:
    if live == rendered and source is not _MISSING:
        return source
    if isinstance(live, dict) and isinstance(source, dict):
        after = rendered if isinstance(rendered, dict) else {}
        out: dict[str, Any] = {}
        for k, value in source.items():
            if k in live:
                out[k] = _merge_value(value, after.get(k, _MISSING), live[k], k, reverse)
        for k, value in live.items():
            if k not in source and not (k in after and after[k] == value):
                out[k] = _reverse_json(value, k, reverse)
        return out
    if (
        isinstance(live, list)
        and isinstance(source, list)
        and isinstance(rendered, list)
        and len(live) == len(source) == len(rendered)
    ):
        return [
            _merge_value(s, r, v, key, reverse) for s, r, v in zip(source, rendered, live, strict=True)
        ]
    return _reverse_json(live, key, reverse)


def _reverse_json(value: Any, key: str | None, reverse: ReverseIds) -> Any:
    if isinstance(value, dict):
        return {k: _reverse_json(v, k, reverse) for k, v in value.items()}
    if isinstance(value, list):
        return [_reverse_json(v, key, reverse) for v in value]
    if isinstance(value, str) and key in JSON_ID_FIELDS:
        found = reverse.lookup(key, value)
        return value if found is None else found
    return value


def _dump(doc: Any) -> bytes:
    return fabric_json(doc)
