"""The msal providers end to end, offline: real msal against the emulator's OAuth authority over
TLS on 127.0.0.1 (client secret, certificate, managed identity, device code). Workload identity
federation is in test_auth_federation.py."""

from __future__ import annotations

import html
import json
import logging
import re
import stat
import threading
import webbrowser
from pathlib import Path

import msal.oauth2cli.authcode
import pytest
import requests
from authority_support import auth, build
from certificates import self_signed
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from dataflow_gitops.errors import AuthError
from dataflow_gitops.fabric.auth import TokenProvider
from dataflow_gitops.fabric.msal_auth import InteractiveProvider
from fabric_emulator.authority import AuthorityServer
from fabric_emulator.tokens import TokenIssuer

SECRET = "Sup3r~Secret.Value_42"


@pytest.fixture(scope="module")
def authority(authority: AuthorityServer) -> AuthorityServer:
    """The module's authority (tests/conftest.py) with the confidential client these tests use."""
    authority.register_client("app-secret", secret=SECRET)
    return authority


# -- client secret --------------------------------------------------------------------------------


def test_client_secret_token_is_cached_and_refreshable(
    authority: AuthorityServer,
    issuer: TokenIssuer,
    cache_path: Path,
    providers: list[TokenProvider],
) -> None:
    provider = build(
        providers, auth(authority, cache_path, method="client_secret", client_secret=SECRET)
    )
    token = provider.get_token()
    assert issuer.verify(token) == "app-secret"
    assert provider.identity == "app-secret"
    assert provider.get_token() == token  # served from msal's cache
    refreshed = provider.get_token(force_refresh=True)
    assert refreshed != token
    assert issuer.verify(refreshed) == "app-secret"
    assert stat.S_IMODE(cache_path.stat().st_mode) == 0o600
    assert SECRET not in cache_path.read_text()


def test_persisted_cache_serves_the_next_process(
    authority: AuthorityServer,
    cache_path: Path,
    providers: list[TokenProvider],
) -> None:
    first = build(
        providers, auth(authority, cache_path, method="client_secret", client_secret=SECRET)
    ).get_token()
    # A second provider with a wrong secret still gets the cached token: the authority is not
    # asked, which is the point of the persisted cache.
    second = build(
        providers, auth(authority, cache_path, method="client_secret", client_secret="not-the-secret")
    )
    assert second.get_token() == first
    with pytest.raises(AuthError, match="invalid_client"):
        second.get_token(force_refresh=True)


def test_wrong_secret_is_one_line_without_the_secret(
    authority: AuthorityServer,
    cache_path: Path,
    providers: list[TokenProvider],
) -> None:
    wrong = "Wr0ng~Secret.Value"
    provider = build(providers, auth(authority, cache_path, method="client_secret", client_secret=wrong))
    with pytest.raises(AuthError) as caught:
        provider.get_token()
    text = str(caught.value)
    assert "invalid_client" in text
    assert "AADSTS7000215" in text
    assert wrong not in text
    assert "Trace ID" not in text
    assert "\n" not in text
    assert "auth (client_secret)" in text


def test_unknown_tenant_is_an_auth_error(
    authority: AuthorityServer, cache_path: Path, providers: list[TokenProvider]
) -> None:
    provider = build(
        providers,
        auth(
            authority,
            cache_path,
            method="client_secret",
            client_secret=SECRET,
            tenant_id="no-such-tenant",
        ),
    )
    with pytest.raises(AuthError) as caught:
        provider.get_token()
    assert "auth.tenant_id" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_untrusted_authority_certificate_is_refused(
    authority: AuthorityServer, cache_path: Path, providers: list[TokenProvider]
) -> None:
    # Without the emulator's CA, TLS verification (always on) rejects the authority.
    provider = build(
        providers,
        auth(authority, cache_path, method="client_secret", client_secret=SECRET, ca_file=None),
    )
    with pytest.raises(AuthError, match="client_secret sign-in for app-secret failed") as caught:
        provider.get_token()
    assert "is not trusted" in str(caught.value)
    assert "\n" not in str(caught.value)


# -- certificate ----------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["pem", "pfx"])
def test_certificate_provider(
    authority: AuthorityServer,
    issuer: TokenIssuer,
    cache_path: Path,
    tmp_path: Path,
    providers: list[TokenProvider],
    form: str,
) -> None:
    key, cert = self_signed("dfg-sp")
    authority.register_client(
        f"app-cert-{form}", certificate_pem=cert.public_bytes(serialization.Encoding.PEM)
    )
    password = "cert-pa55word"
    if form == "pem":
        path = tmp_path / "sp.pem"
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(password.encode()),
            )
            + cert.public_bytes(serialization.Encoding.PEM)
        )
    else:
        path = tmp_path / "sp.pfx"
        path.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"sp", key, cert, None, serialization.BestAvailableEncryption(password.encode())
            )
        )
    provider = build(
        providers,
        auth(
            authority,
            cache_path,
            method="certificate",
            client_id=f"app-cert-{form}",
            certificate_path=str(path),
            certificate_password=password,
        ),
    )
    assert issuer.verify(provider.get_token()) == f"app-cert-{form}"


def test_certificate_not_registered_is_refused(
    authority: AuthorityServer, cache_path: Path, tmp_path: Path, providers: list[TokenProvider]
) -> None:
    registered_key, registered = self_signed("dfg-sp")
    authority.register_client(
        "app-cert-other", certificate_pem=registered.public_bytes(serialization.Encoding.PEM)
    )
    key, cert = self_signed("dfg-sp")
    path = tmp_path / "other.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    provider = build(
        providers,
        auth(
            authority,
            cache_path,
            method="certificate",
            client_id="app-cert-other",
            certificate_path=str(path),
        ),
    )
    with pytest.raises(AuthError, match="invalid_client") as caught:
        provider.get_token()
    assert "eyJ" not in str(caught.value)  # the signed assertion never shows


# -- managed identity and device code ------------------------------------------------------------


def test_managed_identity_via_app_service_protocol(
    authority: AuthorityServer,
    issuer: TokenIssuer,
    cache_path: Path,
    providers: list[TokenProvider],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint = authority.enable_managed_identity("mi-header-secret", principal="mi-system")
    monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", "mi-header-secret")
    provider = build(providers, auth(authority, cache_path, method="managed_identity", client_id=None))
    token = provider.get_token()
    assert issuer.verify(token) == "mi-system"
    assert provider.get_token() == token
    assert provider.get_token(force_refresh=True) != token


def test_device_code_sign_in_then_silent(
    authority: AuthorityServer,
    issuer: TokenIssuer,
    cache_path: Path,
    providers: list[TokenProvider],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    authority.register_client("app-cli")
    shown: list[str] = []

    def person(message: str) -> None:  # reads the message, signs in with the code
        shown.append(message)
        authority.approve_device_code(
            message.split("enter the code ")[1].split()[0], user="ada@contoso.example"
        )

    settings = auth(authority, cache_path, method="device_code", client_id="app-cli")
    first = build(providers, settings, notify=person)
    assert issuer.verify(first.get_token()) == "ada@contoso.example"
    assert len(shown) == 1
    # A later run signs in silently from the persisted cache, refreshing with the refresh token.
    second = build(providers, settings, notify=person)
    assert issuer.verify(second.get_token(force_refresh=True)) == "ada@contoso.example"
    assert len(shown) == 1
    assert second.identity == "user@app-cli"
    # Neither the access nor the refresh tokens (all in the cache file) reach the DEBUG log.
    stored = json.loads(cache_path.read_text())
    secrets = [
        e["secret"] for section in ("AccessToken", "RefreshToken") for e in stored[section].values()
    ]
    assert len(secrets) >= 2
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not [s for s in secrets if s in logged]


def test_debug_logs_carry_no_secret_or_token(
    authority: AuthorityServer,
    cache_path: Path,
    providers: list[TokenProvider],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # `dfg -v` turns on DEBUG; msal, urllib3 and our providers must not log credentials.
    caplog.set_level(logging.DEBUG)
    provider = build(
        providers, auth(authority, cache_path, method="client_secret", client_secret=SECRET)
    )
    token = provider.get_token()
    provider.get_token(force_refresh=True)
    with pytest.raises(AuthError):
        build(
            providers, auth(authority, cache_path, method="client_secret", client_secret="Wr0ng~Secret")
        ).get_token(force_refresh=True)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # the libraries did log something at DEBUG
    assert SECRET not in logged
    assert "Wr0ng~Secret" not in logged
    assert token not in logged
    assert "eyJ" not in logged  # no JWT at all: neither access tokens nor assertions


def test_interactive_sign_in_then_silent(
    authority: AuthorityServer,
    issuer: TokenIssuer,
    cache_path: Path,
    providers: list[TokenProvider],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    visits: list[threading.Thread] = []

    def person_in_browser(url: str) -> None:  # signs in; the page POSTs the code to msal
        with requests.Session() as session:
            session.trust_env = False
            page = session.get(url, verify=authority.ca_file).text
            action = html.unescape(re.search(r'action="([^"]+)"', page).group(1))
            fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
            session.post(action.replace("//localhost:", "//127.0.0.1:"), data=fields, timeout=10)

    def open_browser(url: str, *args: object, **kwargs: object) -> bool:
        visits.append(threading.Thread(target=person_in_browser, args=(url,), daemon=True))
        visits[-1].start()
        return True

    monkeypatch.setattr(webbrowser, "open", open_browser)
    # Inside a container msal would listen on 0.0.0.0; keep its redirect listener on loopback.
    monkeypatch.setattr(msal.oauth2cli.authcode, "_is_inside_docker", lambda: False)
    monkeypatch.setattr(authority, "signed_in_user", "grace@contoso.example")
    authority.register_client("app-desktop")
    settings = auth(authority, cache_path, method="interactive", client_id="app-desktop")
    assert issuer.verify(build(providers, settings).get_token()) == "grace@contoso.example"
    again = build(providers, settings)  # a later run: silent, from the persisted cache
    assert issuer.verify(again.get_token(force_refresh=True)) == "grace@contoso.example"
    for visit in visits:
        visit.join(timeout=10)
    assert len(visits) == 1


def test_interactive_sign_in_nobody_completes(
    authority: AuthorityServer,
    cache_path: Path,
    providers: list[TokenProvider],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: True)  # the person walks away
    monkeypatch.setattr(msal.oauth2cli.authcode, "_is_inside_docker", lambda: False)
    monkeypatch.setattr(InteractiveProvider, "timeout_s", 1)  # msal waits this long for the person
    authority.register_client("app-desktop-idle")
    provider = build(
        providers, auth(authority, cache_path, method="interactive", client_id="app-desktop-idle")
    )
    with pytest.raises(AuthError, match="finish signing in"):
        provider.get_token()
