"""Test support: this repository's own files — the example project at its root (dataflows/,
environments/, dataflow-gitops.yaml) that most suites copy into a temp folder and work on, and the
scripts/ the docs tests run."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ITEMS = ("dataflows", "environments", "dataflow-gitops.yaml")
EXAMPLE_NAMES = {
    "Sales Orders",
    "Customers",
    "Products",
    "Exchange Rates",
    "Sales Summary",
    "Hello Dataflow",
    "Inventory Snapshot",
}
"""Display names of the example's dataflows."""


def copy_example(target: Path) -> Path:
    """Copy the example project into `target` (created if missing); return `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for item in EXAMPLE_ITEMS:
        source = REPO_ROOT / item
        if source.is_dir():
            shutil.copytree(source, target / item)
        elif source.is_file():
            shutil.copy2(source, target / item)
    return target


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
