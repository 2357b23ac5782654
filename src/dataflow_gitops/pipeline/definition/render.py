"""② render: SourceDataflow + Environment overlay + target lookups → DesiredDataflow.

For one dataflow, in this order:

1. public parameters — typed rewrite of the literal before ``meta`` (``mlang.set_parameter``'s
   spans and ``format_literal``); the dataflow must declare every per-dataflow parameter;
2. bindings — ids in ``mashup.pq``, connections and gateway in ``queryMetadata.json``
   (``pipeline/definition/bindings.py``); references to other repository dataflows → the target workspace
   and ``${items.Dataflow.<display name>.id}`` (``KNOWN_AFTER_APPLY`` until that dataflow exists);
3. ``replace`` rules, then ``set`` rules (JSONPath) — generic edits, last so they can fix anything;
4. the display-name template, ``.platform`` (logicalId kept) and the fingerprint.

Dynamic values (``${workspace.id}``, ``${items.<Type>.<name>.id}``) go through the ``Lookup``
port. :class:`OfflineLookup` (validate, render without a network) knows only the overlay's
workspace id and leaves item ids as visible placeholders, listed in ``pending``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dataflow_gitops.config import Environment, jsonpath, matches
from dataflow_gitops.config.schedules import MAX_SCHEDULES, overlay_part
from dataflow_gitops.errors import MSyntaxError, RenderError
from dataflow_gitops.pipeline.definition.bindings import (
    mashup_edits,
    pending_token,
    rewrite_metadata,
)
from dataflow_gitops.pipeline.definition.folders import check_folders, folder_path, join
from dataflow_gitops.pipeline.definition.mashups import keep_document, part_document
from dataflow_gitops.pipeline.definition.mlang import (
    SectionDocument,
    format_literal,
    parameters,
    parse_section,
)
from dataflow_gitops.pipeline.definition.mlang.edits import Edit, edit_section
from dataflow_gitops.pipeline.definition.parts import (
    decode_text,
    fabric_json,
    fingerprint,
    platform_part,
    without_bom,
)
from dataflow_gitops.pipeline.definition.references import (
    dependency_edges,
    dependency_order,
    find_references,
)
from dataflow_gitops.pipeline.definition.render_checks import (
    check_overlay_names,
    check_unique_display_names,
)
from dataflow_gitops.pipeline.model import (
    MASHUP_PATH,
    METADATA_PATH,
    PLATFORM_PATH,
    SCHEDULES_PATH,
    ZERO_GUID,
    DataflowReference,
    DesiredDataflow,
    ExternalReference,
    Part,
    Platform,
    Snapshot,
    SourceDataflow,
)
from dataflow_gitops.pipeline.ports import Lookup

DYNAMIC = re.compile(r"\$\{(workspace\.id|items\.[A-Za-z]+\.[^{}]+?\.id)\}")
DATAFLOW_ITEMS = "items.Dataflow."
JSON_PARTS = (".json", ".mdf")


class OfflineLookup:
    """Resolves what the overlay alone knows: ``workspace.id`` (when given as an id).

    Item ids resolve to their own ``${…}`` placeholder, so the rendered text shows what is still
    to be looked up; dataflow ids resolve to None (known after apply).
    """

    def __init__(self, env: Environment) -> None:
        self._workspace_id = env.workspace_id

    def resolve(self, expression: str) -> str | None:
        if expression == "workspace.id":
            return self._workspace_id or "${workspace.id}"
        if expression.startswith(DATAFLOW_ITEMS):
            return None
        return "${" + expression + "}"


class _Renderer:
    """The state of rendering one dataflow: what is pending, and how values resolve."""

    def __init__(self, source: SourceDataflow, env: Environment, lookup: Lookup) -> None:
        self.source = source
        self.env = env
        self.lookup = lookup
        self.pending: list[str] = []

    def resolve(self, value: str, where: str, what: str) -> str:
        """``value`` with every ``${workspace.id}`` / ``${items.…}`` replaced through the lookup."""

        def one(match: re.Match[str]) -> str:
            return self.lookup_id(match.group(1), where=where, what=what)

        return DYNAMIC.sub(one, value)

    def lookup_id(self, expression: str, *, where: str | None = None, what: str = "") -> str:
        found = self.lookup.resolve(expression)
        if found is None:
            if expression.startswith(DATAFLOW_ITEMS):
                self._pend(expression)
                return pending_token(expression)
            raise RenderError(
                f"{self.source.name}: {what + ': ' if what else ''}${{{expression}}} does not exist "
                f"in the target workspace",
                dataflow=self.source.name,
                where=where,
                hint="create the item first, or fix the name in the overlay",
            )
        if found == "${" + expression + "}":
            self._pend(expression)
        return found

    def _pend(self, expression: str) -> None:
        if expression not in self.pending:
            self.pending.append(expression)

    def target_workspace(self) -> str:
        return self.lookup_id("workspace.id", where=self.env.path, what="target workspace")

    def dataflow_id(self, target: str) -> str:
        return self.lookup_id(f"{DATAFLOW_ITEMS}{self.env.display_name_for(target)}.id")


def render(
    source: SourceDataflow,
    env: Environment,
    lookup: Lookup,
    *,
    references: Sequence[DataflowReference] = (),
    folder: str = "",
) -> DesiredDataflow:
    """The definition ``source`` gets in ``env``'s workspace (see the module docstring).

    ``folder`` is the source's workspace folder path (:func:`folders.folder_path`); the
    desired folder is the overlay's ``folder:`` joined with it.
    """
    r = _Renderer(source, env, lookup)
    files = {p.path: without_bom(p.data) for p in source.parts if p.path != PLATFORM_PATH}
    rendered: tuple[bytes, SectionDocument] | None = None
    mashup = source.part(MASHUP_PATH)
    if mashup is not None:
        source_doc = part_document(mashup, path=_part_path(source, MASHUP_PATH))
        doc = _render_mashup(r, source_doc, references)
        if doc is not source_doc:
            files[MASHUP_PATH] = doc.text.encode("utf-8")
        rendered = (files[MASHUP_PATH], doc)
    if METADATA_PATH in files:
        files[METADATA_PATH] = _render_metadata(r, files[METADATA_PATH])
    files = _apply_replace(r, files)
    files = _apply_set(r, files)
    files = _apply_schedules(r, files)
    documents: dict[str, SectionDocument] = {}
    if MASHUP_PATH in files:
        documents[MASHUP_PATH] = _check_still_parses(source, files[MASHUP_PATH], rendered)
    display_name = env.display_name_for(source.name)
    platform = Platform(
        type=source.platform.type,
        display_name=display_name,
        logical_id=source.platform.logical_id,
        description=source.platform.description,
    )
    parts = tuple(
        sorted(
            (*_rendered_parts(source, files, documents), platform_part(platform)),
            key=lambda p: p.path,
        )
    )
    depends_on = tuple(
        dict.fromkeys(
            ref.target for ref in references if ref.target is not None and ref.target != source.name
        )
    )
    return DesiredDataflow(
        name=source.name,
        display_name=display_name,
        description=source.platform.description,
        logical_id=source.platform.logical_id,
        parts=parts,
        fingerprint=fingerprint(
            parts, display_name=display_name, description=source.platform.description
        ),
        depends_on=depends_on,
        pending=tuple(r.pending),
        secret_env=env.secret_env,
        folder=source.folder,
        folder_path=join(env.folder, folder),
        external=external_references(
            references,
            # the target itself, and workspaces the overlay rebinds: neither is kept as written
            (
                lookup.resolve("workspace.id") or "",
                *(b.source for b in env.bindings_for(source.name).workspaces),
            ),
        ),
    )


def external_references(
    references: Sequence[DataflowReference], not_external: Sequence[str] = ()
) -> tuple[ExternalReference, ...]:
    """References to a dataflow in another workspace that no repository dataflow resolves:
    written as they are, and checked at plan time where the identity can see that workspace.
    ``not_external``: workspace ids that are not another workspace (the target, rebound ones)."""
    skip = {ZERO_GUID, *(w.lower() for w in not_external if w)}
    found: dict[tuple[str, str, str], ExternalReference] = {}
    for ref in references:
        if ref.target is not None or ref.workspace_id.lower() in skip:
            continue
        key = (ref.query, ref.workspace_id.lower(), ref.dataflow_id.lower())
        found.setdefault(key, ExternalReference(ref.query, ref.workspace_id, ref.dataflow_id))
    return tuple(found.values())


def _apply_schedules(r: _Renderer, files: dict[str, bytes]) -> dict[str, bytes]:
    """The overlay's schedules laid over the ``.schedules`` part (unchanged bytes when the overlay
    says nothing; a part appears when the overlay gives schedules to a dataflow without one)."""
    settings = r.env.schedules_for(r.source.name)
    if not settings:
        return files
    data = files.get(SCHEDULES_PATH)
    text = overlay_part(None if data is None else data.decode("utf-8-sig"), settings)
    if text is None:
        return files
    count = len(json.loads(text).get("schedules", []))
    if count > MAX_SCHEDULES:
        raise RenderError(
            f"{r.source.name}: {count} schedules with the overlay's, Fabric allows {MAX_SCHEDULES} "
            "per item",
            dataflow=r.source.name,
            where=settings[0].where or r.env.path,
            hint="drop schedules from the overlay or the dataflow's .schedules file",
        )
    return {**files, SCHEDULES_PATH: text.encode("utf-8")}


def _rendered_parts(
    source: SourceDataflow, files: Mapping[str, bytes], documents: Mapping[str, SectionDocument]
) -> list[Part]:
    """The parts of ``files``: a source part render left as it was is that very part (with what
    was derived from it), a rendered mashup carries its document."""
    parts: list[Part] = []
    for path, data in files.items():
        before = source.part(path)
        if before is not None and before.data is data:
            parts.append(before)
        elif path in documents:
            parts.append(keep_document(Part(path, data), documents[path]))
        else:
            parts.append(Part(path, data))
    return parts


def _part_path(source: SourceDataflow, path: str) -> str:
    return f"{source.folder}/{path}" if source.folder else path


def _render_mashup(
    r: _Renderer, doc: SectionDocument, references: Sequence[DataflowReference]
) -> SectionDocument:
    """The rendered document of the source's ``doc`` (``doc`` itself when nothing changes)."""

    def binding_edits_of(doc: SectionDocument) -> list[Edit]:
        return mashup_edits(
            doc,
            r.env.bindings_for(r.source.name),
            references,
            resolve=r.resolve,
            target_workspace=r.target_workspace,
            dataflow_id=r.dataflow_id,
        )

    parameter_edits = _parameter_edits(r, doc)
    binding_edits = binding_edits_of(doc)
    if _overlap(parameter_edits, binding_edits):
        # A parameter value holding a bound id: bind inside the new value, as the overlay reads.
        doc = edit_section(doc, parameter_edits)
        return edit_section(doc, binding_edits_of(doc))
    # One document, every edit applied at once: the result's document (derived from the source's
    # without parsing, when the edits swap literals) goes on to the parse check and the diff.
    return edit_section(doc, [*parameter_edits, *binding_edits])


def _overlap(a: Sequence[Edit], b: Sequence[Edit]) -> bool:
    return any(s1 < e2 and s2 < e1 for (s1, e1), _ in a for (s2, e2), _ in b)


def _parameter_edits(r: _Renderer, doc: SectionDocument) -> list[Edit]:
    declared = {p.name: p for p in parameters(doc)}
    overlay = r.env.overlay_for(r.source.name)
    own = {p.name for p in overlay.parameters} if overlay else set()
    edits: list[Edit] = []
    for name, setting in r.env.parameters_for(r.source.name).items():
        parameter = declared.get(name)
        if parameter is None:
            if name in own:
                known = ", ".join(sorted(declared)) or "none"
                raise RenderError(
                    f"{r.source.name} declares no parameter {name!r}",
                    dataflow=r.source.name,
                    where=setting.where,
                    hint=f"its parameters: {known}",
                )
            continue  # an environment-wide value for the dataflows that declare it
        value = setting.value
        if isinstance(value, str):
            value = r.resolve(value, setting.where, f"parameter {name}")
        try:
            literal = format_literal(value, parameter.type_name)
        except ValueError as exc:
            raise RenderError(
                f"{r.source.name}: parameter {name} is of type {parameter.type_name}; "
                f"{r.env.redact(str(exc))}",
                dataflow=r.source.name,
                where=setting.where,
                hint=_type_hint(parameter.type_name),
            ) from None
        if literal != parameter.literal_text:
            edits.append((parameter.span, literal))
    edits.sort()
    return edits


def _type_hint(type_name: str) -> str:
    examples = {
        "text": 'e.g. "value"',
        "number": "e.g. 42 or 3.5",
        "logical": "true or false",
        "date": 'e.g. "2024-01-31"',
        "datetime": 'e.g. "2024-01-31T08:00:00"',
        "datetimezone": 'e.g. "2024-01-31T08:00:00+01:00"',
        "time": 'e.g. "08:30:00"',
    }
    return f"give a {type_name} value, {examples.get(type_name, 'like the one in mashup.pq')}"


def _render_metadata(r: _Renderer, data: bytes) -> bytes:
    bindings = r.env.bindings_for(r.source.name)
    if not bindings.connections and bindings.gateway is None:
        return data
    doc = _load_json(r, METADATA_PATH, data)
    if not isinstance(doc, dict) or not rewrite_metadata(doc, bindings, resolve=r.resolve):
        return data
    return _dump_json(doc)


def _load_json(r: _Renderer, path: str, data: bytes) -> Any:
    try:
        return json.loads(decode_text(data, path=_part_path(r.source, path)))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RenderError(
            f"{path} is not valid JSON ({exc})", dataflow=r.source.name, where=_part_path(r.source, path)
        ) from None


def _dump_json(doc: Any) -> bytes:
    return fabric_json(doc)


def _apply_replace(r: _Renderer, files: dict[str, bytes]) -> dict[str, bytes]:
    for rule in r.env.replace:
        if not matches(r.source.name, rule.dataflows):
            continue
        replacement = r.resolve(rule.replace_with, rule.where, "replace")
        for path in [p for p in files if matches(p, rule.parts)]:
            text = decode_text(files[path], path=_part_path(r.source, path))
            if rule.regex:
                try:
                    new = re.sub(rule.find, replacement, text)
                except (re.error, IndexError) as exc:
                    raise RenderError(
                        r.env.redact(f"replace rule: {exc}"),
                        dataflow=r.source.name,
                        where=rule.where,
                        hint="check the pattern and its groups",
                    ) from None
            else:
                new = text.replace(rule.find, replacement)
            if new != text:
                files[path] = new.encode("utf-8")
    return files


def _apply_set(r: _Renderer, files: dict[str, bytes]) -> dict[str, bytes]:
    for rule in r.env.set_rules:
        if not matches(r.source.name, rule.dataflows):
            continue
        value = rule.value
        if isinstance(value, str):
            value = r.resolve(value, rule.where, "set")
        for path in [p for p in files if matches(p, (rule.part,)) and p.endswith(JSON_PARTS)]:
            doc = _load_json(r, path, files[path])
            try:
                new = jsonpath.set_values(doc, rule.path, value)
            except jsonpath.JsonPathError as exc:
                raise RenderError(str(exc), dataflow=r.source.name, where=rule.where) from None
            if new != doc:
                files[path] = _dump_json(new)
    return files


def _check_still_parses(
    source: SourceDataflow, data: bytes, rendered: tuple[bytes, SectionDocument] | None
) -> SectionDocument:
    """The document of the rendered mashup ``data``: the one rendering produced, if no replace or
    set rule changed it since (and it does not start with a BOM character, which decoding the
    bytes would drop); else ``data`` read again, which must still be M."""
    if rendered is not None and rendered[0] is data and not rendered[1].text.startswith("\ufeff"):
        return rendered[1]
    try:
        path = _part_path(source, MASHUP_PATH)
        return parse_section(decode_text(data, path=path), path=path)
    except MSyntaxError as exc:
        raise RenderError(
            f"the overlay's edits broke mashup.pq: {exc.message}",
            dataflow=source.name,
            hint="check the replace rules for this dataflow",
        ) from None


def render_all(
    snapshot: Snapshot, env: Environment, lookup: Lookup, *, id_map: Mapping[str, str] | None = None
) -> tuple[DesiredDataflow, ...]:
    """Every in-scope dataflow of ``snapshot`` rendered for ``env``, dependencies first (those
    the source stage only identified, outside ``--target``, are not rendered).

    Also checks what only the whole repository shows: an environment-wide parameter no
    dataflow declares, and a ``dataflows:`` entry naming no dataflow (both RenderError at
    the overlay's line). ``id_map`` (item id → repository name) resolves Git-sync references.
    """
    check_overlay_names(snapshot, env)
    references = find_references(snapshot, id_map=id_map or {})
    chosen = [d for d in snapshot.dataflows if d.checked and env.in_scope(d.name)]
    names = [d.name for d in chosen]
    edges = {name: refs for name, refs in dependency_edges(references).items() if name in names}
    order = dependency_order(names, edges)
    by_name = {d.name: d for d in chosen}
    places = {d.name: folder_path(d.folder, snapshot.dataflows_dir) for d in chosen}
    problems = check_folders((by_name[n].folder, places[n]) for n in names)
    if problems:
        raise problems[0]
    desired = tuple(
        render(by_name[n], env, lookup, references=references.get(n, ()), folder=places[n])
        for n in order
    )
    check_unique_display_names(desired, env)
    return desired
