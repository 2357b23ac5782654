"""The facade functions the commands call (api.validate / render / write_rendered / folder_name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataflow_gitops import api
from dataflow_gitops.errors import RenderError, SourceError
from dataflow_gitops.pipeline.model import DesiredDataflow, Part


def _desired(display_name: str, parts: tuple[Part, ...]) -> DesiredDataflow:
    return DesiredDataflow(
        name=display_name,
        display_name=display_name,
        description="",
        logical_id="018b9992-976d-40c5-a0e4-1b53a9a4c7b5",
        parts=parts,
        fingerprint="0" * 64,
    )


@pytest.mark.parametrize(
    ("display_name", "folder"),
    [
        ("Sales Orders", "Sales Orders.Dataflow"),
        ("A/B: C?", "A&#47;B&#58; C&#63;.Dataflow"),
        (" padded.", "&#32;padded&#46;.Dataflow"),
        ("..", ".&#46;.Dataflow"),
    ],
)
def test_folder_name_escapes_like_git_sync(display_name: str, folder: str) -> None:
    assert api.folder_name(display_name) == folder


def test_write_rendered_stays_inside_the_output(tmp_path: Path) -> None:
    desired = _desired("../../escape", (Part("mashup.pq", b"section S;\n"),))
    written = api.write_rendered([desired], tmp_path / "out")
    assert len(written) == 1
    assert written[0].is_relative_to((tmp_path / "out").resolve())
    assert written[0].read_bytes() == b"section S;\n"


def test_write_rendered_refuses_unsafe_part_paths(tmp_path: Path) -> None:
    desired = _desired("X", (Part("../outside.pq", b""),))
    with pytest.raises(SourceError, match="unsafe part path"):
        api.write_rendered([desired], tmp_path / "out")
    assert not (tmp_path / "outside.pq").exists()


def test_render_returns_dependency_order_and_filters_names(project: Path) -> None:
    everything = api.render(project, "dev")
    names = [d.name for d in everything]
    assert len(names) == 7
    assert names.index("Sales Summary") > names.index("Sales Orders")
    assert names.index("Sales Summary") > names.index("Customers")
    only = api.render(project, "dev", ["Customers", "Products"])
    assert sorted(d.name for d in only) == ["Customers", "Products"]


def test_render_unknown_name(project: Path) -> None:
    with pytest.raises(RenderError, match="no dataflow named 'Ghost'"):
        api.render(project, "dev", ["Ghost"])


def test_validate_accepts_one_name_or_many(project: Path) -> None:
    assert api.validate(project, "dev").environments == ("dev",)
    assert api.validate(project, ["dev", "test"]).environments == ("dev", "test")
    assert len(api.validate(project).environments) == 4
