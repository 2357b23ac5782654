"""Fabric client layer, auth: access tokens for the Fabric API (AuthSettings → TokenProvider).

A :class:`TokenProvider` hands the client a bearer token; the client calls it again with
``force_refresh=True`` once after a 401 ``TokenExpired``. Providers never log or repr a secret.

:func:`build_token_provider` turns an overlay's ``auth:`` settings into a provider: ``token``
reads a pre-acquired token from an environment variable; every other method is an msal provider
(``msal_auth.py``). The OIDC assertion sources of workload identity federation (a file, GitHub
Actions, Azure DevOps) live here because they need no msal.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

import httpx

from dataflow_gitops.errors import AuthError

if TYPE_CHECKING:
    from dataflow_gitops.fabric.msal_auth import MsalTokenProvider

FABRIC_SCOPE = "https://api.fabric.microsoft.com/.default"
# The `api: embedded` emulator (non-strict) accepts any non-empty bearer token; this one says what it is.
EMULATOR_TOKEN = "dfg-embedded-emulator"
DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
# Fetch a fresh CI assertion when the cached one has less than this left (GitHub's last ~5 min).
ASSERTION_MARGIN_S = 60
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# Claims become part of a log-visible name: only plain ids (GUIDs and the like) are taken.
_SAFE_CLAIM = re.compile(r"[A-Za-z0-9._-]{1,64}")

AuthMethod = Literal[
    "token",
    "client_secret",
    "certificate",
    "workload_identity",
    "managed_identity",
    "device_code",
    "interactive",
]
AUTH_METHODS: tuple[str, ...] = get_args(AuthMethod)


class TokenProvider(Protocol):
    def get_token(self, *, force_refresh: bool = False) -> str: ...

    @property
    def identity(self) -> str:
        """A non-secret name for the identity (for the per-identity throttle and logs)."""
        ...


class StaticTokenProvider:
    """A pre-acquired token (``auth.method: token``); it cannot refresh itself.

    Without an explicit ``identity`` it is derived from the token (:func:`token_identity`), so two
    different principals never share a throttle pause and two tokens of one principal do.
    """

    def __init__(self, token: str, *, identity: str | None = None) -> None:
        self._token = token
        self._identity = identity or token_identity(token)

    def get_token(self, *, force_refresh: bool = False) -> str:
        return self._token

    @property
    def identity(self) -> str:
        return self._identity

    def __repr__(self) -> str:
        return f"StaticTokenProvider(identity={self._identity!r})"


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """An environment's ``auth:`` block, with ``${env:…}`` references already resolved.

    Secrets are excluded from ``repr``; ``origin`` (``file:line``) only improves error messages.
    """

    method: AuthMethod = "token"
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    certificate_path: str | None = None
    certificate_password: str | None = field(default=None, repr=False)
    token_env: str = "FABRIC_TOKEN"
    federated_token_file: str | None = None
    authority_host: str = DEFAULT_AUTHORITY_HOST
    cache_path: str | None = None
    ca_file: str | None = None
    scope: str = FABRIC_SCOPE
    origin: str | None = None


def build_token_provider(
    settings: AuthSettings,
    *,
    env: Mapping[str, str] | None = None,
    notify: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.time,
    transport: httpx.BaseTransport | None = None,
) -> TokenProvider:
    """The provider for ``settings``; no network until the first ``get_token``.

    ``env`` defaults to ``os.environ``; ``notify`` receives the device-code instructions (the CLI
    prints them); ``clock`` and ``transport`` are seams for tests of the CI assertion sources.
    """
    environ = os.environ if env is None else env
    where = settings.origin or f"auth ({settings.method})"
    if settings.method not in AUTH_METHODS:
        raise AuthError(
            f"unknown auth method {settings.method!r}",
            where=where,
            hint=f"use one of: {', '.join(AUTH_METHODS)}",
        )
    if settings.method == "token":
        token = environ.get(settings.token_env, "").strip()
        if not token:
            raise AuthError(
                f"environment variable {settings.token_env} is not set",
                where=where,
                hint=f"export {settings.token_env}=<a Fabric access token>, e.g. from "
                "`az account get-access-token --resource "
                "https://api.fabric.microsoft.com`, or choose another auth.method",
            )
        # A value copied from an Authorization header still works.
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        return StaticTokenProvider(token)
    return _msal_provider(settings, environ, where, notify, clock, transport)


def _require(settings: AuthSettings, where: str, *names: str) -> list[str]:
    """The values of the named settings, or one AuthError naming every missing one."""
    values = [getattr(settings, name) for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise AuthError(
            f"auth.method {settings.method} needs {', '.join('auth.' + n for n in missing)}",
            where=where,
            hint="add it to the environment overlay (secrets as ${env:NAME})",
        )
    return [str(value) for value in values]


def _msal_provider(
    settings: AuthSettings,
    environ: Mapping[str, str],
    where: str,
    notify: Callable[[str], None] | None,
    clock: Callable[[], float],
    transport: httpx.BaseTransport | None,
) -> MsalTokenProvider:
    # Imported here: msal is slow to import and `dfg validate` / `token` auth never need it.
    from dataflow_gitops.fabric import msal_auth
    from dataflow_gitops.fabric.token_cache import TokenCacheFile

    cache = TokenCacheFile(settings.cache_path)
    if settings.method == "managed_identity":
        return msal_auth.ManagedIdentityProvider(
            client_id=settings.client_id,
            scope=settings.scope,
            cache=cache,
            ca_file=settings.ca_file,
            where=where,
        )
    tenant_id, client_id = _require(settings, where, "tenant_id", "client_id")
    common: dict[str, Any] = {
        "tenant_id": tenant_id,
        "client_id": client_id,
        "authority_host": settings.authority_host,
        "scope": settings.scope,
        "cache": cache,
        "ca_file": settings.ca_file,
    }
    if settings.method == "device_code":
        return msal_auth.DeviceCodeProvider(notify=notify, where=where, **common)
    if settings.method == "interactive":
        return msal_auth.InteractiveProvider(where=where, **common)
    if settings.method == "client_secret":
        [client_secret] = _require(settings, where, "client_secret")
        return msal_auth.ClientSecretProvider(client_secret=client_secret, where=where, **common)
    if settings.method == "certificate":
        [certificate_path] = _require(settings, where, "certificate_path")
        return msal_auth.CertificateProvider(
            certificate_path=certificate_path,
            certificate_password=settings.certificate_password,
            where=where,
            **common,
        )
    assertion = assertion_from_environment(
        environ, federated_token_file=settings.federated_token_file, clock=clock, transport=transport
    )
    return msal_auth.WorkloadIdentityProvider(assertion=assertion, where=where, **common)


# -- OIDC assertions for workload identity federation ---------------------------------------------


def _jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, decoded WITHOUT verification (never trust them for access decisions)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _jwt_expiry(token: str) -> float | None:
    """``exp`` of a JWT, unverified: only to know when to fetch the next assertion."""
    exp = _jwt_claims(token).get("exp")
    return float(exp) if isinstance(exp, int | float) else None


def _claim(claims: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and _SAFE_CLAIM.fullmatch(value):
            return value
    return None


def token_identity(token: str) -> str:
    """A non-secret name for the principal behind ``token`` (throttle key, ``repr``, logs).

    A Microsoft Entra access token names its principal in the (unverified) ``oid`` / ``appid``
    claims and its tenant in ``tid``: Fabric's quota is per principal, so two tokens of one
    principal get one name. Any other token is named by a short sha256 prefix, which tells tokens
    apart without revealing them.
    """
    claims = _jwt_claims(token)
    principal = _claim(claims, "oid", "appid", "azp", "sub")
    if principal:
        tenant = _claim(claims, "tid")
        return f"token:{principal}@{tenant}" if tenant else f"token:{principal}"
    return "token:sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


class FileAssertion:
    """An OIDC token in a file (``AZURE_FEDERATED_TOKEN_FILE``); re-read on every use because
    Kubernetes workload identity rotates it in place."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.description = f"federated token file {self.path}"

    def __call__(self) -> str:
        try:
            token = self.path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AuthError(
                f"cannot read the federated token file: {exc.strerror}",
                where=str(self.path),
                hint="check auth.federated_token_file or AZURE_FEDERATED_TOKEN_FILE",
            ) from None
        if not token:
            raise AuthError(
                "the federated token file is empty",
                where=str(self.path),
                hint="the CI system must write its OIDC token there before dfg runs",
            )
        return token


class _FetchedAssertion:
    """An assertion fetched over HTTP from a CI system, kept until shortly before it expires."""

    description = "CI OIDC endpoint"

    def __init__(
        self, *, clock: Callable[[], float] = time.time, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._clock = clock
        self._transport = transport
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or self._clock() > self._expires_at - ASSERTION_MARGIN_S:
                self._token = self._fetch()
                self._expires_at = _jwt_expiry(self._token) or self._clock() + ASSERTION_MARGIN_S
            return self._token

    def _request(
        self, method: str, url: str, *, bearer: str, params: Mapping[str, str], value_key: str, hint: str
    ) -> str:
        parsed = httpx.URL(url)
        if parsed.scheme != "https" and not (parsed.scheme == "http" and parsed.host in _LOOPBACK_HOSTS):
            # The request token is a credential: plain http is only tolerable on loopback.
            raise AuthError(
                f"refusing to send the CI request token to a non-https URL ({parsed.scheme})",
                where=_origin(url),
                hint=hint,
            )
        try:
            with httpx.Client(transport=self._transport, timeout=30) as client:
                # Merge, not replace: GitHub's request URL already carries `api-version`.
                response = client.request(
                    method,
                    httpx.URL(url).copy_merge_params(params),
                    headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"},
                )
        except httpx.HTTPError as exc:
            raise AuthError(
                f"cannot reach the {self.description}: {type(exc).__name__}",
                where=_origin(url),
                hint=hint,
            ) from None
        if response.status_code != 200:
            raise AuthError(
                f"the {self.description} answered HTTP {response.status_code}",
                where=_origin(url),
                hint=hint,
            )
        try:
            token = response.json()[value_key]
        except (ValueError, KeyError, TypeError):
            token = None
        if not isinstance(token, str) or not token:
            raise AuthError(
                f"the {self.description} returned no '{value_key}'", where=_origin(url), hint=hint
            )
        return token

    def _fetch(self) -> str:
        raise NotImplementedError


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}{parsed.path}"


class GitHubActionsAssertion(_FetchedAssertion):
    """GitHub Actions' ID token (``ACTIONS_ID_TOKEN_REQUEST_URL`` + ``_TOKEN``)."""

    description = "GitHub Actions ID-token endpoint"

    def __init__(
        self,
        request_url: str,
        request_token: str,
        *,
        audience: str = FEDERATION_AUDIENCE,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(clock=clock, transport=transport)
        self._url = request_url
        self._request_token = request_token
        self._audience = audience

    def _fetch(self) -> str:
        return self._request(
            "GET",
            self._url,
            bearer=self._request_token,
            params={"audience": self._audience},
            value_key="value",
            hint="give the workflow job `permissions: id-token: write`",
        )

    def __repr__(self) -> str:
        return f"GitHubActionsAssertion(audience={self._audience!r})"


class AzureDevOpsAssertion(_FetchedAssertion):
    """Azure Pipelines' OIDC token (``SYSTEM_OIDCREQUESTURI`` + ``SYSTEM_ACCESSTOKEN``)."""

    description = "Azure DevOps OIDC endpoint"

    def __init__(
        self,
        request_uri: str,
        access_token: str,
        *,
        service_connection_id: str | None,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(clock=clock, transport=transport)
        self._url = request_uri
        self._access_token = access_token
        self._service_connection_id = service_connection_id

    def _fetch(self) -> str:
        params = {"api-version": "7.1"}
        if self._service_connection_id:
            params["serviceConnectionId"] = self._service_connection_id
        return self._request(
            "POST",
            self._url,
            bearer=self._access_token,
            params=params,
            value_key="oidcToken",
            hint="map SYSTEM_ACCESSTOKEN into the step's env and set "
            "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
        )

    def __repr__(self) -> str:
        return "AzureDevOpsAssertion()"


def assertion_from_environment(
    env: Mapping[str, str],
    *,
    federated_token_file: str | None = None,
    clock: Callable[[], float] = time.time,
    transport: httpx.BaseTransport | None = None,
) -> Callable[[], str]:
    """The first assertion source available: configured file, ``AZURE_FEDERATED_TOKEN_FILE``,
    GitHub Actions, Azure DevOps."""
    path = federated_token_file or env.get("AZURE_FEDERATED_TOKEN_FILE")
    if path:
        return FileAssertion(path)
    if env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        return GitHubActionsAssertion(
            env["ACTIONS_ID_TOKEN_REQUEST_URL"],
            env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
            clock=clock,
            transport=transport,
        )
    if env.get("SYSTEM_OIDCREQUESTURI") and env.get("SYSTEM_ACCESSTOKEN"):
        return AzureDevOpsAssertion(
            env["SYSTEM_OIDCREQUESTURI"],
            env["SYSTEM_ACCESSTOKEN"],
            service_connection_id=env.get("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"),
            clock=clock,
            transport=transport,
        )
    raise AuthError(
        "no OIDC token source for workload identity federation",
        where="auth (workload_identity)",
        hint="in CI: GitHub Actions with `id-token: write`, or Azure Pipelines with "
        "SYSTEM_ACCESSTOKEN mapped, or set AZURE_FEDERATED_TOKEN_FILE; on a laptop: set "
        "`auth: {method: token}` in the overlay and export FABRIC_TOKEN=$(az account "
        "get-access-token --resource https://api.fabric.microsoft.com --query accessToken -o tsv)",
    )
