"""`dfg demo`'s script: the packaged example repository → a guided tour on the embedded emulator.

The tour is data (:data:`STEPS`: what each step explains and which ``dfg`` command it runs) plus
the few actions no command does (copy the example, ``git init``, create the Lakehouse and
Warehouse a real workspace would already have, edit a parameter and commit). The CLI prints and
runs it; nothing here prints.

The example also ships as ``templates/example`` (for the demo and ``dfg init``). Wheels built
from package-data globs drop dot-files, so a template file ``dot-X`` stands for ``.X``
(``.platform``): :func:`template_path` and :func:`copy_example` translate.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path, PurePosixPath

from dataflow_gitops.api import deployment
from dataflow_gitops.errors import DataflowGitopsError

EXAMPLE_TOP_LEVEL = ("dataflows", "environments", "dataflow-gitops.yaml")
DOT_PREFIX = "dot-"
DEV_ENV = "local"
TEST_ENV = "local-test"
CHANGED_FILE = "environments/local.yaml"
CHANGE = ("DaysBack: 7", "DaysBack: 14")

# A second embedded workspace standing in for `test`: same repository, its own overlay.
TEST_OVERLAY = """\
# local-test: a second workspace on the embedded emulator, standing in for `test` in the demo.
workspace_id: 7d3b9e1f-5a2c-4e8d-b6f0-1c3e5a7b9d24
api: embedded
auth:
  method: token
  token_env: FABRIC_TOKEN
promote_from: local

parameters:
  ServerName: test-sql.contoso.net
  DatabaseName: SalesDB
  DaysBack: 90
  ApiBaseUrl: https://test-api.rates.contoso.net/v2/
  StartDate: "2025-01-01"

bindings:
  workspaces:
    2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10: ${workspace.id}
  lakehouses:
    7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b27: ${items.Lakehouse.SalesLakehouse.id}
  warehouses:
    c4a81f3e-6b2d-4e95-8a7c-1f3b5d9e2c68: ${items.Warehouse.SalesWarehouse.id}
"""


@dataclass(frozen=True, slots=True)
class Step:
    """One stop of the tour: a title, why it matters, and the ``dfg`` arguments it runs."""

    title: str
    explanation: str
    argv: tuple[str, ...] = ()
    expect_exit: int = 0
    action: str = ""
    """A non-command action run before ``argv``: ``setup``, ``workspace:<env>`` or ``change``."""


STEPS: tuple[Step, ...] = (
    Step(
        "A GitOps repository",
        "The example project: 7 dataflows in the Fabric Git layout under dataflows/, one YAML "
        "overlay per environment under environments/. It is a git repository; every apply is "
        "recorded as a tag on the deployed commit.",
        action="setup",
    ),
    Step(
        "The target workspace",
        "The `local` environment uses `api: embedded`: a Fabric API emulator on 127.0.0.1 with its "
        "state in .dataflow-gitops/. Like a real workspace, it has the Lakehouse and Warehouse "
        "the dataflows write to (dfg creates those the overlay binds to by name in an embedded "
        "workspace); the overlay binds the repository's dev ids to them.",
        action=f"workspace:{DEV_ENV}",
    ),
    Step(
        "Plan",
        "Plan reads every live definition (getDefinition) and diffs it with the repository, query "
        "by query. Nothing is live yet, so all 7 dataflows are created. Sales Summary reads two "
        "of them: their ids are (known after apply).",
        ("plan", "-e", DEV_ENV, "--detailed-exitcode"),
        expect_exit=2,
    ),
    Step(
        "Apply",
        "Apply writes in dependency order, binds the new ids into Sales Summary, and records the "
        "deployment.",
        ("apply", "-e", DEV_ENV, "--auto-approve"),
    ),
    Step(
        "Plan again: nothing to do",
        "The live workspace now matches git: plan exits 0 with --detailed-exitcode. A CI job uses "
        "this to detect drift.",
        ("plan", "-e", DEV_ENV, "--detailed-exitcode"),
    ),
    Step(
        "Change a parameter",
        f"Edit {CHANGED_FILE}: DaysBack 7 → 14, and commit. Only Sales Orders declares DaysBack, "
        "so exactly one dataflow changes, and the plan shows the one query that differs.",
        ("plan", "-e", DEV_ENV, "--out", "{dir}/local.plan.json", "--detailed-exitcode"),
        expect_exit=2,
        action="change",
    ),
    Step(
        "Apply the reviewed plan",
        "Applying the saved plan file writes exactly what was reviewed; it first re-reads live and "
        "refuses if anything moved since the plan was made.",
        ("apply", "-e", DEV_ENV, "{dir}/local.plan.json"),
    ),
    Step(
        "Promote what was tested",
        f"`{TEST_ENV}` is another workspace with its own overlay (other parameters, other "
        f"Lakehouse ids). Promote takes the commit last applied to `{DEV_ENV}`, checks that live "
        f"`{DEV_ENV}` still matches that record, and deploys exactly that commit with "
        f"`{TEST_ENV}`'s values: what ships is what was tested.",
        ("promote", "--from", DEV_ENV, "--to", TEST_ENV, "--auto-approve"),
        action=f"workspace:{TEST_ENV}",
    ),
    Step(
        "History",
        "Every apply left a record: commit, actor, time and each dataflow's id and fingerprint.",
        ("history", "-e", DEV_ENV),
    ),
)


# the packaged example -------------------------------------------------------------------------


def example_root() -> Traversable:
    return resources.files("dataflow_gitops") / "templates" / "example"


def template_path(relative: str) -> str:
    """The template's name for a repository path: each ``.X`` component becomes ``dot-X``."""
    parts = PurePosixPath(relative).parts
    return "/".join(DOT_PREFIX + p[1:] if p.startswith(".") else p for p in parts)


def repository_path(template: str) -> str:
    parts = PurePosixPath(template).parts
    return "/".join("." + p[len(DOT_PREFIX) :] if p.startswith(DOT_PREFIX) else p for p in parts)


def _walk(node: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        name = f"{prefix}{child.name}"
        if child.is_dir():
            yield from _walk(child, name + "/")
        elif child.name != "__init__.py" and "__pycache__" not in name:
            yield name, child


def example_files() -> dict[str, bytes]:
    """Repository path → bytes of every file of the packaged example."""
    return {repository_path(name): node.read_bytes() for name, node in _walk(example_root())}


def copy_example(dest: Path) -> list[Path]:
    """Write the example repository into ``dest`` (which must hold no example files yet)."""
    written = []
    for relative, data in example_files().items():
        target = dest / relative
        if target.exists():
            raise DataflowGitopsError(
                "the directory already holds a project file",
                where=str(target),
                hint="use an empty directory",
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    return written


# the demo's own actions ---------------------------------------------------------------------


def set_up(dest: Path) -> None:
    """Copy the example into ``dest``, add the second environment, and commit it all."""
    dest.mkdir(parents=True, exist_ok=True)
    copy_example(dest)
    (dest / "environments" / f"{TEST_ENV}.yaml").write_text(TEST_OVERLAY, encoding="utf-8")
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "--", *EXAMPLE_TOP_LEVEL)
    _git(dest, "commit", "-q", "-m", "Example dataflows and environments")


def prepare_workspace(dest: Path, env: str) -> list[str]:
    """Start ``env``'s embedded workspace; return its items (``Lakehouse SalesLakehouse``, …).

    Connecting creates the workspace and the items its overlay binds to by name (see
    :func:`target.provision_bound_items`), as a real workspace would already have them.
    """
    with deployment(dest, env) as dep:
        items = dep.connection.client.list_items(dep.workspace_id)
    return sorted(f"{i['type']} {i['displayName']}" for i in items if i.get("type") != "Dataflow")


def change_parameter(dest: Path) -> None:
    """The edit a developer would make: one parameter value in one overlay, committed."""
    path = dest / CHANGED_FILE
    text = path.read_text(encoding="utf-8")
    old, new = CHANGE
    if old not in text:
        raise DataflowGitopsError(f"{old!r} not found", where=str(path), hint="restore the file")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    _git(dest, "commit", "-q", "-am", "local: keep 14 days of orders")


def _git(cwd: Path, *args: str) -> None:
    identity = ["-c", "user.name=dfg demo", "-c", "user.email=demo@dataflow-gitops.invalid"]
    try:
        subprocess.run(["git", *identity, *args], cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise DataflowGitopsError("git is not installed", hint="install git to run the demo") from None
    except subprocess.CalledProcessError as exc:
        lines = (exc.stderr or "").strip().splitlines()
        raise DataflowGitopsError(
            f"git {args[0]} failed: {lines[-1] if lines else exc.returncode}",
            where=str(cwd),
            hint="check that the directory is writable",
        ) from None
