"""Our own CI and release workflows: the suite on Linux, Windows and macOS with every supported
Python, the wheel built and run, a tag released with checks and trusted publishing; every install
line the docs give is one that works today."""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent / "integrations"))

from example_repo import load_script  # noqa: E402
from workflow_steps import REPO_ROOT, github_steps, load, triggers  # noqa: E402

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
SYSTEMS = {"ubuntu-latest", "windows-latest", "macos-latest"}
PYTHONS = {"3.11", "3.12", "3.13"}
GIT_INSTALL = "git+https://github.com/dataflow-gitops/dataflow-gitops@"
ENTRY_POINTS = (
    "[console_scripts]\n"
    "dataflow-gitops = dataflow_gitops.cli.main:main\n"
    "dfg = dataflow_gitops.cli.main:main\n"
    "fabric-emulator = fabric_emulator.__main__:main\n"
)


def _combinations(job: dict[str, Any]) -> set[tuple[str, str]]:
    matrix = job["strategy"]["matrix"]
    combos = {(os, py) for os in matrix.get("os", []) for py in matrix.get("python", [])}
    combos |= {(entry["os"], entry["python"]) for entry in matrix.get("include", [])}
    return combos


def test_ci_runs_the_suite_on_every_system_and_python() -> None:
    job = load(WORKFLOWS / "ci.yml")["jobs"]["test"]
    combos = _combinations(job)
    assert {os for os, _ in combos} == SYSTEMS
    assert {py for _, py in combos} == PYTHONS
    assert job["runs-on"] == "${{ matrix.os }}"
    assert "bash .ci/run" in [step.get("run") for step in job["steps"]]


def test_ci_script_builds_the_wheel_and_runs_the_demo_from_it() -> None:
    script = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python scripts/wheel_smoke.py" in script.splitlines()


def _wheel(path: Path, *, leave_out: str = "", scripts: str = ENTRY_POINTS) -> Path:
    src = REPO_ROOT / "src"
    with zipfile.ZipFile(path, "w") as archive:
        for package in ("dataflow_gitops", "fabric_emulator", "fabric_time_zones"):
            for file in sorted((src / package).rglob("*")):
                name = file.relative_to(src).as_posix()
                if file.is_file() and "__pycache__" not in name and name != leave_out:
                    archive.write(file, name)
        archive.writestr("dataflow_gitops-0.1.0.dist-info/entry_points.txt", scripts)
    return path


def test_the_wheel_check_finds_a_missing_template_or_script(tmp_path: Path) -> None:
    smoke = load_script("wheel_smoke")
    assert smoke.contents_problems(_wheel(tmp_path / "whole.whl")) == []
    missing = "dataflow_gitops/templates/example/dataflows/Customers.Dataflow/dot-platform"
    assert smoke.contents_problems(_wheel(tmp_path / "a.whl", leave_out=missing)) == [
        f"missing package data {missing}"
    ]
    no_dfg = ENTRY_POINTS.replace("dfg = dataflow_gitops.cli.main:main\n", "")
    assert smoke.contents_problems(_wheel(tmp_path / "b.whl", scripts=no_dfg)) == [
        "no console script dfg"
    ]


def test_the_action_is_tried_on_every_system() -> None:
    job = load(WORKFLOWS / "ci.yml")["jobs"]["action"]
    assert set(job["strategy"]["matrix"]["os"]) == SYSTEMS
    assert "./" in [step.get("uses") for step in job["steps"]]
    assert "dfg demo" in [step.get("run") for step in job["steps"]]


def test_release_builds_checks_smokes_and_publishes_with_trusted_publishing() -> None:
    release = load(WORKFLOWS / "release.yml")
    assert triggers(release)["push"]["tags"] == ["v*"]
    jobs = release["jobs"]
    runs = {job: [s.get("run", "") for s in spec["steps"]] for job, spec in jobs.items()}
    assert "python -m build" in runs["build"]
    assert "python -m twine check --strict dist/*" in runs["build"]
    assert any("wheel_smoke.py --contents-only" in r for r in runs["build"])
    assert set(jobs["smoke"]["strategy"]["matrix"]["os"]) == SYSTEMS
    assert jobs["smoke"]["needs"] == "build"
    assert any("wheel_smoke.py --wheel dist/" in r for r in runs["smoke"])
    publish = jobs["publish"]
    assert publish["needs"] == "smoke"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    uses = [s.get("uses", "") for _, s in github_steps({"jobs": {"publish": publish}})]
    assert any(u.startswith("pypa/gh-action-pypi-publish@") for u in uses)
    assert not any("password" in str(s.get("with", {})) for s in publish["steps"])  # no token


def _install_lines() -> list[tuple[str, str]]:
    """Each `pip install …` of the docs and recipes, up to where its command ends."""
    files = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
    files += sorted((REPO_ROOT / "examples").rglob("*.yml"))
    files += sorted((REPO_ROOT / "src" / "dataflow_gitops" / "templates" / "init").rglob("*.y*ml"))
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"pip install ", text):
            rest = text[match.start() :]
            line, _, after = rest.partition("\n")
            if line.count('"') % 2:  # a quoted argument wrapped onto the next line
                line += " " + after.partition("\n")[0].strip()
            found.append((path.name, re.split(r"&&|`| #|\)$", line)[0].strip()))
    return found


def test_every_install_line_installs_something_that_exists_today() -> None:
    lines = _install_lines()
    assert len(lines) >= 5
    for where, line in lines:
        args = line.split()[2:]
        targets = [a.strip("'\"") for a in args if not a.startswith("-") or a == "-e"]
        ok = (
            GIT_INSTALL in line  # from git, at a branch, tag or sha
            or "-e" in args  # a checkout
            or any(t.startswith((".", "dist/", '".[', "'.[", '"$')) for t in targets)  # local
            or "$DFG_PACKAGE" in line  # the Azure template's parameter, itself a git URL
            or any(t in ("build", "twine") for t in targets)
        )
        assert ok, f"{where}: `{line}` names a package that is not on PyPI"
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert f'pip install "dataflow-gitops[emulator] @ {GIT_INSTALL}main"' in readme
    assert "dataflow-gitops/dataflow-gitops@v1" not in readme  # no tag of that name exists yet


def test_the_azure_step_template_installs_from_git() -> None:
    for path in (
        REPO_ROOT / "examples" / "ci" / "azure-devops" / "dfg-setup.yml",
        REPO_ROOT
        / "src"
        / "dataflow_gitops"
        / "templates"
        / "init"
        / "dot-azure-pipelines"
        / "dfg-setup.yml",
    ):
        default = load(path)["parameters"][0]["default"]
        assert default.startswith(f"dataflow-gitops @ {GIT_INSTALL}"), path


def test_the_recipes_run_their_steps_in_bash_on_windows_agents_too() -> None:
    # Azure's `script:` is cmd.exe on a Windows agent, where "$DFG_ENV" means nothing; `bash:` is
    # Git Bash there. GitHub's `run:` is PowerShell on a Windows runner unless the shell is set.
    template = REPO_ROOT / "src" / "dataflow_gitops" / "templates" / "init"
    azure = [*(REPO_ROOT / "examples" / "ci" / "azure-devops").glob("*.yml")]
    azure += [*(template / "dot-azure-pipelines").glob("*.yml")]
    for path in azure:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*-? ?script:", text, re.MULTILINE), path
        assert "bash:" in text, path
    github = [*(REPO_ROOT / "examples" / "ci" / "github").glob("*.yml")]
    github += [*(template / "dot-github" / "workflows").glob("*.yml")]
    for path in github:
        assert load(path)["defaults"] == {"run": {"shell": "bash"}}, path
