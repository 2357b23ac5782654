"""The example repository covers everything DESIGN §2 asks of it, and is realistic: every id of the
dev workspace it was synced from is bound away in test and prod, so nothing of dev leaks there."""

from __future__ import annotations

import json
import re

import pytest
from example_repo import REPO_ROOT

from dataflow_gitops.config import environment_names, load_environment, load_project
from dataflow_gitops.pipeline.definition.mlang import parameters, parse_section
from dataflow_gitops.pipeline.definition.references import find_references
from dataflow_gitops.pipeline.definition.render import OfflineLookup, render_all
from dataflow_gitops.pipeline.definition.source import read_working_tree
from dataflow_gitops.pipeline.model import Snapshot, SourceDataflow

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ZERO = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return read_working_tree(REPO_ROOT)


def metadata(d: SourceDataflow) -> dict[str, object]:
    part = d.part("queryMetadata.json")
    assert part is not None
    loaded: dict[str, object] = json.loads(part.text())
    return loaded


def mashup(d: SourceDataflow) -> str:
    part = d.part("mashup.pq")
    assert part is not None
    return part.text()


def connections(d: SourceDataflow) -> list[dict[str, str]]:
    found = metadata(d).get("connections")
    assert isinstance(found, list)
    return found


def test_the_example_has_every_design_item(snapshot: Snapshot) -> None:
    flows = snapshot.dataflows
    assert len(flows) >= 6
    assert set(environment_names(load_project(REPO_ROOT))) >= {"local", "dev", "test", "prod"}
    # public parameters, and a dataflow in public-parameter mode
    assert sum(len(parameters(parse_section(mashup(d)))) for d in flows) >= 5
    assert any(metadata(d).get("parametric") is True for d in flows)
    # Lakehouse and Warehouse destinations, each through a hidden *_DataDestination query
    for connector in ("Lakehouse.Contents(", "Fabric.Warehouse("):
        users = [d for d in flows if connector in mashup(d)]
        assert users, connector
        for d in users:
            queries = metadata(d)["queriesMetadata"]
            assert isinstance(queries, dict)
            hidden = [n for n, q in queries.items() if n.endswith("_DataDestination")]
            assert hidden, d.name
            assert all(queries[n].get("isHidden") is True for n in hidden), d.name
            assert all(queries[n].get("loadEnabled") is False for n in hidden), d.name
    # connections, in both forms: a GUID and the {"ClusterId", "DatasourceId"} string
    ids = [c["connectionId"] for d in flows for c in connections(d)]
    assert any(_GUID.fullmatch(i) for i in ids)
    assert any(json.loads(i).keys() == {"ClusterId", "DatasourceId"} for i in ids if i.startswith("{"))
    # one dataflow reads two others
    refs = find_references(snapshot)
    assert any(len({r.target for r in found if r.target}) >= 2 for found in refs.values())
    # query groups that queries actually belong to
    grouped = 0
    for d in flows:
        groups = {g["id"] for g in metadata(d).get("queryGroups", [])}  # type: ignore[union-attr]
        queries = metadata(d)["queriesMetadata"]
        assert isinstance(queries, dict)
        used = {q["queryGroupId"] for q in queries.values() if "queryGroupId" in q}
        assert used <= groups, d.name
        grouped += len(used)
    assert grouped >= 3


def test_every_query_has_metadata_and_every_metadata_entry_a_query(snapshot: Snapshot) -> None:
    for d in snapshot.dataflows:
        members = {m.name for m in parse_section(mashup(d)).members}
        queries = metadata(d)["queriesMetadata"]
        assert isinstance(queries, dict)
        assert set(queries) == members, d.name


def test_a_destination_or_dataflow_read_comes_with_its_connection(snapshot: Snapshot) -> None:
    for d in snapshot.dataflows:
        kinds = {c["kind"] for c in connections(d)}
        text = mashup(d)
        if "Lakehouse.Contents(" in text:
            assert "Lakehouse" in kinds, d.name
        if "Fabric.Warehouse(" in text:
            assert "Warehouse" in kinds, d.name
        if "PowerPlatform.Dataflows(" in text:
            assert "PowerPlatform.Dataflows" in kinds, d.name


@pytest.mark.parametrize("env_name", ["test", "prod"])
def test_no_dev_id_reaches_test_or_prod(snapshot: Snapshot, env_name: str) -> None:
    project = load_project(REPO_ROOT)
    env = load_environment(project, env_name)
    dev_ids = set()
    for d in snapshot.dataflows:
        dev_ids.update(i.lower() for i in _GUID.findall(mashup(d)) if i != _ZERO)
        for c in connections(d):
            dev_ids.update(i.lower() for i in _GUID.findall(c["connectionId"]))
    # The Lakehouse/Warehouse connections share the tenant's ClusterId in every environment.
    shared = {"5d8e2a1c-7f3b-4c9e-a6d4-2b8f1e5c9a73"}
    logical_ids = {d.platform.logical_id.lower() for d in snapshot.dataflows}
    leaking = dev_ids - shared - logical_ids
    assert leaking
    for desired in render_all(snapshot, env, OfflineLookup(env)):
        for part in desired.parts:
            text = part.data.decode("utf-8").lower()
            found = sorted(i for i in leaking if i in text)
            assert found == [], (env_name, desired.name, part.path)
