"""Test support: documented commands run as a reader's shell runs them, with this interpreter's
scripts (``dfg``, ``fabric-emulator``) first on PATH."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def reader_env(base: Mapping[str, str] | None = None, **overrides: str) -> dict[str, str]:
    """``base`` (default: this process's environment) with this interpreter's scripts first on
    PATH, then ``overrides``."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(overrides)
    return env


def run_bash(
    script: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    options: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """``bash [options] -c script``, its output captured as text; the exit code is the caller's to
    check (it shows the output when it is not 0)."""
    return subprocess.run(
        ["bash", *options, "-c", script],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
