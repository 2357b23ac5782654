"""Test support: the example project at the repository root (dataflows/, environments/,
dataflow-gitops.yaml) that most suites copy into a temp folder and work on."""

from __future__ import annotations

import shutil
from pathlib import Path

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
