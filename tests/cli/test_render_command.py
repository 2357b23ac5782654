from __future__ import annotations

import json
from pathlib import Path

import git
from example_repo import EXAMPLE_NAMES

from dataflow_gitops.pipeline.definition.parts import parse_platform
from dataflow_gitops.pipeline.definition.source import read_working_tree


def test_render_dev_out_writes_the_fabric_git_layout(dfg, project: Path, tmp_path: Path) -> None:
    out = tmp_path / "build" / "dev"
    result = dfg("render", "-e", "dev", "--out", str(out))
    assert result.code == 0, result.err
    assert "for 7 dataflows" in result.out
    folders = sorted(p.name for p in out.iterdir())
    assert folders == sorted(f"{n}.Dataflow" for n in EXAMPLE_NAMES)
    inventory = out / "Inventory Snapshot.Dataflow"
    assert sorted(p.name for p in inventory.iterdir()) == [
        ".platform",
        "Inventory transform.mdf",
        "mashup.pq",
        "queryMetadata.json",
    ]
    platform = parse_platform((inventory / ".platform").read_bytes(), path=".platform")
    assert platform.display_name == "Inventory Snapshot"
    # the written tree is itself a valid dataflows folder
    rendered = read_working_tree(out.parent, "dev")
    assert {d.name for d in rendered.dataflows} == EXAMPLE_NAMES


def test_render_dev_keeps_the_repository_parameter_values(dfg, project: Path, tmp_path: Path) -> None:
    out = tmp_path / "dev"
    assert dfg("render", "-e", "dev", "--out", str(out)).code == 0
    mashup = (out / "Sales Orders.Dataflow" / "mashup.pq").read_text()
    assert 'shared ServerName = "dev-sql.contoso.net" meta' in mashup


def test_render_prod_rewrites_parameters_and_workspace(dfg, project: Path, tmp_path: Path) -> None:
    out = tmp_path / "prod"
    assert dfg("render", "-e", "prod", "Sales Orders", "--out", str(out)).code == 0
    assert [p.name for p in out.iterdir()] == ["Sales Orders.Dataflow"]
    mashup = (out / "Sales Orders.Dataflow" / "mashup.pq").read_text()
    assert 'shared ServerName = "prod-sql.contoso.net" meta' in mashup
    assert "shared DaysBack = 365 meta" in mashup
    assert "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10" not in mashup  # the dev workspace id is gone
    assert "8c2e4a6d-5f7b-4c9e-a1d3-7e9f1b3d5a24" in mashup


def test_render_prints_parts_with_headers(dfg) -> None:
    result = dfg("render", "-e", "test", "Hello Dataflow", "Products")
    assert result.code == 0, result.err
    assert result.out.count("=== ") == 2
    assert "=== Hello Dataflow" in result.out
    assert "--- mashup.pq" in result.out
    assert "--- queryMetadata.json" in result.out
    assert "--- .platform" in result.out
    assert "Sales Orders" not in result.out


def test_render_unknown_name(dfg) -> None:
    result = dfg("render", "-e", "dev", "Nope")
    assert result.code == 1
    assert result.err.startswith("Error: dataflows: no dataflow named 'Nope' (known dataflows: ")
    assert "Traceback" not in result.err


def test_render_requires_an_environment(dfg) -> None:
    result = dfg("render")
    assert result.code == 1
    assert "Missing option '-e'" in result.err


def test_render_unknown_environment(dfg) -> None:
    result = dfg("render", "-e", "staging")
    assert result.code == 1
    assert "staging" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_render_ref_reads_an_older_commit(
    dfg, project: Path, git_repo: git.Repo, tmp_path: Path
) -> None:
    first = git_repo.head.commit.hexsha
    meta = project / "dataflows/Hello Dataflow.Dataflow/queryMetadata.json"
    doc = json.loads(meta.read_text())
    doc["documentLocale"] = "nl-NL"
    meta.write_text(json.dumps(doc, indent=2))
    git_repo.git.add("-A")
    git_repo.index.commit("locale")

    now = dfg("render", "-e", "dev", "Hello Dataflow")
    old = dfg("render", "-e", "dev", "Hello Dataflow", "--ref", first)
    assert now.code == old.code == 0
    assert '"nl-NL"' in now.out
    assert '"nl-NL"' not in old.out
    assert '"en-US"' in old.out


def test_render_help_has_examples(dfg) -> None:
    result = dfg("render", "--help")
    assert result.code == 0
    assert "dfg render -e prod --out build/prod" in result.out


def test_printed_render_masks_env_substitutions(dfg, project: Path, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DFG_SQL_SERVER", "secret-sql.internal.contoso.net")
    overlay = project / "environments/dev.yaml"
    overlay.write_text(
        overlay.read_text().replace(
            "ServerName: dev-sql.contoso.net", "ServerName: ${env:DFG_SQL_SERVER}"
        )
    )
    printed = dfg("render", "-e", "dev", "Sales Orders")
    assert printed.code == 0, printed.err
    assert "secret-sql.internal.contoso.net" not in printed.out
    assert 'shared ServerName = "***" meta' in printed.out
    out = tmp_path / "files"
    assert dfg("render", "-e", "dev", "Sales Orders", "--out", str(out)).code == 0
    assert "secret-sql.internal.contoso.net" in (out / "Sales Orders.Dataflow/mashup.pq").read_text()


def test_render_a_dataflow_out_of_the_environments_scope(dfg) -> None:
    result = dfg("render", "-e", "prod", "Hello Dataflow")
    assert result.code == 1
    assert result.out == ""
    assert "environments/prod.yaml: dataflow 'Hello Dataflow' is out of scope" in result.err
    assert "scope:" in result.err
    assert dfg("render", "-e", "dev", "Hello Dataflow").code == 0
