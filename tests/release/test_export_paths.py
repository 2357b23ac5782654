"""Export and render write only where they should: a valid Fabric name too long for a file name
gets the logicalId folder (exported again, it lands in the same folder), and a symlink inside the
export or render folder that leads out of it is refused, naming the link."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from emulator_project import Cli, Live
from release_support import TEST_WS

from dataflow_gitops.pipeline.definition.parts import encode_parts
from dataflow_gitops.pipeline.definition.source import read_working_tree

LONG = "Sales " + "x" * 244  # 250 characters: valid in Fabric, 259 bytes as `<name>.Dataflow`
WIDE = "Ä" * 128  # 128 characters, 256 bytes in UTF-8


@pytest.mark.parametrize("name", [LONG, WIDE])
def test_a_name_too_long_for_a_file_exports_to_the_logical_id_folder(
    dfg: Cli, project: Path, live: Live, tmp_path: Path, name: str
) -> None:
    hello = read_working_tree(project).by_name("Hello Dataflow")
    assert hello is not None
    live.client.create_item(
        TEST_WS, display_name=name, type="Dataflow", definition={"parts": encode_parts(hello.parts)}
    )
    target = tmp_path / "out"
    code, out, err = dfg("export", "-e", "test", name, "--dir", str(target))
    assert code == 0, out + err
    assert "Traceback" not in err
    (folder,) = list(target.iterdir())
    platform = json.loads((folder / ".platform").read_text(encoding="utf-8"))
    assert folder.name == f"{platform['config']['logicalId']}.Dataflow"
    assert platform["metadata"]["displayName"] == name
    # the folder reads back as the dataflow of that name, and a second export changes nothing
    assert read_working_tree(tmp_path, "out").by_name(name) is not None
    code, out, err = dfg("export", "-e", "test", name, "--dir", str(target))
    assert code == 0, out + err
    assert [p.name for p in target.iterdir()] == [folder.name]


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_export_refuses_a_folder_symlinked_out(dfg: Cli, project: Path, tmp_path: Path) -> None:
    code, out, err = dfg("apply", "-e", "test", "--auto-approve")
    assert code == 0, out + err
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("keep me", encoding="utf-8")
    target = tmp_path / "exported"
    target.mkdir()
    (target / "Hello Dataflow.Dataflow").symlink_to(elsewhere, target_is_directory=True)
    code, out, err = dfg("export", "-e", "test", "Hello Dataflow", "--dir", str(target))
    assert code == 1, out + err
    assert "would leave the export directory" in err or "is a symlink" in err
    assert [p.name for p in elsewhere.iterdir()] == ["precious.txt"]


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_render_out_refuses_a_folder_symlinked_out(dfg: Cli, project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out_dir = tmp_path / "rendered"
    out_dir.mkdir()
    (out_dir / "Products.Dataflow").symlink_to(elsewhere, target_is_directory=True)
    code, out, err = dfg("render", "-e", "test", "Products", "--out", str(out_dir))
    assert code == 1, out + err
    assert "symlink" in err or "leaves the dataflow folder" in err
    assert list(elsewhere.iterdir()) == []
