"""Connecting to an environment's workspace: Project + Environment → a live :class:`Connection`.

The one place that turns an overlay's ``api``/``auth``/``workspace_*`` keys into a working
client: ``api: embedded`` starts the local emulator (and creates the workspace there if it is
missing); anything else builds a token provider from ``auth:`` and checks the workspace
exists. Everything opened here is closed when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from dataflow_gitops.config import Environment, Project
from dataflow_gitops.embedded import embedded_emulator
from dataflow_gitops.errors import ConfigError, NotFound
from dataflow_gitops.fabric.auth import (
    DEFAULT_AUTHORITY_HOST,
    EMULATOR_TOKEN,
    AuthMethod,
    AuthSettings,
    StaticTokenProvider,
    TokenProvider,
    build_token_provider,
)
from dataflow_gitops.fabric.client import FabricClient
from dataflow_gitops.fabric.gateway import FabricGateway

log = logging.getLogger(__name__)
OPERATION_TIMEOUT_S = 600.0
"""Default bound of one long-running operation (``--timeout``; docs/reliability.md)."""
PUBLISH_TIMEOUT_S = 1800.0
"""Default bound of one publish (ApplyChanges) job: fabric-cicd waits as long."""
_BOUND_ITEM = re.compile(r"\$\{items\.(Lakehouse|Warehouse)\.([^{}]+?)\.id\}")


@dataclass(frozen=True)
class Connection:
    """A connected environment: the resolved workspace id and the client/gateway to reach it.

    (Not to be confused with ``--target NAME``, which filters the dataflows a command acts on.)
    """

    environment: Environment
    workspace_id: str
    base_url: str
    client: FabricClient
    gateway: FabricGateway


def auth_settings(env: Environment) -> AuthSettings:
    """The overlay's ``auth:`` block as the client layer's settings."""
    auth = env.auth
    return AuthSettings(
        method=cast(AuthMethod, auth.method),
        tenant_id=auth.tenant_id,
        client_id=auth.client_id,
        client_secret=auth.client_secret,
        certificate_path=auth.certificate_path,
        certificate_password=auth.certificate_password,
        token_env=auth.token_env,
        federated_token_file=auth.federated_token_file,
        authority_host=auth.authority_host or DEFAULT_AUTHORITY_HOST,
        cache_path=auth.cache_path,
        ca_file=auth.ca_file,
        scope=auth.scope,
        origin=f"{env.path} (auth)",
    )


@contextlib.contextmanager
def connect(
    project: Project,
    env: Environment,
    *,
    concurrency: int = 8,
    timeout_s: float | None = None,
) -> Iterator[Connection]:
    """Open a client to ``env``'s workspace for the duration of the block; ``timeout_s`` bounds
    each long-running operation and publish (ApplyChanges) job (None: 600 s and 1800 s)."""
    with contextlib.ExitStack() as stack:
        if env.embedded:
            startup = [(env.workspace_id, env.workspace_name or env.name)] if env.workspace_id else []
            base_url = stack.enter_context(embedded_emulator(project.root, startup))
            tokens: TokenProvider = StaticTokenProvider(EMULATOR_TOKEN, identity="embedded")
        else:
            base_url = env.api
            tokens = build_token_provider(auth_settings(env))
            _close_later(stack, tokens)
        client = stack.enter_context(
            FabricClient(
                base_url,
                tokens,
                concurrency=concurrency,
                lro_timeout_s=timeout_s or OPERATION_TIMEOUT_S,
            )
        )
        workspace_id = resolve_workspace(client, env, create=env.embedded)
        if env.embedded:
            provision_bound_items(client, workspace_id, _overlay_text(project, env))
        gateway = FabricGateway(
            client, concurrency=concurrency, publish_timeout_s=timeout_s or PUBLISH_TIMEOUT_S
        )
        yield Connection(env, workspace_id, base_url, client, gateway)


def resolve_workspace(client: FabricClient, env: Environment, *, create: bool = False) -> str:
    """The workspace id of ``env``: ``workspace_id`` as given (checked), or ``workspace_name``
    looked up by display name. ``create`` makes a missing named workspace (embedded only)."""
    if env.workspace_id:
        try:
            client.get_workspace(env.workspace_id)
        except NotFound:
            raise ConfigError(
                f"workspace {env.workspace_id} does not exist or this identity cannot see it",
                path=env.path,
                hint="check workspace_id and that the identity is a member of the workspace",
            ) from None
        return env.workspace_id
    name = env.workspace_name or ""
    found = [w for w in client.list_workspaces() if w.get("displayName") == name]
    if len(found) == 1:
        return str(found[0]["id"])
    if len(found) > 1:
        raise ConfigError(
            f"{len(found)} workspaces are named {name!r}",
            path=env.path,
            hint="use workspace_id instead of workspace_name",
        )
    if create:
        return str(client.create_workspace(name)["id"])
    raise ConfigError(
        f"no workspace named {name!r} is visible to this identity",
        path=env.path,
        hint="check workspace_name, or that the identity is a member of the workspace",
    )


def provision_bound_items(client: FabricClient, workspace_id: str, overlay: str) -> list[str]:
    """Create the Lakehouses and Warehouses ``overlay`` binds to by name that are missing.

    Only for ``api: embedded``: the local emulator stands in for a workspace that already has
    them, so ``dfg plan -e local`` works with no setup. Returns what was created.
    """
    wanted = dict.fromkeys((t, n) for t, n in _BOUND_ITEM.findall(overlay))
    if not wanted:
        return []
    existing = {(i.get("type"), i.get("displayName")) for i in client.list_items(workspace_id)}
    created = []
    for item_type, name in wanted:
        if (item_type, name) not in existing:
            client.create_item(workspace_id, display_name=name, type=item_type)
            log.info("embedded workspace: created %s %r", item_type, name)
            created.append(f"{item_type} {name}")
    return created


def _overlay_text(project: Project, env: Environment) -> str:
    try:
        return (project.root / env.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""  # the overlay was read moments ago; nothing to provision is the safe fallback


def _close_later(stack: contextlib.ExitStack, tokens: Any) -> None:
    close = getattr(tokens, "close", None)
    if callable(close):
        stack.callback(close)
