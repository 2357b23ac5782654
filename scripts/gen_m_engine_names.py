"""Regenerate the engine's own M names (src/.../definition/mlang/data/engine.txt) that the
unknown-names check of ``dfg validate`` reads beside library.txt.

Microsoft's M reference (library.txt, scripts/gen_m_library.py) does not document every name the
Power Query engine defines: ``Date.Type``, ``Logical.Type``, ``RelativePosition.FromStart``… are in
the engine's ``#shared`` but have no reference page. The Power Query extension for VS Code ships
the engine's ``#shared``, as introspected by Power Query itself, as JSON; this takes every name in
it that library.txt does not hold:

    git clone --depth 1 https://github.com/microsoft/vscode-powerquery /tmp/vscode-powerquery
    python scripts/gen_m_engine_names.py /tmp/vscode-powerquery [commit]

``#binary``, ``#date``… are left out: the check never looks ``#`` names up.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "dataflow_gitops" / "pipeline" / "definition" / "mlang" / "data"
SOURCE = "server/src/library/standard/standard-enUs.json"


def engine_names(entries: list[dict[str, object]], documented: set[str]) -> list[str]:
    """The names of the introspected ``entries`` that ``documented`` lacks, ``#`` names aside."""
    names = {str(e["name"]) for e in entries}
    return sorted(n for n in names - documented if not n.startswith("#"))


def main() -> int:
    checkout = Path(sys.argv[1])
    entries = json.loads((checkout / SOURCE).read_text(encoding="utf-8"))
    documented = {
        line.strip()
        for line in (DATA / "library.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    names = engine_names(entries, documented)
    commit = sys.argv[2] if len(sys.argv) > 2 else ""
    commit = (
        commit
        or subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    )
    header = [
        "# Names the Power Query engine defines (its #shared) that Microsoft's M reference does not",
        "# document (library.txt holds those). Source: the engine's #shared as introspected by Power",
        "# Query, https://github.com/microsoft/vscode-powerquery",
        f"# ({SOURCE}, commit {commit or 'unknown'}); made by scripts/gen_m_engine_names.py.",
    ]
    out = DATA / "engine.txt"
    out.write_text("\n".join([*header, *names]) + "\n", encoding="utf-8")
    print(f"{out.relative_to(ROOT)}: {len(names)} names")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
