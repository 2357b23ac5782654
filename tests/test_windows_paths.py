"""Windows path rules, checked on every system with PureWindowsPath: what dfg writes (part paths,
dataflow folders) can be checked out on Windows, and a configured folder cannot leave the project
through a drive letter, a UNC root or a backslash."""

from __future__ import annotations

import warnings
from pathlib import Path, PureWindowsPath

import pytest

from dataflow_gitops.api import folder_name
from dataflow_gitops.config.project import inside_project, load_project
from dataflow_gitops.errors import ConfigError, SourceError
from dataflow_gitops.pipeline.definition.parts import safe_part_path

CHECKOUT = PureWindowsPath("C:/Users/ana/source/repos/dataflows/Sales.Dataflow")


def _reserved(path: str) -> bool:
    """Python's own Windows device-name rule (deprecated in 3.13, still right for this)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return any(PureWindowsPath(segment).is_reserved() for segment in path.split("/"))


@pytest.mark.parametrize(
    "path",
    [
        "C:x",  # drive-relative: another folder of drive C
        "c:/Windows/system.ini",
        "\\\\server\\share\\x",
        "..\\up.pq",
        "mashup.pq:hidden",  # an NTFS alternate data stream
        "mashup.pq::$DATA",
        "CON",
        "con.json",
        "sub/NUL.pq",
        "COM1.txt",
        "LPT9",
        "AUX .json",
        "trailing.",
        "trailing ",
        "what?.pq",
        "a<b>.pq",
        'quote".pq',
        "pipe|.pq",
        "star*.pq",
        "tab\t.pq",
    ],
)
def test_part_paths_a_windows_checkout_cannot_hold_are_refused(path: str) -> None:
    with pytest.raises(SourceError, match="unsafe part path"):
        safe_part_path(path)


@pytest.mark.parametrize(
    "path",
    [
        "mashup.pq",
        "queryMetadata.json",
        ".platform",
        "Inventory transform.mdf",
        "sub/dir/x.json",
        "a.b.c",
    ],
)
def test_accepted_part_paths_stay_inside_the_folder_on_windows(path: str) -> None:
    assert safe_part_path(path) == path
    joined = CHECKOUT / path
    assert joined.drive == "C:"
    assert joined.is_relative_to(CHECKOUT)
    assert not _reserved(path)


def test_pythons_device_names_are_all_refused() -> None:
    for name in ("CON", "PRN", "AUX", "NUL", "COM1", "COM9", "LPT1", "LPT3", "nul.txt", "Con.pq"):
        assert _reserved(name), name
        with pytest.raises(SourceError):
            safe_part_path(name)


@pytest.mark.parametrize(
    "display_name",
    ["Sales", "CON", "nul.orders", "a:b", "x.", " lead", "trail ", "a/b\\c", "what?", "COM1", 'q"'],
)
def test_dataflow_folders_are_windows_file_names(display_name: str) -> None:
    folder = folder_name(display_name)
    assert safe_part_path(folder) == folder  # one segment, nothing Windows refuses
    assert PureWindowsPath(folder).name == folder
    assert not _reserved(folder)
    assert (CHECKOUT.parent / folder).parent == CHECKOUT.parent


@pytest.mark.parametrize(
    ("folder", "inside"),
    [
        ("dataflows", True),
        ("fabric/dataflows", True),
        ("fabric\\dataflows", True),
        ("C:/data", False),
        ("C:data", False),
        ("\\\\server\\share\\x", False),
        ("\\rooted", False),
        ("..\\up", False),
        ("a/../../up", False),
        ("/abs", False),
    ],
)
def test_configured_folders_stay_in_the_project_on_every_system(folder: str, inside: bool) -> None:
    assert inside_project(folder) is inside


def test_a_project_file_with_a_drive_letter_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dataflow-gitops.yaml").write_text("dataflows_dir: 'C:/data'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="dataflows_dir must be a folder inside the project"):
        load_project(tmp_path)


def test_the_example_repository_fits_windows_path_limits() -> None:
    # MAX_PATH is 260 with the checkout's own directory in front: keep repository paths short.
    root = Path(__file__).resolve().parent.parent
    longest = max(
        len(p.relative_to(root).as_posix())
        for folder in ("dataflows", "environments", "src/dataflow_gitops/templates")
        for p in (root / folder).rglob("*")
    )
    assert longest < 160


def test_validate_warns_about_paths_a_windows_clone_cannot_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from example_repo import copy_example

    from dataflow_gitops.cli.main import run
    from dataflow_gitops.portability import CLONE_ALLOWANCE, MAX_PATH

    root = copy_example(tmp_path / "project")
    assert run(["--no-color", "-C", str(root), "validate"]) == 0
    assert "Windows clone" not in capsys.readouterr().err  # the example fits
    long_name = "L" * 180 + ".Dataflow"
    (root / "dataflows" / "Hello Dataflow.Dataflow").rename(root / "dataflows" / long_name)
    assert run(["--no-color", "-C", str(root), "validate"]) == 0  # a warning, not an error
    err = capsys.readouterr().err
    clone = PureWindowsPath("C:/Users/firstname.lastname/source/repos/dataflows")
    assert len(str(clone)) < CLONE_ALLOWANCE
    flagged = [line for line in err.splitlines() if "Windows clone" in line]
    assert len(flagged) == 3  # .platform, mashup.pq, queryMetadata.json
    for line in flagged:
        relative = line.removeprefix("Warning: ").split(": ", 1)[0]
        assert len(str(clone / relative)) > MAX_PATH - 10
        assert "git config core.longpaths true" in line
