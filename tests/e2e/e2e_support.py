"""End-to-end helpers: one real emulator per session over loopback (asynchronous LROs, a little
latency), reset before every test; a temp copy of the example repository in a real git repo
whose `e2e*` overlays point `api:` at that emulator with `auth: method: token`. The shared
pieces (Cli, Live, git) live in tests/support/emulator_project.py."""

from __future__ import annotations

import emulator_project

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


class Live(emulator_project.Live):
    """The shared emulator probe, defaulting to the e2e workspace."""

    def dataflows(self, workspace: str = WS) -> dict[str, str]:
        return super().dataflows(workspace)

    def mashup(self, item_id: str, workspace: str = WS) -> str:
        parts = self.parts(workspace, item_id)
        assert "mashup.pq" in parts, "no mashup.pq"
        return parts["mashup.pq"]
