"""Strict auth, token side: the emulator's access tokens (subject → signed JWT → identity).

:class:`TokenIssuer` signs RS256 JWTs with its own RSA key and verifies them the way Fabric
does: signature, audience, expiry. The same small JWS codec checks the assertions a client sends
to the authority (certificate assertions, federated OIDC tokens from a CI provider), so it is
public here. Only ``cryptography`` is used; the emulator needs no JWT library.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

FABRIC_AUDIENCE = "https://api.fabric.microsoft.com"
DEFAULT_ISSUER = "https://fabric-emulator.invalid/emulator-tenant/v2.0"
# Tokens are accepted this many seconds past `exp` or before `nbf`, as Entra's validators allow.
CLOCK_SKEW_S = 0

_SIGNATURE_PADDING: dict[str, Callable[[], padding.AsymmetricPadding]] = {
    "RS256": padding.PKCS1v15,
    # msal ≥ 1.35 signs certificate assertions with PS256 when it knows the SHA-256 thumbprint.
    "PS256": lambda: padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
}


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
    """Sign ``claims`` as a compact JWS."""
    header = {"typ": "JWT", "alg": algorithm, **(headers or {})}
    signing_input = (
        f"{b64url_encode(json.dumps(header, separators=(',', ':')).encode())}."
        f"{b64url_encode(json.dumps(dict(claims), separators=(',', ':')).encode())}"
    )
    if algorithm == "RS256":
        signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    elif algorithm == "PS256":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
        signature = key.sign(signing_input.encode("ascii"), pss, hashes.SHA256())
    else:
        raise ValueError(f"unsupported JWS algorithm {algorithm}")
    return f"{signing_input}.{b64url_encode(signature)}"


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, without checking anything; InvalidToken if malformed."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejected(
            "InvalidToken", "the token is not a JWT (expected three dot-separated parts)"
        )
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, binascii.Error) as exc:
        raise TokenRejected("InvalidToken", "the token header or payload is not base64url JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenRejected("InvalidToken", "the token header and payload must be JSON objects")
    return header, claims


def verify_signature(token: str, public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    """Check the JWS signature (RS256 or PS256) and return the claims."""
    header, claims = decode_unverified(token)
    make_padding = _SIGNATURE_PADDING.get(str(header.get("alg")))
    if make_padding is None:
        raise TokenRejected("InvalidToken", f"unsupported signing algorithm {header.get('alg')!r}")
    signing_input, _, signature = token.rpartition(".")
    try:
        public_key.verify(
            b64url_decode(signature), signing_input.encode("ascii"), make_padding(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError, binascii.Error) as exc:
        raise TokenRejected("InvalidToken", "the token signature is not valid") from exc
    return claims


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
    numbers = public_key.public_numbers()

    def _int(value: int) -> str:
        return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    return {
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": kid,
        "n": _int(numbers.n),
        "e": _int(numbers.e),
    }


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
