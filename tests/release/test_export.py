"""`dfg export`: live → repository files; an unchanged environment changes no byte, a hot-fix shows
as just that change, hostile names stay inside the target folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulator_project import Cli, Live, git, snapshot_files
from release_support import PROD_WS, TEST_WS

from dataflow_gitops.pipeline.definition.parts import encode_parts
from dataflow_gitops.pipeline.definition.source import read_working_tree

HOSTILE = ["../evil", "a/b", "con:", " leading", "trailing.", "..", "x\\..\\y", "CON", "nul.txt", "COM1"]


def _deploy_both(dfg: Cli) -> None:
    code, out, err = dfg("apply", "-e", "test", "--auto-approve")
    assert code == 0, out + err
    code, out, err = dfg("promote", "--to", "prod", "--approve-protected", "prod")
    assert code == 0, out + err


@pytest.mark.parametrize("env", ["test", "prod"])
def test_exporting_an_unchanged_environment_changes_no_file(dfg: Cli, project: Path, env: str) -> None:
    _deploy_both(dfg)
    before = snapshot_files(project / "dataflows")

    code, out, err = dfg("export", "-e", env)

    assert code == 0, out + err
    assert "no file changed" in out
    assert snapshot_files(project / "dataflows") == before
    assert git(project, "status", "--porcelain") == ""


def test_export_to_another_dir_reproduces_the_repository_bytes(
    dfg: Cli, project: Path, tmp_path: Path
) -> None:
    _deploy_both(dfg)
    out_dir = tmp_path / "exported"

    code, out, err = dfg("export", "-e", "prod", "--dir", str(out_dir))

    assert code == 0, out + err
    exported = snapshot_files(out_dir)
    repo = snapshot_files(project / "dataflows")
    assert exported  # prod holds 6 of the 7 (its scope excludes Hello Dataflow)
    assert {k: v for k, v in repo.items() if not k.startswith("Hello Dataflow")} == exported


def test_hotfix_exports_as_a_diff_of_only_what_changed(dfg: Cli, project: Path, live: Live) -> None:
    _deploy_both(dfg)
    live.hotfix(PROD_WS, "Sales Orders", '{"rowguid", "ModifiedDate"}', '{"rowguid"}')
    ids = live.client.list_items(PROD_WS)
    prod_ids = {PROD_WS, *(i["id"] for i in ids)}

    code, out, err = dfg("export", "-e", "prod")

    assert code == 0, out + err
    assert git(project, "diff", "--numstat").split() == [
        "1",
        "1",
        "dataflows/Sales",
        "Orders.Dataflow/mashup.pq",
    ]
    diff = git(project, "diff", "-U0")
    assert '+  #"Removed columns" = Table.RemoveColumns(#"Recent orders", {"rowguid"}),' in diff
    text = (project / "dataflows" / "Sales Orders.Dataflow" / "mashup.pq").read_text()
    assert not any(i in text for i in prod_ids)  # ids went back to the repository's
    assert "prod-sql" not in text


def test_hotfix_of_an_overlay_parameter_keeps_the_repository_value(
    dfg: Cli, project: Path, live: Live
) -> None:
    _deploy_both(dfg)
    live.hotfix(PROD_WS, "Sales Orders", "DaysBack = 365", "DaysBack = 400")

    code, out, _ = dfg("export", "-e", "prod")

    assert code == 0
    assert "parameter DaysBack differs live; the overlay sets it (environments/prod.yaml:" in out
    assert git(project, "status", "--porcelain") == ""


def test_changed_connection_and_new_query_are_reversed_where_known(
    dfg: Cli, project: Path, live: Live
) -> None:
    _deploy_both(dfg)
    item = live.dataflows(PROD_WS)["Sales Orders"]
    parts = live.parts(PROD_WS, item)
    metadata = json.loads(parts["queryMetadata.json"])
    metadata["connections"][0]["connectionId"] = "11111111-2222-4333-8444-555555555555"
    metadata["fastCombine"] = True
    parts["queryMetadata.json"] = json.dumps(metadata, indent=2)
    lakehouse = next(i["id"] for i in live.client.list_items(PROD_WS, "Lakehouse"))
    parts["mashup.pq"] += (
        '\nshared Extra = Lakehouse.Contents([]){[workspaceId = "' + PROD_WS + '"]}[Data]'
        '{[lakehouseId = "' + lakehouse + '"]}[Data];\n'
    )
    live.write_parts(PROD_WS, item, parts)

    code, out, err = dfg("export", "-e", "prod")

    assert code == 0, out + err
    folder = project / "dataflows" / "Sales Orders.Dataflow"
    exported = json.loads((folder / "queryMetadata.json").read_text())
    assert exported["connections"][0]["connectionId"] == "11111111-2222-4333-8444-555555555555"
    assert exported["connections"][0]["path"] == "dev-sql.contoso.net;SalesDB"  # replace rule undone
    assert "9a2c4e6f-8b1d-4f3a-b5c7-e9d1f3a5b7c2" in exported["connections"][1]["connectionId"]
    assert exported["fastCombine"] is True
    mashup = (folder / "mashup.pq").read_text()
    assert (
        'workspaceId = "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10"]}[Data]{[lakehouseId = '
        '"7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b27"' in mashup
    )
    changed = git(project, "diff", "--name-only").splitlines()
    assert changed == [
        "dataflows/Sales Orders.Dataflow/mashup.pq",
        "dataflows/Sales Orders.Dataflow/queryMetadata.json",
    ]


def test_rename_in_the_portal_exports_the_new_name(dfg: Cli, project: Path, live: Live) -> None:
    _deploy_both(dfg)
    live.client.update_item(TEST_WS, live.dataflows(TEST_WS)["Products"], display_name="Products v2")

    code, out, _ = dfg("export", "-e", "test")

    assert code == 0
    assert "renamed in the workspace: 'Products' → 'Products v2'" in out
    platform = json.loads((project / "dataflows" / "Products.Dataflow" / ".platform").read_text())
    assert platform["metadata"]["displayName"] == "Products v2"
    assert git(project, "diff", "--name-only").splitlines() == ["dataflows/Products.Dataflow/.platform"]


def test_hostile_display_names_stay_inside_the_folder(
    dfg: Cli, project: Path, live: Live, tmp_path: Path
) -> None:
    hello = read_working_tree(project).by_name("Hello Dataflow")
    assert hello is not None
    for name in HOSTILE:
        live.client.create_item(
            TEST_WS, display_name=name, type="Dataflow", definition={"parts": encode_parts(hello.parts)}
        )
    target = tmp_path / "out" / "inner"
    outside_before = sorted(p.name for p in tmp_path.rglob("*") if "out" not in p.parts)

    code, out, err = dfg("export", "-e", "test", *HOSTILE, "--dir", str(target))

    assert code == 0, out + err
    folders = sorted(p.name for p in target.iterdir())
    assert folders == sorted(
        [
            "..&#47;evil.Dataflow",
            "a&#47;b.Dataflow",
            "con&#58;.Dataflow",
            "&#32;leading.Dataflow",
            "trailing&#46;.Dataflow",
            ".&#46;.Dataflow",
            "x&#92;..&#92;y.Dataflow",
            "CO&#78;.Dataflow",  # Windows device names: a checkout there would open the device
            "nu&#108;.txt.Dataflow",
            "COM&#49;.Dataflow",
        ]
    )
    for folder in target.iterdir():
        platform = json.loads((folder / ".platform").read_text())
        assert platform["metadata"]["displayName"] in HOSTILE
        assert sorted(p.name for p in folder.iterdir()) == [
            ".platform",
            "mashup.pq",
            "queryMetadata.json",
        ]
    assert sorted(p.name for p in tmp_path.rglob("*") if "out" not in p.parts) == outside_before
    assert not (tmp_path / "out" / "evil.Dataflow").exists()


def test_unmanaged_dataflows_are_listed_not_exported(dfg: Cli, project: Path, live: Live) -> None:
    hello = read_working_tree(project).by_name("Hello Dataflow")
    assert hello is not None
    live.client.create_item(
        TEST_WS,
        display_name="Manual fix",
        type="Dataflow",
        definition={"parts": encode_parts(hello.parts)},
    )
    code, out, _ = dfg("export", "-e", "test")
    assert code == 0
    assert "not exported (not in the repository; name them to export): Manual fix" in out
    assert not (project / "dataflows" / "Manual fix.Dataflow").exists()

    code, out, _ = dfg("export", "-e", "test", "Manual fix")
    assert code == 0
    assert (project / "dataflows" / "Manual fix.Dataflow" / "mashup.pq").is_file()

    code, _, err = dfg("export", "-e", "test", "Nope")
    assert code == 1
    assert "no live dataflow named 'Nope'" in err


def test_display_name_template_is_reversed(dfg: Cli, project: Path, live: Live) -> None:
    envs = project / "environments"
    (envs / "sandbox.yaml").write_text(
        (envs / "test.yaml").read_text() + '\ndisplay_name: "{name} [SBX]"\n'
    )
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "sandbox")
    code, out, err = dfg("apply", "-e", "sandbox", "--auto-approve")
    assert code == 0, out + err
    assert "Products [SBX]" in live.dataflows(TEST_WS)

    code, out, err = dfg("export", "-e", "sandbox")
    assert code == 0, out + err
    assert "no file changed" in out

    live.client.update_item(
        TEST_WS, live.dataflows(TEST_WS)["Products [SBX]"], display_name="Goods [SBX]"
    )
    code, out, _ = dfg("export", "-e", "sandbox")
    assert code == 0
    platform = json.loads((project / "dataflows" / "Products.Dataflow" / ".platform").read_text())
    assert platform["metadata"]["displayName"] == "Goods"


def test_a_changed_query_that_reads_another_dataflow_keeps_the_portable_reference(
    dfg: Cli, project: Path, live: Live
) -> None:
    _deploy_both(dfg)
    live.hotfix(
        PROD_WS,
        "Sales Summary",
        '{[entity = "Orders", version = ""]}',
        '{[entity = "Orders", version = "2"]}',
    )

    code, out, err = dfg("export", "-e", "prod")

    assert code == 0, out + err
    diff = git(project, "diff", "-U0").splitlines()
    changed = [x for x in diff if x.startswith(("+", "-")) and x[:3] not in ("+++", "---")]
    assert changed == [
        '-  #"Navigation 4" = #"Navigation 3"{[entity = "Orders", version = ""]}[Data]',
        '+  #"Navigation 4" = #"Navigation 3"{[entity = "Orders", version = "2"]}[Data]',
    ]


def test_a_part_removed_live_is_deleted_from_the_folder(dfg: Cli, project: Path, live: Live) -> None:
    _deploy_both(dfg)
    item = live.dataflows(TEST_WS)["Inventory Snapshot"]
    parts = live.parts(TEST_WS, item)
    del parts["Inventory transform.mdf"]
    live.write_parts(TEST_WS, item, parts)

    code, out, err = dfg("export", "-e", "test")

    assert code == 0, out + err
    assert "deleted dataflows/Inventory Snapshot.Dataflow/Inventory transform.mdf" in out
    assert git(project, "status", "--porcelain").splitlines() == [
        'D "dataflows/Inventory Snapshot.Dataflow/Inventory transform.mdf"'
    ]


def test_a_new_name_differing_only_in_case_from_a_folder_gets_its_own(
    dfg: Cli, project: Path, live: Live
) -> None:
    hello = read_working_tree(project).by_name("Hello Dataflow")
    assert hello is not None
    live.client.create_item(
        TEST_WS,
        display_name="products",
        type="Dataflow",
        definition={"parts": encode_parts(hello.parts)},
    )

    code, out, err = dfg("export", "-e", "test", "products")

    assert code == 0, out + err
    folders = [p.name for p in (project / "dataflows").iterdir() if p.name.casefold().startswith("prod")]
    assert folders == ["Products.Dataflow"]  # untouched; "products" went to its logicalId folder
    assert git(project, "status", "--porcelain", "--", "dataflows/Products.Dataflow") == ""
    new = [line for line in out.splitlines() if line.startswith("new: products")]
    assert len(new) == 1
    assert new[0].endswith(".Dataflow")
    assert "products.Dataflow" not in new[0]
