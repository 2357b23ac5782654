"""The CI recipes (GitHub workflows, composite action, Azure Pipelines, pre-commit hook) parse, hold
the elements the docs promise, and only run `dfg` commands and options that exist."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click
import pytest

sys.path.insert(0, str(Path(__file__).parent / "integrations"))

from workflow_steps import (  # noqa: E402
    AZURE_EXAMPLES,
    GITHUB_EXAMPLES,
    REPO_ROOT,
    TEMPLATE,
    argv,
    azure_steps,
    dfg_lines,
    github_steps,
    load,
    triggers,
)

from dataflow_gitops.cli.main import COMMANDS, cli  # noqa: E402

GITHUB = {p.name: load(p) for p in sorted(GITHUB_EXAMPLES.glob("*.yml"))}
AZURE = {p.name: load(p) for p in sorted(AZURE_EXAMPLES.glob("*.yml"))}
OWN = {p.name: load(p) for p in sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))}
ACTION_REF = "dataflow-gitops/dataflow-gitops@main"
AZURE_MATRIX = "$[ dependencies.environments.outputs['envs.matrix'] ]"


def _scripts() -> list[tuple[str, str]]:
    scripts = [
        (f"{name}:{job}", step["run"])
        for name, wf in {**GITHUB, **OWN}.items()
        for job, step in github_steps(wf)
        if "run" in step
    ]
    scripts += [
        (name, step["bash"])
        for name, doc in AZURE.items()
        for step in azure_steps(doc)
        if "bash" in step
    ]
    return scripts


def _all_dfg_lines() -> list[tuple[str, str]]:
    return [(where, line) for where, script in _scripts() for line in dfg_lines(script)]


def test_recipes_exist() -> None:
    assert set(GITHUB) == {"dfg-plan.yml", "dfg-deploy.yml", "dfg-promote.yml", "dfg-drift.yml"}
    assert set(AZURE) == {"azure-pipelines.yml", "dfg-setup.yml", "drift.yml"}


def test_init_template_carries_the_same_recipes() -> None:
    """`dfg init` writes copies of examples/ci: they must not drift apart."""
    for folder, copy in (
        (GITHUB_EXAMPLES, "dot-github/workflows"),
        (AZURE_EXAMPLES, "dot-azure-pipelines"),
    ):
        copies = {p.name: p.read_bytes() for p in (TEMPLATE / copy).glob("*.yml")}
        originals = {p.name: p.read_bytes() for p in folder.glob("*.yml")}
        assert copies == originals, f"copy examples/ci into templates/init/{copy}"


# -- every command a step runs exists, with those options --------------------------------------


def _options(command: click.Command) -> set[str]:
    names = {"-h", "--help"}
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


@pytest.mark.parametrize(("where", "line"), _all_dfg_lines())
def test_each_dfg_step_names_real_options(where: str, line: str) -> None:
    args = argv(line, {"DFG_ENV": "dev", "DFG_FROM": "test", "DFG_TO": "prod", "environment": "dev"})
    if args in (["--version"], ["--help"], []):
        return
    name = args[0]
    assert name in COMMANDS, f"{where}: dfg {name} is not a command"
    with click.Context(cli) as ctx:
        command = cli.get_command(ctx, name)
    assert command is not None
    known = _options(command)
    for token in args[1:]:
        if token.startswith("-"):
            assert token.split("=", 1)[0] in known, f"{where}: dfg {name} has no option {token}"


def test_the_recipes_run_every_workflow_command() -> None:
    used = {argv(line, {})[0] for _, line in _all_dfg_lines() if not argv(line, {})[0].startswith("-")}
    assert {"validate", "environments", "plan", "comment", "apply", "promote", "show", "drift"} <= used


def test_no_expression_is_spliced_into_a_shell_script() -> None:
    """Matrix values and inputs reach scripts through env:, never as ${{ … }} text (injection)."""
    for where, script in _scripts():
        assert "${{" not in script, where


# -- GitHub workflows -------------------------------------------------------------------------


def _uses(workflow: dict[str, Any]) -> list[str]:
    return [step["uses"] for _, step in github_steps(workflow) if "uses" in step]


@pytest.mark.parametrize("name", sorted(GITHUB))
def test_every_workflow_installs_dfg_with_the_action_and_uses_oidc(name: str) -> None:
    workflow = GITHUB[name]
    assert ACTION_REF in _uses(workflow)
    assert workflow["permissions"]["id-token"] == "write"
    for job_id, job in workflow["jobs"].items():
        if any("dfg" in step.get("run", "") for step in job["steps"]):
            assert ACTION_REF in [s.get("uses") for s in job["steps"]], f"{name}:{job_id}"


def test_plan_preview_fans_out_over_the_environment_matrix() -> None:
    workflow = GITHUB["dfg-plan.yml"]
    assert "pull_request" in triggers(workflow)
    assert workflow["permissions"]["pull-requests"] == "write"
    jobs = workflow["jobs"]
    matrix_step = next(s for s in jobs["environments"]["steps"] if s.get("id") == "matrix")
    assert "dfg environments --json --skip-embedded" in matrix_step["run"]
    assert "$GITHUB_OUTPUT" in matrix_step["run"]
    assert jobs["environments"]["outputs"]["matrix"] == "${{ steps.matrix.outputs.matrix }}"
    plan = jobs["plan"]
    assert plan["needs"] == "environments"
    assert plan["strategy"]["matrix"] == "${{ fromJSON(needs.environments.outputs.matrix) }}"
    assert plan["strategy"]["fail-fast"] is False
    assert "matrix.environment" in plan["concurrency"]["group"]
    runs = " ".join(s.get("run", "") for s in plan["steps"])
    assert 'dfg plan -e "$DFG_ENV" --out' in runs
    assert "dfg comment --plan-file" in runs
    comment = next(s for s in plan["steps"] if "dfg comment" in s.get("run", ""))
    assert comment["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    assert any(u.startswith("actions/upload-artifact@") for u in _uses(workflow))
    assert plan["env"]["DFG_ENV"] == "${{ matrix.environment }}"


def _fetches_history(job: dict[str, Any]) -> bool:
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    return checkout.get("with", {}).get("fetch-depth") == 0 and any(
        "git fetch --tags" in s.get("run", "") for s in job["steps"]
    )


def test_deploy_on_merge_applies_dev_publishes_and_pushes_records() -> None:
    workflow = GITHUB["dfg-deploy.yml"]
    assert triggers(workflow)["push"]["branches"] == ["main"]
    assert workflow["permissions"]["contents"] == "write"
    for env in ("dev", "test"):
        job = workflow["jobs"][env]
        assert job["environment"] == env
        assert job["concurrency"] == {"group": f"dfg-{env}", "cancel-in-progress": False}
        assert _fetches_history(job)
        runs = [s.get("run", "") for s in job["steps"]]
        assert "git push origin 'refs/tags/dfg/*'" in runs
        assert any("--publish" in r for r in runs)
    dev_runs = " ".join(s.get("run", "") for s in workflow["jobs"]["dev"]["steps"])
    assert "dfg apply -e dev dfg-plan-dev.json" in dev_runs
    assert workflow["jobs"]["test"]["needs"] == "dev"


def test_promotion_waits_for_the_environment_approval() -> None:
    workflow = GITHUB["dfg-promote.yml"]
    on = triggers(workflow)
    assert "workflow_dispatch" in on
    assert on["release"]["types"] == ["published"]
    plan, apply = workflow["jobs"]["plan"], workflow["jobs"]["apply"]
    assert apply["needs"] == "plan"
    assert apply["environment"] == "${{ inputs.to || 'prod' }}"
    assert (
        plan["concurrency"]["group"] == apply["concurrency"]["group"] == "dfg-${{ inputs.to || 'prod' }}"
    )
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert _fetches_history(plan)
    assert _fetches_history(apply)
    apply_runs = " ".join(s.get("run", "") for s in apply["steps"])
    assert '--approve-protected "$DFG_TO"' in apply_runs
    assert "git push origin 'refs/tags/dfg/*'" in apply_runs


def test_drift_runs_on_a_schedule_and_manages_an_issue() -> None:
    workflow = GITHUB["dfg-drift.yml"]
    on = triggers(workflow)
    assert on["schedule"][0]["cron"].count(" ") == 4
    assert workflow["permissions"]["issues"] == "write"
    job = workflow["jobs"]["drift"]
    assert job["strategy"]["matrix"] == "${{ fromJSON(needs.environments.outputs.matrix) }}"
    assert "matrix.environment" in job["concurrency"]["group"]
    assert _fetches_history(job)
    steps = {s.get("name"): s for s in job["steps"]}
    assert 'dfg drift -e "$DFG_ENV" --format markdown' in steps["Drift"]["run"]
    assert steps["Open or update the drift issue"]["if"] == "steps.drift.outputs.code == '2'"
    assert "gh issue create" in steps["Open or update the drift issue"]["run"]
    assert "gh issue edit" in steps["Open or update the drift issue"]["run"]


def test_example_plan_preview_dogfoods_the_action_on_the_embedded_emulator() -> None:
    workflow = OWN["example-plan.yml"]
    assert "pull_request" in triggers(workflow)
    assert "id-token" not in workflow["permissions"]  # nothing to sign in to
    steps = workflow["jobs"]["plan"]["steps"]
    action = next(s for s in steps if s.get("uses") == "./")
    assert action["with"]["emulator"] == "true"
    runs = [s.get("run", "") for s in steps]
    base = next(r for r in runs if "dfg apply -e local" in r)
    assert base.index('"$BASE_SHA"') < base.index("dfg apply") < base.index('"$HEAD_SHA"')
    comment = next(s for s in steps if "dfg comment" in s.get("run", ""))
    assert "head.repo.full_name == github.repository" in comment["if"]  # forks: read-only token
    # Only the embedded environment: this repository's other overlays name example workspaces.
    for _, line in [(None, x) for r in runs for x in dfg_lines(r)]:
        args = argv(line)
        if "-e" in args:
            assert args[args.index("-e") + 1] == "local"


def test_project_ci_runs_the_ci_script() -> None:
    workflow = load(REPO_ROOT / ".github" / "workflows" / "ci.yml")
    runs = [s.get("run") for _, s in github_steps(workflow)]
    assert "bash .ci/run" in runs
    assert (REPO_ROOT / ".ci" / "run").is_file()
    assert {"push", "pull_request"} <= set(triggers(workflow))
    assert workflow["permissions"] == {"contents": "read"}


# -- composite action, Azure Pipelines, pre-commit -----------------------------------------------


def test_composite_action_installs_its_own_checkout() -> None:
    action = load(REPO_ROOT / "action.yml")
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    install = steps[1]
    assert "$GITHUB_ACTION_PATH" in install["run"]
    assert "pip install" in install["run"]
    assert install["shell"] == "bash"
    assert "${{" not in install["run"]
    assert set(action["inputs"]) == {
        "version",
        "python-version",
        "emulator",
        "read-cache",
        "project-dir",
    }
    cache = steps[2]
    assert cache["uses"].startswith("actions/cache@")
    assert cache["with"]["path"] == "${{ inputs.project-dir }}/.dataflow-gitops/cache"
    assert cache["if"] == "inputs.read-cache == 'true'"


def test_azure_pipeline_stages_matrix_and_approvals() -> None:
    doc = AZURE["azure-pipelines.yml"]
    stages = {s["stage"]: s for s in doc["stages"]}
    assert list(stages) == ["validate", "plan", "dev", "test", "prod"]
    plan_jobs = {j["job"]: j for j in stages["plan"]["jobs"]}
    assert (
        plan_jobs["plan"]["strategy"]["matrix"]
        == "$[ dependencies.environments.outputs['envs.matrix'] ]"
    )
    matrix_script = plan_jobs["environments"]["steps"][2]["bash"]
    assert "task.setvariable variable=matrix;isOutput=true" in matrix_script
    assert "dfg environments --json --matrix azure" in matrix_script
    for env in ("dev", "test", "prod"):
        stage = stages[env]
        assert stage["lockBehavior"] == "sequential"
        deployment = stage["jobs"][0]
        assert deployment["environment"] == env
        scripts = " ".join(s.get("bash", "") for s in azure_steps(deployment))
        assert "--publish" in scripts
        assert "git push origin 'refs/tags/dfg/*'" in scripts
    for step in azure_steps(doc):
        if (
            "dfg " in step.get("bash", "")
            and "dfg validate" not in step["bash"]
            and ("environments" not in step["bash"])
        ):
            assert step["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
    drift = AZURE["drift.yml"]
    assert drift["schedules"][0]["cron"]
    assert (
        drift["jobs"][1]["strategy"]["matrix"] == "$[ dependencies.environments.outputs['envs.matrix'] ]"
    )


def test_pre_commit_hook() -> None:
    (hook,) = load_list(REPO_ROOT / ".pre-commit-hooks.yaml")
    assert hook["id"] == "dfg-validate"
    assert hook["entry"] == "dfg validate"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert files.search("dataflows/Sales.Dataflow/mashup.pq")
    assert files.search("environments/prod.yaml")
    assert files.search("dataflow-gitops.yaml")
    assert not files.search("src/dataflow_gitops/cli/main.py")
    assert not files.search("docs/environments/x.md")


def load_list(path: Path) -> list[dict[str, Any]]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data
