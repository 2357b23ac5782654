"""Workload identity federation end to end, offline: a CI system's OIDC token (from a file, from
GitHub Actions' ID-token endpoint, from Azure DevOps' OIDC endpoint, both served by a loopback
fake) is exchanged by real msal at the emulator's OAuth authority for a Fabric token."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from authority_support import auth, build
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dataflow_gitops.errors import AuthError
from dataflow_gitops.fabric.auth import TokenProvider
from fabric_emulator.authority import FEDERATED_AUDIENCE, AuthorityServer
from fabric_emulator.tokens import TokenIssuer

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_SUBJECT = "repo:contoso/dataflows:environment:prod"
ADO_ISSUER = "https://vstoken.dev.azure.com/00000000-0000-0000-0000-000000000001"
ADO_SUBJECT = "sc://contoso/dataflows/fabric-prod"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class LoopbackServer:
    """A plain-http starlette app on 127.0.0.1 in a uvicorn thread (the CI systems' endpoints)."""

    def __init__(self, app: Starlette) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(
            target=lambda: self._server.run(sockets=[self._sock]), daemon=True
        )

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the loopback fake did not start")
            time.sleep(0.01)  # waiting for a thread to bind, not a backoff
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


class CiProvider:
    """GitHub's and Azure DevOps' OIDC token endpoints, backed by a TokenIssuer per provider."""

    def __init__(self) -> None:
        self.github = TokenIssuer(audience=FEDERATED_AUDIENCE, issuer=GITHUB_ISSUER)
        self.ado = TokenIssuer(audience=FEDERATED_AUDIENCE, issuer=ADO_ISSUER)
        self.calls: list[str] = []
        self.lifetime_s = 300
        self.app = Starlette(
            routes=[
                Route("/github/token", self._github),
                Route("/ado/oidctoken", self._ado, methods=["POST"]),
            ]
        )

    async def _github(self, request: Request) -> Response:
        self.calls.append("github")
        if request.headers.get("authorization") != "Bearer gh-request-token":
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        if (
            request.query_params.get("audience") != FEDERATED_AUDIENCE
            or request.query_params.get("run") != "7"
        ):  # the URL's own query is kept
            return JSONResponse({"message": "bad audience"}, status_code=400)
        return JSONResponse(
            {"count": 1, "value": self.github.issue(GITHUB_SUBJECT, lifetime_s=self.lifetime_s)}
        )

    async def _ado(self, request: Request) -> Response:
        self.calls.append("ado")
        if request.headers.get("authorization") != "Bearer ado-system-token":
            return Response(status_code=203)  # ADO answers a sign-in page to bad tokens
        if (
            request.query_params.get("serviceConnectionId") != "sc-1"
            or request.query_params.get("api-version") != "7.1"
        ):
            return JSONResponse({"message": "bad request"}, status_code=400)
        return JSONResponse({"oidcToken": self.ado.issue(ADO_SUBJECT, lifetime_s=self.lifetime_s)})


# -- workload identity federation ----------------------------------------------------------------


@pytest.fixture
def ci() -> Iterator[tuple[CiProvider, Clock, LoopbackServer]]:
    clock = Clock()  # the client's view of time; the fake CI issues at real time
    fake = CiProvider()
    with LoopbackServer(fake.app) as server:
        yield fake, clock, server


def test_federated_token_file(
    authority: AuthorityServer,
    issuer: TokenIssuer,
    cache_path: Path,
    tmp_path: Path,
    providers: list[TokenProvider],
) -> None:
    kubernetes = TokenIssuer(audience=FEDERATED_AUDIENCE, issuer="https://oidc.aks.example/x")
    authority.trust_federated_issuer(
        kubernetes.issuer,
        kubernetes.public_key_pem(),
        client_id="app-aks",
        subject="system:serviceaccount:ns:dfg",
    )
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(kubernetes.issue("system:serviceaccount:ns:dfg", lifetime_s=600))
    provider = build(
        providers,
        auth(authority, cache_path, method="workload_identity", client_id="app-aks"),
        env={"AZURE_FEDERATED_TOKEN_FILE": str(token_file)},
    )
    assert issuer.verify(provider.get_token()) == "app-aks"


def test_github_actions_assertion_is_fetched_and_renewed(
    authority: AuthorityServer,
    issuer: TokenIssuer,
    cache_path: Path,
    providers: list[TokenProvider],
    ci: tuple[CiProvider, Clock, LoopbackServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake, clock, server = ci
    authority.trust_federated_issuer(
        GITHUB_ISSUER, fake.github.public_key_pem(), client_id="app-gh", subject=GITHUB_SUBJECT
    )
    env = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{server.url}/github/token?run=7",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request-token",
    }
    provider = build(
        providers,
        auth(authority, cache_path, method="workload_identity", client_id="app-gh"),
        env=env,
        clock=clock,
    )
    assert issuer.verify(provider.get_token()) == "app-gh"
    assert fake.calls == ["github"]
    provider.get_token(force_refresh=True)
    assert fake.calls == ["github"]  # the assertion is still fresh: reused
    clock.now += fake.lifetime_s  # GitHub's token ran out
    provider.get_token(force_refresh=True)
    assert fake.calls == ["github", "github"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "eyJ" not in logged
    assert "gh-request-token" not in logged


def test_github_actions_without_id_token_permission(
    authority: AuthorityServer,
    cache_path: Path,
    providers: list[TokenProvider],
    ci: tuple[CiProvider, Clock, LoopbackServer],
) -> None:
    _, _, server = ci
    env = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{server.url}/github/token?run=7",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "stale-request-token",
    }
    provider = build(
        providers, auth(authority, cache_path, method="workload_identity", client_id="app-gh"), env=env
    )
    with pytest.raises(AuthError) as caught:
        provider.get_token()
    text = str(caught.value)
    assert "GitHub Actions ID-token endpoint answered HTTP 401" in text
    assert "id-token: write" in text
    assert "stale-request-token" not in text


def test_azure_devops_assertion(
    authority: AuthorityServer,
    issuer: TokenIssuer,
    cache_path: Path,
    providers: list[TokenProvider],
    ci: tuple[CiProvider, Clock, LoopbackServer],
) -> None:
    fake, _, server = ci
    authority.trust_federated_issuer(
        ADO_ISSUER, fake.ado.public_key_pem(), client_id="app-ado", subject=ADO_SUBJECT
    )
    env = {
        "SYSTEM_OIDCREQUESTURI": f"{server.url}/ado/oidctoken",
        "SYSTEM_ACCESSTOKEN": "ado-system-token",
        "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": "sc-1",
    }
    provider = build(
        providers, auth(authority, cache_path, method="workload_identity", client_id="app-ado"), env=env
    )
    assert issuer.verify(provider.get_token()) == "app-ado"
    assert fake.calls == ["ado"]


def test_unreachable_oidc_endpoint(
    authority: AuthorityServer, cache_path: Path, providers: list[TokenProvider]
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        "SYSTEM_OIDCREQUESTURI": f"http://127.0.0.1:{port}/oidc",
        "SYSTEM_ACCESSTOKEN": "ado-system-token",
    }
    provider = build(
        providers,
        auth(authority, cache_path, method="workload_identity", client_id="app-ado"),
        env=env,
        transport=httpx.HTTPTransport(retries=0),
    )
    with pytest.raises(AuthError, match="cannot reach the Azure DevOps OIDC endpoint") as caught:
        provider.get_token()
    assert "ado-system-token" not in str(caught.value)
