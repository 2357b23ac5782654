"""The recipes' shell steps, run the way GitHub runs them (`bash -eo pipefail`), with stand-in
`dfg` and `gh` programs: exit-code handling, step outputs, and the drift issue's create/edit/close."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from example_repo import copy_example
from github_fake import TOKEN as GITHUB_TOKEN
from github_fake import FakeGitHub
from platforms import needs_bash
from reader_shell import reader_env, run_bash
from workflow_steps import GITHUB_EXAMPLES, REPO_ROOT, load

from dataflow_gitops.integrations.github import marker

pytestmark = needs_bash

DRIFT = load(GITHUB_EXAMPLES / "dfg-drift.yml")["jobs"]["drift"]
PROMOTE = load(GITHUB_EXAMPLES / "dfg-promote.yml")["jobs"]["plan"]


def _step(job: dict, name: str) -> str:
    return next(s["run"] for s in job["steps"] if s.get("name") == name)


def _program(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


class Runner:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.calls = tmp_path / "calls.log"
        self.output = tmp_path / "output"
        self.summary = tmp_path / "summary.md"

    def stub_dfg(self, exit_code: int, out: str = "report") -> None:
        _program(self.bin, "dfg", f'echo "dfg $*" >> {self.calls}\necho "{out}"\nexit {exit_code}\n')

    def stub_gh(self, issue_list_output: str = "") -> None:
        _program(
            self.bin,
            "gh",
            f'echo "gh $*" >> {self.calls}\n'
            f'if [ "$1 $2" = "issue list" ]; then printf "%s" "{issue_list_output}"; fi\n',
        )

    def run(self, script: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "HOME": str(self.tmp),
            **env,
        }
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.tmp,
            env=environ,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def outputs(self) -> dict[str, str]:
        if not self.output.exists():
            return {}
        return dict(line.split("=", 1) for line in self.output.read_text().splitlines())

    def log(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


@pytest.mark.parametrize(("code", "step_ok"), [(0, True), (2, True), (1, False)])
def test_drift_step_passes_on_drift_and_fails_on_errors(
    runner: Runner, code: int, step_ok: bool
) -> None:
    runner.stub_dfg(code, out="## Drift in prod")
    result = runner.run(_step(DRIFT, "Drift"), DFG_ENV="prod")
    assert (result.returncode == 0) is step_ok
    assert runner.outputs()["code"] == str(code)
    assert "## Drift in prod" in runner.summary.read_text()
    assert runner.log() == ["dfg drift -e prod --format markdown"]


def test_drift_issue_is_created_when_none_is_open(runner: Runner) -> None:
    runner.stub_gh(issue_list_output="")
    (runner.tmp / "drift.md").write_text("drifted")
    result = runner.run(_step(DRIFT, "Open or update the drift issue"), DFG_ENV="prod")
    assert result.returncode == 0, result.stderr
    calls = runner.log()
    assert calls[0].startswith("gh issue list --state open --label dfg-drift")
    assert calls[-1] == "gh issue create --title Drift in prod --label dfg-drift --body-file drift.md"


def test_drift_issue_is_edited_when_open(runner: Runner) -> None:
    runner.stub_gh(issue_list_output="17")
    result = runner.run(_step(DRIFT, "Open or update the drift issue"), DFG_ENV="prod")
    assert result.returncode == 0, result.stderr
    assert runner.log()[-1] == "gh issue edit 17 --body-file drift.md"
    assert not any("issue create" in c for c in runner.log())


def test_drift_issue_is_closed_when_back_in_sync(runner: Runner) -> None:
    runner.stub_gh(issue_list_output="17")
    result = runner.run(_step(DRIFT, "Close the drift issue once in sync"), DFG_ENV="prod")
    assert result.returncode == 0, result.stderr
    assert runner.log()[-1].startswith("gh issue close 17 --comment")


@pytest.mark.parametrize(
    ("code", "changes", "step_ok"), [(2, "true", True), (0, "false", True), (1, None, False)]
)
def test_promotion_plan_step_sets_changes(
    runner: Runner, code: int, changes: str | None, step_ok: bool
) -> None:
    # `dfg promote` answers with the scripted code; `dfg show` (the summary) always succeeds.
    _program(
        runner.bin,
        "dfg",
        f'echo "dfg $*" >> {runner.calls}\n'
        f'if [ "$1" = "promote" ]; then exit {code}; fi\necho "### Promotion plan"\n',
    )
    result = runner.run(_step(PROMOTE, "Plan the promotion"), DFG_FROM="test", DFG_TO="prod")
    assert (result.returncode == 0) is step_ok
    assert runner.outputs().get("changes") == changes
    calls = runner.log()
    assert calls[0] == "dfg promote --from test --to prod --out dfg-promote.json --detailed-exitcode"
    if step_ok:
        assert calls[1] == "dfg show dfg-promote.json --format markdown"
        assert "### Promotion plan" in runner.summary.read_text()


ACTION_INSTALL = load(REPO_ROOT / "action.yml")["runs"]["steps"][1]


@pytest.mark.parametrize(
    ("version", "emulator", "spec"),
    [
        ("", "false", "{path}"),
        ("", "true", "{path}[emulator]"),
        ("dataflow-gitops==0.1.0", "false", "dataflow-gitops==0.1.0"),
        ("dataflow-gitops[emulator]==0.1.0", "true", "dataflow-gitops[emulator]==0.1.0"),
    ],
)
def test_action_installs_what_the_inputs_say(
    runner: Runner, version: str, emulator: str, spec: str
) -> None:
    _program(runner.bin, "python", f'echo "python $*" >> {runner.calls}\n')
    _program(runner.bin, "dfg", 'echo "dfg, version 0.1.0"\n')
    action_path = str(runner.tmp / "action")
    result = runner.run(
        ACTION_INSTALL["run"],
        DFG_REQUIREMENT=version,
        DFG_EMULATOR=emulator,
        GITHUB_ACTION_PATH=action_path,
    )
    assert result.returncode == 0, result.stderr
    expected = spec.format(path=action_path)
    assert runner.log() == [f"python -m pip install --quiet --disable-pip-version-check {expected}"]
    assert runner.outputs() == {"version": "0.1.0"}
    assert set(ACTION_INSTALL["env"]) == {"DFG_REQUIREMENT", "DFG_EMULATOR"}


@pytest.mark.slow
def test_example_plan_preview_workflow_end_to_end(
    tmp_path: Path, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This repository's own workflow, step by step with the real dfg: the base commit applied to
    the embedded emulator, the pull request's head planned against it, the comment upserted."""
    repo = copy_example(tmp_path / "repo")
    (repo / ".gitignore").write_text(".dataflow-gitops/\n")

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    base = git("rev-parse", "HEAD")
    overlay = repo / "environments" / "local.yaml"
    overlay.write_text(overlay.read_text().replace("DaysBack: 7", "DaysBack: 14"))
    git("commit", "-q", "-am", "local: two weeks")
    head = git("rev-parse", "HEAD")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 3}}))

    job = load(REPO_ROOT / ".github" / "workflows" / "example-plan.yml")["jobs"]["plan"]
    environ = reader_env(
        BASE_SHA=base,
        HEAD_SHA=head,
        GITHUB_ACTIONS="true",
        GITHUB_TOKEN=GITHUB_TOKEN,
        GITHUB_API_URL=fake_github.url,
        GITHUB_REPOSITORY="contoso/dataflow-gitops",
        GITHUB_EVENT_PATH=str(event),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
    )
    outputs = []
    for step in job["steps"]:
        if "run" not in step:
            continue
        result = run_bash(
            step["run"],
            cwd=repo,
            env=environ,
            timeout=240,
            options=("--noprofile", "--norc", "-eo", "pipefail"),
        )
        assert result.returncode == 0, f"{step.get('name')}: {result.stdout}{result.stderr}"
        outputs.append(result.stdout)
    assert "Apply complete: 7 created" in outputs[0]
    assert "Plan: 0 to create, 1 to update, 0 to delete." in outputs[1]
    assert git("rev-parse", "HEAD") == head
    (comment,) = fake_github.on("contoso/dataflow-gitops", 3)
    assert comment["body"].startswith(marker("local"))
    assert "DaysBack" in comment["body"]
    assert GITHUB_TOKEN not in "".join(outputs)
