"""CLI layer: the global options, as users type them (before or after the command), and the
colour switches every terminal tool honours (--no-color, NO_COLOR, TERM=dumb, FORCE_COLOR)."""

from __future__ import annotations

import os
from collections.abc import Mapping

# The group's own options, which users also type after the command (`dfg plan -e x --no-color`):
# name → whether it takes a value.
GLOBAL_OPTIONS: dict[str, bool] = {
    "-C": True,
    "--project": True,
    "-v": False,
    "--verbose": False,
    "--no-color": False,
    "--json-logs": False,
    "--debug": False,
}


def hoist_global_options(args: list[str]) -> list[str]:
    """Move the global options found after the command name in front of it.

    ``-vv`` counts as two ``-v``; ``--project=DIR`` and ``-CDIR`` keep their value; nothing
    after ``--`` moves.
    """
    front: list[str] = []
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "--":
        takes_value = GLOBAL_OPTIONS.get(args[index], False)
        front.append(args[index])
        if takes_value and index + 1 < len(args):
            front.append(args[index + 1])
            index += 1
        index += 1
    if index >= len(args) or args[index] == "--":
        return args
    rest: list[str] = [args[index]]
    hoisted: list[str] = []
    index += 1
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            hoisted.append(arg)
            if GLOBAL_OPTIONS[name] and "=" not in arg and index + 1 < len(args):
                hoisted.append(args[index + 1])
                index += 1
        elif _glued(arg):
            hoisted.append(arg)
        else:
            rest.append(arg)
        index += 1
    return front + hoisted + rest


def color_choice(no_color: bool, environ: Mapping[str, str] | None = None) -> bool | None:
    """Colour on (True), off (False) or left to whether the output is a terminal (None).

    --no-color, NO_COLOR (https://no-color.org) and TERM=dumb turn it off; FORCE_COLOR turns it
    on, also in a CI log that is not a terminal.
    """
    env = os.environ if environ is None else environ
    if no_color or env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    if env.get("FORCE_COLOR", "") not in ("", "0", "false"):
        return True
    return None


def _glued(arg: str) -> bool:
    """``-CDIR`` (the value glued on) or ``-vv`` (``-v`` repeated)."""
    if len(arg) <= 2 or arg[0] != "-" or arg[1] == "-":
        return False
    return arg[1] == "C" or set(arg[1:]) == {"v"}
