"""Test support shared by the e2e and release suites: a temp copy of the example repository in a
real git repo, `dfg` run in-process on it, and the loopback emulator seen through a real
FabricClient. Test folders have no `__init__.py`; pytest's `pythonpath` puts this folder on
`sys.path`, so the module name is unique."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dataflow_gitops.cli.main import run
from dataflow_gitops.fabric.client import FabricClient

PAYLOAD = "InlineBase64"


@dataclass
class Cli:
    """Runs `dfg` in-process on the project, capturing its output."""

    root: Path
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = run(["-C", str(self.root), "--no-color", *args])
        out, err = self.capsys.readouterr()
        return code, out, err


@dataclass
class Live:
    """The emulator seen through a real FabricClient: to inspect, or to hot-fix behind dfg's back."""

    url: str
    client: FabricClient

    def dataflows(self, workspace: str) -> dict[str, str]:
        """display name → item id."""
        return {i["displayName"]: i["id"] for i in self.client.list_items(workspace, "Dataflow")}

    def parts(self, workspace: str, item_id: str) -> dict[str, str]:
        return {
            p["path"]: base64.b64decode(p["payload"]).decode("utf-8")
            for p in self.client.get_definition(workspace, item_id)
        }

    def write_parts(self, workspace: str, item_id: str, parts: dict[str, str]) -> None:
        wire = [
            {"path": path, "payload": base64.b64encode(text.encode()).decode(), "payloadType": PAYLOAD}
            for path, text in parts.items()
        ]
        self.client.update_definition(workspace, item_id, wire, update_metadata=False)

    def hotfix(self, workspace: str, name: str, old: str, new: str, part: str = "mashup.pq") -> None:
        """Edit one part of a live dataflow as a person in the portal would."""
        item_id = self.dataflows(workspace)[name]
        parts = self.parts(workspace, item_id)
        assert old in parts[part], f"{old!r} not in live {part} of {name}"
        parts[part] = parts[part].replace(old, new)
        self.write_parts(workspace, item_id, parts)

    def control(self, method: str, action: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/_emulator/{action}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def init_repo(root: Path) -> str:
    """Make `root` a git repository on branch main with everything in it committed."""
    git(root, "init", "-q", "-b", "main")
    return commit_all(root, "example")


def snapshot_files(folder: Path) -> dict[str, bytes]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}
