"""Environment names: a file that cannot be an environment is reported by validate (file named)
and ignored by everything else, so it never breaks the plans of the other environments; names git
refuses in a tag, and names that differ only in case, are refused before anything is deployed."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import Live
from emulator_project import Cli

BAD_NAMES = ["-dash", ".hidden", "a..b"]


def item_writes(live: Live) -> list[str]:
    entries = live.control("GET", "requests")["value"]
    return [f"{e['method']} {e['path']}" for e in entries if e["method"] != "GET"]


def one_error(err: str) -> str:
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bad_overlay_name_fails_validate_and_leaves_other_plans_alone(
    dfg: Cli, project: Path, name: str
) -> None:
    envs = project / "environments"
    (envs / f"{name}.yaml").write_text((envs / "e2e-keep.yaml").read_text(), encoding="utf-8")
    code, out, err = dfg("validate")
    assert code == 1, (out, err)
    assert f"environments/{name}.yaml" in out + err
    assert "cannot be an environment name" in out + err

    code, out, err = dfg("plan", "-e", "e2e")
    assert code == 0, (out, err)
    assert "Plan: 7 to create" in out


@pytest.mark.parametrize("name", ["a..b", "x.lock", "trailing."])
def test_a_name_git_refuses_is_refused_before_any_write(
    dfg: Cli, project: Path, live: Live, name: str
) -> None:
    envs = project / "environments"
    (envs / f"{name}.yaml").write_text((envs / "e2e-keep.yaml").read_text(), encoding="utf-8")
    before = item_writes(live)
    code, out, err = dfg("apply", "-e", name, "--auto-approve")
    assert code == 1, (out, err)
    assert "cannot be an environment name" in one_error(err)
    assert item_writes(live) == before


def test_names_differing_only_in_case_are_refused(dfg: Cli, project: Path, live: Live) -> None:
    envs = project / "environments"
    (envs / "E2E-keep.yaml").write_text((envs / "e2e-keep.yaml").read_text(), encoding="utf-8")
    code, out, err = dfg("validate")
    assert code == 1, (out, err)
    assert "2 overlays name one environment" in out + err
    before = item_writes(live)
    code, out, err = dfg("apply", "-e", "e2e-keep", "--auto-approve")
    assert code == 1, (out, err)
    assert "ambiguous" in one_error(err)
    assert item_writes(live) == before
    # the other environments still plan
    code, out, err = dfg("plan", "-e", "e2e")
    assert code == 0, (out, err)


def test_yaml_and_yml_of_one_name_are_ambiguous(dfg: Cli, project: Path) -> None:
    envs = project / "environments"
    (envs / "e2e-keep.yml").write_text((envs / "e2e-keep.yaml").read_text(), encoding="utf-8")
    code, out, err = dfg("plan", "-e", "e2e-keep")
    assert code == 1
    assert "ambiguous" in one_error(err)
