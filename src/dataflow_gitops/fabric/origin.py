"""Fabric client layer — where the bearer token may go: base URL → Origin (scheme, host, port).

The token is sent only to the origin of the configured API. Anything the service points us at
(an LRO ``Location``, a ``continuationUri``) is checked against it first, and plain http is
accepted only for loopback hosts, so a token never crosses the network unencrypted.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import httpx

from dataflow_gitops.errors import ConfigError, FabricError

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str | httpx.URL) -> Origin:
        parsed = httpx.URL(url) if isinstance(url, str) else url
        scheme = parsed.scheme.lower()
        port = parsed.port if parsed.port is not None else _DEFAULT_PORTS.get(scheme, 0)
        return cls(scheme=scheme, host=parsed.host.lower(), port=port)

    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def api_root(base_url: str) -> tuple[str, Origin]:
    """Normalise a base URL to ``…/v1`` and check that it is safe to send a token to."""
    text = base_url.strip().rstrip("/")
    try:
        origin = Origin.of(text)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigError(
            f"the API base URL {base_url!r} is not a valid URL: {exc}",
            hint="set `api:` to an https URL such as https://api.fabric.microsoft.com",
        ) from None
    if origin.scheme not in _DEFAULT_PORTS or not origin.host:
        raise ConfigError(
            f"the API base URL {base_url!r} must be an http(s) URL with a host",
            hint="set `api:` to an https URL such as https://api.fabric.microsoft.com",
        )
    if origin.scheme == "http" and not origin.is_loopback():
        raise ConfigError(
            f"the API base URL {base_url!r} uses plain http to a non-loopback host",
            hint="use https; plain http is allowed only for 127.0.0.1, ::1 and localhost",
        )
    root = text if text.endswith("/v1") else f"{text}/v1"
    return root, origin


def require_origin(url: str, origin: Origin, *, what: str) -> None:
    """Refuse to follow ``url`` when it leaves the API origin (the token would go with it)."""
    try:
        target = Origin.of(url)
    except httpx.InvalidURL:
        target = None
    if target != origin:
        raise FabricError(
            f"refusing to follow {what} {url!r}: it is not on the configured API host {origin}",
            where=what,
            hint="the service pointed outside the API; check the `api:` URL or report it",
        )
