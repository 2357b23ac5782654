"""Strict auth, authority side: a minimal offline Entra ID (OAuth request → Fabric access token).

Enough of ``login.microsoftonline.com`` for msal's real flows to run against 127.0.0.1 over TLS:
the OpenID discovery document and keys, the v2.0 token endpoint (``client_credentials`` with a
client secret, a certificate assertion or a federated OIDC assertion; ``device_code``;
``authorization_code`` with PKCE; ``refresh_token``), the device-code and authorize endpoints
(a person "signs in" through :meth:`AuthorityServer.approve_device_code` or ``signed_in_user``),
and the App Service managed-identity endpoint.
Refusals use Entra's OAuth error JSON (``invalid_client``, ``unauthorized_client``, … with an
AADSTS code). HTTP only: who may sign in and how a credential is checked live in
:class:`~fabric_emulator.tokens.ClientDirectory`; tokens come from the shared ``TokenIssuer``.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import socket
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Unpack
from urllib.parse import parse_qs, urlencode

import trustme
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from fabric_emulator.tokens import (
    FEDERATED_AUDIENCE,
    ClientDirectory,
    ClientRegistration,
    FederatedTrust,
    OAuthError,
    TokenIssuer,
    b64url_encode,
    scope_audience,
)

__all__ = ["FEDERATED_AUDIENCE", "AuthorityServer", "OAuthError"]

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass(frozen=True, slots=True)
class _AuthCode:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    user: str
    nonce: str | None


@dataclass(slots=True)
class _DeviceCode:
    client_id: str
    scope: str
    user_code: str
    expires_at: float
    user: str | None = None


class AuthorityServer:
    """The emulator's OAuth authority on ``https://127.0.0.1:PORT/<tenant>`` (own CA, via trustme)."""

    def __init__(
        self,
        issuer: TokenIssuer,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tenant: str = "emulator-tenant",
        token_lifetime_s: int = 3600,
    ) -> None:
        self.issuer = issuer
        self.host = host
        self.tenant = tenant
        self.token_lifetime_s = token_lifetime_s
        self._requested_port = port
        self.directory = ClientDirectory(tenant, issuer.now)
        self._device_codes: dict[str, _DeviceCode] = {}
        self._refresh_tokens: dict[str, tuple[str, str]] = {}  # token → (client_id, user)
        self._auth_codes: dict[str, _AuthCode] = {}
        # Who "signs in" when a browser reaches /authorize (interactive sign-in); None refuses.
        self.signed_in_user: str | None = None
        self._managed_identity_header: str | None = None
        self._managed_identity_principal = "emulator-managed-identity"
        self._lock = threading.Lock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0
        self.ca_file = ""
        self.app = Starlette(
            routes=[
                Route("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery),
                Route("/{tenant}/discovery/v2.0/keys", self._keys),
                Route("/{tenant}/oauth2/v2.0/token", self._token, methods=["POST"]),
                Route("/{tenant}/oauth2/v2.0/devicecode", self._devicecode, methods=["POST"]),
                Route("/{tenant}/oauth2/v2.0/authorize", self._authorize),
                Route("/msi/token", self._managed_identity),
            ]
        )

    # -- registrations (callable before or after start) ------------------------------------------

    def register_client(
        self, client_id: str, *, secret: str | None = None, certificate_pem: bytes | None = None
    ) -> None:
        """An app registration with a client secret and/or a certificate (PEM); with neither it
        is a public client (device code)."""
        self.directory.register_client(client_id, secret=secret, certificate_pem=certificate_pem)

    def trust_federated_issuer(
        self, issuer: str, public_key_pem: bytes, **credential: Unpack[FederatedTrust]
    ) -> None:
        """As :meth:`ClientDirectory.trust_federated_issuer`: an Entra federated credential."""
        self.directory.trust_federated_issuer(issuer, public_key_pem, **credential)

    def enable_managed_identity(
        self, identity_header: str, *, principal: str = "emulator-managed-identity"
    ) -> str:
        """Serve the App Service managed-identity protocol; returns its IDENTITY_ENDPOINT (so call
        it after ``start``). msal finds it through IDENTITY_ENDPOINT + IDENTITY_HEADER."""
        self._managed_identity_header = identity_header
        self._managed_identity_principal = principal
        return f"https://{self._url_host}:{self.port}/msi/token"

    def approve_device_code(self, user_code: str, *, user: str = "user@emulator.invalid") -> None:
        """What the person does in the browser: sign in and enter the code."""
        with self._lock:
            for pending in self._device_codes.values():
                if pending.user_code == user_code:
                    pending.user = user
                    return
        raise KeyError(f"no pending device code {user_code}")

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def authority_url(self) -> str:
        return f"https://{self._url_host}:{self.port}/{self.tenant}"

    @property
    def _url_host(self) -> str:
        # Listening on every interface still means clients on this machine use loopback.
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"[{host}]" if ":" in host else host

    @property
    def token_endpoint(self) -> str:
        return f"{self.authority_url}/oauth2/v2.0/token"

    def start(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="fabric-emulator-authority-")
        ca = trustme.CA()
        ca_path = Path(self._tmp.name) / "ca.pem"
        cert_path = Path(self._tmp.name) / "server.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        ca.issue_cert(
            self._url_host.strip("[]"), "localhost"
        ).private_key_and_cert_chain_pem.write_to_path(str(cert_path))
        self.ca_file = str(ca_path)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = self._socket = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # As on the API server: accepted connections inherit it, so no 40 ms Nagle/delayed-ACK stall.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self._requested_port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", ssl_certfile=str(cert_path), access_log=False
        )
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="fabric-emulator-authority", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator authority did not start on {self.host}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> AuthorityServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- endpoints --------------------------------------------------------------------------------

    def _check_tenant(self, request: Request) -> None:
        if request.path_params["tenant"] != self.tenant:
            raise OAuthError(
                "invalid_request", 90002, f"Tenant '{request.path_params['tenant']}' not found."
            )

    async def _discovery(self, request: Request) -> JSONResponse:
        try:
            self._check_tenant(request)
        except OAuthError as exc:
            return _error(exc)
        base = self.authority_url
        return JSONResponse(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": self.token_endpoint,
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "tenant_region_scope": None,
                "cloud_instance_name": "fabric-emulator.invalid",
            }
        )

    async def _keys(self, request: Request) -> JSONResponse:
        return JSONResponse(self.issuer.jwks())

    async def _authorize(self, request: Request) -> Response:
        # The browser step of interactive sign-in: whoever `signed_in_user` names consents at
        # once, and the browser is sent back to the app's localhost redirect with a code.
        query = request.query_params
        redirect_uri = query.get("redirect_uri", "")
        try:
            self._check_tenant(request)
            client_id = self.directory.client(query.get("client_id", "")).client_id
            if query.get("response_type") != "code":
                raise OAuthError("unsupported_response_type", 70005, "Only response_type=code.")
            if not redirect_uri.startswith(("http://localhost:", "http://127.0.0.1:")):
                raise OAuthError(
                    "invalid_request",
                    50011,
                    f"The redirect URI '{redirect_uri}' "
                    "does not match the redirect URIs configured for the application.",
                )
            if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
                raise OAuthError(
                    "invalid_request",
                    9002325,
                    "Proof Key for Code Exchange is "
                    "required for cross-origin authorization code redemption.",
                )
            if self.signed_in_user is None:
                raise OAuthError(
                    "interaction_required",
                    50058,
                    "Nobody is signed in to the "
                    "emulator authority (set AuthorityServer.signed_in_user).",
                )
        except OAuthError as exc:
            return _error(exc)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._auth_codes[code] = _AuthCode(
                client_id,
                redirect_uri,
                query["code_challenge"],
                query.get("scope", ""),
                self.signed_in_user,
                query.get("nonce"),
            )
        answer = {"code": code, "state": query.get("state", "")}
        if query.get("response_mode") == "form_post":
            # msal asks for form_post: the browser POSTs the code to the redirect URI.
            fields = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in answer.items()
            )
            return HTMLResponse(
                f'<html><body onload="document.forms[0].submit()"><form method="post" '
                f'action="{html.escape(redirect_uri)}">{fields}</form></body></html>'
            )
        return RedirectResponse(f"{redirect_uri}?{urlencode(answer)}", status_code=302)

    async def _devicecode(self, request: Request) -> JSONResponse:
        form = await _form(request)
        try:
            self._check_tenant(request)
            client_id = form.get("client_id", "")
            self.directory.client(client_id)
            device_code = secrets.token_urlsafe(24)
            user_code = secrets.token_hex(4).upper()
            with self._lock:
                self._device_codes[device_code] = _DeviceCode(
                    client_id, form.get("scope", ""), user_code, self._now() + 900
                )
        except OAuthError as exc:
            return _error(exc)
        uri = f"https://{self._url_host}:{self.port}/devicelogin"
        return JSONResponse(
            {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": uri,
                "expires_in": 900,
                "interval": 1,
                "message": f"To sign in, open {uri} and enter the code {user_code} to authenticate.",
            }
        )

    async def _token(self, request: Request) -> JSONResponse:
        form = await _form(request)
        try:
            self._check_tenant(request)
            return JSONResponse(self._grant(form))
        except OAuthError as exc:
            return _error(exc)

    async def _managed_identity(self, request: Request) -> JSONResponse:
        expected = self._managed_identity_header
        given = request.headers.get("x-identity-header", "")
        if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
            return JSONResponse(
                {"statusCode": 400, "message": "Invalid X-IDENTITY-HEADER."}, status_code=400
            )
        resource = request.query_params.get("resource", "")
        principal = request.query_params.get("client_id") or self._managed_identity_principal
        token = self.issuer.issue(
            principal,
            lifetime_s=self.token_lifetime_s,
            audience=resource.removesuffix("/.default"),
            claims={"appid": principal, "idtyp": "app", "tid": self.tenant},
        )
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "Bearer",
                "resource": resource,
                "expires_on": str(int(self._now()) + self.token_lifetime_s),
                "client_id": principal,
            }
        )

    # -- grants -----------------------------------------------------------------------------------

    def _now(self) -> float:
        return self.issuer.now()

    def _grant(self, form: dict[str, str]) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        client = self.directory.client(form.get("client_id", ""))
        if grant_type == "client_credentials":
            self.directory.authenticate(client, form, audiences=self._assertion_audiences())
            audience = scope_audience(form.get("scope", ""))
            return self._access_token(client.client_id, audience, app=True)
        if grant_type == DEVICE_CODE_GRANT:
            return self._device_grant(client, form.get("device_code", ""))
        if grant_type == "authorization_code":
            return self._code_grant(client, form)
        if grant_type == "refresh_token":
            with self._lock:
                owner = self._refresh_tokens.pop(form.get("refresh_token", ""), None)
            if owner is None or owner[0] != client.client_id:
                raise OAuthError("invalid_grant", 70000, "The provided refresh token is not valid.")
            return self._user_tokens(client.client_id, owner[1], form.get("scope", ""))
        raise OAuthError(
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant_type}'.",
        )

    def _code_grant(self, client: ClientRegistration, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            pending = self._auth_codes.pop(form.get("code", ""), None)
        if (
            pending is None
            or pending.client_id != client.client_id
            or pending.redirect_uri != form.get("redirect_uri")
        ):
            raise OAuthError("invalid_grant", 70000, "The provided authorization code is not valid.")
        verifier = form.get("code_verifier", "").encode()
        if b64url_encode(hashlib.sha256(verifier).digest()) != pending.challenge:
            raise OAuthError(
                "invalid_grant",
                501481,
                "The Code_Verifier does not match the "
                "code_challenge supplied in the authorization request.",
            )
        scope = form.get("scope") or pending.scope
        return self._user_tokens(client.client_id, pending.user, scope, nonce=pending.nonce)

    def _assertion_audiences(self) -> tuple[str, ...]:
        # Entra accepts the token endpoint; msal uses it. The authority URLs are accepted too.
        return (self.token_endpoint, self.authority_url, f"{self.authority_url}/v2.0")

    def _device_grant(self, client: ClientRegistration, device_code: str) -> dict[str, Any]:
        with self._lock:
            pending = self._device_codes.get(device_code)
            if pending is None or pending.client_id != client.client_id:
                raise OAuthError("invalid_grant", 70000, "The provided device code is not valid.")
            if self._now() > pending.expires_at:
                del self._device_codes[device_code]
                raise OAuthError("expired_token", 70020, "The device code has expired.")
            if pending.user is None:
                raise OAuthError(
                    "authorization_pending", 70016, "The user has not yet finished authenticating."
                )
            del self._device_codes[device_code]
        return self._user_tokens(client.client_id, pending.user, pending.scope)

    def _access_token(
        self, client_id: str, audience: str, *, app: bool, user: str | None = None
    ) -> dict[str, Any]:
        claims: dict[str, Any] = {"tid": self.tenant, "idtyp": "app" if app else "user"}
        if app:
            claims["appid"] = client_id
        token = self.issuer.issue(
            user or client_id, lifetime_s=self.token_lifetime_s, audience=audience, claims=claims
        )
        return {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime_s,
            "ext_expires_in": self.token_lifetime_s,
            "access_token": token,
        }

    def _user_tokens(
        self, client_id: str, user: str, scope: str, *, nonce: str | None = None
    ) -> dict[str, Any]:
        audience = scope_audience(scope)
        result = self._access_token(client_id, audience, app=False, user=user)
        now = int(self._now())
        uid = str(uuid.uuid5(uuid.NAMESPACE_URL, user))
        result["id_token"] = self.issuer.issue(
            uid,
            audience=client_id,
            claims={
                "iss": f"{self.authority_url}/v2.0",
                "tid": self.tenant,
                "oid": uid,
                "preferred_username": user,
                **({"nonce": nonce} if nonce else {}),
                "name": user,
                "iat": now,
            },
        )
        result["client_info"] = b64url_encode(json.dumps({"uid": uid, "utid": self.tenant}).encode())
        result["scope"] = scope
        refresh = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh_tokens[refresh] = (client_id, user)
        result["refresh_token"] = refresh
        return result


def _error(exc: OAuthError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status)


async def _form(request: Request) -> dict[str, str]:
    # starlette's request.form() needs python-multipart; a urlencoded body is all OAuth sends.
    body = (await request.body()).decode("utf-8", errors="replace")
    return {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}
