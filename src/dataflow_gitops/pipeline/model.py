"""The values that flow through the deploy pipeline, one type per stage.

::

    ① source   → SourceDataflow    (+ Snapshot: all dataflows of one commit or working tree)
    ② render   → DesiredDataflow
    ③ observe  → LiveWorkspace     (LiveItem listing + LiveDataflow definitions)
    ④ diff     → DataflowDiff
    ⑤ plan     → Action → Plan
    ⑥ planfile   Plan ⇄ JSON
    ⑦ apply    → ApplyResult

Every value is a frozen dataclass; stages never mutate their input. Parts are raw bytes: base64
exists only on the wire (``fabric/``), never here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

# Overlay values the planner reads (they belong to the config layer, which pipeline builds on).
from dataflow_gitops.config.settings import IgnoreRule as IgnoreRule
from dataflow_gitops.config.settings import PlanPolicy as PlanPolicy

if TYPE_CHECKING:
    from dataflow_gitops.pipeline.definition.mlang.document import SectionDocument

DATAFLOW_TYPE = "Dataflow"
PLATFORM_PATH = ".platform"
METADATA_PATH = "queryMetadata.json"
MASHUP_PATH = "mashup.pq"
SCHEDULES_PATH = ".schedules"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"

# A value that only exists once an earlier action of the same apply has run (the id of a
# dataflow created in this apply). Render writes the token into the parts; the planner shows
# it as "(known after apply)"; the applier substitutes the real id before writing.
KNOWN_AFTER_APPLY = "${known-after-apply:%s}"


class Derived:
    """What stages compute from a part's bytes, computed when first asked and carried with the part
    to every later stage: ``document``, a ``mashup.pq`` part's M document (:func:`~.definition.
    mashups.part_document`); ``canonical``, the form fingerprints and the diff compare."""

    __slots__ = ("canonical", "document")

    def __init__(self) -> None:
        self.document: SectionDocument | None = None
        self.canonical: bytes | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """One definition part: its path inside the item (posix, no leading slash) and its bytes."""

    path: str
    data: bytes
    derived: Derived = field(default_factory=Derived, init=False, repr=False, compare=False, hash=False)
    """What stages derived from ``data`` (:class:`Derived`). Not an argument: a part made from
    other bytes (``dataclasses.replace``) starts with nothing derived. The source stage hands every
    snapshot the one part it read before for the same path and bytes, so snapshots share it too."""

    def text(self) -> str:
        # The same rule as parts.decode_text: UTF-8, and a leading BOM is not content.
        return self.data.decode("utf-8-sig")


@dataclass(frozen=True, slots=True)
class Platform:
    """The ``.platform`` file's meaning (schema platformProperties 2.x)."""

    type: str
    display_name: str
    logical_id: str
    description: str = ""


# ① source ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceDataflow:
    """A dataflow as the repository holds it.

    ``name`` is the display name from ``.platform``: the dataflow's identity in the repository,
    used by overlays, ``--target`` and references. ``parts`` excludes ``.platform`` and is
    sorted by path.
    """

    name: str
    folder: str
    """The item folder's path relative to the project root (the repository root when the project
    is the repository), POSIX separators, no ``./``: ``Bronze/IBMI/Orders.Dataflow``. Its parent
    below the dataflows root is the item's workspace folder."""
    platform: Platform
    parts: tuple[Part, ...]
    checked: bool = True
    """False for a dataflow outside ``--target``/``scope``: identified by its ``.platform``, its
    parts carried unchecked (a broken folder there cannot block the others)."""

    def part(self, path: str) -> Part | None:
        return next((p for p in self.parts if p.path == path), None)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every dataflow of the repository at one point: a commit, or the working tree."""

    dataflows: tuple[SourceDataflow, ...]
    commit: str | None
    """Commit sha the parts were read from; for the working tree, HEAD (None outside git)."""
    dirty: bool = False
    """True when read from a working tree whose render inputs differ from ``commit``."""
    ref: str | None = None
    """The git ref the user named (``--ref``), if any."""
    dataflows_dir: str = "dataflows"
    """The dataflows root the folders were found under (project-relative posix; "." for the
    project root): an item folder's parent relative to it is the item's workspace folder."""
    dirty_paths: tuple[str, ...] = ()
    """The uncommitted render inputs that make it dirty (project-relative, posix): dataflow
    files, the environment's overlay, the project file."""

    def by_name(self, name: str) -> SourceDataflow | None:
        return next((d for d in self.dataflows if d.name == name), None)


@dataclass(frozen=True, slots=True)
class DataflowReference:
    """A ``PowerPlatform.Dataflows`` navigation found in a query of ``mashup.pq``."""

    query: str
    workspace_id: str
    dataflow_id: str
    target: str | None = None
    """Repository name of the dataflow referred to, when it could be resolved."""


class ReferenceStatus(enum.StrEnum):
    """What the deploying identity could find out about a reference outside the repository."""

    EXISTS = "exists"
    MISSING = "missing"
    """The identity sees the workspace, and it holds no such dataflow."""
    UNVERIFIED = "unverified"
    """The identity cannot see the workspace: the reference is kept as written, unchecked."""


@dataclass(frozen=True, slots=True)
class ExternalReference:
    """A reference to a dataflow in another workspace, kept as written, and what plan found."""

    query: str
    workspace_id: str
    dataflow_id: str
    status: ReferenceStatus = ReferenceStatus.UNVERIFIED


# ② render ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DesiredDataflow:
    """A dataflow as it should be in one environment's workspace.

    ``parts`` are canonical and complete, ``.platform`` included (with ``display_name``), ready
    to send. ``fingerprint`` is :func:`pipeline.parts.fingerprint` of them, comparable with a
    :class:`LiveDataflow` fingerprint.
    """

    name: str
    display_name: str
    description: str
    logical_id: str
    parts: tuple[Part, ...]
    fingerprint: str
    depends_on: tuple[str, ...] = ()
    """Repository names of the dataflows this one reads (write those first)."""
    pending: tuple[str, ...] = ()
    """Expressions written as KNOWN_AFTER_APPLY tokens, e.g. ``items.Dataflow.Sales.id``."""
    secret_env: tuple[str, ...] = ()
    """Names of environment variables whose values were substituted (never written to plans)."""
    folder: str = ""
    """The repository folder it was rendered from (project-relative posix)."""
    folder_path: str = ""
    """The workspace folder it belongs in: ``Bronze/IBMI`` ("" = the workspace root), the
    overlay's ``folder:`` included. Fabric folder names, ``/``-separated."""
    external: tuple[ExternalReference, ...] = ()
    """References to dataflows in other workspaces (status unverified until plan checks them)."""

    def part(self, path: str) -> Part | None:
        return next((p for p in self.parts if p.path == path), None)


# ③ observe --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveItem:
    """One item of the target workspace listing (any type; lookups need Lakehouses too)."""

    id: str
    type: str
    display_name: str
    description: str = ""
    folder_id: str | None = None
    folder_path: str = ""
    """The workspace folder path of ``folder_id`` ("" = root), once observe placed the item."""


@dataclass(frozen=True, slots=True)
class LiveFolder:
    """One workspace folder (Folders API); ``parent_folder_id`` None at the workspace root."""

    id: str
    display_name: str
    parent_folder_id: str | None = None


@dataclass(frozen=True, slots=True)
class LiveDataflow:
    """A dataflow as the live workspace returns it from getDefinition."""

    item: LiveItem
    logical_id: str | None
    parts: tuple[Part, ...]
    """Every part but ``.platform``, sorted by path."""
    fingerprint: str

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def display_name(self) -> str:
        return self.item.display_name

    def part(self, path: str) -> Part | None:
        return next((p for p in self.parts if p.path == path), None)


@dataclass(frozen=True, slots=True)
class LiveWorkspace:
    workspace_id: str
    items: tuple[LiveItem, ...]
    dataflows: tuple[LiveDataflow, ...]
    folders: tuple[LiveFolder, ...] = ()


# ④ diff -----------------------------------------------------------------------------------


class ChangeKind(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"


@dataclass(frozen=True, slots=True)
class PartChange:
    """A change to one non-M part; ``details`` are human lines (JSON paths with old → new)."""

    path: str
    kind: ChangeKind
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QueryChange:
    """A change to one ``shared`` member of ``mashup.pq``; ``diff`` is a unified diff."""

    name: str
    kind: ChangeKind
    diff: str = ""


@dataclass(frozen=True, slots=True)
class PropertyChange:
    """A metadata property (``displayName``, ``description``) that PATCH can change."""

    name: str
    old: str
    new: str


class ScheduleChangeKind(enum.StrEnum):
    CREATE = "create"
    CHANGE = "change"
    DISABLE = "disable"
    ENABLE = "enable"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class ScheduleChange:
    """A change to one schedule of the ``.schedules`` part (one job type's schedule).

    ``schedule`` is the schedule as it will be (for a remove: as live has it), ``before`` the live
    one it replaces (for a change), both as one-line summaries. ``configuration`` is the canonical
    JSON of the configuration concerned (the live one for a remove: the applier deletes by it).
    ``kept``: a remove that prune rules forbid; the live schedule stays and nothing is written.
    """

    job_type: str
    kind: ScheduleChangeKind
    schedule: str
    before: str = ""
    configuration: str = ""
    kept: bool = False


@dataclass(frozen=True, slots=True)
class DataflowDiff:
    name: str
    parts: tuple[PartChange, ...] = ()
    queries: tuple[QueryChange, ...] = ()
    properties: tuple[PropertyChange, ...] = ()
    ignored: tuple[str, ...] = ()
    """Differences suppressed by ``ignore`` rules, described for the plan's footnote."""
    schedules: tuple[ScheduleChange, ...] = ()
    """Schedule changes of the ``.schedules`` part (compared schedule by schedule, not as a part)."""

    @property
    def schedules_changed(self) -> bool:
        return any(not s.kept for s in self.schedules)

    @property
    def definition_changed(self) -> bool:
        return bool(self.parts or self.queries) or self.schedules_changed

    @property
    def changed(self) -> bool:
        return bool(self.parts or self.queries or self.properties) or self.schedules_changed


# ⑤ plan -----------------------------------------------------------------------------------


class ActionKind(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "noop"


class Impact(enum.StrEnum):
    BREAKING = "breaking"
    NON_BREAKING = "non-breaking"
    METADATA_ONLY = "metadata-only"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Action:
    """One thing apply will do to one item.

    ``live_fingerprint`` is the precondition a saved plan carries: the fingerprint of the live
    definition the action was planned against, None when planned as absent.
    """

    kind: ActionKind
    name: str
    """Repository name; for deletes, the live display name."""
    display_name: str
    item_id: str | None = None
    desired: DesiredDataflow | None = None
    live_fingerprint: str | None = None
    diff: DataflowDiff | None = None
    impact: Impact = Impact.NONE
    rename_from: str | None = None
    depends_on: tuple[str, ...] = ()
    reason: str = ""
    live_folder: str | None = None
    """The workspace folder path the live item was in when planned (None: planned as absent).
    Part of the stale-plan guard, and where a move starts."""

    @property
    def is_change(self) -> bool:
        return self.kind is not ActionKind.NOOP

    @property
    def moves_from(self) -> str | None:
        """The live folder path when the item moves to ``desired.folder_path``, else None."""
        if self.desired is None or self.live_folder is None or self.kind is ActionKind.DELETE:
            return None
        same = self.live_folder.casefold() == self.desired.folder_path.casefold()
        return None if same else self.live_folder


class FolderActionKind(enum.StrEnum):
    CREATE = "create"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class FolderAction:
    """A workspace folder apply creates (before the items) or removes (after them, when empty)."""

    kind: FolderActionKind
    path: str
    folder_id: str | None = None
    """The live folder's id, for a delete."""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an environment's calls go, as a saved plan remembers it: no secret in it."""

    api: str
    """The overlay's ``api`` (``embedded``, or the base URL with secrets as references)."""
    identity: str
    """The configured auth identity: method, tenant and client (``token:$FABRIC_TOKEN``…)."""


@dataclass(frozen=True, slots=True)
class Plan:
    environment: str
    workspace_id: str
    actions: tuple[Action, ...]
    """In apply order: dependencies before dependants, deletes last."""
    commit: str | None = None
    dirty: bool = False
    ref: str | None = None
    overlay_hash: str = ""
    created_at: str = ""
    dirty_paths: tuple[str, ...] = ()
    """What made ``dirty`` true: uncommitted render inputs, project-relative."""
    unmanaged: tuple[str, ...] = ()
    """Live dataflows the repository does not manage (listed, never touched)."""
    warnings: tuple[str, ...] = ()
    folders: tuple[FolderAction, ...] = ()
    """Folder creates (parents first), then folder removals (children first, prune only)."""
    empty_folders: tuple[str, ...] = ()
    """Live folders this plan leaves empty and keeps (prune is off): shown, never touched."""
    connection: Destination | None = None
    """Where the plan was made to go; apply refuses a saved plan when the environment now
    resolves elsewhere."""
    source_hash: str = ""
    """sha256 of the dataflow sources planned (:func:`pipeline.plan.proof.source_hash`): a plan
    made on a dirty tree is proven against the working tree only while this still matches."""

    def count(self, kind: ActionKind) -> int:
        return sum(1 for a in self.actions if a.kind is kind)

    @property
    def moves(self) -> int:
        return sum(1 for a in self.actions if a.moves_from is not None)

    @property
    def has_changes(self) -> bool:
        return bool(self.folders) or any(a.is_change for a in self.actions)


# ⑦ apply ----------------------------------------------------------------------------------


class OutcomeStatus(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    action: Action
    status: OutcomeStatus
    item_id: str | None = None
    error: str | None = None
    published: bool | None = None
    """None when not asked to publish; False when the ApplyChanges job failed."""


@dataclass(frozen=True, slots=True)
class FolderOutcome:
    action: FolderAction
    status: OutcomeStatus
    folder_id: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ApplyResult:
    environment: str
    workspace_id: str
    outcomes: tuple[ActionOutcome, ...] = field(default_factory=tuple)
    folders: tuple[FolderOutcome, ...] = ()
    interrupted: int | None = None
    """The signal (SIGINT, SIGTERM) that stopped the apply part way; None when it ran through."""

    @property
    def ok(self) -> bool:
        return all(
            o.status is not OutcomeStatus.FAILED and o.published is not False for o in self.outcomes
        ) and all(f.status is not OutcomeStatus.FAILED for f in self.folders)
