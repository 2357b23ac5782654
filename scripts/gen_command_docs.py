"""Generate docs/commands.md from the commands' own --help (click), so the page never lags the CLI.

python scripts/gen_command_docs.py           # rewrite the file
python scripts/gen_command_docs.py --check   # exit 1 if it is out of date (CI, tests)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "commands.md"
WIDTH = 100  # fixed, so the page does not depend on the terminal that generated it

INTRO = """\
# Command reference

Generated from each command's `--help` by `scripts/gen_command_docs.py`; do not edit by hand
(`python scripts/gen_command_docs.py` rewrites it, a test checks it is current).

Exit codes, for every command: **0** success / no changes, **2** changes present (`plan` and
`promote --out` with `--detailed-exitcode`, `drift` always), **1** an error (one line saying what,
where and what to do), **130** interrupted (Ctrl-C), **143** terminated (SIGTERM), **3** an internal
error (`--debug` shows the traceback); see [reliability.md](reliability.md).
In CI (`GITHUB_ACTIONS` or `TF_BUILD` set) progress is plain lines, `dfg validate` raises file/line
annotations, and `dfg plan` appends its markdown to `$GITHUB_STEP_SUMMARY`.
"""


def _help(command: click.Command, name: str, parent: click.Context | None) -> str:
    ctx = click.Context(
        command, info_name=name, parent=parent, terminal_width=WIDTH, max_content_width=WIDTH
    )
    return command.get_help(ctx).rstrip()


def generate() -> str:
    from dataflow_gitops.cli.main import COMMANDS, cli

    settings = {**cli.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    root = click.Context(cli, info_name="dfg", **settings)
    names = sorted(COMMANDS)
    lines = [INTRO, "## Commands", ""]
    for name in names:
        command = cli.get_command(root, name)
        assert command is not None, name
        lines.append(f"- [`dfg {name}`](#dfg-{name}): {command.get_short_help_str(limit=90)}")
    lines += ["", "## Global options", "", "```text", cli.get_help(root).rstrip(), "```", ""]
    for name in names:
        command = cli.get_command(root, name)
        assert command is not None, name
        lines += [f"## dfg {name}", "", "```text", _help(command, name, root), "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    text = generate()
    if "--check" in argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else ""
        if current != text:
            print("docs/commands.md is out of date: run python scripts/gen_command_docs.py")
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
