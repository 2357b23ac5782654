"""Strict auth end to end: an msal token from the emulator's authority opens the emulator's API;
once the emulator's clock passes its expiry the API answers 401 TokenExpired, and FabricClient
recovers by asking the provider for a fresh token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dataflow_gitops.fabric.auth import AuthSettings, build_token_provider
from dataflow_gitops.fabric.client import FabricClient
from dataflow_gitops.fabric.msal_auth import MsalTokenProvider
from fabric_emulator.server import EmulatorServer

WORKSPACE = "5b2c0c1e-0000-4000-8000-000000000001"
SECRET = "Emul4tor~Secret"


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    emulator = EmulatorServer(strict_auth=True, workspaces=[(WORKSPACE, "Strict")])
    emulator.start()
    emulator.authority.register_client("app-strict", secret=SECRET)
    yield emulator
    emulator.stop()


@pytest.fixture
def provider(server: EmulatorServer, tmp_path: Path) -> Iterator[MsalTokenProvider]:
    authority = server.authority
    made = build_token_provider(
        AuthSettings(
            method="client_secret",
            tenant_id=authority.tenant,
            client_id="app-strict",
            client_secret=SECRET,
            authority_host=f"https://127.0.0.1:{authority.port}",
            ca_file=authority.ca_file,
            cache_path=str(tmp_path / "msal_cache.json"),
        )
    )
    assert isinstance(made, MsalTokenProvider)
    yield made
    made.close()


def test_msal_token_opens_the_api_and_expires_by_the_emulator_clock(
    server: EmulatorServer,
    provider: MsalTokenProvider,
) -> None:
    token = provider.get_token()
    with httpx.Client(base_url=server.url) as http:
        ok = http.get("/v1/workspaces", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        assert WORKSPACE in {w["id"] for w in ok.json()["value"]}

        forged = http.get("/v1/workspaces", headers={"Authorization": f"Bearer {token[:-4]}AAAA"})
        assert forged.status_code == 401

        server.clock.advance(3601)
        expired = http.get("/v1/workspaces", headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401
    assert expired.headers["x-ms-public-api-error-code"] == "TokenExpired"
    assert expired.json()["errorCode"] == "TokenExpired"


def test_fabric_client_refreshes_an_expired_msal_token(
    server: EmulatorServer,
    provider: MsalTokenProvider,
) -> None:
    stale = provider.get_token()
    server.clock.advance(3601)  # msal still holds the token; the emulator says it expired
    client = FabricClient(server.url, provider)
    try:
        workspaces = client.list_workspaces()
    finally:
        client.close()
    assert WORKSPACE in {w["id"] for w in workspaces}
    assert provider.get_token() != stale
