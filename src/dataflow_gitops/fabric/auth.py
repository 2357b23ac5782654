"""Access tokens for the Fabric API.

A :class:`TokenProvider` hands the client a bearer token; the client calls it again with
``force_refresh=True`` once after a 401 ``TokenExpired``. Providers never log or repr a secret.
"""

from __future__ import annotations

from typing import Protocol

FABRIC_SCOPE = "https://api.fabric.microsoft.com/.default"


class TokenProvider(Protocol):
    def get_token(self, *, force_refresh: bool = False) -> str: ...

    @property
    def identity(self) -> str:
        """A non-secret name for the identity (for the per-identity throttle and logs)."""
        ...


class StaticTokenProvider:
    """A pre-acquired token (``auth.method: token``); it cannot refresh itself."""

    def __init__(self, token: str, *, identity: str = "static-token") -> None:
        self._token = token
        self._identity = identity

    def get_token(self, *, force_refresh: bool = False) -> str:
        return self._token

    @property
    def identity(self) -> str:
        return self._identity

    def __repr__(self) -> str:
        return f"StaticTokenProvider(identity={self._identity!r})"
