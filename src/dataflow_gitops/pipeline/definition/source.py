"""① source: dataflow folders (working tree or any git ref) → :class:`Snapshot`.

Every ``<Name>.Dataflow/`` folder under the dataflows directory (Fabric Git layout: ``.platform``,
``queryMetadata.json``, ``mashup.pq``, optional ``*.mdf``) becomes a :class:`SourceDataflow`
named after ``.platform``'s display name (Git sync never renames folders, so the folder name
may be stale). Other folders (Lakehouses, Notebooks synced beside them) are ignored.

A git ref is read from the commit's tree with gitpython, without checking anything out.
``scan_*`` report every problem at once (for ``dfg validate``); ``read_*`` raise the first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import git

from dataflow_gitops.errors import DataflowGitopsError, LegacyFormatError, SourceError
from dataflow_gitops.pipeline.definition.bytes_memo import BytesMemo
from dataflow_gitops.pipeline.definition.legacy import LEGACY_CONTENT_PATH, legacy_problem
from dataflow_gitops.pipeline.definition.mashups import CONTENT_BUDGET, shared_content
from dataflow_gitops.pipeline.definition.parts import (
    decode_text,
    is_guid,
    lenient_text,
    line_of,
    load_json,
    parse_platform,
)
from dataflow_gitops.pipeline.model import (
    MASHUP_PATH,
    METADATA_PATH,
    PLATFORM_PATH,
    Part,
    Platform,
    Snapshot,
    SourceDataflow,
)

FOLDER_SUFFIX = ".Dataflow"
FORMAT_VERSION = "202502"
REQUIRED_PARTS = (METADATA_PATH, MASHUP_PATH)

# folder (relative to the project root, posix) → {part path inside the folder: bytes}
FolderFiles = dict[str, dict[str, bytes]]


@dataclass(frozen=True, slots=True)
class ScanResult:
    snapshot: Snapshot
    errors: tuple[DataflowGitopsError, ...]
    # The identity of folders that failed to load but whose `.platform` is readable: a reference
    # to one of them is not "to a dataflow outside the repository" (its own error says enough).
    unreadable: tuple[Platform, ...] = ()


def scan_working_tree(root: Path, dataflows_dir: str = "dataflows") -> ScanResult:
    """Read the working tree; the commit is HEAD (None outside git), ``dirty`` per git status."""
    folders = _working_tree_folders(root, dataflows_dir)
    commit, dirty = _head_state(root, dataflows_dir)
    dataflows, errors = _build(folders, label="")
    return ScanResult(
        Snapshot(dataflows, commit=commit, dirty=dirty), errors, _unreadable(folders, dataflows)
    )


def scan_ref(root: Path, ref: str, dataflows_dir: str = "dataflows") -> ScanResult:
    """Read the dataflows as they are in commit ``ref`` (any rev git understands)."""
    repo = _open_repo(root)
    if repo is None:
        raise SourceError(
            f"cannot read git ref {ref!r}: {root} is not inside a git repository",
            hint="run in a git repository or drop --ref",
        )
    with repo:
        try:
            commit = repo.commit(ref)
        except (git.BadName, ValueError, git.GitCommandError):
            raise SourceError(
                f"unknown git ref {ref!r}", hint="name a branch, tag or commit sha (see `git log`)"
            ) from None
        prefix = _repo_relative(repo, root, dataflows_dir)
        folders = _tree_folders(commit.tree, prefix, dataflows_dir)
        sha = commit.hexsha
    dataflows, errors = _build(folders, label=f"{ref}:")
    return ScanResult(Snapshot(dataflows, commit=sha, dirty=False, ref=ref), errors)


def read_working_tree(root: Path, dataflows_dir: str = "dataflows") -> Snapshot:
    return _first(scan_working_tree(root, dataflows_dir))


def read_ref(root: Path, ref: str, dataflows_dir: str = "dataflows") -> Snapshot:
    return _first(scan_ref(root, ref, dataflows_dir))


def _first(result: ScanResult) -> Snapshot:
    if result.errors:
        raise result.errors[0]
    return result.snapshot


# reading files -------------------------------------------------------------------------------


def _working_tree_folders(root: Path, dataflows_dir: str) -> FolderFiles:
    base = root / dataflows_dir
    if not base.is_dir():
        raise SourceError(
            f"no {dataflows_dir}/ folder in {root}", hint="run in the project directory or pass -C DIR"
        )
    folders: FolderFiles = {}
    for folder in sorted(base.iterdir()):
        if not (folder.is_dir() and folder.name.endswith(FOLDER_SUFFIX)):
            continue
        files: dict[str, bytes] = {}
        real_folder: Path | None = None
        # In path order, as sorted(folder.rglob("*")) gives them: the first problem found is stable.
        for names, entry in sorted(_entries(folder.as_posix(), ()), key=lambda found: found[0]):
            relative = "/".join(names)
            if not _is_file(entry):
                continue
            # A symlink could make us send any file of the machine as a definition part. Only a
            # link can lead out: the walk never enters linked directories (nor does rglob).
            if entry.is_symlink():
                real_folder = real_folder or folder.resolve()
                if not Path(entry.path).resolve().is_relative_to(real_folder):
                    raise SourceError(
                        "links outside its dataflow folder",
                        path=f"{dataflows_dir}/{folder.name}/{relative}",
                        hint="replace the symlink with the file itself",
                    )
            with open(entry.path, "rb") as stream:
                files[relative] = shared_content(stream.read())
        folders[f"{dataflows_dir}/{folder.name}"] = files
    return folders


def _entries(
    directory: str, names: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], os.DirEntry[str]]]:
    """Every entry under ``directory`` with its path as names, not entering linked directories.

    One ``scandir`` per directory, so a scan of a thousand folders costs no per-file ``stat``
    beyond reading (the scan runs once per command stage).
    """
    try:
        with os.scandir(directory) as found:
            entries = list(found)
    except PermissionError:
        return
    for entry in entries:
        path = (*names, entry.name)
        yield path, entry
        try:
            inside = entry.is_dir(follow_symlinks=False)
        except OSError:
            inside = False
        if inside:
            yield from _entries(entry.path, path)


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _tree_folders(tree: git.Tree, prefix: str, dataflows_dir: str) -> FolderFiles:
    try:
        base = tree / prefix if prefix else tree
    except KeyError:
        raise SourceError(
            f"the commit has no {dataflows_dir}/ folder",
            hint="pick a commit that contains the dataflows",
        ) from None
    folders: FolderFiles = {}
    for sub in sorted(base.trees, key=lambda t: t.name):
        if sub.name.endswith(FOLDER_SUFFIX):
            files = {path: shared_content(data) for path, data in _blobs(sub, "")}
            folders[f"{dataflows_dir}/{sub.name}"] = files
    return folders


def _blobs(tree: git.Tree, prefix: str) -> Iterator[tuple[str, bytes]]:
    for blob in tree.blobs:
        yield prefix + blob.name, blob.data_stream.read()
    for sub in tree.trees:
        yield from _blobs(sub, f"{prefix}{sub.name}/")


def _open_repo(root: Path) -> git.Repo | None:
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def _repo_relative(repo: git.Repo, root: Path, dataflows_dir: str) -> str:
    top = Path(repo.working_tree_dir or root).resolve()
    rel = (root.resolve() / dataflows_dir).relative_to(top)
    return "" if str(rel) == "." else rel.as_posix()


def _head_state(root: Path, dataflows_dir: str) -> tuple[str | None, bool]:
    repo = _open_repo(root)
    if repo is None:
        return None, False
    with repo:
        try:
            sha: str | None = repo.head.commit.hexsha
        except ValueError:  # a repository without commits
            return None, True
        path = _repo_relative(repo, root, dataflows_dir)
        dirty = repo.is_dirty(index=True, working_tree=True, untracked_files=True, path=path)
    return sha, dirty


# building dataflows ----------------------------------------------------------------------------


def _build(
    folders: FolderFiles, *, label: str
) -> tuple[tuple[SourceDataflow, ...], tuple[DataflowGitopsError, ...]]:
    dataflows: list[SourceDataflow] = []
    errors: list[DataflowGitopsError] = []
    for folder, files in folders.items():
        try:
            dataflows.append(_dataflow(f"{label}{folder}", folder, files))
        except DataflowGitopsError as exc:
            errors.append(exc)
    errors.extend(_duplicates(dataflows, folders, label))
    return tuple(dataflows), tuple(errors)


def _unreadable(folders: FolderFiles, read: Sequence[SourceDataflow]) -> tuple[Platform, ...]:
    loaded = {d.folder for d in read}
    found: list[Platform] = []
    for folder, files in folders.items():
        if folder in loaded or PLATFORM_PATH not in files:
            continue
        try:
            found.append(parse_platform(files[PLATFORM_PATH], path=folder))
        except DataflowGitopsError:
            continue  # already reported by _build
    return tuple(found)


def _dataflow(where: str, folder: str, files: Mapping[str, bytes]) -> SourceDataflow:
    metadata = files.get(METADATA_PATH)
    # Metadata that passed the checks before has the current formatVersion: not legacy.
    known_current = (
        LEGACY_CONTENT_PATH not in files
        and metadata is not None
        and _passed.get(metadata, True) is not None
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
    platform = parse_platform(files[PLATFORM_PATH], path=f"{where}/{PLATFORM_PATH}")
    for required in REQUIRED_PARTS:
        if required not in files:
            raise SourceError(
                f"missing part `{required}`",
                path=where,
                hint="a Dataflow Gen2 folder needs queryMetadata.json and mashup.pq",
            )
    parts: list[Part] = []
    for path, data in sorted(files.items()):
        if path == PLATFORM_PATH or path.rsplit("/", 1)[-1].startswith("."):
            continue
        if path not in REQUIRED_PARTS and not path.endswith(".mdf"):
            raise SourceError(
                f"unexpected file `{path}` in a dataflow folder",
                path=where,
                hint="only .platform, queryMetadata.json, mashup.pq and *.mdf are "
                "definition parts; move other files elsewhere",
            )
        _check_part(f"{where}/{path}", path, data)
        parts.append(Part(path, data))
    return SourceDataflow(
        name=platform.display_name, folder=folder, platform=platform, parts=tuple(parts)
    )


# Each snapshot of a command (validate, render, plan) reads the same files: a part whose exact
# bytes passed the checks once passes again (a mashup is only checked to decode). Failures are
# not kept, so each names its own location.
_passed: BytesMemo[bool] = BytesMemo(16_000_000)
_decodable: BytesMemo[bool] = BytesMemo(CONTENT_BUDGET)


def _check_part(location: str, path: str, data: bytes) -> None:
    if not data or data.isspace():  # (strip() would copy a whole mashup to find out)
        raise SourceError("empty part", path=location, hint="restore the file's content from git")
    if path == MASHUP_PATH:
        # Equal contents are one bytes object (shared_content), whose hash is kept: a mashup
        # read before is found without hashing 50 KB again.
        if _decodable.get(data) is None:
            decode_text(data, path=location)
            _decodable.put(data, True)
        return
    kind = path == METADATA_PATH
    if _passed.get(data, kind):
        return
    _check_json_part(location, path, data, decode_text(data, path=location))
    _passed.put(data, True, kind)


def _check_json_part(location: str, path: str, data: bytes, text: str) -> None:
    doc = load_json(data, path=location)
    if not isinstance(doc, dict):
        raise SourceError("must be a JSON object", path=location, line=1)
    if path == METADATA_PATH:
        _check_metadata(doc, text, location)


# queryMetadata.json fields whose JSON type matters to the service (fabric-api-notes §5.2).
_METADATA_TYPES: dict[str, tuple[type, str]] = {
    "name": (str, "a string"),
    "computeEngineSettings": (dict, "an object"),
    "queryGroups": (list, "a list"),
    "queriesMetadata": (dict, "an object keyed by query name"),
    "connections": (list, "a list"),
    "documentLocale": (str, "a string"),
}


def _check_metadata(doc: Mapping[str, object], text: str, location: str) -> None:
    def fail(message: str, key: str, hint: str | None = None) -> SourceError:
        return SourceError(message, path=location, line=line_of(text, f'"{key}"') or 1, hint=hint)

    version = doc.get("formatVersion")
    if version != FORMAT_VERSION:
        raise fail(
            f"unknown formatVersion {version!r}",
            "formatVersion",
            hint=f'Dataflow Gen2 with CI/CD uses "{FORMAT_VERSION}"',
        )
    for key, (kind, described) in _METADATA_TYPES.items():
        if key in doc and not isinstance(doc[key], kind):
            raise fail(f"`{key}` must be {described}", key)
    queries = doc.get("queriesMetadata")
    for name, entry in queries.items() if isinstance(queries, dict) else ():
        if not isinstance(entry, dict) or not isinstance(entry.get("queryId", ""), str):
            raise fail(f"queriesMetadata entry {name!r} must be an object with a string queryId", name)
        query_id = entry.get("queryId")
        if query_id is not None and not is_guid(query_id):
            # Fabric keys a query's refresh history and schedules by this id (a GUID).
            raise SourceError(
                f"queriesMetadata entry {name!r}: queryId {query_id!r} is not a GUID",
                path=location,
                line=line_of(text, f'"{query_id}"') or line_of(text, f'"{name}"') or 1,
                hint="use a GUID (8-4-4-4-12 hex digits), e.g. from python's uuid.uuid4()",
            )
    connections = doc.get("connections")
    for index, connection in enumerate(connections if isinstance(connections, list) else ()):
        if not isinstance(connection, dict) or not isinstance(connection.get("connectionId"), str):
            raise fail(
                f"connections[{index}] must be an object with a string connectionId",
                "connections",
                hint='e.g. {"path": …, "kind": …, "connectionId": "<guid>"}',
            )


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
                        hint=f"every dataflow needs its own {what}",
                    )
                )
    return errors
