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
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Literal

from dataflow_gitops.errors import DataflowGitopsError
from dataflow_gitops.pipeline.definition.discovery import FOLDER_SUFFIX
from dataflow_gitops.pipeline.definition.item_types import KNOWN_ITEM_TYPES

CiChoice = Literal["github", "azure", "none"]
CI_CHOICES: tuple[CiChoice, ...] = ("github", "azure", "none")
STATE_DIR = ".dataflow-gitops/"
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
    written = []
    try:
        for relative, data in files.items():
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written.append(relative)
        gitignore = _ignore_state_dir(dest / ".gitignore")
    except OSError as exc:
        raise DataflowGitopsError(
            f"cannot write the project: {exc.strerror}", where=str(exc.filename or dest)
        ) from None
    return ScaffoldResult(tuple(written), gitignore, adopted)


def _ignore_state_dir(path: Path) -> Literal["created", "appended", "present"]:
    if not path.exists():
        path.write_text(f"# dfg: local state (embedded emulator database, caches)\n{STATE_DIR}\n")
        return "created"
    text = path.read_text(encoding="utf-8", errors="replace")
    if any(line.strip().rstrip("/") == STATE_DIR.rstrip("/") for line in text.splitlines()):
        return "present"
    separator = "" if text.endswith("\n") or not text else "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{separator}{STATE_DIR}\n")
    return "appended"


def _walk(node: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        relative = f"{prefix}{child.name}"
        if child.is_dir():
            yield from _walk(child, relative + "/")
        elif child.name != "__pycache__":
            yield relative, child
