"""① source: dataflow folders (working tree or any git ref) → :class:`Snapshot`.

Every ``*.Dataflow`` folder under the dataflows root, at any depth (workspace folders are nested
git folders; :mod:`.discovery` finds them), becomes a :class:`SourceDataflow` named after
``.platform``'s display name (Git sync never renames folders, so the folder name may be stale).
Every file of the folder is a part (``.schedules`` and parts dfg does not understand are carried
byte for byte); the ones dfg understands are checked. Other items beside them are ignored.

The dataflows root may be the repository root (``dataflows_dir: "."``), any subfolder, or
``dataflows/``. A git ref is read from the commit's tree with gitpython, without checking anything
out. ``scan_*`` report every problem at once (for ``dfg validate``); ``read_*`` raise the first.
A folder ``wanted`` rejects (outside ``--target`` or ``scope``) is identified by its
``.platform`` but not checked, so it cannot block the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import git

from dataflow_gitops.errors import DataflowGitopsError, LegacyFormatError, SourceError
from dataflow_gitops.pipeline.definition import formats
from dataflow_gitops.pipeline.definition.discovery import (
    FOLDER_SUFFIX,
    Discovery,
    FolderFiles,
    describe_other_items,
    discover_tree,
    discover_working_tree,
    root_prefix,
)
from dataflow_gitops.pipeline.definition.eol import as_committed
from dataflow_gitops.pipeline.definition.legacy import LEGACY_CONTENT_PATH, legacy_problem
from dataflow_gitops.pipeline.definition.parts import (
    decode_text,
    lenient_text,
    line_of,
    load_json,
    parse_platform,
)
from dataflow_gitops.pipeline.definition.schedule_part import check_part as check_schedules
from dataflow_gitops.pipeline.definition.source_cache import FILES
from dataflow_gitops.pipeline.model import (
    MASHUP_PATH,
    METADATA_PATH,
    PLATFORM_PATH,
    SCHEDULES_PATH,
    Part,
    Platform,
    Snapshot,
    SourceDataflow,
)

__all__ = [
    "FOLDER_SUFFIX",
    "FORMAT_VERSION",
    "ScanResult",
    "read_ref",
    "read_working_tree",
    "scan_ref",
    "scan_working_tree",
]

FORMAT_VERSION = formats.CURRENT
REQUIRED_PARTS = (METADATA_PATH, MASHUP_PATH)
Wanted = Callable[[str], bool]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScanResult:
    snapshot: Snapshot
    errors: tuple[DataflowGitopsError, ...]
    # The identity of folders that failed to load but whose `.platform` is readable: a reference
    # to one of them is not "to a dataflow outside the repository" (its own error says enough).
    unreadable: tuple[Platform, ...] = ()
    other_items: Mapping[str, int] | None = None
    """Items of other types found beside the dataflows (type → count), ignored."""
    unchecked: tuple[str, ...] = ()
    """Dataflows ``wanted`` left out of the checks (identified by ``.platform`` only)."""


def scan_working_tree(
    root: Path,
    dataflows_dir: str = "dataflows",
    *,
    inputs: Sequence[str] = (),
    wanted: Wanted | None = None,
) -> ScanResult:
    """Read the working tree; the commit is HEAD (None outside git).

    ``dirty`` per git status of every render input: the dataflow folders and ``inputs`` (other
    project-relative files render reads, e.g. the overlay and the project file). Other files
    under the dataflows root (other items, a README beside items at the repository root) are not
    render inputs.
    """
    repo = _open_repo(root)
    try:
        top = Path(repo.working_tree_dir or root).resolve() if repo is not None else root.resolve()
        ignored = _ignored_paths(repo, root) if repo is not None else frozenset()
        found = discover_working_tree(
            root, dataflows_dir, boundary=top, ignored=lambda path: _is_ignored(path, ignored)
        )
        # A Windows checkout (core.autocrlf) reads as the commit it is: CRLF where git stores LF.
        as_committed(root, found.folders)
        commit, dirty_paths = (
            _head_state(repo, root, (dataflows_dir, *inputs), inputs, found)
            if repo is not None
            else (None, None)
        )
    finally:
        if repo is not None:
            repo.close()
    return _scan(
        found,
        label="",
        wanted=wanted,
        commit=commit,
        # in git without a commit, everything is uncommitted
        dirty=bool(dirty_paths) or (commit is None and dirty_paths is not None),
        dirty_paths=dirty_paths or (),
        ref=None,
        root=dataflows_dir,
    )


def commit_of(root: Path, ref: str) -> str:
    """The sha of the commit ``ref`` names (SourceError when there is none)."""
    repo = _repo_for_ref(root, ref)
    with repo:
        return str(_commit(repo, ref).hexsha)


def _repo_for_ref(root: Path, ref: str) -> git.Repo:
    repo = _open_repo(root)
    if repo is None:
        raise SourceError(
            f"cannot read git ref {ref!r}: {root} is not inside a git repository",
            hint="run in a git repository or drop --ref",
        )
    return repo


def _commit(repo: git.Repo, ref: str) -> git.Commit:
    try:
        return repo.commit(ref)
    except (git.BadName, ValueError, IndexError, git.GitCommandError):
        raise SourceError(
            f"unknown git ref {ref!r}", hint="name a branch, tag or commit sha (see `git log`)"
        ) from None


def scan_ref(
    root: Path, ref: str, dataflows_dir: str = "dataflows", *, wanted: Wanted | None = None
) -> ScanResult:
    """Read the dataflows as they are in commit ``ref`` (any rev git understands)."""
    repo = _repo_for_ref(root, ref)
    with repo:
        commit = _commit(repo, ref)
        project = _repo_relative(repo, root, ".")
        tree = commit.tree
        prefix = root_prefix(dataflows_dir)
        try:
            base = tree / project if project else tree
            start = base / prefix if prefix else base
        except KeyError:
            raise SourceError(
                f"the commit has no {dataflows_dir}/ folder",
                hint="pick a commit that contains the dataflows",
            ) from None
        found = discover_tree(start, prefix)
        sha = commit.hexsha
    return _scan(
        found, label=f"{ref}:", wanted=wanted, commit=sha, dirty=False, ref=ref, root=dataflows_dir
    )


def read_working_tree(
    root: Path,
    dataflows_dir: str = "dataflows",
    *,
    inputs: Sequence[str] = (),
    wanted: Wanted | None = None,
) -> Snapshot:
    return _first(scan_working_tree(root, dataflows_dir, inputs=inputs, wanted=wanted))


def read_ref(
    root: Path, ref: str, dataflows_dir: str = "dataflows", *, wanted: Wanted | None = None
) -> Snapshot:
    return _first(scan_ref(root, ref, dataflows_dir, wanted=wanted))


def _first(result: ScanResult) -> Snapshot:
    if result.errors:
        raise result.errors[0]
    return result.snapshot


def _scan(
    found: Discovery,
    *,
    label: str,
    wanted: Wanted | None,
    commit: str | None,
    dirty: bool,
    ref: str | None,
    root: str,
    dirty_paths: tuple[str, ...] = (),
) -> ScanResult:
    if found.other_items:
        _log.info("%s", describe_other_items(found.other_items))
    dataflows, errors, unchecked = _build(found.folders, label=label, wanted=wanted)
    return ScanResult(
        Snapshot(
            dataflows,
            commit=commit,
            dirty=dirty,
            ref=ref,
            dirty_paths=dirty_paths,
            dataflows_dir=root,
        ),
        (*found.errors, *errors),
        _unreadable(found.folders, dataflows),
        dict(found.other_items),
        unchecked,
    )


# git -------------------------------------------------------------------------------------------


def _open_repo(root: Path) -> git.Repo | None:
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def _repo_relative(repo: git.Repo, root: Path, dataflows_dir: str) -> str:
    top = Path(repo.working_tree_dir or root).resolve()
    rel = (root.resolve() / dataflows_dir).resolve().relative_to(top)
    return "" if str(rel) == "." else rel.as_posix()


def _ignored_paths(repo: git.Repo, root: Path) -> frozenset[str]:
    """What git ignores under the project, project-relative (folders end with ``/``): one call."""
    project = _repo_relative(repo, root, ".")
    try:
        out = repo.git.ls_files(
            "-z", "--others", "--ignored", "--exclude-standard", "--directory", "--", project or "."
        )
    except git.GitCommandError:
        return frozenset()
    cut = len(project) + 1 if project else 0
    return frozenset(p[cut:] for p in out.split("\0") if p)


def _is_ignored(path: str, ignored: frozenset[str]) -> bool:
    if not ignored:
        return False
    if path in ignored:
        return True
    # A file or folder inside an ignored folder.
    parts = path.rstrip("/").split("/")
    return any("/".join(parts[:i]) + "/" in ignored for i in range(1, len(parts)))


def _head_state(
    repo: git.Repo, root: Path, paths: Sequence[str], inputs: Sequence[str], found: Discovery
) -> tuple[str | None, tuple[str, ...]]:
    """HEAD's sha and the uncommitted render inputs among ``paths``: files of a dataflow folder
    (staged, unstaged or untracked; a deleted folder's too) and ``inputs``.

    A repository without commits has no HEAD: everything in it is uncommitted.
    """
    try:
        sha: str | None = repo.head.commit.hexsha
    except ValueError:  # a repository without commits
        sha = None
    top = Path(repo.working_tree_dir or root).resolve()
    base = root.resolve()
    # The repository root is "." (an empty pathspec is an error to git).
    specs = [(base / p).resolve().relative_to(top).as_posix() for p in paths if p]
    # -z: paths exactly as stored (no quoting); a rename or copy adds its source path next
    out = repo.git.status("--porcelain", "-z", "--untracked-files=all", "--", *specs)
    folders = tuple(f + "/" for f in found.folders)
    wanted_inputs = {Path(p).as_posix() for p in inputs}
    changed: list[str] = []
    fields = iter(out.split("\0"))
    for entry in fields:
        if len(entry) < 4:
            continue
        if entry[0] in "RC":
            next(fields, None)
        path = top / entry[3:]
        relative = path.relative_to(base).as_posix() if path.is_relative_to(base) else entry[3:]
        if (
            relative in wanted_inputs
            or relative.startswith(folders)
            or any(name.endswith(FOLDER_SUFFIX) for name in relative.split("/")[:-1])
        ):
            changed.append(relative)
    return sha, tuple(sorted(set(changed)))


# building dataflows ----------------------------------------------------------------------------


def _build(
    folders: FolderFiles, *, label: str, wanted: Wanted | None = None
) -> tuple[tuple[SourceDataflow, ...], tuple[DataflowGitopsError, ...], tuple[str, ...]]:
    dataflows: list[SourceDataflow] = []
    errors: list[DataflowGitopsError] = []
    unchecked: list[str] = []
    for folder, files in folders.items():
        if wanted is not None:
            identified = _identify(folder, files)
            if not wanted(identified.name):
                unchecked.append(identified.name)
                if isinstance(identified, SourceDataflow):
                    dataflows.append(identified)
                continue
        try:
            dataflows.append(_dataflow(f"{label}{folder}", folder, files))
        except DataflowGitopsError as exc:
            errors.append(exc)
    errors.extend(_duplicates(dataflows, folders, label))
    return tuple(dataflows), tuple(errors), tuple(unchecked)


@dataclass(frozen=True, slots=True)
class _Identified:
    """A folder whose ``.platform`` cannot be read: known by its folder name only."""

    name: str


def _identify(folder: str, files: Mapping[str, bytes]) -> SourceDataflow | _Identified:
    """A folder's identity without checking its parts: its ``.platform`` (else the folder's name)."""
    try:
        platform = _platform(files[PLATFORM_PATH], path=f"{folder}/{PLATFORM_PATH}")
    except (KeyError, DataflowGitopsError):
        stem = folder.rsplit("/", 1)[-1].removesuffix(FOLDER_SUFFIX)
        return _Identified(stem)
    parts = tuple(
        FILES.part(path, data) for path, data in sorted(files.items()) if path != PLATFORM_PATH
    )
    return SourceDataflow(
        name=platform.display_name, folder=folder, platform=platform, parts=parts, checked=False
    )


def _unreadable(folders: FolderFiles, read: Sequence[SourceDataflow]) -> tuple[Platform, ...]:
    loaded = {d.folder for d in read}
    found: list[Platform] = []
    for folder, files in folders.items():
        if folder in loaded or PLATFORM_PATH not in files:
            continue
        try:
            found.append(_platform(files[PLATFORM_PATH], path=folder))
        except DataflowGitopsError:
            continue  # already reported by _build
    return tuple(found)


def _dataflow(where: str, folder: str, files: Mapping[str, bytes]) -> SourceDataflow:
    metadata = files.get(METADATA_PATH)
    # Metadata that passed the checks before has a formatVersion read as written: not legacy.
    known_current = (
        LEGACY_CONTENT_PATH not in files
        and metadata is not None
        and FILES.known(METADATA_PATH, metadata).passed
    )
    problem = None if known_current else legacy_problem(files)
    if problem is not None:
        old = LEGACY_CONTENT_PATH if LEGACY_CONTENT_PATH in files else METADATA_PATH
        raise LegacyFormatError(
            problem, path=f"{where}/{old}", hint=f'convert it with `dfg migrate "{folder}"`'
        )
    if PLATFORM_PATH not in files:
        raise SourceError(
            "missing `.platform`",
            path=where,
            hint="add the .platform file Fabric Git sync writes (type, displayName, logicalId)",
        )
    platform = _platform(files[PLATFORM_PATH], path=f"{where}/{PLATFORM_PATH}")
    for required in REQUIRED_PARTS:
        if required not in files:
            raise SourceError(
                f"missing part `{required}`",
                path=where,
                hint="a Dataflow Gen2 folder needs queryMetadata.json and mashup.pq",
            )
    parts: list[Part] = []
    for path, data in sorted(files.items()):
        if path == PLATFORM_PATH:
            continue
        # Every file is a part (as Fabric Git sync and fabric-cicd treat them); the ones dfg
        # understands are checked, the others (.schedules, …) carried byte for byte. A part whose
        # exact bytes passed the checks before (another snapshot of the command) passes again.
        known = FILES.known(path, data)
        if not known.passed:
            if path in REQUIRED_PARTS or path.endswith(".mdf"):
                _check_part(f"{where}/{path}", path, data)
            elif path == SCHEDULES_PATH:
                check_schedules(data, location=f"{where}/{path}")
            known.passed = True
        parts.append(known.part)
    return SourceDataflow(
        name=platform.display_name, folder=folder, platform=platform, parts=tuple(parts)
    )


def _platform(data: bytes, *, path: str) -> Platform:
    return FILES.platform(data, lambda d: parse_platform(d, path=path))


def _check_part(location: str, path: str, data: bytes) -> None:
    if not data or data.isspace():  # (strip() would copy a whole mashup to find out)
        raise SourceError("empty part", path=location, hint="restore the file's content from git")
    text = decode_text(data, path=location)
    if path != MASHUP_PATH:  # a mashup is only checked to decode here; validate parses it
        _check_json_part(location, path, data, text)


def _check_json_part(location: str, path: str, data: bytes, text: str) -> None:
    doc = load_json(data, path=location)
    if not isinstance(doc, dict):
        raise SourceError("must be a JSON object", path=location, line=1)
    if path == METADATA_PATH:
        _check_metadata(doc, text, location)


def _check_metadata(doc: Mapping[str, object], text: str, location: str) -> None:
    formats.check(doc, text, location)


_DUPLICATE_HINTS = {
    # Fabric keeps display names unique per workspace and item type across its folders, so two
    # same-named dataflows in two workspace folders cannot both exist live; nor here, where the
    # display name is the repository name overlays, --target and references use.
    "displayName": "display names are unique per workspace and type, across workspace folders "
    "too: rename one in its .platform",
    "logicalId": "every dataflow needs its own logicalId: Fabric Git sync pairs items by it",
}


def _duplicates(
    dataflows: list[SourceDataflow], folders: FolderFiles, label: str
) -> list[DataflowGitopsError]:
    errors: list[DataflowGitopsError] = []
    for what, field in (("display name", "displayName"), ("logicalId", "logicalId")):
        seen: dict[str, SourceDataflow] = {}
        for dataflow in dataflows:
            value = dataflow.name if field == "displayName" else dataflow.platform.logical_id.lower()
            first = seen.setdefault(value, dataflow)
            if first is not dataflow:
                text = lenient_text(folders[dataflow.folder][PLATFORM_PATH])
                errors.append(
                    SourceError(
                        f"duplicate {what} {value!r}: also used by {label}{first.folder}",
                        path=f"{label}{dataflow.folder}/{PLATFORM_PATH}",
                        line=line_of(text, f'"{field}"'),
                        hint=_DUPLICATE_HINTS[field],
                    )
                )
    return errors
