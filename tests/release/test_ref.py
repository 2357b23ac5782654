"""`--ref` for plan, render, apply and promote: desired state from any commit without a checkout;
rollback is `apply --ref` of an older ref (or of a saved plan of it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulator_project import Cli, Live, commit_all, git
from release_support import PROD_WS, TEST_WS

APPROVE = ("--approve-protected", "prod")
CUSTOMERS = Path("dataflows") / "Customers.Dataflow" / "mashup.pq"


@pytest.fixture
def two_releases(dfg: Cli, project: Path) -> tuple[str, str]:
    """v1 applied to test, then v2 (Customers' "Unknown" → "n/a") applied to test."""
    code, out, err = dfg("apply", "-e", "test", "--auto-approve")
    assert code == 0, out + err
    git(project, "tag", "v1")
    v1 = git(project, "rev-parse", "HEAD")
    mashup = project / CUSTOMERS
    mashup.write_text(mashup.read_text().replace('"Unknown"', '"n/a"'))
    v2 = commit_all(project, "v2: n/a")
    code, out, err = dfg("apply", "-e", "test", "--auto-approve")
    assert code == 0, out + err
    return v1, v2


def test_rollback_is_apply_of_a_plan_of_an_older_ref(
    dfg: Cli, project: Path, live: Live, two_releases: tuple[str, str]
) -> None:
    v1, _ = two_releases
    customers = live.dataflows(TEST_WS)["Customers"]
    assert '"n/a"' in live.parts(TEST_WS, customers)["mashup.pq"]
    plan_file = project.parent / "rollback.json"

    code, out, err = dfg(
        "plan", "-e", "test", "--ref", "v1", "--out", str(plan_file), "--detailed-exitcode"
    )
    assert code == 2, out + err
    assert "Plan: 0 to create, 1 to update, 0 to delete." in out
    code, out, err = dfg("apply", "-e", "test", str(plan_file))
    assert code == 0, out + err

    assert '"Unknown"' in live.parts(TEST_WS, customers)["mashup.pq"]
    assert live.dataflows(TEST_WS)["Customers"] == customers  # same item, updated in place
    latest = git(
        project,
        "for-each-ref",
        "--sort=-refname",
        "--count=1",
        "--format=%(object)",
        "refs/tags/dfg/test/",
    )
    assert git(project, "rev-parse", f"{latest}^{{commit}}") == v1
    assert git(project, "status", "--porcelain") == ""  # nothing was checked out
    code, out, _ = dfg("drift", "-e", "test")
    assert code == 0
    assert "Customers: pending git change" in out


def test_render_ref_reads_the_commit_without_a_checkout(
    dfg: Cli, project: Path, two_releases: tuple[str, str]
) -> None:
    code, out, _ = dfg("render", "-e", "test", "Customers", "--ref", "v1")
    assert code == 0
    assert '"Unknown"' in out
    assert '"n/a"' in (project / CUSTOMERS).read_text()


def test_promote_ref_rolls_prod_back_to_an_earlier_tested_release(
    dfg: Cli, project: Path, live: Live, two_releases: tuple[str, str]
) -> None:
    v1, v2 = two_releases
    code, out, err = dfg("promote", "--to", "prod", *APPROVE)
    assert code == 0, out + err
    assert f"commit {v2[:12]}" in out
    customers = live.dataflows(PROD_WS)["Customers"]
    assert '"n/a"' in live.parts(PROD_WS, customers)["mashup.pq"]

    code, out, err = dfg("promote", "--to", "prod", "--ref", "v1", *APPROVE)

    assert code == 0, out + err
    assert f"commit {v1[:12]}" in out
    assert "an earlier release of test" in out
    assert '"Unknown"' in live.parts(PROD_WS, customers)["mashup.pq"]


def test_promote_ref_never_applied_to_the_source_is_refused(
    dfg: Cli, project: Path, live: Live, two_releases: tuple[str, str]
) -> None:
    mashup = project / CUSTOMERS
    mashup.write_text(mashup.read_text().replace('"n/a"', '"none"'))
    commit_all(project, "v3, never applied")

    code, _, err = dfg("promote", "--to", "prod", "--ref", "HEAD", *APPROVE)

    assert code == 1
    assert "was never applied completely to test" in err
    assert live.dataflows(PROD_WS) == {}


def test_unknown_ref_is_one_line(dfg: Cli) -> None:
    code, _, err = dfg("plan", "-e", "test", "--ref", "no-such-tag")
    assert code == 1
    assert "unknown git ref 'no-such-tag'" in err
    assert len(err.strip().splitlines()) == 1


def test_rollback_is_apply_of_an_older_ref(
    dfg: Cli, project: Path, live: Live, two_releases: tuple[str, str]
) -> None:
    v1, _ = two_releases
    customers = live.dataflows(TEST_WS)["Customers"]

    code, out, err = dfg("apply", "-e", "test", "--ref", "v1", "--auto-approve")

    assert code == 0, out + err
    assert "Apply complete: 0 created, 1 updated, 0 deleted." in out
    assert '"Unknown"' in live.parts(TEST_WS, customers)["mashup.pq"]
    assert live.dataflows(TEST_WS)["Customers"] == customers
    assert git(project, "status", "--porcelain") == ""
    code, out, _ = dfg("history", "-e", "test")
    assert code == 0
    assert out.splitlines()[0].split()[1] == v1[:12]
    # and what test runs now is the release promote ships
    code, out, err = dfg("promote", "--to", "prod", *APPROVE)
    assert code == 0, out + err
    assert f"commit {v1[:12]}" in out
    assert '"Unknown"' in live.parts(PROD_WS, live.dataflows(PROD_WS)["Customers"])["mashup.pq"]


def test_promote_ref_of_a_release_test_ran_only_in_part_is_refused(
    dfg: Cli, project: Path, live: Live
) -> None:
    code, out, err = dfg("apply", "-e", "test", "--auto-approve")
    assert code == 0, out + err
    folder = project / "dataflows"
    for name, old, new in (("Customers", '"Unknown"', '"n/a"'), ("Products", '"Margin"', '"GM"')):
        mashup = folder / f"{name}.Dataflow" / "mashup.pq"
        mashup.write_text(mashup.read_text().replace(old, new))
    commit_all(project, "v2")
    git(project, "tag", "v2")
    code, out, err = dfg("apply", "-e", "test", "--target", "Customers", "--auto-approve")
    assert code == 0, out + err
    hello = folder / "Hello Dataflow.Dataflow" / "mashup.pq"
    hello.write_text(hello.read_text() + "\n")
    commit_all(project, "v3")
    code, out, err = dfg("apply", "-e", "test", "--auto-approve")
    assert code == 0, out + err

    code, _, err = dfg("promote", "--to", "prod", "--ref", "v2", *APPROVE)

    assert code == 1
    assert "applied to test only in part; test never ran its version of: Products" in err
    assert live.dataflows(PROD_WS) == {}
    code, out, err = dfg("promote", "--to", "prod", "--ref", "v2", "--target", "Customers", *APPROVE)
    assert code == 0, out + err
    assert set(live.dataflows(PROD_WS)) == {"Customers"}
