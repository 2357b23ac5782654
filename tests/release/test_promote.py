"""`dfg promote` against the emulator: what ships is what the source environment ran."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
from emulator_project import Cli, Live, commit_all, git
from release_support import PROD_WS, TEST_WS

APPROVE = ("--approve-protected", "prod")


def _apply_test(dfg: Cli) -> None:
    code, out, err = dfg("apply", "-e", "test", "--auto-approve")
    assert code == 0, out + err


def test_promote_ships_the_commit_test_ran_even_when_head_moved(
    dfg: Cli, project: Path, live: Live
) -> None:
    _apply_test(dfg)
    tested = git(project, "rev-parse", "HEAD")
    mashup = project / "dataflows" / "Customers.Dataflow" / "mashup.pq"
    mashup.write_text(mashup.read_text().replace('"Unknown"', '"Unknown (untested)"'))
    untested = commit_all(project, "untested change")
    assert untested != tested

    code, out, err = dfg("promote", "--from", "test", "--to", "prod", *APPROVE)

    assert code == 0, out + err
    assert f"commit {tested[:12]}" in out
    prod = live.dataflows(PROD_WS)
    assert "Hello Dataflow" not in prod  # prod's scope excludes it
    assert set(prod) == set(live.dataflows(TEST_WS)) - {"Hello Dataflow"}
    assert "untested" not in live.parts(PROD_WS, prod["Customers"])["mashup.pq"]
    assert "prod-sql.contoso.net" in live.parts(PROD_WS, prod["Sales Orders"])["mashup.pq"]
    tags = git(project, "tag", "--list", "dfg/prod/*", "--format=%(object)").split()
    assert tags == [tested]


def test_promote_refused_when_live_test_drifted(dfg: Cli, live: Live) -> None:
    _apply_test(dfg)
    live.hotfix(TEST_WS, "Products", "ProductName", "ProductTitle")

    code, out, err = dfg("promote", "--from", "test", "--to", "prod", *APPROVE)

    assert code == 1
    assert "Products" in err
    assert "no longer matches" in err
    assert "Customers" not in err
    assert live.dataflows(PROD_WS) == {}


def test_promote_refused_without_a_record(dfg: Cli, live: Live) -> None:
    code, _, err = dfg("promote", "--to", "prod", *APPROVE)
    assert code == 1
    assert "test has no deployment record" in err
    assert live.dataflows(PROD_WS) == {}


def test_from_disagreeing_with_promote_from_is_refused(dfg: Cli) -> None:
    _apply_test(dfg)
    code, _, err = dfg("promote", "--from", "dev", "--to", "prod", *APPROVE)
    assert code == 1
    assert "promoted from 'test'" in err
    assert "--from test" in err


def test_protected_target_needs_approval(dfg: Cli, live: Live) -> None:
    _apply_test(dfg)
    code, _, err = dfg("promote", "--to", "prod", "--auto-approve")
    assert code == 1
    assert "protected" in err
    assert "--approve-protected prod" in err
    assert live.dataflows(PROD_WS) == {}


def test_promote_out_saves_a_plan_that_apply_carries_out(dfg: Cli, project: Path, live: Live) -> None:
    _apply_test(dfg)
    plan_file = project / "prod.plan.json"

    code, out, err = dfg("promote", "--to", "prod", "--out", str(plan_file), "--detailed-exitcode")
    assert code == 2, out + err
    assert plan_file.is_file()
    assert live.dataflows(PROD_WS) == {}

    code, out, err = dfg("apply", "-e", "prod", str(plan_file), *APPROVE)
    assert code == 0, out + err
    assert len(live.dataflows(PROD_WS)) == 6

    code, out, err = dfg("promote", "--to", "prod", *APPROVE)
    assert code == 0, out + err
    assert "No changes" in out


def test_a_hand_edit_in_a_dataflow_prod_never_gets_does_not_block(dfg: Cli, live: Live) -> None:
    _apply_test(dfg)
    live.hotfix(TEST_WS, "Hello Dataflow", "section Section1;", "section Section1;\n// tried something")

    code, out, err = dfg("promote", "--to", "prod", *APPROVE)

    assert code == 0, out + err
    assert "Hello Dataflow" not in live.dataflows(PROD_WS)


TEST_IGNORES_TUNING = """
ignore:
  - parts: [queryMetadata.json]
    json_paths: [$.computeEngineSettings]
"""


def _tune(live: Live, name: str, extra: dict[str, object] | None = None) -> None:
    """An engine-tuning edit in live test's queryMetadata.json (what test's ignore rule hides)."""
    item = live.dataflows(TEST_WS)[name]
    parts = live.parts(TEST_WS, item)
    metadata = json.loads(parts["queryMetadata.json"])
    metadata["computeEngineSettings"] = {"maxConcurrency": 4}
    metadata.update(extra or {})
    parts["queryMetadata.json"] = json.dumps(metadata, indent=2)
    live.write_parts(TEST_WS, item, parts)


def test_a_difference_the_source_ignores_does_not_block(dfg: Cli, project: Path, live: Live) -> None:
    overlay = project / "environments" / "test.yaml"
    overlay.write_text(overlay.read_text() + TEST_IGNORES_TUNING)
    commit_all(project, "test: engine tuning is not drift")
    _apply_test(dfg)
    _tune(live, "Customers")
    code, out, _ = dfg("drift", "-e", "test")
    assert code == 0, out  # drift and promote agree on what counts

    code, out, err = dfg("promote", "--to", "prod", *APPROVE)

    assert code == 0, out + err
    assert "Customers" in live.dataflows(PROD_WS)


def test_an_ignored_difference_next_to_a_real_one_still_blocks(
    dfg: Cli, project: Path, live: Live
) -> None:
    overlay = project / "environments" / "test.yaml"
    overlay.write_text(overlay.read_text() + TEST_IGNORES_TUNING)
    commit_all(project, "test: engine tuning is not drift")
    _apply_test(dfg)
    _tune(live, "Customers", {"fastCombine": True})

    code, _, err = dfg("promote", "--to", "prod", *APPROVE)

    assert code == 1
    assert "no longer matches what was last applied there: Customers" in err
    assert live.dataflows(PROD_WS) == {}


def test_a_commit_test_ran_only_in_part_ships_only_that_part(
    dfg: Cli, project: Path, live: Live
) -> None:
    _apply_test(dfg)
    folder = project / "dataflows"
    for name, old, new in (("Customers", '"Unknown"', '"n/a"'), ("Products", '"Margin"', '"GM"')):
        mashup = folder / f"{name}.Dataflow" / "mashup.pq"
        mashup.write_text(mashup.read_text().replace(old, new))
    commit_all(project, "customers and products")
    code, out, err = dfg("apply", "-e", "test", "--target", "Customers", "--auto-approve")
    assert code == 0, out + err

    code, _, err = dfg("promote", "--to", "prod", *APPROVE)

    assert code == 1
    assert "applied to test only in part; test never ran its version of: Products" in err
    assert live.dataflows(PROD_WS) == {}

    code, out, err = dfg("promote", "--to", "prod", "--target", "Customers", *APPROVE)

    assert code == 0, out + err
    assert set(live.dataflows(PROD_WS)) == {"Customers"}
    assert '"n/a"' in live.parts(PROD_WS, live.dataflows(PROD_WS)["Customers"])["mashup.pq"]


def _plan_schema() -> jsonschema.Draft202012Validator:
    text = resources.files("dataflow_gitops").joinpath("schemas/plan.schema.json").read_text("utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


def test_promote_formats_are_plan_and_apply_formats(dfg: Cli, project: Path, live: Live) -> None:
    _apply_test(dfg)
    tested = git(project, "rev-parse", "HEAD")

    code, out, err = dfg("promote", "--to", "prod", "--out", str(project / "p.json"), "--format", "json")
    assert code == 0, out + err
    doc = json.loads(out)  # stdout is one JSON document
    _plan_schema().validate(doc)
    assert (doc["environment"], doc["commit"], doc["summary"]["create"]) == ("prod", tested, 6)

    code, out, err = dfg(
        "promote", "--to", "prod", "--out", str(project / "p.json"), "--format", "markdown"
    )
    assert code == 0, out + err
    assert "| Sales Orders |" in out
    assert "<details>" in out

    code, out, err = dfg("promote", "--to", "prod", "--format", "json", *APPROVE)
    assert code == 0, out + err
    result = json.loads(out)  # the apply result, as `dfg apply --format json` writes it
    assert result["ok"] is True
    assert len(result["outcomes"]) == 6
    assert len(live.dataflows(PROD_WS)) == 6


def test_json_promote_that_needs_a_prompt_shows_the_plan_on_stderr(dfg: Cli, live: Live) -> None:
    _apply_test(dfg)

    code, out, err = dfg("promote", "--to", "prod", "--format", "json")

    assert code == 1
    assert out == ""
    assert "Plan: 6 to create, 0 to update, 0 to delete." in err
    assert "protected" in err
    assert live.dataflows(PROD_WS) == {}


def test_an_overlay_change_after_the_apply_does_not_look_like_a_partial_apply(
    dfg: Cli, project: Path, live: Live
) -> None:
    _apply_test(dfg)
    tested = git(project, "rev-parse", "HEAD")
    overlay = project / "environments" / "test.yaml"
    overlay.write_text(overlay.read_text().replace("DaysBack: 90", "DaysBack: 30"))
    commit_all(project, "test: a shorter window, not applied yet")

    code, out, err = dfg("promote", "--to", "prod", *APPROVE)

    assert code == 0, out + err
    assert f"commit {tested[:12]}" in out


def test_promote_publish_runs_apply_changes_on_what_it_wrote(dfg: Cli, live: Live) -> None:
    _apply_test(dfg)

    code, out, err = dfg("promote", "--to", "prod", "--publish", "--target", "Customers", *APPROVE)

    assert code == 0, out + err
    item = live.dataflows(PROD_WS)["Customers"]
    jobs = live.client.list_jobs(PROD_WS, item)
    assert [(j["jobType"], j["status"]) for j in jobs] == [("ApplyChanges", "Completed")]


def test_the_target_overlay_comes_with_the_release(dfg: Cli, project: Path, live: Live) -> None:
    _apply_test(dfg)
    overlay = project / "environments" / "prod.yaml"
    overlay.write_text(overlay.read_text().replace("DaysBack: 365", "DaysBack: 400"))
    commit_all(project, "prod: a longer window")

    code, out, err = dfg("promote", "--to", "prod", *APPROVE)

    assert code == 0, out + err
    orders = live.dataflows(PROD_WS)["Sales Orders"]
    assert "DaysBack = 365" in live.parts(PROD_WS, orders)["mashup.pq"]

    _apply_test(dfg)  # test runs the commit that carries the overlay change
    code, out, err = dfg("promote", "--to", "prod", *APPROVE)

    assert code == 0, out + err
    assert "DaysBack = 400" in live.parts(PROD_WS, orders)["mashup.pq"]
