"""dataflow-gitops: GitOps deployment for Microsoft Fabric Dataflows Gen2."""

from __future__ import annotations

from dataflow_gitops.errors import (
    ApplyError,
    ConfigError,
    DataflowGitopsError,
    FabricApiError,
    FabricError,
    PlanError,
    PlanFileError,
    RenderError,
    SourceError,
    StalePlanError,
)

__version__ = "0.1.0"

__all__ = [
    "ApplyError",
    "ConfigError",
    "DataflowGitopsError",
    "FabricApiError",
    "FabricError",
    "PlanError",
    "PlanFileError",
    "RenderError",
    "SourceError",
    "StalePlanError",
    "__version__",
]
