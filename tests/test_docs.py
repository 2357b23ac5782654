"""The docs stay true: the command reference is regenerated identically, every command has examples
in --help, links resolve, and every `dfg …` line in the docs names real commands and options."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from example_repo import load_script
from platforms import needs_bash
from reader_shell import reader_env, run_bash

from dataflow_gitops.cli.main import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
GUIDES = [
    "README.md",
    "docs/getting-started.md",
    "docs/ci.md",
    "docs/auth.md",
    "docs/troubleshooting.md",
]
ALL_DOCS = sorted({*GUIDES, *(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))})


def test_command_reference_is_current() -> None:
    generated = load_script("gen_command_docs").generate()
    current = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    assert current == generated, "run: python scripts/gen_command_docs.py"
    for name in COMMANDS:
        assert f"\n## dfg {name}\n" in generated


def _command(name: str) -> click.Command:
    with click.Context(cli) as ctx:
        command = cli.get_command(ctx, name)
    assert command is not None, name
    return command


def _help(name: str) -> str:
    """``dfg NAME --help`` as the CLI shows it: under the group's context, whose settings (``-h``)
    a command's help option takes the first time it is built (click keeps it on the command)."""
    with click.Context(cli, info_name="dfg", **cli.context_settings) as root:
        command = cli.get_command(root, name)
        assert command is not None, name
        with click.Context(command, info_name=name, parent=root) as ctx:
            return command.get_help(ctx)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_examples_in_its_help(name: str) -> None:
    text = _help(name)
    assert "Examples:" in text, f"dfg {name} --help has no examples"
    examples = text.split("Examples:", 1)[1]
    assert f"dfg {name}" in examples or "dfg -C" in examples


# -- links ------------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, flags=re.M)}


def _links(doc: str) -> list[str]:
    text = re.sub(r"```.*?```", "", (ROOT / doc).read_text(encoding="utf-8"), flags=re.S)
    return [m.group(1) for m in re.finditer(r"\]\(([^)\s]+)\)", text)]


@pytest.mark.parametrize("doc", ALL_DOCS)
def test_relative_links_resolve(doc: str) -> None:
    for link in _links(doc):
        if re.match(r"^[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        path = (ROOT / doc).parent / target if target else ROOT / doc
        assert path.exists(), f"{doc}: broken link {link}"
        if anchor and path.suffix == ".md":
            assert anchor in _anchors(path), f"{doc}: no heading for #{anchor} in {target or doc}"


# -- command lines in the guides -------------------------------------------------------------------


def _code_blocks(text: str) -> list[str]:
    blocks, current, inside = [], [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            if inside:
                blocks.append("\n".join(current))
            current, inside = [], not inside
        elif inside:
            current.append(line)
    return blocks


def _dfg_lines(doc: str) -> list[str]:
    """`dfg …` invocations in the doc's code blocks: shell lines, `$(dfg …)`, `run:`/`script:`."""
    lines = []
    for block in _code_blocks((ROOT / doc).read_text(encoding="utf-8")):
        block = re.sub(r"\$\((\w+)\)", r"\1", block.replace("\\\n", " "))  # Azure $(var) macros
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ").removeprefix("- ")
            lines += re.findall(r"(?:^|&& |\$\(|run: |script: )(dfg [^)&|>#]*)", line)
    return lines


def _options(command: click.Command) -> set[str]:
    names = {"-h", "--help"}
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(param.opts + param.secondary_opts)
    return names


@pytest.mark.parametrize("doc", GUIDES)
def test_guide_command_lines_name_real_commands_and_options(doc: str) -> None:
    lines = _dfg_lines(doc)
    assert lines or doc == "docs/troubleshooting.md", doc
    global_options = _options(cli)
    for line in lines:
        args = shlex.split(line)[1:]
        while args and args[0] in global_options:  # dfg -C DIR …
            args = args[2:] if args[0] in ("-C", "--project") else args[1:]
        if not args:
            continue
        name = args[0]
        assert name in COMMANDS, f"{doc}: `{line}`: no command {name}"
        known = _options(_command(name))
        for token in args[1:]:
            if token.startswith("-") and token != "-":
                assert token.split("=", 1)[0] in known, f"{doc}: `{line}`: no option {token}"


def test_readme_quickstart_is_two_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    first, second = quickstart.strip().splitlines()
    assert first.endswith("dfg demo")
    test_command = second.split(
        "&& ",
    )[-1]
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_getting_started_reaches_the_plan_preview() -> None:
    text = " ".join((ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8").split())
    steps = ["dfg init", "dfg validate", "dfg plan -e local", "dfg apply -e local"]
    order = [text.find(s) for s in steps]
    assert all(i >= 0 for i in order)
    assert order == sorted(order)
    for piece in ("pull request", "dfg plan", "comment", "federated", "Required reviewers"):
        assert piece.lower() in text.lower(), piece


@needs_bash
@pytest.mark.slow
def test_getting_started_parts_1_and_2_run_as_written(tmp_path: Path) -> None:
    """The newcomer's first commands, from the page itself: scaffold, commit, validate, plan,
    apply on the embedded emulator, change a parameter, plan the one-query update."""
    text = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    section = text.split("## 1.", 1)[1].split("## 3.", 1)[0]
    script = ["set -euo pipefail"]
    for block in _code_blocks(section):
        for line in block.splitlines():
            command = line.split("  #", 1)[0].strip()
            if not command or command.startswith(("python3 -m venv", "pip install")):
                continue  # already installed: this test runs inside the project's environment
            # No terminal to type "yes" into here; the page's reader has one.
            script.append(command.replace("dfg apply -e local", "dfg apply -e local --auto-approve"))
    assert any(line.startswith("dfg init") for line in script)
    script.append("dfg plan -e local --detailed-exitcode || test $? -eq 2")
    env = reader_env(HOME=str(tmp_path), NO_COLOR="1")
    result = run_bash("\n".join(script), cwd=tmp_path, env=env, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 dataflow, 4 environments valid" in result.stdout
    assert "Plan: 1 to create, 0 to update, 0 to delete." in result.stdout
    assert "No changes." in result.stdout
    assert result.stdout.rstrip().endswith("Plan: 0 to create, 1 to update, 0 to delete.")
    assert "+shared MinimumAmount = 25 meta" in result.stdout
