"""The Fabric client layer: auth, retries and throttling, LRO, pagination, typed errors.

All HTTP of dataflow_gitops lives here. It knows nothing of plans; ``gateway.py`` adapts it to the
pipeline's ports. The public surface (pinned by ``tests/test_public_api.py``)::

    tokens = build_token_provider(AuthSettings(method="token"))     # or any TokenProvider
    with FabricClient("https://api.fabric.microsoft.com", tokens) as client:
        items = client.list_items(workspace_id, "Dataflow")
        gateway = FabricGateway(client)                               # the pipeline's ports

The API's errors are raised as the ``FabricApiError`` classes of :mod:`dataflow_gitops.errors`.
Everything else in this package (``transport``, ``lro``, ``pagination``, ``msal_auth``…) is
internal and may change.
"""

from __future__ import annotations

from dataflow_gitops.fabric.auth import (
    AUTH_METHODS,
    FABRIC_SCOPE,
    AuthMethod,
    AuthSettings,
    StaticTokenProvider,
    TokenProvider,
    build_token_provider,
    token_identity,
)
from dataflow_gitops.fabric.client import FabricClient
from dataflow_gitops.fabric.creates import NAME_WAIT_S
from dataflow_gitops.fabric.gateway import FabricGateway, LiveLookup
from dataflow_gitops.fabric.retry import RetryPolicy
from dataflow_gitops.fabric.throttle import Throttle, shared_throttle

__all__ = [
    "AUTH_METHODS",
    "FABRIC_SCOPE",
    "NAME_WAIT_S",
    "AuthMethod",
    "AuthSettings",
    "FabricClient",
    "FabricGateway",
    "LiveLookup",
    "RetryPolicy",
    "StaticTokenProvider",
    "Throttle",
    "TokenProvider",
    "build_token_provider",
    "shared_throttle",
    "token_identity",
]
