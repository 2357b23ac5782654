"""Release-flow test helpers: the example repository's own `test` and `prod` overlays pointed at a
loopback emulator (workspaces with their ids, SalesLakehouse/SalesWarehouse in each)."""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dataflow_gitops.cli.main import run
from dataflow_gitops.fabric.client import FabricClient

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ("dataflows", "environments", "dataflow-gitops.yaml")
TEST_WS = "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13"
PROD_WS = "8c2e4a6d-5f7b-4c9e-a1d3-7e9f1b3d5a24"
TOKEN = "release-test-token"
PUBLIC_API = "api: https://api.fabric.microsoft.com"
PAYLOAD = "InlineBase64"
BASELINE = {
    "lro": "random",
    "latencyMs": 1,
    "retryAfterS": 0,
    "lroPolls": 1,
    "jobOutcome": "Completed",
    "jobDurationS": 0.0,
    "pageSize": 4,
}


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


def point_at(root: Path, url: str) -> None:
    """Make the example's test and prod overlays talk to the emulator; nothing else changes."""
    for env in ("test", "prod"):
        path = root / "environments" / f"{env}.yaml"
        text = path.read_text(encoding="utf-8")
        assert PUBLIC_API in text
        path.write_text(text.replace(PUBLIC_API, f"api: {url}"), encoding="utf-8")


def snapshot_files(folder: Path) -> dict[str, bytes]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}


def as_json(text: str) -> Any:
    return json.loads(text)
