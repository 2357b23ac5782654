"""`dfg init`'s scaffold (project layer): the packaged ``templates/init`` → a new repository's files.

The result validates at once: one sample dataflow with a public parameter, overlays for dev /
test / prod (plus ``local`` on the embedded emulator) whose ``$schema`` comments point at copies
of the JSON Schemas written beside them, project settings, the CI workflows of
``examples/ci``, and a ``.gitignore`` line for the local state folder. Existing files are never
overwritten unless asked (``force``); nothing here prints.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Literal

from dataflow_gitops.confined import inside, write_inside
from dataflow_gitops.errors import DataflowGitopsError

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


@dataclass(frozen=True, slots=True)
class ScaffoldResult:
    written: tuple[str, ...]
    """Paths relative to the directory, in the order written."""
    gitignore: Literal["created", "appended", "present"]


def template_files(
    ci: CiChoice = "github",
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    *,
    sample: bool = True,
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
    return ScaffoldResult(tuple(written), gitignore)


def _ignore_state_dir(root: Path, path: Path) -> Literal["created", "appended", "present"]:
    if not path.exists():
        line = f"# dfg: local state (embedded emulator database, caches)\n{STATE_DIR}\n"
        write_inside(root, path, line)
        return "created"
    text = path.read_text(encoding="utf-8", errors="replace")
    if any(line.strip().rstrip("/") == STATE_DIR.rstrip("/") for line in text.splitlines()):
        return "present"
    separator = "" if text.endswith("\n") or not text else "\n"
    write_inside(root, path, f"{separator}{STATE_DIR}\n", append=True)
    return "appended"


def _walk(node: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        relative = f"{prefix}{child.name}"
        if child.is_dir():
            yield from _walk(child, relative + "/")
        elif child.name != "__pycache__":
            yield relative, child
