"""Reading the CI recipes: YAML files → jobs, steps, and the `dfg` command lines their scripts run.

Shared by tests/test_workflows.py (static checks) and test_workflow_commands.py (the same
command lines run against the emulator).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from example_repo import REPO_ROOT

GITHUB_EXAMPLES = REPO_ROOT / "examples" / "ci" / "github"
AZURE_EXAMPLES = REPO_ROOT / "examples" / "ci" / "azure-devops"
TEMPLATE = REPO_ROOT / "src" / "dataflow_gitops" / "templates" / "init"
_STOP = {">", ">>", "|", "&&", "||", ";", "2>/dev/null"}
_MACRO = re.compile(r"\$\((\w+)\)")
_COMMAND = re.compile(r"(?:^|&& |\$\()(dfg [^)&|]*)")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def triggers(workflow: Mapping[str, Any]) -> dict[str, Any]:
    """The ``on:`` block (YAML 1.1 reads the bare key ``on`` as True)."""
    value = workflow.get("on", workflow.get(True))
    return value if isinstance(value, dict) else {}


def github_steps(workflow: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow.get("jobs", {}).items():
        for step in job.get("steps", []):
            yield job_id, step


def azure_steps(node: Any) -> Iterator[dict[str, Any]]:
    """Every step mapping anywhere in an Azure Pipelines document (stages, jobs, deployments)."""
    if isinstance(node, dict):
        if "bash" in node or "task" in node or "template" in node:
            yield node
        for value in node.values():
            yield from azure_steps(value)
    elif isinstance(node, list):
        for value in node:
            yield from azure_steps(value)


def dfg_lines(script: str) -> list[str]:
    """The ``dfg …`` commands of a shell script: at a line start, after ``&&``, inside ``$(…)``."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        # Azure's $(name) macros are not subshells: keep them through the `)` cut below.
        protected = _MACRO.sub(lambda m: f"\x00{m.group(1)}\x01", line.strip())
        for command in _COMMAND.findall(protected):
            found.append(command.replace("\x00", "$(").replace("\x01", ")").strip())
    return found


def argv(line: str, variables: Mapping[str, str] | None = None) -> list[str]:
    """A ``dfg`` command line as arguments (after ``dfg``), variables substituted, redirections cut."""
    for name, value in (variables or {}).items():
        for form in (f"$({name})", f"${{{name}}}", f"${name}"):
            line = line.replace(form, value)
    args: list[str] = []
    for token in shlex.split(line, comments=True):
        if token in _STOP:
            break
        args.append(token)
    assert args[0] == "dfg", line
    return args[1:]
