"""Fabric client layer, auth: msal-backed token providers (credentials → bearer token).

One provider per ``auth.method``: client secret, certificate, workload identity federation (the
OIDC assertion comes from a source in ``auth.py``), managed identity, device code and
interactive. Each implements :class:`~dataflow_gitops.fabric.auth.TokenProvider`, builds its msal
application lazily (msal contacts the authority in its constructor; ``dfg validate`` must stay
offline), persists the msal cache after every acquisition, and turns msal's error payloads into
one-line :class:`AuthError` messages with every secret and token scrubbed out.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msal
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from dataflow_gitops.errors import AuthError
from dataflow_gitops.fabric.token_cache import TokenCacheFile, drop_access_tokens

log = logging.getLogger(__name__)
_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
_TRACE = re.compile(r"\s*(Trace ID|Correlation ID|Timestamp):.*$", re.IGNORECASE | re.DOTALL)


def scrub(text: str, secrets: Sequence[str | None]) -> str:
    """One line of ``text`` with secrets, JWTs and Entra trace noise removed."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _JWT.sub("<token>", text)
    text = _TRACE.sub("", text)
    return " ".join(text.split())


def msal_http_session(ca_file: str | None) -> requests.Session:
    """The HTTP client msal uses; with ``ca_file`` (the emulator's authority) trust only that CA.

    ``trust_env`` is off then, because ``REQUESTS_CA_BUNDLE`` would otherwise override ``verify``.
    """
    session = requests.Session()
    if ca_file is not None:
        session.verify = ca_file
        session.trust_env = False
    return session


def _describe_failure(exc: Exception, authority: str) -> tuple[str, str]:
    """(what went wrong, what to do) for an exception out of msal or its HTTP client."""
    if isinstance(exc, requests.exceptions.SSLError):
        return (
            f"the TLS certificate of {authority} is not trusted",
            "check auth.ca_file or the system CA store",
        )
    if isinstance(exc, requests.RequestException):
        return (
            f"cannot reach {authority} ({type(exc).__name__})",
            "check auth.authority_host and the network or proxy settings",
        )
    if isinstance(exc, ValueError) and "authority configuration" in str(exc):
        # msal's ValueError when OpenID discovery fails: an unknown tenant or a wrong host.
        return (
            f"{authority} has no OpenID configuration (unknown tenant?)",
            "check auth.tenant_id and auth.authority_host",
        )
    if isinstance(exc, RuntimeError):
        return str(exc), "run the command again and finish signing in within a few minutes"
    return str(exc), "check the auth: settings of this environment"


# -- providers ------------------------------------------------------------------------------------


class MsalTokenProvider:
    """Shared machinery: lazy msal app, one lock, cache persisted, msal errors → AuthError."""

    method = "msal"
    authority: str | None = None

    def __init__(
        self,
        *,
        identity: str,
        where: str,
        cache: TokenCacheFile | None,
        ca_file: str | None,
        secrets: Sequence[str | None] = (),
    ) -> None:
        self._identity = identity
        self._where = where
        self._cache_file = cache
        self._ca_file = ca_file
        self._secrets = tuple(secrets)
        self._session: requests.Session | None = None
        self._app: Any = None
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def token_cache(self) -> msal.SerializableTokenCache | None:
        return self._cache_file.cache if self._cache_file is not None else None

    def get_token(self, *, force_refresh: bool = False) -> str:
        with self._lock:
            try:
                if self._session is None:
                    self._session = msal_http_session(self._ca_file)
                if self._app is None:
                    self._app = self._build_app(self._session)
                result = self._acquire(self._app, force_refresh=force_refresh)
            except AuthError:
                raise
            # RuntimeError: msal's BrowserInteractionTimeoutError when nobody finishes signing in.
            except (ValueError, KeyError, OSError, RuntimeError, requests.RequestException) as exc:
                what, hint = _describe_failure(exc, self.authority or "the identity endpoint")
                raise AuthError(
                    f"{self.method} sign-in for {self._identity} failed: {scrub(what, self._secrets)}",
                    where=self._where,
                    hint=hint,
                ) from None
            finally:
                if self._cache_file is not None:
                    self._cache_file.save()
        return self._token_from(result)

    def _token_from(self, result: Mapping[str, Any] | None) -> str:
        if result and isinstance(result.get("access_token"), str):
            token: str = result["access_token"]
            return token
        error = (result or {}).get("error", "no_token")
        description = scrub(str((result or {}).get("error_description", "")), self._secrets)
        raise AuthError(
            f"{self.method} sign-in for {self._identity} failed: {error}: {description}".rstrip(": "),
            where=self._where,
            hint=self._hint(error),
        )

    def _hint(self, error: str) -> str:
        if error == "invalid_client":
            return "check the credential configured under auth: for this environment"
        if error == "unauthorized_client":
            return "check auth.client_id and auth.tenant_id"
        return "check the auth: settings of this environment"

    def _build_app(self, session: requests.Session) -> Any:
        raise NotImplementedError

    def _acquire(self, app: Any, *, force_refresh: bool) -> Mapping[str, Any] | None:
        raise NotImplementedError

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        self._app = None

    def __enter__(self) -> MsalTokenProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(identity={self._identity!r})"


class AppRegistrationProvider(MsalTokenProvider):
    """Signs in through an app registration (client id) at one Entra tenant's authority."""

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        authority_host: str,
        scope: str,
        identity: str,
        cache: TokenCacheFile | None,
        ca_file: str | None,
        where: str,
        secrets: Sequence[str | None] = (),
    ) -> None:
        super().__init__(identity=identity, where=where, cache=cache, ca_file=ca_file, secrets=secrets)
        self.client_id = client_id
        self.authority = f"{authority_host.rstrip('/')}/{tenant_id}"
        self.scope = scope


class ConfidentialClientProvider(AppRegistrationProvider):
    """An app registration signing in as itself (client-credentials grant)."""

    def __init__(self, *, client_id: str, **kwargs: Any) -> None:
        super().__init__(client_id=client_id, identity=client_id, **kwargs)

    def _credential(self) -> Any:
        raise NotImplementedError

    def _build_app(self, session: requests.Session) -> Any:
        return msal.ConfidentialClientApplication(
            self.client_id,
            client_credential=self._credential(),
            authority=self.authority,
            instance_discovery=False,
            http_client=session,
            token_cache=self.token_cache,
        )

    def _acquire(self, app: Any, *, force_refresh: bool) -> Mapping[str, Any] | None:
        if force_refresh:
            app.remove_tokens_for_client()
        result: Mapping[str, Any] | None = app.acquire_token_for_client(scopes=[self.scope])
        return result


class ClientSecretProvider(ConfidentialClientProvider):
    method = "client_secret"

    def __init__(self, *, client_secret: str, **kwargs: Any) -> None:
        super().__init__(secrets=(client_secret,), **kwargs)
        self._client_secret = client_secret

    def _credential(self) -> Any:
        return self._client_secret


class CertificateProvider(ConfidentialClientProvider):
    """A certificate credential from a PEM (key + certificate) or PFX file.

    ``thumbprint`` is the SHA-1 hex the Azure portal shows; msal signs with PS256 and the
    SHA-256 thumbprint (``x5t#S256``), which Entra prefers.
    """

    method = "certificate"

    def __init__(
        self, *, certificate_path: str, certificate_password: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(secrets=(certificate_password,), **kwargs)
        self.certificate_path = certificate_path
        self._key_pem, self._cert_pem, self.thumbprint = _load_certificate(
            Path(certificate_path).expanduser(), certificate_password
        )

    def _credential(self) -> Any:
        return {"private_key": self._key_pem, "public_certificate": self._cert_pem}


def _load_certificate(path: Path, password: str | None) -> tuple[str, str, str]:
    hint = "check auth.certificate_path and auth.certificate_password"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuthError(
            f"cannot read the certificate file: {exc.strerror}", where=str(path), hint=hint
        ) from None
    secret = password.encode() if password else None
    try:
        if path.suffix.lower() in (".pfx", ".p12"):
            key, cert, _ = pkcs12.load_key_and_certificates(data, secret)
        else:
            key = serialization.load_pem_private_key(data, secret)
            cert = _first_certificate(data)
    except (ValueError, TypeError) as exc:
        detail = "wrong or missing password" if "password" in str(exc).lower() else "not a key"
        raise AuthError(
            f"cannot load the private key from the certificate file ({detail})",
            where=str(path),
            hint=hint,
        ) from None
    if key is None or cert is None:
        raise AuthError(
            "the certificate file must contain both the private key and the certificate",
            where=str(path),
            hint=hint,
        )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()  # what the portal lists
    return key_pem, cert_pem, thumbprint


def _first_certificate(pem: bytes) -> x509.Certificate | None:
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        return None
    return x509.load_pem_x509_certificates(pem)[0]


class WorkloadIdentityProvider(ConfidentialClientProvider):
    """Workload identity federation: a CI system's OIDC token is the client assertion."""

    method = "workload_identity"

    def __init__(self, *, assertion: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.assertion = assertion

    def _credential(self) -> Any:
        # msal calls this for every token request, so a rotated or expired assertion is renewed.
        return {"client_assertion": self.assertion}


class ManagedIdentityProvider(MsalTokenProvider):
    """An Azure managed identity (system-assigned, or user-assigned when ``client_id`` is set)."""

    method = "managed_identity"

    def __init__(
        self,
        *,
        client_id: str | None,
        scope: str,
        cache: TokenCacheFile | None,
        ca_file: str | None = None,
        where: str = "auth (managed_identity)",
    ) -> None:
        super().__init__(
            identity=f"managed-identity:{client_id or 'system'}",
            where=where,
            cache=cache,
            ca_file=ca_file,
        )
        self.client_id = client_id
        self.resource = scope.removesuffix("/.default")

    def _build_app(self, session: requests.Session) -> Any:
        identity: Any = (
            msal.UserAssignedManagedIdentity(client_id=self.client_id)
            if self.client_id
            else msal.SystemAssignedManagedIdentity()
        )
        return msal.ManagedIdentityClient(identity, http_client=session, token_cache=self.token_cache)

    def _acquire(self, app: Any, *, force_refresh: bool) -> Mapping[str, Any] | None:
        if force_refresh and self.token_cache is not None:
            # msal files managed-identity tokens under realm "managed_identity", keyed by its id.
            query: dict[str, str | None] = {"realm": "managed_identity"}
            if self.client_id:
                query["client_id"] = self.client_id
            drop_access_tokens(self.token_cache, query)
        result: Mapping[str, Any] | None = app.acquire_token_for_client(resource=self.resource)
        return result

    def _hint(self, error: str) -> str:
        return "run where a managed identity is assigned (Azure VM, App Service, Functions)"


class PublicClientProvider(AppRegistrationProvider):
    """A person signs in; later calls reuse the cached account silently."""

    def __init__(self, *, client_id: str, **kwargs: Any) -> None:
        # A stable name: the throttle and the logs key on it for the whole run.
        super().__init__(client_id=client_id, identity=f"user@{client_id}", **kwargs)

    def _build_app(self, session: requests.Session) -> Any:
        return msal.PublicClientApplication(
            self.client_id,
            authority=self.authority,
            instance_discovery=False,
            http_client=session,
            token_cache=self.token_cache,
        )

    def _acquire(self, app: Any, *, force_refresh: bool) -> Mapping[str, Any] | None:
        accounts = app.get_accounts()
        if accounts:
            result = app.acquire_token_silent(
                [self.scope], account=accounts[0], force_refresh=force_refresh
            )
            if result and "access_token" in result:
                return dict(result)
        return self._sign_in(app)

    def _sign_in(self, app: Any) -> Mapping[str, Any] | None:
        raise NotImplementedError


class DeviceCodeProvider(PublicClientProvider):
    """Device code sign-in: ``notify`` shows the person the URL and code (the CLI prints it)."""

    method = "device_code"

    def __init__(self, *, notify: Callable[[str], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._notify = notify or (lambda message: log.warning("%s", message))

    def _sign_in(self, app: Any) -> Mapping[str, Any] | None:
        flow = app.initiate_device_flow(scopes=[self.scope])
        if "user_code" not in flow:
            return dict(flow)
        self._notify(str(flow["message"]))
        result: Mapping[str, Any] | None = app.acquire_token_by_device_flow(flow)
        return result


class InteractiveProvider(PublicClientProvider):
    """Browser sign-in on this machine: msal opens the browser and waits on a localhost redirect
    (the app registration needs the ``http://localhost`` redirect URI)."""

    method = "interactive"
    # Long enough for a person, short enough that a forgotten prompt does not hang a run forever.
    timeout_s = 300

    def _sign_in(self, app: Any) -> Mapping[str, Any] | None:
        result: Mapping[str, Any] | None = app.acquire_token_interactive(
            [self.scope], prompt="select_account", timeout=self.timeout_s
        )
        return result
