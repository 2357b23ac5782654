"""The import arrows of DESIGN §3, enforced on the AST rather than by review.

cli → api → {pipeline, fabric}; fabric.gateway → pipeline.ports/model; pipeline never imports
httpx, msal or dataflow_gitops.fabric; dataflow_gitops never imports fabric_emulator, and
fabric_emulator never imports dataflow_gitops.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package.replace(".", "/")).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in _modules(package):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (
            "dataflow_gitops.pipeline",
            (
                "httpx",
                "msal",
                "dataflow_gitops.fabric",
                "dataflow_gitops.cli",
                "dataflow_gitops.api",
                "click",
                "rich",
            ),
        ),
        ("dataflow_gitops.fabric", ("dataflow_gitops.cli", "dataflow_gitops.api", "click")),
        ("dataflow_gitops", ("fabric_emulator",)),
        ("fabric_emulator", ("dataflow_gitops",)),
    ],
)
def test_import_arrows(package: str, forbidden: tuple[str, ...]) -> None:
    assert _violations(package, forbidden) == []


def test_fabric_touches_pipeline_only_through_gateway() -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in _modules("dataflow_gitops.fabric")
        if path.name != "gateway.py"
        for name in _imports(path)
        if name.startswith("dataflow_gitops.pipeline")
    ]
    assert offenders == []


def test_cli_reaches_fabric_only_through_api() -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in _modules("dataflow_gitops.cli")
        for name in _imports(path)
        if name.startswith(("dataflow_gitops.fabric", "httpx", "msal"))
    ]
    assert offenders == []
