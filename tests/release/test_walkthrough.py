"""docs/walkthrough-release.md, run: every ```bash block of the document, in order, in one shell
(against a real `fabric-emulator` on a free loopback port), and what each step must show."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from example_repo import REPO_ROOT
from platforms import needs_bash
from reader_shell import reader_env, run_bash

pytestmark = needs_bash

DOC = REPO_ROOT / "docs" / "walkthrough-release.md"
BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _script() -> str:
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 10, "the walk-through lost its command blocks"
    body = "\n".join(blocks)
    assert "export PORT=8765\n" in body
    body = body.replace("export PORT=8765\n", f"export PORT={_free_port()}\n")
    # The reader's shell keeps running; the test's must not leave the emulator behind.
    prelude = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"
    return prelude + body


def _git_diff(out: str) -> list[str]:
    """The lines of the first `git diff` in ``out``."""
    lines = out[out.index("diff --git") :].splitlines()
    end = next((i for i, x in enumerate(lines) if x and x[0] not in " +-@di"), len(lines))
    return lines[:end]


def test_the_walkthrough_runs_as_documented(tmp_path: Path) -> None:
    env = reader_env(TMPDIR=str(tmp_path))
    env.pop("FABRIC_TOKEN", None)

    done = run_bash(_script(), cwd=REPO_ROOT, env=env, timeout=240)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr

    # 1. apply to test; 2. promote exactly that commit to prod
    assert "Plan: 7 to create, 0 to update, 0 to delete." in out
    assert re.search(
        r"Promoting test → prod: commit [0-9a-f]{12} \(applied to test .*; live test matches it\)", out
    )
    # 3.–4. the hand edit is live drift, with the query diff, and exit code 2
    assert "hot-fixed Sales Orders in prod" in out
    assert "! Sales Orders: live drift (changed outside git)" in out
    assert "drift! (exit code 2)" in out
    # 5. the export is a one-line diff in terms of the repository
    assert "Export complete: 6 dataflows, 1 file changed." in out
    changed = [x for x in _git_diff(out) if x.startswith(("+", "-")) and x[:3] not in ("+++", "---")]
    assert changed == [
        '-  #"Removed columns" = Table.RemoveColumns(#"Recent orders", {"rowguid", "ModifiedDate"}),',
        '+  #"Removed columns" = Table.RemoveColumns(#"Recent orders", {"rowguid"}),',
    ]
    # 6. through test again, promoted, and prod is in sync
    assert re.search(r"Nothing to promote: prod already runs commit [0-9a-f]{12}\.", out)
    assert out.count("no drift") == 1
    # 7. rolled back to test's first release (one update), drift calls it pending; rolled forward
    first = re.findall(r"Promoting test → prod: commit ([0-9a-f]{12})", out)
    assert len(first) == 4
    assert first[2] == first[0] != first[1] == first[3]
    assert "an earlier release of test)" in out
    assert "~ Sales Orders: pending git change" in out
    assert out.count("Plan: 0 to create, 1 to update, 0 to delete.") == 3  # test, back, forward
    assert "Completed" in out
