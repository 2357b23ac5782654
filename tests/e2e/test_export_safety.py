"""`dfg export` never loses git work and never writes a secret (issue 13, finding 4): it refuses
to overwrite uncommitted edits or to undo a committed change not yet applied (unless told which
side wins), and writes `${env:NAME}` where live holds a secret value, current or rotated since."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import WS, Live, overlay
from emulator_project import Cli, commit_all, git

ORDERS = Path("dataflows") / "Sales Orders.Dataflow" / "mashup.pq"


def _hotfix(live: Live) -> None:
    live.hotfix(WS, "Sales Orders", "Table.SelectRows", "Table.SelectRows /* hot fix */")


def _refused(dfg: Cli, *args: str) -> str:
    code, out, err = dfg("export", "-e", "e2e", *args)
    assert code == 1, out + err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_export_refuses_to_overwrite_uncommitted_edits(dfg: Cli, live: Live, project: Path) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    _hotfix(live)
    mashup = project / ORDERS
    mashup.write_text(mashup.read_text() + "\n// my unfinished work\n")
    mine = mashup.read_bytes()

    err = _refused(dfg)
    assert "uncommitted changes in dataflows/Sales Orders.Dataflow/mashup.pq" in err
    assert "--overwrite-local" in err
    assert mashup.read_bytes() == mine

    code, out, err = dfg("export", "-e", "e2e", "--overwrite-local")
    assert code == 0, out + err
    assert "hot fix" in mashup.read_text()
    assert "my unfinished work" not in mashup.read_text()


def test_export_refuses_to_undo_a_committed_change_not_yet_applied(
    dfg: Cli, live: Live, project: Path
) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    _hotfix(live)
    mashup = project / ORDERS
    mashup.write_text(mashup.read_text().replace("Table.SelectRows", "Table.SelectRows /* in git */"))
    commit_all(project, "a change on its way to e2e")
    committed = mashup.read_bytes()

    err = _refused(dfg)
    assert "undo git changes not yet applied to e2e in Sales Orders" in err
    assert "--discard-pending" in err
    assert mashup.read_bytes() == committed
    assert git(project, "status", "--porcelain") == ""

    code, out, err = dfg("export", "-e", "e2e", "--discard-pending")
    assert code == 0, out + err
    assert "hot fix" in mashup.read_text()


def test_export_without_conflicts_still_exports_the_hotfix(dfg: Cli, live: Live, project: Path) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    _hotfix(live)
    code, out, err = dfg("export", "-e", "e2e")
    assert code == 0, out + err
    assert "hot fix" in (project / ORDERS).read_text()


@pytest.mark.parametrize("rotated", [False, True])
def test_export_never_writes_a_secret_value_current_or_rotated(
    dfg: Cli, live: Live, project: Path, monkeypatch: pytest.MonkeyPatch, rotated: bool
) -> None:
    old, new = "old-secret-Wq3Er5Ty", "new-secret-Zx8Cv6Bn"
    monkeypatch.setenv("DFG_MARKER", old)
    overlay_file = project / "environments" / "e2e.yaml"
    rule = "replace:\n  - find: Table.SelectRows\n    with: Table.SelectRows /*${env:DFG_MARKER}*/\n"
    overlay_file.write_text(overlay(live.url, extra=rule))
    commit_all(project, "a secret in a replace rule")
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    assert old in live.mashup(live.dataflows()["Sales Orders"])
    if rotated:
        monkeypatch.setenv("DFG_MARKER", new)  # rotated, not applied yet: live holds the old one
    _hotfix(live)

    code, out, err = dfg("export", "-e", "e2e", "--dir", str(project / "exported"))
    assert code == 0, out + err
    texts = [p.read_text("utf-8", "replace") for p in (project / "exported").rglob("*") if p.is_file()]
    assert texts
    assert not [t for t in texts if old in t or new in t]
    assert any("${env:DFG_MARKER}" in t for t in texts)
    records = git(project, "for-each-ref", "refs/tags", "--format=%(contents)")
    assert old not in records
    assert "secret_fingerprints" in records


def test_an_uncommitted_edit_elsewhere_does_not_hide_a_committed_change(
    dfg: Cli, live: Live, project: Path
) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    _hotfix(live)
    mashup = project / ORDERS
    mashup.write_text(mashup.read_text().replace("Table.SelectRows", "Table.SelectRows /* in git */"))
    commit_all(project, "a change on its way to e2e")
    metadata = project / ORDERS.parent / "queryMetadata.json"
    metadata.write_text(metadata.read_text() + "\n")  # an unrelated uncommitted edit

    err = _refused(dfg)
    assert "undo git changes not yet applied to e2e in Sales Orders" in err
    assert "in git" in mashup.read_text()
