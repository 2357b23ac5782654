"""The example workflows' `dfg` steps, run in order against the emulator and the GitHub fake.

A repository made by `dfg init` (its overlays pointed at a loopback emulator) goes through what
the GitHub recipes do: PR plan preview over the environment matrix with sticky comments, deploy
on merge (apply dev, promote to test), gated promotion to prod from a saved plan, and the drift
check — first in sync, then after a hand edit in the prod workspace.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import git
import httpx
import pytest
from azure_fake import TOKEN as AZURE_TOKEN
from azure_fake import FakeAzureRepos
from github_fake import TOKEN as GITHUB_TOKEN
from github_fake import FakeGitHub
from shared_emulator import fresh
from workflow_steps import AZURE_EXAMPLES, GITHUB_EXAMPLES, argv, dfg_lines, load

from dataflow_gitops.cli.main import run
from dataflow_gitops.integrations.github import marker
from dataflow_gitops.scaffold import scaffold
from fabric_emulator import EmulatorServer

FABRIC_TOKEN = "fabric-test-token"
WORKSPACES = {
    "dev": "11111111-1111-4111-8111-111111111111",
    "test": "22222222-2222-4222-8222-222222222222",
    "prod": "33333333-3333-4333-8333-333333333333",
}
REPO = "contoso/dataflows"


@pytest.fixture
def project(
    tmp_path: Path, emulator: EmulatorServer, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> Path:
    fresh(emulator.url, workspaces=[(ws, f"Sales {env}") for env, ws in WORKSPACES.items()])
    root = tmp_path / "repo"
    scaffold(root)
    # The scaffold's overlays already name these workspace ids; only the API and auth change.
    (root / "dataflow-gitops.yaml").write_text(
        "promotion_order: [dev, test, prod]\n"
        f"defaults:\n  api: {emulator.url}\n  auth:\n    method: token\n    token_env: FABRIC_TOKEN\n"
    )
    repo = git.Repo.init(root, initial_branch="main")
    repo.git.add("-A")
    repo.index.commit("dfg init")
    repo.close()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 5}}))
    for name, value in {
        "FABRIC_TOKEN": FABRIC_TOKEN,
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": GITHUB_TOKEN,
        "GITHUB_API_URL": fake_github.url,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(root)
    return root


def _job_lines(workflow: str, job: str) -> list[str]:
    steps = load(GITHUB_EXAMPLES / workflow)["jobs"][job]["steps"]
    return [line for step in steps for line in dfg_lines(step.get("run", ""))]


def _run(
    project: Path, capsys: pytest.CaptureFixture[str], line: str, **variables: str
) -> tuple[int, str]:
    capsys.readouterr()
    code = run(["--no-color", "-C", str(project), *argv(line, variables)])
    captured = capsys.readouterr()
    assert FABRIC_TOKEN not in captured.out + captured.err
    assert GITHUB_TOKEN not in captured.out + captured.err
    return code, captured.out + captured.err


def _hand_edit(emulator: EmulatorServer, workspace: str, name: str) -> None:
    headers = {"Authorization": f"Bearer {FABRIC_TOKEN}"}
    with httpx.Client(base_url=f"{emulator.url}/v1/workspaces/{workspace}", headers=headers) as api:
        items = api.get("/items", params={"type": "Dataflow"}).json()["value"]
        item = next(i for i in items if i["displayName"] == name)
        definition = api.post(f"/items/{item['id']}/getDefinition").json()["definition"]
        for part in definition["parts"]:
            if part["path"] == "mashup.pq":
                text = base64.b64decode(part["payload"]).decode()
                text = text.replace(">= MinimumAmount", "> MinimumAmount")
                part["payload"] = base64.b64encode(text.encode()).decode()
        response = api.post(f"/items/{item['id']}/updateDefinition", json={"definition": definition})
        assert response.status_code in (200, 202), response.text


@pytest.mark.slow
def test_the_github_recipes_end_to_end(
    project: Path, emulator: EmulatorServer, fake_github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    # -- dfg-plan.yml: validate, the matrix, then one plan + sticky comment per environment ----
    validate, environments = _job_lines("dfg-plan.yml", "environments")
    assert _run(project, capsys, validate)[0] == 0
    code, out = _run(project, capsys, environments)
    assert code == 0
    matrix = json.loads(out)
    envs = [entry["environment"] for entry in matrix["include"]]
    assert envs == ["dev", "test", "prod"]  # `local` (embedded) is skipped
    for _ in range(2):  # a second push edits the comments in place
        for env in envs:
            for line in _job_lines("dfg-plan.yml", "plan"):
                code, out = _run(project, capsys, line, DFG_ENV=env)
                assert code == 0, out
            assert (project / f"dfg-plan-{env}.json").is_file()
    comments = fake_github.on(REPO, 5)
    assert len(comments) == 3
    for env in envs:
        (body,) = [c["body"] for c in comments if c["body"].startswith(marker(env))]
        assert "Sample Orders" in body
    summary = (project.parent / "summary.md").read_text()
    assert summary.count("Sample Orders") >= 3
    code, out = _run(project, capsys, "dfg comment -e prod --plan-file dfg-plan-dev.json")
    assert code == 1
    assert "the plan file is for 'dev', not 'prod'" in out
    assert len(fake_github.on(REPO, 5)) == 3

    # -- dfg-deploy.yml: apply dev from the saved plan and publish; promote dev → test ----------
    for job in ("dev", "test"):
        for line in _job_lines("dfg-deploy.yml", job):
            code, out = _run(project, capsys, line)
            assert code == 0, f"{line}\n{out}"
    tags = git.Repo(project).git.tag("--list", "dfg/*").split()
    assert {t.split("/")[1] for t in tags} == {"dev", "test"}

    # -- dfg-promote.yml: plan test → prod (changes: exit 2), show it, apply that plan ---------
    plan_line, show_line = _job_lines("dfg-promote.yml", "plan")
    (apply_line,) = _job_lines("dfg-promote.yml", "apply")
    code, out = _run(project, capsys, plan_line, DFG_FROM="test", DFG_TO="prod")
    assert code == 2, out
    code, out = _run(project, capsys, show_line)
    assert code == 0
    assert out.startswith(marker("prod"))
    code, out = _run(project, capsys, apply_line, DFG_TO="prod")
    assert code == 0, out

    # -- dfg-drift.yml: in sync everywhere, then a hand edit in prod is drift (exit 2) ----------
    (drift_line,) = _job_lines("dfg-drift.yml", "drift")
    for env in envs:
        code, out = _run(project, capsys, drift_line, DFG_ENV=env)
        assert code == 0, out
    _hand_edit(emulator, WORKSPACES["prod"], "Sample Orders")
    code, out = _run(project, capsys, drift_line, DFG_ENV="prod")
    assert code == 2
    drift_md = (project / "drift.md").read_text() if (project / "drift.md").exists() else out
    assert re.search(r"Sample Orders", drift_md)


def test_the_azure_plan_steps(
    project: Path,
    fake_azure: FakeAzureRepos,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The pipeline's plan job: plan one environment, then its sticky thread on Azure Repos."""
    doc = load(AZURE_EXAMPLES / "azure-pipelines.yml")
    plan_stage = next(s for s in doc["stages"] if s["stage"] == "plan")
    plan_job = next(j for j in plan_stage["jobs"] if j["job"] == "plan")
    plan_line, comment_line = [x for step in plan_job["steps"] for x in dfg_lines(step.get("bash", ""))]
    monkeypatch.delenv("GITHUB_ACTIONS")
    for name, value in {
        "TF_BUILD": "True",
        "SYSTEM_COLLECTIONURI": f"{fake_azure.url}/contoso",
        "SYSTEM_TEAMPROJECT": "Data",
        "BUILD_REPOSITORY_ID": "dataflows",
        "SYSTEM_PULLREQUEST_PULLREQUESTID": "8",
        "SYSTEM_ACCESSTOKEN": AZURE_TOKEN,
    }.items():
        monkeypatch.setenv(name, value)
    code, out = _run(project, capsys, plan_line, environment="test")
    assert code == 0, out
    assert out.startswith(marker("test"))
    assert json.loads((project / "dfg-plan-test.json").read_text())
    code, out = _run(project, capsys, comment_line, environment="test")
    assert code == 0, out
    (content,) = fake_azure.contents(8)
    assert content.startswith(marker("test"))
    assert "Sample Orders" in content
    assert AZURE_TOKEN not in out
