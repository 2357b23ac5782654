"""Overlay setting values (config layer): the typed pieces an Environment is made of.

Each value remembers the overlay ``file:line`` it came from (``where``) so that render errors
can point at the right line.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dataflow_gitops.config.schedules import JobSchedules

FABRIC_SCOPE = "https://api.fabric.microsoft.com/.default"

ParameterValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """The overlay's ``auth`` block; the API layer turns it into ``fabric.auth.AuthSettings``."""

    method: str = "token"
    token_env: str = "FABRIC_TOKEN"
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    certificate_path: str | None = None
    certificate_password: str | None = field(default=None, repr=False)
    federated_token_file: str | None = None
    authority_host: str | None = None
    cache_path: str | None = None
    ca_file: str | None = None
    scope: str = FABRIC_SCOPE


@dataclass(frozen=True, slots=True)
class ParameterSetting:
    name: str
    value: ParameterValue
    where: str
    """``file:line`` of the value, for render errors."""


@dataclass(frozen=True, slots=True)
class Binding:
    """Replace the source environment's id ``source`` with ``target`` (literal or ``${…}``)."""

    source: str
    target: str | None
    where: str


@dataclass(frozen=True, slots=True)
class Bindings:
    workspaces: tuple[Binding, ...] = ()
    lakehouses: tuple[Binding, ...] = ()
    warehouses: tuple[Binding, ...] = ()
    connections: tuple[Binding, ...] = ()
    gateway: Binding | None = None
    """``source`` is empty; ``target`` None removes ``gatewayObjectId``."""

    def merged(self, over: Bindings) -> Bindings:
        """These bindings with ``over``'s taking precedence per source id."""

        def merge(a: tuple[Binding, ...], b: tuple[Binding, ...]) -> tuple[Binding, ...]:
            replaced = {x.source.lower() for x in b}
            return tuple(x for x in a if x.source.lower() not in replaced) + b

        return Bindings(
            workspaces=merge(self.workspaces, over.workspaces),
            lakehouses=merge(self.lakehouses, over.lakehouses),
            warehouses=merge(self.warehouses, over.warehouses),
            connections=merge(self.connections, over.connections),
            gateway=over.gateway if over.gateway is not None else self.gateway,
        )


@dataclass(frozen=True, slots=True)
class ReplaceRule:
    find: str
    replace_with: str
    regex: bool = False
    dataflows: tuple[str, ...] = ("*",)
    parts: tuple[str, ...] = ("*",)
    where: str = ""


@dataclass(frozen=True, slots=True)
class SetRule:
    path: str
    value: Any
    part: str = "queryMetadata.json"
    dataflows: tuple[str, ...] = ("*",)
    where: str = ""


@dataclass(frozen=True, slots=True)
class DataflowOverlay:
    """The ``dataflows: {<name>: …}`` entry for one dataflow."""

    name: str
    where: str
    parameters: tuple[ParameterSetting, ...] = ()
    bindings: Bindings = Bindings()
    display_name: str | None = None
    schedules: tuple[JobSchedules, ...] = ()


@dataclass(frozen=True, slots=True)
class Scope:
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()

    def contains(self, name: str) -> bool:
        return matches(name, self.include) and not matches(name, self.exclude)


@dataclass(frozen=True, slots=True)
class Prune:
    enabled: bool = False
    exclude: tuple[str, ...] = ()
    unrecorded: bool = False


def matches(name: str, globs: Iterable[str]) -> bool:
    """Case-sensitive glob match (Fabric display names and part paths are case-sensitive)."""
    return any(fnmatch.fnmatchcase(name, g) for g in globs)


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """A difference that must not count as drift (Argo CD's ignoreDifferences).

    A rule matches dataflows by name glob and parts by path glob; within a JSON part it drops
    the values at ``json_paths`` (JSONPath subset, see ``config/jsonpath.py``) from
    both sides before comparing; within ``mashup.pq`` it skips the queries whose names match ``queries``.
    A rule with neither ``json_paths`` nor ``queries`` ignores the matched parts entirely.
    """

    dataflows: tuple[str, ...] = ("*",)
    parts: tuple[str, ...] = ("*",)
    json_paths: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanPolicy:
    """What an environment allows the planner to do."""

    prune: bool = False
    """Deletes are planned only when the environment enables prune."""
    prune_exclude: tuple[str, ...] = ()
    """Display-name globs never deleted."""
    prune_unrecorded: bool = False
    """Also delete live dataflows that no deployment record says this tool created."""
    ignore: tuple[IgnoreRule, ...] = ()
    targets: tuple[str, ...] = ()
    """``--target`` names: plan only these (and nothing else); empty means all."""
    folder: str = ""
    """The workspace folder the whole deployment lives under (overlay ``folder:``); live items
    outside it belong to others: never paired by name, pruned or listed."""
