"""No write leaves the project through a symlink it contains: ``dfg init`` (a committed
``schemas -> DIR`` or ``.gitignore`` link, ``--force`` over a linked project file), the read cache
(``.dataflow-gitops -> DIR``) and file records. Each refusal names the link, and nothing is
written outside (the folder the links point to stays exactly as it was)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dataflow_gitops.adapters.read_ahead import cache_store
from dataflow_gitops.adapters.record_stores import FileRecords
from dataflow_gitops.cli.main import run
from dataflow_gitops.confined import inside, write_inside
from dataflow_gitops.errors import RecordError, UnsafePathError
from dataflow_gitops.pipeline.release.records import DeploymentRecord

pytestmark = pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")


def dfg(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["--no-color", *args])
    out, err = capsys.readouterr()
    return code, out, err


def listing(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me\n", encoding="utf-8")
    return folder


def test_init_refuses_a_schemas_symlink_out(
    tmp_path: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "repo"
    dest.mkdir()
    (dest / "schemas").symlink_to(elsewhere, target_is_directory=True)
    before = listing(elsewhere)
    code, out, err = dfg(capsys, "init", str(dest), "--force")
    assert code == 1, (out, err)
    assert "schemas is a symlink" in err
    assert listing(elsewhere) == before
    assert not (dest / "dataflows").exists(), "refused before the first write"


def test_init_refuses_a_gitignore_symlink_out(
    tmp_path: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "repo"
    dest.mkdir()
    (dest / ".gitignore").symlink_to(elsewhere / "precious.txt")
    code, _, err = dfg(capsys, "init", str(dest))
    assert code == 1
    assert ".gitignore is a symlink" in err
    assert (elsewhere / "precious.txt").read_text(encoding="utf-8") == "keep me\n"


def test_init_force_does_not_overwrite_a_linked_project_file(
    tmp_path: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "repo"
    dest.mkdir()
    (dest / "dataflow-gitops.yaml").symlink_to(elsewhere / "precious.txt")
    code, _, err = dfg(capsys, "init", str(dest), "--force")
    assert code == 1
    assert "dataflow-gitops.yaml is a symlink" in err
    assert (elsewhere / "precious.txt").read_text(encoding="utf-8") == "keep me\n"


def test_a_symlink_that_stays_inside_is_fine(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "real").mkdir(parents=True)
    (root / "link").symlink_to(root / "real", target_is_directory=True)
    write_inside(root, root / "link" / "a.txt", "x")
    assert (root / "real" / "a.txt").read_text(encoding="utf-8") == "x"
    assert inside(root, root / "link" / "b.txt") == (root / "real" / "b.txt").resolve()


def test_the_read_cache_is_off_behind_a_symlink_out(
    tmp_path: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "repo"
    assert dfg(capsys, "init", str(project))[0] == 0
    (project / ".dataflow-gitops").symlink_to(elsewhere, target_is_directory=True)
    before = listing(elsewhere)
    code, out, err = dfg(capsys, "-C", str(project), "validate")
    assert code == 0, (out, err)
    assert listing(elsewhere) == before
    # and directly: there is no store for such a project
    assert cache_store(project) is None
    assert listing(elsewhere) == before


def test_file_records_refuse_a_symlink_out(tmp_path: Path, elsewhere: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".dataflow-gitops").symlink_to(elsewhere, target_is_directory=True)
    record = DeploymentRecord("dev", "ws", None, False, "2026-01-01T00:00:00Z", "me", "1", ())
    with pytest.raises(RecordError, match="symlink"):
        FileRecords(root).write(record)
    assert listing(elsewhere) == {"precious.txt": b"keep me\n"}


def test_a_name_too_long_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(UnsafePathError, match="more than this file system allows"):
        write_inside(tmp_path, tmp_path / ("n" * 300) / "x", "x")


def test_relative_paths_are_taken_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_inside(Path("proj"), Path("proj") / "a" / "b.txt", "x")
    assert (tmp_path / "proj" / "a" / "b.txt").read_text(encoding="utf-8") == "x"
