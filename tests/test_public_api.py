"""The public surface is pinned: a name added to or dropped from an ``__all__`` fails here first.

What other code (and users' scripts) may import: ``dataflow_gitops`` (the error tree and the
version), ``dataflow_gitops.api`` (the facade the CLI calls), ``dataflow_gitops.config`` (overlay
values), ``dataflow_gitops.fabric`` (the client layer) and ``dataflow_gitops.pipeline.definition.mlang``
(pinned in tests/mlang). Changing one of these lists is a decision: update the list here with it.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

from dataflow_gitops.errors import DataflowGitopsError

PINNED = {
    "dataflow_gitops": [
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
    ],
    "dataflow_gitops.api": [
        "JOB_TYPES",
        "Applied",
        "Deployment",
        "ExportResult",
        "Promotion",
        "ValidationReport",
        "Workspace",
        "apply",
        "cancel_job",
        "deployment",
        "drift",
        "export",
        "failure_text",
        "find_dataflow",
        "folder_name",
        "history",
        "list_jobs",
        "load_saved_plan",
        "migrate",
        "plan",
        "plan_promotion",
        "render",
        "run_job",
        "save_plan",
        "typed_parameters",
        "validate",
        "verify_saved_plan",
        "wait_job",
        "workspace",
        "write_rendered",
    ],
    "dataflow_gitops.config": [
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
        "environment_at",
        "environment_names",
        "load_environment",
        "load_project",
        "load_schema",
        "matches",
        "overlay_path",
        "parse_environment",
    ],
    "dataflow_gitops.fabric": [
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
    ],
}


@pytest.mark.parametrize("module_name", sorted(PINNED))
def test_all_is_pinned_and_every_name_exists(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(PINNED[module_name])
    assert len(set(module.__all__)) == len(module.__all__)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


def test_every_exported_error_is_in_the_one_tree() -> None:
    import dataflow_gitops

    errors = [getattr(dataflow_gitops, n) for n in dataflow_gitops.__all__ if n.endswith("Error")]
    assert errors
    assert all(issubclass(e, DataflowGitopsError) for e in errors)


def test_the_facade_signatures_other_layers_call() -> None:
    from dataflow_gitops import api
    from dataflow_gitops.fabric import FabricClient

    assert list(inspect.signature(api.validate).parameters) == ["project_dir", "env", "names"]
    assert list(inspect.signature(api.migrate).parameters) == ["folder"]
    client = inspect.signature(FabricClient)
    assert list(client.parameters)[:2] == ["base_url", "tokens"]
    # Time and the network are injectable, so no test of the client waits or needs a server.
    for seam in ("sleep", "clock", "transport", "jitter", "throttle", "name_wait_s"):
        assert client.parameters[seam].kind is inspect.Parameter.KEYWORD_ONLY


def test_importing_the_package_is_light() -> None:
    # `dfg validate` must not pay for msal or the emulator; the client layer imports msal lazily.
    code = (
        "import sys, dataflow_gitops, dataflow_gitops.api, dataflow_gitops.fabric; "
        "print(sorted(m for m in ('msal', 'fabric_emulator', 'starlette') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
