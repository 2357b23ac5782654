"""Release-flow test helpers: the example repository's own `test` and `prod` overlays pointed at a
loopback emulator (workspaces with their ids, SalesLakehouse/SalesWarehouse in each). The shared
pieces (Cli, Live, git) live in tests/support/emulator_project.py."""

from __future__ import annotations

from pathlib import Path

TEST_WS = "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13"
PROD_WS = "8c2e4a6d-5f7b-4c9e-a1d3-7e9f1b3d5a24"
TOKEN = "release-test-token"
PUBLIC_API = "api: https://api.fabric.microsoft.com"
BASELINE = {
    "lro": "random",
    "latencyMs": 1,
    "retryAfterS": 0,
    "lroPolls": 1,
    "jobOutcome": "Completed",
    "jobDurationS": 0.0,
    "pageSize": 4,
}


def point_at(root: Path, url: str) -> None:
    """Make the example's test and prod overlays talk to the emulator; nothing else changes."""
    for env in ("test", "prod"):
        path = root / "environments" / f"{env}.yaml"
        text = path.read_text(encoding="utf-8")
        assert PUBLIC_API in text
        path.write_text(text.replace(PUBLIC_API, f"api: {url}"), encoding="utf-8")
