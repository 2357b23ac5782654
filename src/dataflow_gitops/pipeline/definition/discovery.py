"""① source, finding the items: the dataflows root (working tree or commit) → item folders.

Fabric Git sync writes one folder per item, ``{displayName}.{Type}``, and mirrors the workspace's
folders as nested git folders, any depth (fabric-api-notes §5.6). Walking the root, a folder is

- named ``*.Dataflow``: a dataflow; every file under it is read (each one a part);
- holding a ``.platform``, or named after another item type (``Sales.Lakehouse``): another
  item, counted and not entered; a ``.platform`` that says ``Dataflow`` on a folder without the
  suffix is an error with the fix (it would otherwise vanish from the plan, which deletes it);
- anything else: a workspace folder, entered.

Hidden folders (``.git``, ``.github``, ``.dataflow-gitops``) and what git ignores are not
entered. A symlinked folder is followed only inside the repository and never back into one of
its own parents; each item folder's path must be a path on Windows too, and distinct in case.
Folder paths are relative to the project root, POSIX separators, without ``./``.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import git

from dataflow_gitops.errors import DataflowGitopsError, SourceError
from dataflow_gitops.pipeline.definition.item_types import KNOWN_ITEM_TYPES
from dataflow_gitops.pipeline.definition.source_cache import FILES
from dataflow_gitops.pipeline.model import DATAFLOW_TYPE, PLATFORM_PATH

FOLDER_SUFFIX = ".Dataflow"
# git's mode for a symbolic link in a tree.
_LINK_MODE = 0o120000
# Windows: MAX_PATH is 260 with the terminating NUL; a checkout at the shortest sensible place
# (C:\r\) leaves this many characters for the path inside the repository.
WINDOWS_PATH_BUDGET = 260 - 1 - len("C:\\r\\")
WINDOWS_NAME_LIMIT = 255
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {f"LPT{i}" for i in range(1, 10)}
)
_WINDOWS_BAD_CHARS = re.compile(r'[<>:"|?*\\\x00-\x1f]')

# item folder (relative to the project root, posix) → {part path inside the folder: bytes}
FolderFiles = dict[str, dict[str, bytes]]


@dataclass(frozen=True, slots=True)
class Discovery:
    folders: FolderFiles
    """Every ``*.Dataflow`` folder found, with its files."""
    other_items: Mapping[str, int] = field(default_factory=dict)
    """Items of other types beside the dataflows (type → count): ignored."""
    errors: tuple[DataflowGitopsError, ...] = ()


def root_prefix(dataflows_dir: str) -> str:
    """The dataflows root as a folder-path prefix: ``"."`` (the project root) is ``""``."""
    parts = [p for p in Path(dataflows_dir).as_posix().split("/") if p not in ("", ".")]
    return "/".join(parts)


def joined(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def below_root(folder: str, dataflows_dir: str) -> str:
    """An item folder's path below the dataflows root (``Bronze/Orders.Dataflow``)."""
    prefix = root_prefix(dataflows_dir)
    return folder[len(prefix) + 1 :] if prefix and folder.startswith(prefix + "/") else folder


def describe_other_items(counts: Mapping[str, int]) -> str:
    """``"3 other items ignored (2 Lakehouse, 1 Notebook)"`` for the ``-v`` line."""
    total = sum(counts.values())
    shown = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    return f"{total} other item{'s' if total != 1 else ''} ignored ({shown})"


# the working tree --------------------------------------------------------------------------------


def discover_working_tree(
    root: Path, dataflows_dir: str, *, boundary: Path, ignored: Callable[[str], bool]
) -> Discovery:
    """Walk ``root/dataflows_dir``; ``boundary`` is the repository top (no link may leave it),
    ``ignored`` tells a project-relative path git ignores (a folder's ends with ``/``)."""
    prefix = root_prefix(dataflows_dir)
    base = root / prefix if prefix else root
    if not base.is_dir():
        raise SourceError(
            f"no {dataflows_dir}/ folder in {root}", hint="run in the project directory or pass -C DIR"
        )
    walk = _TreeWalk(boundary.resolve(), ignored)
    walk.walk(str(base), prefix, (base.resolve(),))
    return walk.result()


class _TreeWalk:
    def __init__(self, boundary: Path, ignored: Callable[[str], bool]) -> None:
        self.boundary = boundary
        self.ignored = ignored
        self.folders: FolderFiles = {}
        self.others: Counter[str] = Counter()
        self.errors: list[DataflowGitopsError] = []

    def result(self) -> Discovery:
        errors = [*self.errors, *portability_errors(self.folders)]
        return Discovery(dict(sorted(self.folders.items())), dict(self.others), tuple(errors))

    def walk(self, directory: str, rel: str, stack: tuple[Path, ...]) -> None:
        try:
            with os.scandir(directory) as found:
                entries = sorted(found, key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = joined(rel, entry.name)
            try:
                if not entry.is_dir():  # follows a link, as `cd` would
                    continue
            except OSError:
                continue
            if self.ignored(path + "/"):
                continue
            real = Path(entry.path).resolve()
            if entry.is_symlink():
                problem = self._link_problem(real, stack)
                if problem is not None:
                    self.errors.append(problem.with_path(path))
                    continue
            self.visit(entry.path, path, (*stack, real))

    def _link_problem(self, real: Path, stack: tuple[Path, ...]) -> _LinkProblem | None:
        if not real.is_relative_to(self.boundary):
            return _LinkProblem(
                f"is a symlink to {real}, outside the repository",
                "replace the link with the folder itself (dfg reads only the repository)",
            )
        if real in stack:
            return _LinkProblem(
                "is a symlink back to one of its own parent folders (a folder cycle)",
                "remove the link",
            )
        return None

    def visit(self, directory: str, rel: str, stack: tuple[Path, ...]) -> None:
        name = rel.rsplit("/", 1)[-1]
        if name.endswith(FOLDER_SUFFIX):
            try:
                self.folders[rel] = self.read_item(directory, rel)
            except DataflowGitopsError as exc:
                self.errors.append(exc)
            return
        platform = os.path.join(directory, PLATFORM_PATH)
        if os.path.isfile(platform):
            with open(platform, "rb") as stream:
                kind = platform_type(stream.read())
            self._other_item(rel, kind or _suffix_type(name) or "unknown")
            return
        kind = _suffix_type(name)
        if kind is not None:
            self.others[kind] += 1
            return
        self.walk(directory, rel, stack)

    def _other_item(self, rel: str, kind: str) -> None:
        if kind == DATAFLOW_TYPE:
            self.errors.append(suffixless_error(rel))
        else:
            self.others[kind] += 1

    def read_item(self, directory: str, rel: str) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        real_folder: Path | None = None
        # In path order: the first problem found is stable.
        for names, entry in sorted(_entries(directory, ()), key=lambda found: found[0]):
            relative = "/".join(names)
            if not _is_file(entry) or self.ignored(f"{rel}/{relative}"):
                continue
            # A symlink could make us send any file of the machine as a definition part. Only a
            # link can lead out: the walk never enters linked directories inside an item.
            if entry.is_symlink():
                real_folder = real_folder or Path(directory).resolve()
                if not Path(entry.path).resolve().is_relative_to(real_folder):
                    raise SourceError(
                        "links outside its dataflow folder",
                        path=f"{rel}/{relative}",
                        hint="replace the symlink with the file itself",
                    )
            with open(entry.path, "rb") as stream:
                files[relative] = FILES.content(relative, stream.read())
        return files


@dataclass(frozen=True, slots=True)
class _LinkProblem:
    message: str
    hint: str

    def with_path(self, path: str) -> SourceError:
        return SourceError(self.message, path=path, hint=self.hint)


def _entries(
    directory: str, names: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], os.DirEntry[str]]]:
    """Every entry under ``directory`` with its path as names, not entering linked directories."""
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


# a commit ----------------------------------------------------------------------------------------


def discover_tree(tree: git.Tree, prefix: str) -> Discovery:
    """Walk a commit's tree at ``prefix`` (the dataflows root, project-relative = repo-relative
    below the project's own place, which the caller has already descended into)."""
    folders: FolderFiles = {}
    others: Counter[str] = Counter()
    errors: list[DataflowGitopsError] = []

    def walk(node: git.Tree, rel: str) -> None:
        for blob in sorted(node.blobs, key=lambda b: b.name):
            if blob.mode == _LINK_MODE and blob.name.endswith(FOLDER_SUFFIX):
                errors.append(
                    SourceError(
                        "is a symlink in the commit, not a dataflow folder",
                        path=joined(rel, blob.name),
                        hint="commit the folder itself",
                    )
                )
        for sub in sorted(node.trees, key=lambda t: t.name):
            if sub.name.startswith("."):
                continue
            path = joined(rel, sub.name)
            if sub.name.endswith(FOLDER_SUFFIX):
                try:
                    folders[path] = dict(_blobs(sub, "", path))
                except DataflowGitopsError as exc:
                    errors.append(exc)
                continue
            platform = next((b for b in sub.blobs if b.name == PLATFORM_PATH), None)
            if platform is not None:
                kind = platform_type(platform.data_stream.read())
                kind = kind or _suffix_type(sub.name) or "unknown"
                if kind == DATAFLOW_TYPE:
                    errors.append(suffixless_error(path))
                else:
                    others[kind] += 1
                continue
            kind = _suffix_type(sub.name)
            if kind is not None:
                others[kind] += 1
                continue
            walk(sub, path)

    walk(tree, prefix)
    errors.extend(portability_errors(folders))
    return Discovery(dict(sorted(folders.items())), dict(others), tuple(errors))


def _blobs(tree: git.Tree, prefix: str, where: str) -> Iterator[tuple[str, bytes]]:
    for blob in tree.blobs:
        if blob.mode == _LINK_MODE:
            raise SourceError(
                "is a symlink in the commit", path=f"{where}/{prefix}{blob.name}", hint="commit the file"
            )
        path = prefix + blob.name
        yield path, FILES.content(path, blob.data_stream.read())
    for sub in tree.trees:
        yield from _blobs(sub, f"{prefix}{sub.name}/", where)


# shared rules ------------------------------------------------------------------------------------


def platform_type(data: bytes) -> str | None:
    """``metadata.type`` of a ``.platform`` file, or None when it cannot be read."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    kind = metadata.get("type") if isinstance(metadata, dict) else None
    return kind if isinstance(kind, str) and kind else None


def _suffix_type(name: str) -> str | None:
    stem, dot, suffix = name.rpartition(".")
    return suffix if dot and stem and suffix in KNOWN_ITEM_TYPES else None


def suffixless_error(rel: str) -> SourceError:
    name = rel.rsplit("/", 1)[-1]
    target = joined(rel.rpartition("/")[0], name + FOLDER_SUFFIX)
    return SourceError(
        f"its .platform says type Dataflow, but the folder name lacks the {FOLDER_SUFFIX} suffix",
        path=rel,
        hint=f'rename it with git mv "{rel}" "{target}"; Fabric Git sync names item folders '
        "<displayName>.<type>",
    )


def portability_errors(folders: Mapping[str, Iterable[str]]) -> list[DataflowGitopsError]:
    """Paths that cannot be checked out on Windows, and paths that differ only in case (one
    folder on Windows and macOS, one folder name in Fabric): one located error each."""
    errors: list[DataflowGitopsError] = []
    seen: dict[str, str] = {}
    reported: set[str] = set()
    for folder in sorted(folders):
        parts = folder.split("/")
        ancestors = ["/".join(parts[:i]) for i in range(1, len(parts))]
        paths = [*ancestors, folder, *(f"{folder}/{part}" for part in sorted(folders[folder]))]
        for path in paths:
            first = seen.setdefault(path.casefold(), path)
            if first != path and path not in reported:
                reported.add(path)
                errors.append(
                    SourceError(
                        f"differs only in case from {first!r}",
                        path=path,
                        hint="rename one of them: Windows, macOS and Fabric folder names do not "
                        "tell them apart",
                    )
                )
        errors.extend(_windows_errors(folder, paths))
    return errors


def _windows_errors(folder: str, paths: list[str]) -> list[DataflowGitopsError]:
    for path in paths:
        for name in path.split("/"):
            problem = windows_name_problem(name)
            if problem is not None:
                return [
                    SourceError(
                        f"{name!r} cannot be a file or folder name on Windows: {problem}",
                        path=path,
                        hint="rename it (Fabric Git sync writes such characters as &#NN; entities)",
                    )
                ]
        if len(path) > WINDOWS_PATH_BUDGET:
            return [
                SourceError(
                    f"the path is {len(path)} characters long: over Windows' 260-character "
                    f"limit even in a checkout at C:\\r\\ (at most {WINDOWS_PATH_BUDGET})",
                    path=folder,
                    hint="shorten the folder names (workspace folders and the dataflow's folder)",
                )
            ]
    return []


def windows_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be one file or folder name on Windows, or None."""
    if len(name) > WINDOWS_NAME_LIMIT:
        return f"longer than {WINDOWS_NAME_LIMIT} characters"
    bad = _WINDOWS_BAD_CHARS.search(name)
    if bad is not None:
        return f"it contains {bad.group()!r}"
    if name.endswith((" ", ".")):
        return "it ends with a space or a dot"
    if name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        return "a reserved device name"
    return None
