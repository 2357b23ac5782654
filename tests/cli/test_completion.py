"""`dfg completion`: the scripts, and the completions they ask the real entry point for."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dataflow_gitops.cli.main import run


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _dfg_completion dfg"),
        ("zsh", "#compdef dfg"),
        ("fish", "complete --no-files --command dfg"),
    ],
)
def test_scripts(shell: str, marker: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["completion", shell]) == 0
    out = capsys.readouterr().out
    assert marker in out
    assert "_DFG_COMPLETE" in out


def test_unknown_shell(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["completion", "tcsh"]) == 1
    assert "tcsh" in capsys.readouterr().err


def _complete(words: str) -> list[str]:
    env = {
        **os.environ,
        "_DFG_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
    }
    result = subprocess.run(
        [sys.executable, "-m", "dataflow_gitops"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if "," in line]


def test_completes_commands_and_options() -> None:
    assert _complete("dfg pl") == ["plan"]
    commands = set(_complete("dfg "))
    assert {"plan", "apply", "init", "environments", "comment", "completion"} <= commands
    assert "--ci" in _complete("dfg init --c")
    assert _complete("dfg completion f") == ["fish"]
