"""`--ref OLD` deploys the old commit's dataflows and overlay *content* under TODAY's policy, and
"dirty" means any uncommitted change to what render reads (issue 13, items 3 and 7).

Against the loopback emulator, in a real git repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulator_project import Cli, Live, commit_all, git
from release_support import TEST_WS

OVERLAY = Path("environments") / "test.yaml"
PRUNE_ALL = "\nprune:\n  enabled: true\n  unrecorded: true\n"


def _edit(project: Path, old: str, new: str, path: Path = OVERLAY) -> None:
    file = project / path
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def old_prune(project: Path) -> str:
    """OLD: prune everything unrecorded, DaysBack 30; HEAD: no prune, DaysBack 90 (as shipped)."""
    _edit(project, "  DaysBack: 90\n", "  DaysBack: 30\n")
    (project / OVERLAY).write_text((project / OVERLAY).read_text() + PRUNE_ALL)
    old = commit_all(project, "old: prune everything, 30 days")
    git(project, "revert", "--no-edit", "HEAD")
    return old


def test_apply_ref_keeps_todays_prune_policy(dfg: Cli, live: Live, old_prune: str) -> None:
    hand_made = live.client.create_item(TEST_WS, display_name="Made by hand", type="Dataflow")

    code, out, err = dfg("plan", "-e", "test", "--ref", old_prune)
    assert code == 0, out + err
    assert "Made by hand" in out  # listed as unmanaged, not deleted
    assert "0 to delete" in out

    code, out, err = dfg("apply", "-e", "test", "--ref", old_prune, "--auto-approve", "--allow-delete")

    assert code == 0, out + err
    assert live.dataflows(TEST_WS)["Made by hand"] == hand_made["id"]
    # ...while the content of the old overlay is what was deployed
    orders = live.dataflows(TEST_WS)["Sales Orders"]
    assert "shared DaysBack = 30 meta" in live.parts(TEST_WS, orders)["mashup.pq"]


def test_todays_prune_policy_still_prunes_under_ref(dfg: Cli, live: Live, project: Path) -> None:
    # The reverse: HEAD prunes, the old commit did not → the ref's plan deletes (today's rule).
    (project / OVERLAY).write_text((project / OVERLAY).read_text() + PRUNE_ALL)
    commit_all(project, "now: prune everything")
    live.client.create_item(TEST_WS, display_name="Made by hand", type="Dataflow")
    first = git(project, "rev-list", "--max-parents=0", "HEAD")

    code, out, err = dfg("plan", "-e", "test", "--ref", first)

    assert code == 0, out + err
    assert "1 to delete." in out
    assert "Made by hand" in out


def test_uncommitted_overlay_edit_makes_plan_and_record_dirty(
    dfg: Cli, project: Path, tmp_path: Path
) -> None:
    _edit(project, "  DaysBack: 90\n", "  DaysBack: 45\n")
    plan_file = tmp_path / "plan.json"

    code, out, err = dfg("plan", "-e", "test", "--out", str(plan_file))

    assert code == 0, out + err
    assert "+ uncommitted changes" in out
    doc = json.loads(plan_file.read_text(encoding="utf-8"))
    assert doc["dirty"] is True
    assert doc["dirty_paths"] == ["environments/test.yaml"]

    code, out, err = dfg("apply", "-e", "test", str(plan_file))
    assert code == 0, out + err
    code, out, err = dfg("promote", "--to", "prod", "--approve-protected", "prod")
    assert code == 1
    assert "uncommitted files (environments/test.yaml)" in err


def test_uncommitted_project_file_makes_the_plan_dirty(dfg: Cli, project: Path) -> None:
    settings = project / "dataflow-gitops.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "\n# reviewed\n", encoding="utf-8")
    code, out, err = dfg("plan", "-e", "test", "--format", "json")
    assert code == 0, out + err
    doc = json.loads(out)
    assert (doc["dirty"], doc["dirty_paths"]) == (True, ["dataflow-gitops.yaml"])


@pytest.mark.parametrize(
    "path",
    [
        Path("NOTES.md"),  # not read by render
        Path("environments") / "prod.yaml",  # another environment's overlay
    ],
)
def test_changes_render_does_not_read_leave_the_plan_clean(dfg: Cli, project: Path, path: Path) -> None:
    file = project / path
    before = file.read_text(encoding="utf-8") if file.exists() else ""
    file.write_text(before + "\n# a note\n", encoding="utf-8")
    code, out, err = dfg("plan", "-e", "test", "--format", "json")
    assert code == 0, out + err
    doc = json.loads(out)
    assert (doc["dirty"], doc["dirty_paths"]) == (False, [])
