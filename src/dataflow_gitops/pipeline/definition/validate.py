"""``dfg validate``: project → every offline problem at once (①, the M reader, ②) → ValidationReport.

Checks, without any network call: the dataflow folders (parts, JSON, ``.platform``, format
versions, duplicates), every ``mashup.pq`` parses, ``queriesMetadata`` matches the queries (a
warning: Fabric tolerates it), names in M that nothing defines (a warning with a did-you-mean,
:mod:`.mlang.names`), dataflow references resolve (warning) and do not cycle (error), and each
environment overlay loads and renders offline.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from dataflow_gitops.config import (
    Environment,
    environment_names,
    load_environment,
    load_project,
    overlay_path,
)
from dataflow_gitops.config.project import environment_problems
from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.pipeline.definition import formats
from dataflow_gitops.pipeline.definition.folders import check_folders, folder_path
from dataflow_gitops.pipeline.definition.item_types import KNOWN_ITEM_TYPES
from dataflow_gitops.pipeline.definition.mashups import part_document
from dataflow_gitops.pipeline.definition.mlang import Member
from dataflow_gitops.pipeline.definition.mlang.names import unknown_names
from dataflow_gitops.pipeline.definition.overlay_warnings import overlay_warnings
from dataflow_gitops.pipeline.definition.parts import decode_text, line_of
from dataflow_gitops.pipeline.definition.reading import read_mashups
from dataflow_gitops.pipeline.definition.references import (
    dependency_edges,
    dependency_order,
    references_of,
)
from dataflow_gitops.pipeline.definition.render import OfflineLookup, render_all
from dataflow_gitops.pipeline.definition.source import scan_working_tree
from dataflow_gitops.pipeline.model import (
    MASHUP_PATH,
    METADATA_PATH,
    Platform,
    Snapshot,
    SourceDataflow,
)
from dataflow_gitops.pipeline.ports import ReadAhead

_MDF_ATTRIBUTE = re.compile(r'\bItemType\s*=\s*"MDF"')


@dataclass(frozen=True, slots=True)
class ValidationReport:
    errors: tuple[DataflowGitopsError, ...] = ()
    warnings: tuple[str, ...] = ()
    dataflows: int = 0
    environments: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


def validate(
    root: Path,
    envs: Sequence[str] | None = None,
    *,
    read_ahead: ReadAhead | None = None,
    check_names: bool = True,
) -> ValidationReport:
    """Validate the project at ``root`` for ``envs`` (None: every environment); with
    ``check_names`` (the default), also warn about names in M that nothing defines.

    The names check builds every query's syntax tree (more than reading the document costs); the
    read-ahead finds it with the reading and keeps its answer per text in the read cache, so a
    warm run does not walk any tree.
    """
    errors: list[DataflowGitopsError] = []
    warnings: list[str] = []
    try:
        project = load_project(root)
        scan = scan_working_tree(project.root, project.dataflows_dir)
    except DataflowGitopsError as exc:
        return ValidationReport(errors=(exc,))
    errors.extend(scan.errors)
    read_mashups(scan.snapshot.dataflows, read_ahead, names=check_names)
    good: list[SourceDataflow] = []
    for dataflow in scan.snapshot.dataflows:
        try:
            warnings.extend(_check_queries(dataflow, check_names=check_names))
        except DataflowGitopsError as exc:
            errors.append(exc)
        else:
            good.append(dataflow)
    snapshot = replace(scan.snapshot, dataflows=tuple(good))
    errors.extend(
        check_folders(
            (d.folder, folder_path(d.folder, snapshot.dataflows_dir)) for d in snapshot.dataflows
        )
    )
    warnings.extend(_check_references(snapshot, scan.snapshot, errors, scan.unreadable))

    try:
        names = tuple(envs) if envs else environment_names(project)
    except DataflowGitopsError as exc:
        errors.append(exc)
        names = ()
    errors.extend(environment_problems(project))
    clean_sources = not errors
    for name in names:
        try:
            environment = load_environment(project, name)
            # Rendering half-broken sources would only add confusing follow-up errors.
            if clean_sources:
                render_all(snapshot, environment, OfflineLookup(environment))
                warnings.extend(overlay_warnings(snapshot, environment))
            warnings.extend(_check_item_types(environment, overlay_path(project, name)))
        except DataflowGitopsError as exc:
            errors.append(exc)
    return ValidationReport(
        errors=tuple(errors),
        warnings=tuple(warnings),
        dataflows=len(scan.snapshot.dataflows),
        environments=names,
    )


def _check_item_types(environment: Environment, file: Path) -> list[str]:
    """Warn about ``${items.<Type>.…}`` lookups whose type Fabric does not know (likely typos)."""
    known = {t.lower(): t for t in KNOWN_ITEM_TYPES}
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        text = ""
    found = []
    for item_type, name in environment.item_references():
        if item_type.lower() in known:
            continue
        expression = f"${{items.{item_type}.{name}.id}}"
        line = line_of(text, expression)
        close = difflib.get_close_matches(item_type, KNOWN_ITEM_TYPES, n=1)
        found.append(
            f"{environment.path}{f':{line}' if line else ''}: {expression}: unknown item type "
            f"{item_type!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
        )
    return found


def _check_queries(dataflow: SourceDataflow, *, check_names: bool = True) -> list[str]:
    """Parse mashup.pq (raises MSyntaxError); warn where queriesMetadata and the queries differ
    and where a query uses a name nothing defines."""
    mashup = dataflow.part(MASHUP_PATH)
    metadata = dataflow.part(METADATA_PATH)
    if mashup is None or metadata is None:
        return []
    mashup_path = f"{dataflow.folder}/{MASHUP_PATH}"
    doc = part_document(mashup, path=mashup_path)
    members = {m.name for m in doc.members}
    text = decode_text(metadata.data, path=f"{dataflow.folder}/{METADATA_PATH}")
    queries = formats.queries_metadata(json.loads(text))
    where = f"{dataflow.folder}/{METADATA_PATH}"
    found: list[str] = []
    named: set[str] = set()
    for key, entry in queries.items():
        # The key and queryName can differ (the spec's own example does); queryName is the truth.
        query = entry.get("queryName", key) if isinstance(entry, dict) else key
        named.add(query)
        if query not in members:
            line = line_of(text, json.dumps(key))
            found.append(
                f"{where}:{line}: queriesMetadata names {query!r}, which is not a query "
                f"in mashup.pq (remove the entry or restore the query)"
            )
    found.extend(_check_mdf(dataflow, doc.members))
    if check_names:
        found.extend(unknown.message(mashup_path) for unknown in unknown_names(doc))
    for member in doc.members:
        if member.name not in named:
            found.append(
                f"{dataflow.folder}/{MASHUP_PATH}:{member.line}: query {member.name!r} "
                f"has no queriesMetadata entry (Fabric will assign a new queryId)"
            )
    return found


def _check_mdf(dataflow: SourceDataflow, members: Sequence[Member]) -> list[str]:
    """An ``[ItemType = "MDF"]`` placeholder query and its ``<query>.mdf`` part come in pairs."""
    placeholders = {m.name: m for m in members if _MDF_ATTRIBUTE.search(m.attribute_text or "")}
    mdf_parts = {p.path.removesuffix(".mdf") for p in dataflow.parts if p.path.endswith(".mdf")}
    found = [
        f"{dataflow.folder}/{MASHUP_PATH}:{member.line}: MDF query {name!r} has no "
        f"'{name}.mdf' part (add the Mapping Data Flow file or remove the query)"
        for name, member in placeholders.items()
        if name not in mdf_parts
    ]
    found.extend(
        f'{dataflow.folder}/{name}.mdf: no [ItemType = "MDF"] query named {name!r} in mashup.pq '
        f"(the part is unused)"
        for name in sorted(mdf_parts - set(placeholders))
    )
    return found


def _check_references(
    snapshot: Snapshot,
    everything: Snapshot,
    errors: list[DataflowGitopsError],
    unreadable: Sequence[Platform] = (),
) -> list[str]:
    # Targets resolve against every dataflow read, even one whose mashup.pq or other part has an
    # error (that error is reported on its own; a "not in this repository" warning would mislead).
    by_logical_id = {p.logical_id.lower(): p.display_name for p in unreadable}
    by_logical_id.update({d.platform.logical_id.lower(): d.name for d in everything.dataflows})
    warnings: list[str] = []
    references = {}
    for dataflow in snapshot.dataflows:
        references[dataflow.name] = references_of(dataflow, by_logical_id)
        for ref in references[dataflow.name]:
            if ref.target is None:
                warnings.append(
                    f"{dataflow.name}: query {ref.query!r} reads dataflow {ref.dataflow_id} in "
                    f"workspace {ref.workspace_id}, which is not in this repository (it is "
                    f"deployed as is; use the portable form with the target's logicalId to "
                    f"let dfg rebind it)"
                )
    try:
        dependency_order([d.name for d in snapshot.dataflows], dependency_edges(references))
    except DataflowGitopsError as exc:
        errors.append(exc)
    return warnings
