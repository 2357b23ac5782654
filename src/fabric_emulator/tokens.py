"""Strict auth, no HTTP: tokens and credentials (subject → signed JWT → identity; client
credential → accepted or an OAuth refusal).

:class:`TokenIssuer` signs RS256 JWTs with its own RSA key and verifies them the way Fabric
does: signature, audience, expiry. :class:`ClientDirectory` holds a tenant's app registrations
and federated credentials and checks what a client presents to the token endpoint (a secret, a
certificate assertion, a CI provider's OIDC token). ``authority.py`` puts both behind HTTP.
JWS signing and checking is PyJWT's; lifetimes are checked here, on the emulator's own clock.
"""

from __future__ import annotations

import base64
import hmac
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

FABRIC_AUDIENCE = "https://api.fabric.microsoft.com"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
DEFAULT_ISSUER = "https://fabric-emulator.invalid/emulator-tenant/v2.0"
# Tokens are accepted this many seconds past `exp` or before `nbf`, as Entra's validators allow.
CLOCK_SKEW_S = 0

# msal ≥ 1.35 signs certificate assertions with PS256 when it knows the SHA-256 thumbprint.
SIGNING_ALGORITHMS = ("RS256", "PS256")


class TokenRejected(Exception):
    """A bearer token or assertion is not acceptable; ``error_code`` is the Fabric errorCode."""

    def __init__(self, error_code: str, message: str) -> None:
        self.error_code = error_code
        self.message = message
        super().__init__(f"{error_code}: {message}")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_jwt(
    claims: Mapping[str, Any],
    key: rsa.RSAPrivateKey,
    *,
    algorithm: str = "RS256",
    headers: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``claims`` as a compact JWS (RS256 or PS256)."""
    if algorithm not in SIGNING_ALGORITHMS:
        raise ValueError(f"unsupported JWS algorithm {algorithm}")
    return jwt.encode(dict(claims), key, algorithm=algorithm, headers=dict(headers or {}))


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, without checking anything; InvalidToken if malformed."""
    if token.count(".") != 2:
        raise TokenRejected(
            "InvalidToken", "the token is not a JWT (expected three dot-separated parts)"
        )
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise TokenRejected("InvalidToken", "the token header or payload is not base64url JSON") from exc
    return dict(header), dict(claims)


def verify_signature(token: str, public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    """Check the JWS signature (RS256 or PS256) and return the claims; the lifetime and the
    audience are the caller's to check (on the emulator's clock, not the wall clock)."""
    header, _ = decode_unverified(token)
    if header.get("alg") not in SIGNING_ALGORITHMS:
        raise TokenRejected("InvalidToken", f"unsupported signing algorithm {header.get('alg')!r}")
    try:
        claims = jwt.decode(
            token,
            public_key,
            algorithms=list(SIGNING_ALGORITHMS),
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise TokenRejected("InvalidToken", "the token signature is not valid") from exc
    return dict(claims)


def check_lifetime(claims: Mapping[str, Any], now: float) -> None:
    """TokenExpired past ``exp``; InvalidToken before ``nbf`` or without a numeric ``exp``."""
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        raise TokenRejected("InvalidToken", "the token has no expiry (exp) claim")
    if now > exp + CLOCK_SKEW_S:
        raise TokenRejected("TokenExpired", "the access token has expired")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and now < nbf - CLOCK_SKEW_S:
        raise TokenRejected("InvalidToken", "the token is not valid yet (nbf)")


def public_jwk(public_key: rsa.RSAPublicKey, kid: str) -> dict[str, str]:
    jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": jwk["n"], "e": jwk["e"]}


class TokenIssuer:
    """Mints and checks the emulator's access tokens.

    ``verify`` returns the identity a token stands for (``appid`` for app tokens, else ``sub``),
    which the emulator uses for its per-identity quota and request log.
    """

    def __init__(
        self,
        *,
        audience: str = FABRIC_AUDIENCE,
        clock: Callable[[], float] = time.time,
        issuer: str = DEFAULT_ISSUER,
    ) -> None:
        self.audience = audience
        self.issuer = issuer
        self._clock = clock
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex

    def issue(
        self,
        subject: str,
        *,
        lifetime_s: int = 3600,
        audience: str | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        now = int(self._clock())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience or self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_s,
            "jti": uuid.uuid4().hex,
            **(claims or {}),
        }
        return encode_jwt(body, self._key, headers={"kid": self.kid})

    def verify(self, token: str) -> str:
        claims = verify_signature(token, self._key.public_key())
        if claims.get("iss") != self.issuer:
            raise TokenRejected("InvalidToken", "the token was not issued by this authority")
        check_lifetime(claims, self._clock())
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.audience not in audiences:
            raise TokenRejected(
                "Unauthorized", f"the token audience is {audience!r}, expected {self.audience!r}"
            )
        identity = claims.get("appid") or claims.get("sub")
        if not isinstance(identity, str) or not identity:
            raise TokenRejected("InvalidToken", "the token names no subject")
        return identity

    def now(self) -> float:
        """The issuer's clock, which the authority also uses to check assertion lifetimes."""
        return self._clock()

    def public_key_pem(self) -> bytes:
        """The verification key, e.g. for trusting this issuer as a federated OIDC provider."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self._key.public_key(), self.kid)]}

    def __repr__(self) -> str:
        return f"TokenIssuer(issuer={self.issuer!r}, audience={self.audience!r})"


# -- OAuth clients and their credentials -------------------------------------------------------


class OAuthError(Exception):
    """An OAuth refusal; serialised as Entra's error JSON with an AADSTS code."""

    def __init__(self, error: str, aadsts: int, description: str, *, status: int = 400) -> None:
        self.error = error
        self.aadsts = aadsts
        self.description = description
        self.status = status
        super().__init__(f"{error}: AADSTS{aadsts}: {description}")

    def body(self) -> dict[str, Any]:
        """Entra's error JSON for this refusal."""
        trace = str(uuid.uuid4())
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.aadsts}: {self.description} Trace ID: {trace}",
            "error_codes": [self.aadsts],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": trace,
            "correlation_id": str(uuid.uuid4()),
        }


def scope_audience(scope: str) -> str:
    """The resource a ``<resource>/.default`` scope asks for: the token's audience."""
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


class FederatedTrust(TypedDict):
    """Whose assertions a federated credential accepts: for ``client_id``, about ``subject``."""

    client_id: str
    subject: str
    audience: NotRequired[str]


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


class ClientDirectory:
    """A tenant's app registrations and federated credentials, and the check of how a client
    proves who it is (secret, certificate assertion, federated assertion). No HTTP here."""

    def __init__(self, tenant: str, clock: Callable[[], float] = time.time) -> None:
        self.tenant = tenant
        self.clients: dict[str, ClientRegistration] = {}
        self.federated: list[FederatedCredential] = []
        self._clock = clock

    def register_client(
        self, client_id: str, *, secret: str | None = None, certificate_pem: bytes | None = None
    ) -> None:
        public_key = sha1 = sha256 = None
        if certificate_pem is not None:
            cert = x509.load_pem_x509_certificate(certificate_pem)
            key = cert.public_key()
            if not isinstance(key, rsa.RSAPublicKey):
                raise ValueError("the emulator accepts RSA certificates only")
            public_key = key
            sha1 = b64url_encode(cert.fingerprint(hashes.SHA1()))  # x5t is SHA-1 by definition
            sha256 = b64url_encode(cert.fingerprint(hashes.SHA256()))
        self.clients[client_id] = ClientRegistration(client_id, secret, public_key, sha1, sha256)

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
            raise ValueError("the emulator accepts RSA federated issuers only")
        self.clients.setdefault(client_id, ClientRegistration(client_id))
        credential = FederatedCredential(client_id, issuer, subject, audience, key)
        # One record per (client, issuer, subject, audience): trusting again replaces the key.
        self.federated = [
            c
            for c in self.federated
            if (c.client_id, c.issuer, c.subject, c.audience) != (client_id, issuer, subject, audience)
        ] + [credential]

    def client(self, client_id: str) -> ClientRegistration:
        client = self.clients.get(client_id)
        if client is None:
            raise OAuthError(
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the "
                f"directory '{self.tenant}'.",
            )
        return client

    def authenticate(
        self, client: ClientRegistration, form: Mapping[str, str], *, audiences: tuple[str, ...]
    ) -> None:
        """Check the secret or assertion in a token request; the assertion's ``aud`` must be one
        of ``audiences`` (the token endpoint and the authority URLs)."""
        assertion = form.get("client_assertion")
        if assertion:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise OAuthError("invalid_client", 50027, "Invalid client_assertion_type.", status=401)
            self._check_assertion(client, assertion, audiences)
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

    def _check_assertion(
        self, client: ClientRegistration, assertion: str, audiences: tuple[str, ...]
    ) -> None:
        try:
            header, claims = decode_unverified(assertion)
            if claims.get("iss") == client.client_id:
                self._check_certificate_assertion(client, header, assertion, audiences)
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
        self,
        client: ClientRegistration,
        header: dict[str, Any],
        assertion: str,
        audiences: tuple[str, ...],
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
        check_lifetime(claims, self._clock())
        if claims.get("sub") != client.client_id or claims.get("aud") not in audiences:
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
        for credential in self.federated:
            if (
                credential.client_id == client.client_id
                and credential.issuer == claims.get("iss")
                and credential.subject == claims.get("sub")
                and credential.audience in audiences
            ):
                verified = verify_signature(assertion, credential.public_key)
                check_lifetime(verified, self._clock())
                return
        raise OAuthError(
            "invalid_client",
            70021,
            "No matching federated identity record found "
            f"for presented assertion issuer '{claims.get('iss')}' and subject "
            f"'{claims.get('sub')}'.",
            status=401,
        )
