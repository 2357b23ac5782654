"""Paths a Windows checkout of the repository may not hold (project layer, read-only).

Windows limits a path to 260 characters (MAX_PATH) unless long paths are enabled in both the
system and git (``git config core.longpaths true``). The clone's own folder comes in front of
every repository path, so ``dfg validate`` warns about repository paths that leave too little
room for it; nothing is refused, as a team may well have long paths enabled everywhere.
"""

from __future__ import annotations

from pathlib import Path, PureWindowsPath

MAX_PATH = 260
CLONE_ALLOWANCE = 60
"""Room kept for the clone's folder: ``C:\\Users\\firstname.lastname\\source\\repos\\dataflows\\``."""


def too_long_for_windows(root: Path, folders: tuple[str, ...]) -> list[str]:
    """Warnings for files under ``folders`` (relative to ``root``) whose path, behind a typical
    clone folder, would pass MAX_PATH on Windows."""
    budget = MAX_PATH - CLONE_ALLOWANCE
    found = []
    for folder in folders:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(root).as_posix()
            windows = str(PureWindowsPath(relative))
            if path.is_file() and len(windows) > budget:
                found.append(
                    f"{relative}: {len(windows)} characters; a Windows clone passes its "
                    f"{MAX_PATH}-character limit unless long paths are on "
                    "(git config core.longpaths true)"
                )
    return found
