"""Project and environment settings (config layer): YAML files → frozen, located values.

``load_project(root)`` reads the optional ``dataflow-gitops.yaml``; ``load_environment(project,
name)`` reads ``environments/<name>.yaml``. Every error is a ConfigError naming ``file:line``.
This package never imports ``dataflow_gitops.fabric``: the API layer converts :class:`AuthConfig`.
"""

from __future__ import annotations

from dataflow_gitops.config.environment import (
    EMBEDDED_API,
    PUBLIC_API,
    Environment,
    environment_at,
    load_environment,
    parse_environment,
)
from dataflow_gitops.config.project import (
    PROJECT_FILE,
    Project,
    environment_names,
    load_project,
    overlay_path,
)
from dataflow_gitops.config.schema import load_schema
from dataflow_gitops.config.settings import (
    AuthConfig,
    Binding,
    Bindings,
    DataflowOverlay,
    ParameterSetting,
    Prune,
    ReplaceRule,
    Scope,
    SetRule,
    matches,
)

__all__ = [
    "EMBEDDED_API",
    "PROJECT_FILE",
    "PUBLIC_API",
    "AuthConfig",
    "Binding",
    "Bindings",
    "DataflowOverlay",
    "Environment",
    "ParameterSetting",
    "Project",
    "Prune",
    "ReplaceRule",
    "Scope",
    "SetRule",
    "environment_names",
    "environment_at",
    "load_environment",
    "load_project",
    "load_schema",
    "matches",
    "overlay_path",
    "parse_environment",
]
