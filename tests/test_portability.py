"""Windows and macOS are first-class: nothing POSIX-only is imported when a module loads, shown on
this Linux CI by importing every module of src/ with those modules blocked, as on Windows."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGES = ("dataflow_gitops", "fabric_emulator")
# Modules a Windows Python does not have (the stdlib imports some of them optionally).
POSIX_ONLY = ("fcntl", "pwd", "grp", "termios", "resource", "tty", "pty", "syslog", "crypt", "spwd")

_IMPORT_ALL = """
import importlib, importlib.abc, json, sys
blocked = set(json.loads(sys.argv[1]))

class Windows(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: POSIX-only)", name=name)
        return None

for name in list(sys.modules):
    if name.split(".")[0] in blocked:
        del sys.modules[name]
sys.meta_path.insert(0, Windows())
failed = {}
for module in json.loads(sys.argv[2]):
    try:
        importlib.import_module(module)
    except Exception as exc:
        failed[module] = f"{type(exc).__name__}: {exc}"
print(json.dumps(failed))
"""


def _module_names() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((SRC / package).rglob("*.py")):
            parts = list(path.relative_to(SRC).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names.append(".".join(parts))
    return names


def test_every_module_imports_without_posix_only_modules() -> None:
    names = _module_names()
    assert "dataflow_gitops.embedded" in names
    assert "dataflow_gitops.cli.main" in names
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, json.dumps(POSIX_ONLY), json.dumps(names)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == {}


def test_the_blocker_does_block() -> None:
    # The check above is only worth something if a module-level `import fcntl` fails under it.
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, json.dumps(POSIX_ONLY), json.dumps(["fcntl", "json"])],
        capture_output=True,
        text=True,
        check=True,
    )
    assert list(json.loads(result.stdout)) == ["fcntl"]


def test_no_module_level_posix_import_in_the_source() -> None:
    # A module-level import inside `if sys.platform != "win32":` is fine; one at the top is not.
    found = []
    for package in PACKAGES:
        for path in sorted((SRC / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                else:
                    continue
                found += [
                    f"{path.relative_to(SRC)}: {n}" for n in names if n.split(".")[0] in POSIX_ONLY
                ]
    assert found == []
