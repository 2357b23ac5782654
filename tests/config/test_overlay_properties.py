"""Property tests: any YAML document is either a valid Environment or one ConfigError line —
never another exception; and whatever loads also renders the example or fails as a
DataflowGitopsError."""

from __future__ import annotations

import shutil

import pytest
import yaml
from example_repo import REPO_ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataflow_gitops.config import Environment, parse_environment
from dataflow_gitops.errors import ConfigError, DataflowGitopsError
from dataflow_gitops.pipeline.definition.render import OfflineLookup, render_all
from dataflow_gitops.pipeline.definition.source import read_working_tree
from dataflow_gitops.pipeline.model import DesiredDataflow, Snapshot

GUIDS = [
    "6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13",
    "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10",
    "7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b27",
    "e3d5a7c9-1b2f-4d6e-8a0c-3f5b7d9e1a24",
]
KEYS = [
    "workspace_id",
    "workspace_name",
    "api",
    "auth",
    "method",
    "token_env",
    "parameters",
    "bindings",
    "workspaces",
    "lakehouses",
    "warehouses",
    "connections",
    "gateway",
    "dataflows",
    "scope",
    "include",
    "exclude",
    "display_name",
    "replace",
    "find",
    "with",
    "regex",
    "set",
    "path",
    "value",
    "part",
    "ignore",
    "json_paths",
    "queries",
    "protected",
    "prune",
    "enabled",
    "unrecorded",
    "promote_from",
    "ServerName",
    "DaysBack",
    "IncludeDiscontinued",
    "StartDate",
    "Products",
    "Sales Orders",
    *GUIDS,
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 400),
    st.floats(allow_nan=False, width=32),
    st.sampled_from(
        [
            *GUIDS,
            "embedded",
            "http://127.0.0.1:1",
            "token",
            "client_secret",
            "{name}",
            "{name} [T]",
            "${workspace.id}",
            "${items.Lakehouse.X.id}",
            "${env:DFG_SET}",
            "${env:DFG_UNSET}",
            "$.a[*].b",
            "$..x",
            "$[",
            "2024-01-01",
            "*",
            "(",
            "x",
        ]
    ),
    st.text(max_size=12),
)
KEY = st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=8))
DOCS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEY, inner, max_size=5),
    max_leaves=25,
)
OVERLAYS = st.one_of(
    DOCS,
    st.dictionaries(KEY, DOCS, max_size=6).map(lambda d: {"workspace_id": GUIDS[0], **d}),
)


def _load(text: str) -> Environment | None:
    try:
        return parse_environment(
            "t",
            text.encode("utf-8", "surrogatepass"),
            path="environments/t.yaml",
            environ={"DFG_SET": GUIDS[1]},
        )
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("environments/t.yaml")
        assert "\n" not in message
        return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OVERLAYS)
def test_structured_documents_load_or_fail_cleanly(doc: object) -> None:
    _load(yaml.safe_dump(doc, allow_unicode=True))


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:- \n\t[]{}&*!|>'\"#%@`,?0x$")), max_size=60))
def test_arbitrary_text_loads_or_fails_cleanly(text: str) -> None:
    _load(text)


def _render(
    snapshot: Snapshot, env: Environment
) -> tuple[tuple[DesiredDataflow, ...], DataflowGitopsError | None]:
    try:
        return render_all(snapshot, env, OfflineLookup(env)), None
    except DataflowGitopsError as exc:
        return (), exc


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    root = tmp_path_factory.mktemp("example")
    shutil.copytree(REPO_ROOT / "dataflows", root / "dataflows")
    return read_working_tree(root)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.dictionaries(
        st.sampled_from(
            ["parameters", "bindings", "replace", "set", "dataflows", "scope", "display_name"]
        ),
        DOCS,
        max_size=4,
    )
)
def test_whatever_loads_renders_or_fails_cleanly(snapshot: Snapshot, extra: dict[str, object]) -> None:
    env = _load(yaml.safe_dump({"workspace_id": GUIDS[0], **extra}, allow_unicode=True))
    if env is None:
        return
    _, error = _render(snapshot, env)
    if error is not None:
        assert "\n" not in str(error)


PARAMETER_VALUES = st.dictionaries(
    st.sampled_from(
        [
            "ServerName",
            "DatabaseName",
            "DaysBack",
            "IncludeDiscontinued",
            "StartDate",
            "ApiBaseUrl",
            "Nope",
        ]
    ),
    # an unset or malformed ${env:…} is a load error, tested elsewhere
    SCALARS.filter(lambda v: not (isinstance(v, str) and "${env:" in v and "DFG_SET}" not in v)),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(PARAMETER_VALUES, st.one_of(st.none(), st.sampled_from(["Products", "Sales Orders"])))
def test_any_parameter_values_render_or_fail_cleanly(
    snapshot: Snapshot, values: dict[str, object], dataflow: str | None
) -> None:
    doc: dict[str, object] = {"workspace_id": GUIDS[0]}
    if dataflow is None:
        doc["parameters"] = values
    else:
        doc["dataflows"] = {dataflow: {"parameters": values}}
    env = _load(yaml.safe_dump(doc, allow_unicode=True))
    assert env is not None  # every scalar is a valid parameter value for the schema
    desired, error = _render(snapshot, env)
    if error is not None:
        assert "\n" not in str(error)
        assert error.where is not None
        assert error.where.startswith("environments/t.yaml:")
    else:
        assert len(desired) == len(snapshot.dataflows)
