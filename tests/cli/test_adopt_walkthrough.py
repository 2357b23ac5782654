"""docs/getting-started.md, "Adopt an existing Fabric Git repository", run as written: every
command of its ```bash blocks, in order, in a clone Fabric Git sync filled (workspace folders
three deep, other items beside the dataflows; tests/support/fabric_repos.py), with what each
must show."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from emulator_project import init_repo
from fabric_repos import SHAPES, tree_bytes, write_shape
from reader_shell import reader_env, run_bash

DOC = Path(__file__).resolve().parents[2] / "docs" / "getting-started.md"
SECTION = "## Adopt an existing Fabric Git repository"
BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _commands() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in BLOCK.findall(section):
        for line in block.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command:
                commands.append(command)
    return commands


@pytest.mark.slow
def test_adopting_a_fabric_repository_works_as_written(tmp_path: Path) -> None:
    commands = _commands()
    assert commands == ["dfg init .", "dfg validate", "dfg plan -e local"]  # "three commands"
    clone = tmp_path / "fabric-repo"
    shape = write_shape(clone, "workspace")
    init_repo(clone)
    fabric_files = tree_bytes(clone)
    env = reader_env(HOME=str(tmp_path), NO_COLOR="1")
    outputs = []
    for command in commands:
        done = run_bash(f"set -euo pipefail\n{command}", cwd=clone, env=env, timeout=120)
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        outputs.append(done.stdout)
    init, validate, plan = outputs
    assert "Found 4 dataflow folders and 5 other items in the repository root" in init
    assert 'dataflows_dir: "."' in (clone / "dataflow-gitops.yaml").read_text()
    assert not (clone / "dataflows").exists()  # no second example
    assert "✓ 4 dataflows, 4 environments valid" in validate
    for name in shape.names:
        assert f'+ create "{name}"' in plan
    assert "Plan: 4 to create, 0 to update, 0 to delete." in plan
    # Nothing Fabric wrote was touched.
    after = tree_bytes(clone)
    assert {k: after[k] for k in fabric_files} == fabric_files
    assert SHAPES["workspace"]().dataflows_dir == "."
