"""End-to-end helpers: one real emulator per session over loopback (asynchronous LROs, a little
latency), reset before every test; a temp copy of the example repository in a real git repo
whose `e2e*` overlays point `api:` at that emulator with `auth: method: token`."""

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
WS = "3f6a1c2e-9b4d-4e7a-8c1f-2d5b7e9a1c30"
WS_OTHER = "5c8e2a4f-1d3b-4f6a-9e2c-7b1d3f5a8e42"
TOKEN = "e2e-test-token"
BASELINE = {
    "lro": "always",
    "latencyMs": 2,
    "retryAfterS": 0,
    "lroPolls": 1,
    "jobOutcome": "Completed",
    "jobDurationS": 0.0,
    "pageSize": 3,
}
BINDINGS = """
bindings:
  workspaces:
    2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10: ${workspace.id}
  lakehouses:
    7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b27: ${items.Lakehouse.SalesLakehouse.id}
  warehouses:
    c4a81f3e-6b2d-4e95-8a7c-1f3b5d9e2c68: ${items.Warehouse.SalesWarehouse.id}
"""


def overlay(url: str, workspace: str = WS, extra: str = "", days_back: int = 7) -> str:
    return (
        f"workspace_id: {workspace}\napi: {url}\nauth:\n  method: token\n  token_env: FABRIC_TOKEN\n"
        f"parameters:\n  DaysBack: {days_back}\n{extra}{BINDINGS}"
    )


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
    """The emulator seen through a real FabricClient (to inspect or to change behind dfg's back)."""

    url: str
    client: FabricClient

    def dataflows(self, workspace: str = WS) -> dict[str, str]:
        """display name → item id."""
        return {i["displayName"]: i["id"] for i in self.client.list_items(workspace, "Dataflow")}

    def mashup(self, item_id: str, workspace: str = WS) -> str:
        for part in self.client.get_definition(workspace, item_id):
            if part["path"] == "mashup.pq":
                return base64.b64decode(part["payload"]).decode("utf-8")
        raise AssertionError("no mashup.pq")

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


def plan_json(text: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(text)
    return doc
