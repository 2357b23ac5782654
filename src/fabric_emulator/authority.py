"""Strict auth, authority side: a minimal offline Entra ID (OAuth request → Fabric access token).

Enough of ``login.microsoftonline.com`` for msal's real flows to run against 127.0.0.1 over TLS:
the OpenID discovery document and keys, the v2.0 token endpoint (``client_credentials`` with a
client secret, a certificate assertion or a federated OIDC assertion; ``device_code``;
``refresh_token``), the device-code endpoint, and the App Service managed-identity endpoint.
Refusals use Entra's OAuth error JSON (``invalid_client``, ``unauthorized_client``, … with an
AADSTS code). Access tokens come from the shared :class:`~fabric_emulator.tokens.TokenIssuer`.
"""

from __future__ import annotations

import hmac
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
from typing import Any
from urllib.parse import parse_qs

import trustme
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fabric_emulator.tokens import (
    TokenIssuer,
    TokenRejected,
    b64url_encode,
    check_lifetime,
    decode_unverified,
    verify_signature,
)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"


class OAuthError(Exception):
    """An OAuth refusal; serialised as Entra's error JSON with an AADSTS code."""

    def __init__(self, error: str, aadsts: int, description: str, *, status: int = 400) -> None:
        self.error = error
        self.aadsts = aadsts
        self.description = description
        self.status = status
        super().__init__(f"{error}: AADSTS{aadsts}: {description}")

    def response(self) -> JSONResponse:
        trace = str(uuid.uuid4())
        return JSONResponse(
            {
                "error": self.error,
                "error_description": f"AADSTS{self.aadsts}: {self.description} Trace ID: {trace}",
                "error_codes": [self.aadsts],
                "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
                "trace_id": trace,
                "correlation_id": str(uuid.uuid4()),
            },
            status_code=self.status,
        )


@dataclass(frozen=True, slots=True)
class ClientRegistration:
    """An app registration: a client secret and/or a certificate (public key + thumbprints)."""

    client_id: str
    secret: str | None = None
    public_key: rsa.RSAPublicKey | None = None
    sha1_thumbprint: str | None = None  # base64url, as in the JWS `x5t` header
    sha256_thumbprint: str | None = None  # base64url, as in `x5t#S256`

    def __repr__(self) -> str:
        return f"ClientRegistration(client_id={self.client_id!r})"


@dataclass(frozen=True, slots=True)
class FederatedCredential:
    """A trusted (issuer, subject, audience) for a client: workload identity federation."""

    client_id: str
    issuer: str
    subject: str
    audience: str
    public_key: rsa.RSAPublicKey


@dataclass(slots=True)
class _DeviceCode:
    client_id: str
    scope: str
    user_code: str
    expires_at: float
    user: str | None = None


def _scope_audience(scope: str) -> str:
    resources = [s for s in scope.split() if s not in ("openid", "profile", "offline_access")]
    if len(resources) != 1 or not resources[0].endswith("/.default"):
        raise OAuthError(
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential "
            "flows must have a scope value with /.default suffixed to the resource "
            "identifier (application ID URI).",
        )
    return resources[0].removesuffix("/.default")


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
        self._clients: dict[str, ClientRegistration] = {}
        self._federated: list[FederatedCredential] = []
        self._device_codes: dict[str, _DeviceCode] = {}
        self._refresh_tokens: dict[str, tuple[str, str]] = {}  # token → (client_id, user)
        self._managed_identity_header: str | None = None
        self._managed_identity_principal = "emulator-managed-identity"
        self._lock = threading.Lock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
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
        public_key = sha1 = sha256 = None
        if certificate_pem is not None:
            cert = x509.load_pem_x509_certificate(certificate_pem)
            key = cert.public_key()
            if not isinstance(key, rsa.RSAPublicKey):
                raise ValueError("the emulator authority accepts RSA certificates only")
            public_key = key
            sha1 = b64url_encode(cert.fingerprint(hashes.SHA1()))  # x5t is SHA-1 by definition
            sha256 = b64url_encode(cert.fingerprint(hashes.SHA256()))
        self._clients[client_id] = ClientRegistration(client_id, secret, public_key, sha1, sha256)

    def trust_federated_issuer(
        self,
        issuer: str,
        public_key_pem: bytes,
        *,
        client_id: str,
        subject: str,
        audience: str = FEDERATED_AUDIENCE,
    ) -> None:
        """Accept, for ``client_id``, assertions from ``issuer`` about ``subject`` (e.g. a GitHub
        Actions ``repo:org/repo:ref:refs/heads/main``), as an Entra federated credential does."""
        key = serialization.load_pem_public_key(public_key_pem)
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the emulator authority accepts RSA federated issuers only")
        self._clients.setdefault(client_id, ClientRegistration(client_id))
        credential = FederatedCredential(client_id, issuer, subject, audience, key)
        # One record per (client, issuer, subject, audience): trusting again replaces the key.
        self._federated = [
            c
            for c in self._federated
            if (c.client_id, c.issuer, c.subject, c.audience) != (client_id, issuer, subject, audience)
        ] + [credential]

    def enable_managed_identity(
        self, identity_header: str, *, principal: str = "emulator-managed-identity"
    ) -> str:
        """Serve the App Service managed-identity protocol; returns its IDENTITY_ENDPOINT."""
        self._managed_identity_header = identity_header
        self._managed_identity_principal = principal
        return f"https://{self.host}:{self.port}/msi/token"

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
        return f"https://{self.host}:{self.port}/{self.tenant}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.authority_url}/oauth2/v2.0/token"

    def start(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="fabric-emulator-authority-")
        ca = trustme.CA()
        ca_path = Path(self._tmp.name) / "ca.pem"
        cert_path = Path(self._tmp.name) / "server.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        ca.issue_cert(self.host, "localhost").private_key_and_cert_chain_pem.write_to_path(
            str(cert_path)
        )
        self.ca_file = str(ca_path)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
            return exc.response()
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

    async def _authorize(self, request: Request) -> JSONResponse:
        return OAuthError(
            "unsupported_response_type",
            500021,
            "The emulator authority has no browser sign-in; use device code.",
        ).response()

    async def _devicecode(self, request: Request) -> JSONResponse:
        form = await _form(request)
        try:
            self._check_tenant(request)
            client_id = form.get("client_id", "")
            self._client(client_id)
            device_code = secrets.token_urlsafe(24)
            user_code = secrets.token_hex(4).upper()
            with self._lock:
                self._device_codes[device_code] = _DeviceCode(
                    client_id, form.get("scope", ""), user_code, time.time() + 900
                )
        except OAuthError as exc:
            return exc.response()
        uri = f"https://{self.host}:{self.port}/devicelogin"
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
            return exc.response()

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

    def _client(self, client_id: str) -> ClientRegistration:
        client = self._clients.get(client_id)
        if client is None:
            raise OAuthError(
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the "
                f"directory '{self.tenant}'.",
            )
        return client

    def _grant(self, form: dict[str, str]) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        client = self._client(form.get("client_id", ""))
        if grant_type == "client_credentials":
            self._authenticate(client, form)
            audience = _scope_audience(form.get("scope", ""))
            return self._access_token(client.client_id, audience, app=True)
        if grant_type == DEVICE_CODE_GRANT:
            return self._device_grant(client, form.get("device_code", ""))
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

    def _authenticate(self, client: ClientRegistration, form: dict[str, str]) -> None:
        assertion = form.get("client_assertion")
        if assertion:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise OAuthError("invalid_client", 50027, "Invalid client_assertion_type.", status=401)
            self._check_assertion(client, assertion)
        elif "client_secret" in form:
            if client.secret is None or not hmac.compare_digest(
                form["client_secret"].encode(), client.secret.encode()
            ):
                raise OAuthError(
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent "
                    f"in the request is the client secret value for app "
                    f"'{client.client_id}'.",
                    status=401,
                )
        else:
            raise OAuthError(
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: "
                "'client_assertion' or 'client_secret'.",
                status=401,
            )

    def _check_assertion(self, client: ClientRegistration, assertion: str) -> None:
        try:
            header, claims = decode_unverified(assertion)
            if claims.get("iss") == client.client_id:
                self._check_certificate_assertion(client, header, assertion)
            else:
                self._check_federated_assertion(client, claims, assertion)
        except TokenRejected as exc:
            if exc.error_code == "TokenExpired":
                raise OAuthError(
                    "invalid_client",
                    700024,
                    "Client assertion is not within its valid time range.",
                    status=401,
                ) from exc
            raise OAuthError(
                "invalid_client",
                700027,
                f"Client assertion failed signature validation: {exc.message}.",
                status=401,
            ) from exc

    def _check_certificate_assertion(
        self, client: ClientRegistration, header: dict[str, Any], assertion: str
    ) -> None:
        # msal pads the base64url thumbprints with "="; RFC 7515 does not. Accept both.
        sha256 = str(header.get("x5t#S256") or "").rstrip("=")
        sha1 = str(header.get("x5t") or "").rstrip("=")
        matches = client.public_key is not None and (
            (bool(sha256) and sha256 == client.sha256_thumbprint)
            or (bool(sha1) and sha1 == client.sha1_thumbprint)
        )
        if not matches or client.public_key is None:
            raise OAuthError(
                "invalid_client",
                700027,
                "The certificate with identifier used to "
                f"sign the client assertion is not registered on application "
                f"'{client.client_id}'.",
                status=401,
            )
        claims = verify_signature(assertion, client.public_key)
        check_lifetime(claims, self._now())
        if claims.get("sub") != client.client_id or claims.get("aud") not in (
            self.token_endpoint,
            self.authority_url,
            f"{self.authority_url}/v2.0",
        ):
            raise OAuthError(
                "invalid_client",
                700023,
                "Client assertion audience claim does not "
                "match the token endpoint, or its subject is not the client.",
                status=401,
            )

    def _check_federated_assertion(
        self, client: ClientRegistration, claims: dict[str, Any], assertion: str
    ) -> None:
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        for credential in self._federated:
            if (
                credential.client_id == client.client_id
                and credential.issuer == claims.get("iss")
                and credential.subject == claims.get("sub")
                and credential.audience in audiences
            ):
                verified = verify_signature(assertion, credential.public_key)
                check_lifetime(verified, self._now())
                return
        raise OAuthError(
            "invalid_client",
            70021,
            "No matching federated identity record found "
            f"for presented assertion issuer '{claims.get('iss')}' and subject "
            f"'{claims.get('sub')}'.",
            status=401,
        )

    def _device_grant(self, client: ClientRegistration, device_code: str) -> dict[str, Any]:
        with self._lock:
            pending = self._device_codes.get(device_code)
            if pending is None or pending.client_id != client.client_id:
                raise OAuthError("invalid_grant", 70000, "The provided device code is not valid.")
            if time.time() > pending.expires_at:
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

    def _user_tokens(self, client_id: str, user: str, scope: str) -> dict[str, Any]:
        audience = _scope_audience(scope)
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


async def _form(request: Request) -> dict[str, str]:
    # starlette's request.form() needs python-multipart; a urlencoded body is all OAuth sends.
    body = (await request.body()).decode("utf-8", errors="replace")
    return {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}
