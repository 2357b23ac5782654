"""README.md "A tour", run: its laptop block, line by line as a shell would, on a fresh machine
(no git identity, no Fabric account); its real-workspace block needs a token, and without one dfg
says which auth to use on a laptop."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from example_repo import REPO_ROOT
from reader_shell import reader_env

README = REPO_ROOT / "README.md"
BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _tour_blocks() -> list[str]:
    tour = README.read_text(encoding="utf-8").split("## A tour", 1)[1].split("\n## ", 1)[0]
    blocks = BLOCK.findall(tour)
    assert len(blocks) == 2, "the tour is one block for a laptop and one for a real workspace"
    return blocks


def _environment(home: Path) -> dict[str, str]:
    env = reader_env(
        {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "FABRIC_"))},
        HOME=str(home),  # a fresh machine: no ~/.gitconfig, so no git identity
        USERPROFILE=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        NO_COLOR="1",
    )
    for name in ("CI", "GITHUB_ACTIONS", "TF_BUILD", "ACTIONS_ID_TOKEN_REQUEST_URL"):
        env.pop(name, None)  # a laptop, even when the suite runs in CI
    return env


@dataclass
class Shell:
    """The block's lines as a reader's shell runs them (``cd``, ``&&``, ``# comments``), without
    needing bash: the same test runs on Windows."""

    cwd: Path
    env: dict[str, str]
    stdout: str = ""
    stderr: str = ""

    def run(self, line: str) -> int:
        for command in line.split("  #", 1)[0].split("&&"):
            argv = shlex.split(command)
            if argv[0] == "cd":
                self.cwd = self.cwd / argv[1]
                continue
            executable = shutil.which(argv[0], path=self.env["PATH"])
            assert executable is not None, argv[0]
            done = subprocess.run(
                [executable, *argv[1:]],
                cwd=self.cwd,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            self.stdout += done.stdout
            self.stderr += done.stderr
            if done.returncode != 0:
                return done.returncode
        return 0


@pytest.mark.slow
def test_the_readme_tour_runs_as_written_on_a_laptop(tmp_path: Path) -> None:
    laptop, workspace = _tour_blocks()
    home = tmp_path / "home"
    home.mkdir()
    shell = Shell(tmp_path, _environment(home))
    for line in laptop.splitlines():
        assert shell.run(line) == 0, f"{line}\n{shell.stdout}{shell.stderr}"
    out = shell.stdout
    assert "1 dataflow, 4 environments valid" in out
    assert "wrote 3 files for 1 dataflow to out" in out
    assert "Plan: 1 to create, 0 to update, 0 to delete." in out
    assert "Deployment recorded: dfg/local/" in out  # a git tag from the first apply
    history = [line for line in out.splitlines() if "workspace " in line and "  1 dataflow  " in line]
    assert len(history) == 1
    assert "no commit" not in history[0]
    matrix = json.loads(out.strip().splitlines()[-1])  # environments --json, the last line
    assert [e["environment"] for e in matrix["include"]] == ["dev", "test", "prod", "local"]
    project = tmp_path / "my-dataflows"
    log = subprocess.run(
        ["git", "log", "--format=%an %s"], cwd=project, capture_output=True, text=True, check=True
    ).stdout
    assert log == "dfg init dfg init\n"  # no identity on this machine: dfg init names itself
    tags = subprocess.run(
        ["git", "tag", "--list", "dfg/*"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(tags) == 1
    assert tags[0].startswith("dfg/local/")
    assert not (project / ".dataflow-gitops" / "records").exists()

    # The real-workspace block: the token comes from the Azure CLI, for `auth: {method: token}`.
    assert "az account get-access-token --resource https://api.fabric.microsoft.com" in workspace
    assert "auth: {method: token}" in README.read_text(encoding="utf-8")
    # Run without it (no az, no CI), its first dfg line says what a laptop needs.
    first = next(line for line in workspace.splitlines() if line.startswith("dfg "))
    shell = Shell(project, _environment(home))
    assert shell.run(first) == 1
    assert "no OIDC token source" in shell.stderr
    assert "method: token" in shell.stderr
    assert "az account get-access-token" in shell.stderr
    assert "Traceback" not in shell.stderr
    assert "Reading live definitions" not in shell.stderr  # nothing before the auth failure
