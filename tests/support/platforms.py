"""Which tests a platform cannot run, said once."""

from __future__ import annotations

import sys

import pytest

# The docs' walk-throughs and the CI recipes' steps are bash scripts; Windows users run those in
# Git Bash or WSL, and a Windows runner's `bash` may be either. dfg itself is tested there.
needs_bash = pytest.mark.skipif(
    sys.platform == "win32", reason="runs a bash script (the docs' and CI recipes' shell)"
)

# POSIX file modes (0600 token caches): Windows guards files with ACLs, and stat() there reports
# 0o666 or 0o444 whatever the ACL says.
posix_modes = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")

# SIGTERM: on Windows, Popen.terminate() is TerminateProcess, which no process can handle.
posix_signals = pytest.mark.skipif(sys.platform == "win32", reason="no SIGTERM on Windows")
