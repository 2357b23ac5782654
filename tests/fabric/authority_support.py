"""Helpers for the msal provider tests against the emulator's OAuth authority (test_auth_msal.py,
test_auth_federation.py): settings pointed at the authority, and providers built so that the
`providers` fixture (conftest.py) closes their HTTP sessions."""

from __future__ import annotations

from pathlib import Path

from dataflow_gitops.fabric.auth import AuthSettings, TokenProvider, build_token_provider
from fabric_emulator.authority import AuthorityServer


def auth(authority: AuthorityServer, cache_path: Path, **overrides: object) -> AuthSettings:
    values: dict[str, object] = {
        "tenant_id": authority.tenant,
        "client_id": "app-secret",
        "authority_host": f"https://127.0.0.1:{authority.port}",
        "ca_file": authority.ca_file,
        "cache_path": str(cache_path),
    }
    values.update(overrides)
    return AuthSettings(**values)  # type: ignore[arg-type]


def build(providers: list[TokenProvider], settings: AuthSettings, **kwargs: object) -> TokenProvider:
    provider = build_token_provider(settings, **kwargs)  # type: ignore[arg-type]
    providers.append(provider)
    return provider
