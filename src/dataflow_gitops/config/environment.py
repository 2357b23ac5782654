"""Environment overlays (config layer): ``environments/<env>.yaml`` → :class:`Environment`.

file bytes → YAML with positions → project defaults merged beneath → ``${env:NAME}`` resolved →
JSON Schema check → typed, frozen settings that remember the ``file:line`` they came from, so
that render can blame the right line too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataflow_gitops.config import jsonpath
from dataflow_gitops.config.envsubst import substitute
from dataflow_gitops.config.folder_names import overlay_folder
from dataflow_gitops.config.project import Project, environment_names, overlay_path
from dataflow_gitops.config.schedules import JobSchedules, merged, parse_schedules
from dataflow_gitops.config.schema import ENVIRONMENT_SCHEMA, validate
from dataflow_gitops.config.settings import (
    AuthConfig,
    Binding,
    Bindings,
    DataflowOverlay,
    IgnoreRule,
    ParameterSetting,
    PlanPolicy,
    Prune,
    ReplaceRule,
    Scope,
    SetRule,
)
from dataflow_gitops.config.yamlpos import Located, Pointer, load_yaml
from dataflow_gitops.errors import ConfigError
from dataflow_gitops.secret_mask import mask
from dataflow_gitops.utf8 import decode_text

PUBLIC_API = "https://api.fabric.microsoft.com"
EMBEDDED_API = "embedded"

ITEM_REFERENCE = re.compile(r"\$\{items\.([A-Za-z]+)\.([^{}]+?)\.id\}")


@dataclass(frozen=True, slots=True)
class Environment:
    """One deployment target and everything the overlay says about it."""

    name: str
    path: str
    """The overlay file as users see it, e.g. ``environments/prod.yaml``."""
    workspace_id: str | None
    workspace_name: str | None = None
    api: str = PUBLIC_API
    auth: AuthConfig = AuthConfig()
    parameters: tuple[ParameterSetting, ...] = ()
    bindings: Bindings = Bindings()
    dataflows: tuple[DataflowOverlay, ...] = ()
    schedules: tuple[JobSchedules, ...] = ()
    scope: Scope = Scope()
    display_name: str = "{name}"
    folder: str = ""
    """The workspace folder the whole deployment lives under ("" = the workspace root)."""
    replace: tuple[ReplaceRule, ...] = ()
    set_rules: tuple[SetRule, ...] = ()
    ignore: tuple[IgnoreRule, ...] = ()
    protected: bool = False
    prune: Prune = Prune()
    promote_from: str | None = None
    overlay_hash: str = ""
    """sha256 of the overlay file's bytes (and the project file's, when it has defaults)."""
    secret_env: tuple[str, ...] = ()
    """Names of the environment variables substituted into this overlay."""
    secret_values: tuple[str, ...] = field(default=(), repr=False, compare=False)
    secret_pairs: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)
    """(variable, value) of each substitution: what :meth:`redact` masks."""
    source: Located | None = field(default=None, repr=False, compare=False)

    @property
    def embedded(self) -> bool:
        return self.api == EMBEDDED_API

    def in_scope(self, name: str) -> bool:
        return self.scope.contains(name)

    def overlay_for(self, name: str) -> DataflowOverlay | None:
        return next((d for d in self.dataflows if d.name == name), None)

    def display_name_for(self, name: str) -> str:
        overlay = self.overlay_for(name)
        template = overlay.display_name if overlay and overlay.display_name else self.display_name
        return template.replace("{name}", name)

    def parameters_for(self, name: str) -> dict[str, ParameterSetting]:
        """Environment-wide values overridden by the dataflow's own."""
        values = {p.name: p for p in self.parameters}
        overlay = self.overlay_for(name)
        if overlay is not None:
            values.update({p.name: p for p in overlay.parameters})
        return values

    def schedules_for(self, name: str) -> tuple[JobSchedules, ...]:
        """Per job type, the dataflow's own schedule settings, else the environment's."""
        overlay = self.overlay_for(name)
        return merged(self.schedules, overlay.schedules if overlay else ())

    def bindings_for(self, name: str) -> Bindings:
        overlay = self.overlay_for(name)
        return self.bindings.merged(overlay.bindings) if overlay else self.bindings

    def policy(self, targets: Iterable[str] = ()) -> PlanPolicy:
        return PlanPolicy(
            prune=self.prune.enabled,
            prune_exclude=self.prune.exclude,
            prune_unrecorded=self.prune.unrecorded,
            ignore=self.ignore,
            targets=tuple(targets),
            folder=self.folder,
        )

    def item_references(self) -> tuple[tuple[str, str], ...]:
        """Every ``(type, display name)`` the overlay looks up with ``${items.<Type>.<name>.id}``
        (dataflows excepted): what must exist in the target workspace before a plan, e.g. what
        the embedded emulator should create for ``api: embedded``."""
        texts: list[str] = [self.display_name]
        for bindings in (self.bindings, *(d.bindings for d in self.dataflows)):
            for table in (
                bindings.workspaces,
                bindings.lakehouses,
                bindings.warehouses,
                bindings.connections,
            ):
                texts += [b.target for b in table if b.target]
            if bindings.gateway is not None and bindings.gateway.target:
                texts.append(bindings.gateway.target)
        for setting in (*self.parameters, *(p for d in self.dataflows for p in d.parameters)):
            if isinstance(setting.value, str):
                texts.append(setting.value)
        texts += [r.replace_with for r in self.replace]
        texts += [r.value for r in self.set_rules if isinstance(r.value, str)]
        found = {
            (m.group(1), m.group(2))
            for text in texts
            for m in ITEM_REFERENCE.finditer(text)
            if m.group(1) != "Dataflow"
        }
        return tuple(sorted(found))

    def redact(self, text: str) -> str:
        """``text`` with every substituted secret value as its ``${env:NAME}`` reference."""
        return mask(text, dict(self.secret_pairs))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr
        )
        return self.redact(f"Environment({shown})")


# ------------------------------------------------------------------------------------------


def load_environment(project: Project, name: str) -> Environment:
    """Load, check and type the overlay of environment ``name`` (ConfigError at file:line)."""
    data, shown = read_overlay(project, name)
    env = parse_environment(name, data, path=shown, project=project)
    _check_promotion(project, env)
    return env


def read_overlay(project: Project, name: str) -> tuple[bytes, str]:
    """The bytes of environment ``name``'s overlay, and its path as users see it."""
    file = overlay_path(project, name)
    shown = project.display(file)
    try:
        return file.read_bytes(), shown
    except OSError as exc:
        raise ConfigError(f"cannot read the overlay: {exc.strerror}", path=shown) from None


def _check_promotion(project: Project, env: Environment) -> None:
    source = env.promote_from
    if source is None:
        return
    line = env.source.line(("promote_from",)) if env.source else None
    known = environment_names(project)
    if source not in known:
        raise ConfigError(
            f"promote_from names no environment: {source!r}",
            path=env.path,
            line=line,
            hint=f"known environments: {', '.join(known)}",
        )
    order = project.promotion_order
    if source in order and env.name in order and order.index(source) >= order.index(env.name):
        raise ConfigError(
            f"promote_from {source!r} comes after {env.name!r} in promotion_order ({' → '.join(order)})",
            path=env.path,
            line=line,
            hint="promote along the order in dataflow-gitops.yaml",
        )


def parse_environment(
    name: str,
    data: bytes,
    *,
    path: str,
    project: Project | None = None,
    environ: Mapping[str, str] | None = None,
) -> Environment:
    """The overlay ``data`` (bytes of ``path``) as an Environment; pure apart from ``environ``."""
    doc = load_yaml(decode_text(data, path=path, error=ConfigError), path=path)
    if not isinstance(doc.value, dict):
        got = "empty" if doc.value is None else f"a {type(doc.value).__name__}"
        raise ConfigError(
            f"an overlay must be a mapping of keys to values, this one is {got}",
            path=path,
            line=1,
            hint="start with `workspace_id: <guid>`",
        )
    defaults = project.defaults if project is not None else None
    if defaults is not None and isinstance(defaults.value, dict):
        doc = Located(
            _deep_merge(defaults.value, doc.value),
            path,
            doc.value_lines,
            doc.key_lines,
            fallback=defaults,
        )
    sub = substitute(doc, environ)
    doc = dataclasses.replace(doc, value=sub.value)

    def redact(text: str) -> str:
        return mask(text, dict(sub.pairs))

    validate(doc, ENVIRONMENT_SCHEMA, redact=redact)
    digest = hashlib.sha256(data)
    if defaults is not None and project is not None:
        digest.update(b"\0" + project.settings_bytes)
    return _build(
        name,
        doc,
        overlay_hash=digest.hexdigest(),
        secret_env=sub.names,
        secret_values=sub.values,
        secret_pairs=sub.pairs,
    )


def _deep_merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _deep_merge(base[key], value) if key in base else value
        return merged
    return over


def _build(
    name: str,
    doc: Located,
    *,
    overlay_hash: str,
    secret_env: tuple[str, ...],
    secret_values: tuple[str, ...],
    secret_pairs: tuple[tuple[str, str], ...] = (),
) -> Environment:
    v: dict[str, Any] = doc.value
    if "workspace_id" in v and "workspace_name" in v:
        raise ConfigError(
            "give either workspace_id or workspace_name, not both",
            path=doc.path,
            line=doc.line(("workspace_name",), key=True),
        )
    if "workspace_id" not in v and "workspace_name" not in v:
        raise ConfigError(
            "the overlay names no target workspace",
            path=doc.path,
            line=1,
            hint="add `workspace_id: <guid>` (or `workspace_name: <name>`)",
        )
    if v.get("promote_from") == name:
        raise ConfigError(
            f"environment {name!r} cannot be promoted from itself",
            path=doc.path,
            line=doc.line(("promote_from",)),
        )
    _check_patterns(doc)
    folder = overlay_folder(doc.value.get("folder"), path=doc.path, line=doc.line(("folder",)))
    scope = v.get("scope", {})
    prune = v.get("prune", {})
    api = str(v.get("api", PUBLIC_API))
    return Environment(
        name=name,
        path=doc.path,
        workspace_id=v["workspace_id"].lower() if "workspace_id" in v else None,
        workspace_name=v.get("workspace_name"),
        api=api if api == EMBEDDED_API else api.rstrip("/"),
        auth=AuthConfig(**v.get("auth", {})),
        parameters=_parameters(doc, ("parameters",)),
        bindings=_bindings(doc, ("bindings",)),
        dataflows=tuple(
            DataflowOverlay(
                name=df_name,
                where=doc.where(("dataflows", df_name), key=True),
                parameters=_parameters(doc, ("dataflows", df_name, "parameters")),
                bindings=_bindings(doc, ("dataflows", df_name, "bindings")),
                display_name=body.get("display_name"),
                schedules=parse_schedules(doc, ("dataflows", df_name, "schedules")),
            )
            for df_name, body in v.get("dataflows", {}).items()
        ),
        schedules=parse_schedules(doc, ("schedules",)),
        scope=Scope(tuple(scope.get("include", ("*",))), tuple(scope.get("exclude", ()))),
        display_name=v.get("display_name", "{name}"),
        folder=folder,
        replace=tuple(
            ReplaceRule(
                find=r["find"],
                replace_with=r["with"],
                regex=r.get("regex", False),
                dataflows=tuple(r.get("dataflows", ("*",))),
                parts=tuple(r.get("parts", ("*",))),
                where=doc.where(("replace", i)),
            )
            for i, r in enumerate(v.get("replace", ()))
        ),
        set_rules=tuple(
            SetRule(
                path=r["path"],
                value=r["value"],
                part=r.get("part", "queryMetadata.json"),
                dataflows=tuple(r.get("dataflows", ("*",))),
                where=doc.where(("set", i)),
            )
            for i, r in enumerate(v.get("set", ()))
        ),
        ignore=tuple(
            IgnoreRule(
                dataflows=tuple(r.get("dataflows", ("*",))),
                parts=tuple(r.get("parts", ("*",))),
                json_paths=tuple(r.get("json_paths", ())),
                queries=tuple(r.get("queries", ())),
            )
            for r in v.get("ignore", ())
        ),
        protected=bool(v.get("protected", False)),
        prune=Prune(
            enabled=bool(prune.get("enabled", False)),
            exclude=tuple(prune.get("exclude", ())),
            unrecorded=bool(prune.get("unrecorded", False)),
        ),
        promote_from=v.get("promote_from"),
        overlay_hash=overlay_hash,
        secret_env=secret_env,
        secret_values=secret_values,
        secret_pairs=secret_pairs,
        source=doc,
    )


def _check_patterns(doc: Located) -> None:
    """Regexes and JSONPaths fail here, at their line, rather than later inside render or diff."""
    for i, rule in enumerate(doc.value.get("replace", ())):
        if rule.get("regex"):
            try:
                re.compile(rule["find"])
            except re.error as exc:
                raise ConfigError(
                    f"replace[{i}].find is not a valid regular expression: {exc}",
                    path=doc.path,
                    line=doc.line(("replace", i, "find")),
                ) from None
    paths: list[tuple[Pointer, str]] = [
        (("set", i, "path"), r["path"]) for i, r in enumerate(doc.value.get("set", ()))
    ]
    for i, rule in enumerate(doc.value.get("ignore", ())):
        paths += [(("ignore", i, "json_paths", j), p) for j, p in enumerate(rule.get("json_paths", ()))]
    for pointer, expr in paths:
        try:
            jsonpath.parse(expr)
        except jsonpath.JsonPathError as exc:
            raise ConfigError(
                str(exc),
                path=doc.path,
                line=doc.line(pointer),
                hint="supported: $.a.b, $.a[0], $.a[*].b, $['key'], $..key",
            ) from None


def _at(doc: Located, pointer: Pointer) -> Any:
    node: Any = doc.value
    for key in pointer:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _parameters(doc: Located, pointer: Pointer) -> tuple[ParameterSetting, ...]:
    values = _at(doc, pointer) or {}
    return tuple(ParameterSetting(k, val, doc.where((*pointer, k))) for k, val in values.items())


def _bindings(doc: Located, pointer: Pointer) -> Bindings:
    block = _at(doc, pointer) or {}

    def ids(kind: str) -> tuple[Binding, ...]:
        return tuple(
            Binding(source, target, doc.where((*pointer, kind, source), key=True))
            for source, target in block.get(kind, {}).items()
        )

    gateway = None
    if "gateway" in block:
        gateway = Binding("", block["gateway"], doc.where((*pointer, "gateway")))
    return Bindings(ids("workspaces"), ids("lakehouses"), ids("warehouses"), ids("connections"), gateway)


CONTENT_KEYS = ("parameters", "bindings", "dataflows", "display_name", "replace", "set", "schedules")
"""Overlay keys that shape what render produces: under ``--ref`` they come from that commit."""
POLICY_KEYS = (
    "workspace_id",
    "workspace_name",
    "folder",
    "api",
    "auth",
    "scope",
    "protected",
    "prune",
    "ignore",
    "promote_from",
)
"""Overlay keys that say where to deploy and what is allowed there: always the working tree's."""


def environment_at(project: Project, env: Environment, ref: str) -> Environment | None:
    """``env`` with the *content* of its overlay as it was at git ``ref`` (None when the file
    did not exist there).

    A release is a commit: ``--ref`` renders the dataflows *and* the overlay values that shape
    them (:data:`CONTENT_KEYS`: parameters, bindings, per-dataflow settings, display names,
    replace and set rules, schedules), so a rollback also restores those values. Everything
    that says where to deploy and what may happen there (:data:`POLICY_KEYS`: workspace,
    folder, api, auth, scope, protected, prune, ignore, promote_from) stays the working tree's:
    an old commit must never bring back an old prune or scope rule, nor old credentials.
    """
    import git  # gitpython: only needed for --ref

    file = overlay_path(project, env.name).resolve()
    try:
        repo = git.Repo(project.root, search_parent_directories=True)
        top = Path(str(repo.working_tree_dir)).resolve()
        blob = repo.commit(ref).tree / file.relative_to(top).as_posix()
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError, KeyError, IndexError):
        return None
    data: bytes = blob.data_stream.read()
    shown = f"{project.display(file)}@{ref}"
    at_ref = parse_environment(env.name, data, path=shown, project=project)
    return dataclasses.replace(
        env,
        path=at_ref.path,
        parameters=at_ref.parameters,
        bindings=at_ref.bindings,
        dataflows=at_ref.dataflows,
        display_name=at_ref.display_name,
        replace=at_ref.replace,
        set_rules=at_ref.set_rules,
        schedules=at_ref.schedules,
        overlay_hash=at_ref.overlay_hash,
        secret_env=tuple(dict.fromkeys((*env.secret_env, *at_ref.secret_env))),
        secret_values=tuple(dict.fromkeys((*env.secret_values, *at_ref.secret_values))),
        secret_pairs=tuple(dict.fromkeys((*env.secret_pairs, *at_ref.secret_pairs))),
        source=at_ref.source,
    )
