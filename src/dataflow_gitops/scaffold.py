"""`dfg init`'s scaffold (project layer): the packaged ``templates/init`` → a new repository's files.

In a repository Fabric Git sync already fills, init finds where the items are (the folder holding
every item folder: the repository root in most), writes that as ``dataflows_dir`` and leaves out
the sample, so the project works at once on the dataflows already there.

The result validates at once: one sample dataflow with a public parameter, overlays for dev /
test / prod (plus ``local`` on the embedded emulator) whose ``$schema`` comments point at copies
of the JSON Schemas written beside them, project settings, the CI workflows of
``examples/ci``, and a ``.gitignore`` line for the local state folder. Existing files are never
overwritten unless asked (``force``); nothing here prints.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Literal

from dataflow_gitops.confined import inside, write_inside
from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.pipeline.definition.discovery import FOLDER_SUFFIX
from dataflow_gitops.pipeline.definition.item_types import KNOWN_ITEM_TYPES

CiChoice = Literal["github", "azure", "none"]
CI_CHOICES: tuple[CiChoice, ...] = ("github", "azure", "none")
STATE_DIR = ".dataflow-gitops/"
# What .gitignore gets: dfg's local state, and saved plans (they hold resolved parameter values
# and are made for one review, not for history).
IGNORED = (STATE_DIR, "*.plan.json")
SCHEMAS = ("environment.schema.json", "project.schema.json")
DOT_PREFIX = "dot-"
# Template folders that belong to one CI system only.
_CI_FOLDERS: dict[str, CiChoice] = {".github": "github", ".azure-pipelines": "azure"}
# Placeholders a fresh project gets new values for, so two scaffolds never share an identity.
_FRESH_IDS = ("{{logical_id}}", "{{query_id_1}}", "{{query_id_2}}")
SAMPLE_FOLDER = "dataflows/Sample Orders.Dataflow/"
_SAMPLE_PARAMETERS = re.compile(rb"\nparameters:\n  MinimumAmount: \d+\n")
_DATAFLOWS_DIR = re.compile(rb"^dataflows_dir: dataflows$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ScaffoldResult:
    written: tuple[str, ...]
    """Paths relative to the directory, in the order written."""
    gitignore: Literal["created", "appended", "present"]
    adopted: FoundItems | None = None
    """The items Fabric Git sync had already written there (no sample then)."""


@dataclass(frozen=True, slots=True)
class FoundItems:
    dataflows_dir: str
    """The folder holding every item folder, relative to the directory (``.`` for itself)."""
    dataflows: int
    other_items: int


def find_items(dest: Path) -> FoundItems | None:
    """Where Fabric Git sync put the items under ``dest``, if it holds ``*.Dataflow`` folders.

    An item folder is named ``<name>.<ItemType>`` or holds a ``.platform``; it is not entered.
    The dataflows root is the deepest folder holding them all (other types too: they sit at the
    root of the workspace's Git folder as the dataflows do). Hidden folders are skipped.
    """
    parents: list[str] = []
    dataflows = others = 0
    for here, dirs, _files in os.walk(dest):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        items = [d for d in dirs if _is_item(Path(here) / d)]
        for name in items:
            if name.endswith(FOLDER_SUFFIX):
                dataflows += 1
            else:
                others += 1
            parents.append(here)
        dirs[:] = [d for d in dirs if d not in items]
    if not dataflows:
        return None
    common = Path(os.path.commonpath(parents)).relative_to(dest).as_posix()
    return FoundItems(common, dataflows, others)


def _is_item(folder: Path) -> bool:
    stem, dot, suffix = folder.name.rpartition(".")
    return (bool(dot and stem) and suffix in KNOWN_ITEM_TYPES) or (folder / ".platform").is_file()


def template_files(
    ci: CiChoice = "github",
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    *,
    sample: bool = True,
    dataflows_dir: str = "dataflows",
) -> dict[str, bytes]:
    """Repository-relative path → content of everything ``dfg init`` writes (but .gitignore).

    ``sample=False`` (a repository that already has its dataflows) leaves out the sample dataflow
    and the overlays' values for its parameter, which no other dataflow declares.
    """
    root = resources.files("dataflow_gitops") / "templates" / "init"
    fresh = {placeholder: new_id() for placeholder in _FRESH_IDS}
    files: dict[str, bytes] = {}
    for relative, node in _walk(root):
        # Wheels drop dot-files from package data, so the template stores ``.X`` as ``dot-X``.
        path = "/".join(
            "." + p[len(DOT_PREFIX) :] if p.startswith(DOT_PREFIX) else p for p in relative.split("/")
        )
        owner = _CI_FOLDERS.get(path.split("/", 1)[0])
        if owner is not None and owner != ci:
            continue
        if not sample and path.startswith(SAMPLE_FOLDER):
            continue
        data = node.read_bytes()
        if not sample and path.startswith("environments/"):
            data = _SAMPLE_PARAMETERS.sub(b"", data)
        for placeholder, value in fresh.items():
            data = data.replace(placeholder.encode(), value.encode())
        if path == "dataflow-gitops.yaml" and dataflows_dir != "dataflows":
            data = _DATAFLOWS_DIR.sub(f'dataflows_dir: "{dataflows_dir}"'.encode(), data)
        files[path] = data
    schemas = resources.files("dataflow_gitops") / "schemas"
    for name in SCHEMAS:
        files[f"schemas/{name}"] = schemas.joinpath(name).read_bytes()
    return files


def scaffold(
    dest: Path, *, ci: CiChoice = "github", force: bool = False, sample: bool = True
) -> ScaffoldResult:
    """Write the starter repository into ``dest`` (created if missing).

    Refuses, before writing anything, when a file it would write exists and ``force`` is off.
    """
    if dest.exists() and not dest.is_dir():
        raise DataflowGitopsError(
            "not a directory", where=str(dest), hint="give a new or existing directory to dfg init"
        )
    adopted = find_items(dest) if dest.is_dir() else None
    if adopted is not None:
        files = template_files(ci, sample=False, dataflows_dir=adopted.dataflows_dir)
    else:
        files = template_files(ci, sample=sample)
    clashes = sorted(p for p in files if (dest / p).exists())
    if clashes and not force:
        shown = ", ".join(clashes[:3]) + (f" and {len(clashes) - 3} more" if len(clashes) > 3 else "")
        raise DataflowGitopsError(
            f"would overwrite {shown}",
            where=str(dest),
            hint="pick an empty directory, or pass --force to overwrite these files",
        )
    # Every target is checked before the first write: a committed `schemas -> DIR` or
    # `.gitignore` symlink leading out of the project refuses the whole init.
    for relative in [*files, ".gitignore"]:
        inside(dest, dest / relative)
    written = []
    for relative, data in files.items():
        write_inside(dest, dest / relative, data)
        written.append(relative)
    gitignore = _ignore_state_dir(dest, dest / ".gitignore")
    return ScaffoldResult(tuple(written), gitignore, adopted)


def _ignore_state_dir(root: Path, path: Path) -> Literal["created", "appended", "present"]:
    if not path.exists():
        text = "# dfg: local state (embedded emulator database, caches) and saved plans\n"
        write_inside(root, path, text + "".join(f"{line}\n" for line in IGNORED))
        return "created"
    text = path.read_text(encoding="utf-8", errors="replace")
    present = {line.strip().rstrip("/") for line in text.splitlines()}
    missing = [line for line in IGNORED if line.rstrip("/") not in present]
    if not missing:
        return "present"
    separator = "" if text.endswith("\n") or not text else "\n"
    write_inside(root, path, separator + "".join(f"{line}\n" for line in missing), append=True)
    return "appended"


GitChoice = Literal["created", "inside", "no-git"]
INIT_MESSAGE = "dfg init"
# Used only when git has no identity configured, so that the first commit (which deployment
# records need to tag) does not fail on a fresh machine; it names itself honestly.
_FALLBACK_IDENTITY = ("dfg init", "dfg-init@dataflow-gitops.invalid")


def make_repository(dest: Path) -> GitChoice:
    """Make ``dest`` a git repository with the scaffold committed, so that deployment records
    are tags from the first apply. Inside an existing work tree nothing is done (``inside``:
    the files are the user's to commit); without git, ``no-git``."""
    try:
        inside = _git(dest, "rev-parse", "--is-inside-work-tree")
    except FileNotFoundError:
        return "no-git"
    if inside is not None and inside.strip() == "true":
        return "inside"
    if _git(dest, "init", "-q", "-b", "main") is None or _git(dest, "add", "-A") is None:
        raise DataflowGitopsError(
            "git init failed", where=str(dest), hint="run git init there yourself, or pass --no-git"
        )
    identity: list[str] = []
    if not (_git(dest, "config", "user.email") or "").strip():
        name, email = _FALLBACK_IDENTITY
        identity = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
    if _git(dest, *identity, "commit", "-q", "-m", INIT_MESSAGE) is None:
        raise DataflowGitopsError(
            "git commit failed", where=str(dest), hint="commit the files yourself: git commit"
        )
    return "created"


def _git(cwd: Path, *args: str) -> str | None:
    """git's stdout, or None when it failed; FileNotFoundError when git is not installed."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else None


def _walk(node: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        relative = f"{prefix}{child.name}"
        if child.is_dir():
            yield from _walk(child, relative + "/")
        elif child.name != "__pycache__":
            yield relative, child
