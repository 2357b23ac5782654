"""A saved plan is evidence, not authority (issue 13, findings 1 and 2): bound to the workspace,
connection and repository it was made for; safety comes from today's overlay and flags; apply
re-renders the plan's own source and refuses any action whose kind or payload differs."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

from e2e_support import WS, WS_OTHER, Live, overlay
from emulator_project import Cli, commit_all, git

from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.model import Part


def _set_days(project: Path, env: str, days: int) -> None:
    path = project / "environments" / f"{env}.yaml"
    text = path.read_text()
    start = text.index("DaysBack: ")
    end = text.index("\n", start)
    path.write_text(text[:start] + f"DaysBack: {days}" + text[end:])


def _save(dfg: Cli, env: str, planfile: Path) -> None:
    code, out, err = dfg("plan", "-e", env, "--out", str(planfile))
    assert code == 0, out + err


def _refused(dfg: Cli, *args: str) -> str:
    code, out, err = dfg("apply", *args)
    assert code == 1, out + err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


def _doc(planfile: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(planfile.read_text(encoding="utf-8"))
    return doc


def _write(planfile: Path, doc: dict[str, Any]) -> None:
    planfile.write_text(json.dumps(doc, indent=2), encoding="utf-8")


# 1. bound to where it goes ---------------------------------------------------------------------


def test_a_plan_is_refused_when_the_environment_now_names_another_workspace(
    dfg: Cli, live: Live, project: Path, tmp_path: Path
) -> None:
    planfile = tmp_path / "p.json"
    _save(dfg, "e2e", planfile)
    assert _doc(planfile)["connection"] == {"api": live.url, "identity": "token:$FABRIC_TOKEN"}
    overlay_file = project / "environments" / "e2e.yaml"
    overlay_file.write_text(overlay(live.url, WS_OTHER, extra="prune:\n  enabled: true\n"))

    err = _refused(dfg, "-e", "e2e", str(planfile))
    assert f"made for workspace {WS}" in err
    assert f"now resolves to workspace {WS_OTHER}" in err
    assert live.dataflows(WS) == {}
    assert live.dataflows(WS_OTHER) == {}


def test_a_plan_is_refused_when_the_environment_now_uses_another_identity(
    dfg: Cli, live: Live, project: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    planfile = tmp_path / "p.json"
    _save(dfg, "e2e", planfile)
    overlay_file = project / "environments" / "e2e.yaml"
    monkeypatch.setenv("OTHER_TOKEN", "e2e-test-token")
    overlay_file.write_text(overlay_file.read_text().replace("FABRIC_TOKEN", "OTHER_TOKEN"))

    err = _refused(dfg, "-e", "e2e", str(planfile))
    assert "auth identity 'token:$FABRIC_TOKEN'" in err
    assert live.dataflows() == {}


def test_a_plan_from_another_repository_with_the_same_environment_name_is_refused(
    dfg: Cli, live: Live, project: Path, tmp_path: Path, capsys: Any
) -> None:
    other = tmp_path / "other-repo"
    shutil.copytree(project, other, ignore=shutil.ignore_patterns(".git"))
    git(other, "init", "-q", "-b", "main")
    _set_days(other, "e2e", 90)
    commit_all(other, "another repository")
    planfile = tmp_path / "foreign.json"
    assert Cli(other, capsys)("plan", "-e", "e2e", "--out", str(planfile))[0] == 0

    err = _refused(dfg, "-e", "e2e", str(planfile))
    assert "cannot be rendered here" in err
    assert "--trust-plan-file" in err
    assert live.dataflows() == {}


# 2. not a source of authority ------------------------------------------------------------------


def test_an_action_edited_from_noop_to_delete_deletes_nothing(
    dfg: Cli, live: Live, tmp_path: Path
) -> None:
    assert dfg("apply", "-e", "e2e-keep", "--auto-approve")[0] == 0
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    before = live.dataflows()
    for env in ("e2e-keep", "e2e"):
        planfile = tmp_path / f"{env}.json"
        _save(dfg, env, planfile)
        doc = _doc(planfile)
        for action in doc["actions"]:
            if action["name"] == "Sales Orders":
                assert action["kind"] == "noop"
                action["kind"] = "delete"
        _write(planfile, doc)

        # no --allow-delete today: refused
        assert "--allow-delete" in _refused(dfg, "-e", env, str(planfile))
        err = _refused(dfg, "-e", env, str(planfile), "--allow-delete")
        if env == "e2e-keep":
            assert "prune policy does not delete Sales Orders" in err  # prune is off today
        else:
            assert '"Sales Orders" (the file says delete, a plan made now says noop)' in err
        assert live.dataflows() == before


def test_a_rewritten_payload_with_a_recomputed_fingerprint_is_refused(
    dfg: Cli, live: Live, project: Path, tmp_path: Path
) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    _set_days(project, "e2e", 14)
    commit_all(project, "14 days")
    planfile = tmp_path / "p.json"
    _save(dfg, "e2e", planfile)
    reviewed = dfg("show", str(planfile))[1]
    assert "DaysBack = 14" in reviewed

    doc = _doc(planfile)
    action = next(a for a in doc["actions"] if a["name"] == "Sales Orders")
    desired = action["desired"]
    for part in desired["parts"]:
        if part["path"] == "mashup.pq":
            text = base64.b64decode(part["payload"]).decode("utf-8")
            text = text.replace("DaysBack = 14", "DaysBack = 14000")
            part["payload"] = base64.b64encode(text.encode("utf-8")).decode("ascii")
    parts = tuple(Part(p["path"], base64.b64decode(p["payload"])) for p in desired["parts"])
    action["desired_fingerprint"] = fingerprint(
        parts, display_name=desired["display_name"], description=desired["description"]
    )
    _write(planfile, doc)
    assert dfg("show", str(planfile))[1] == reviewed  # show still shows what was reviewed ...

    err = _refused(dfg, "-e", "e2e", str(planfile))  # ... so apply refuses the file
    assert '"Sales Orders" (its payload differs from what its source renders)' in err
    assert "DaysBack = 14000" not in live.mashup(live.dataflows()["Sales Orders"])


def test_an_edited_diff_is_refused(dfg: Cli, live: Live, project: Path, tmp_path: Path) -> None:
    assert dfg("apply", "-e", "e2e", "--auto-approve")[0] == 0
    _set_days(project, "e2e", 21)
    commit_all(project, "21 days")
    planfile = tmp_path / "p.json"
    _save(dfg, "e2e", planfile)
    doc = _doc(planfile)
    action = next(a for a in doc["actions"] if a["name"] == "Sales Orders")
    action["diff"]["queries"][0]["diff"] = "- nothing to see\n+ nothing to see"
    _write(planfile, doc)
    err = _refused(dfg, "-e", "e2e", str(planfile))
    assert "the diff it shows differs" in err


def test_a_plan_outside_todays_scope_is_refused(
    dfg: Cli, live: Live, project: Path, tmp_path: Path
) -> None:
    planfile = tmp_path / "p.json"
    _save(dfg, "e2e", planfile)
    overlay_file = project / "environments" / "e2e.yaml"
    overlay_file.write_text(overlay_file.read_text() + "scope:\n  exclude: ['Hello*']\n")
    err = _refused(dfg, "-e", "e2e", str(planfile))
    assert "outside today's scope: Hello Dataflow" in err
    assert live.dataflows() == {}


def test_a_plan_is_proven_by_its_commit_even_after_head_moved(
    dfg: Cli, live: Live, project: Path, tmp_path: Path
) -> None:
    _set_days(project, "e2e", 14)
    commit_all(project, "14 days")
    planfile = tmp_path / "p.json"
    _save(dfg, "e2e", planfile)
    _set_days(project, "e2e", 60)  # HEAD moves on before the apply job runs
    commit_all(project, "60 days")

    code, out, err = dfg("apply", "-e", "e2e", str(planfile))
    assert code == 0, out + err
    assert "DaysBack = 14" in live.mashup(live.dataflows()["Sales Orders"])


def test_a_dirty_tree_plan_is_refused_once_the_working_tree_changed(
    dfg: Cli, live: Live, project: Path, tmp_path: Path
) -> None:
    mashup = project / "dataflows" / "Hello Dataflow.Dataflow" / "mashup.pq"
    mashup.write_text(mashup.read_text().replace("Changed column type", "Typed columns"))
    planfile = tmp_path / "p.json"
    _save(dfg, "e2e", planfile)
    assert _doc(planfile)["dirty"] is True
    assert len(_doc(planfile)["source_hash"]) == 64

    mashup.write_text(mashup.read_text() + "\n// edited after the plan\n")
    err = _refused(dfg, "-e", "e2e", str(planfile))
    assert "uncommitted sources that have changed since" in err
    assert live.dataflows() == {}

    # Told to trust the file, it applies the file's payloads (not the working tree's), still
    # to the workspace the environment names now and under today's rules.
    code, out, err = dfg("apply", "-e", "e2e", str(planfile), "--trust-plan-file")
    assert code == 0, out + err
    applied = live.mashup(live.dataflows()["Hello Dataflow"])
    assert "Typed columns" in applied
    assert "edited after the plan" not in applied


def test_a_dirty_tree_plan_applies_while_the_working_tree_is_unchanged(
    dfg: Cli, live: Live, project: Path, tmp_path: Path
) -> None:
    mashup = project / "dataflows" / "Hello Dataflow.Dataflow" / "mashup.pq"
    mashup.write_text(mashup.read_text().replace("Changed column type", "Typed columns"))
    planfile = tmp_path / "p.json"
    _save(dfg, "e2e", planfile)
    code, out, err = dfg("apply", "-e", "e2e", str(planfile))
    assert code == 0, out + err
    assert "Typed columns" in live.mashup(live.dataflows()["Hello Dataflow"])
