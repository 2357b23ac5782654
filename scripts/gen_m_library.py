"""Regenerate the M standard-library name list (src/.../definition/mlang/data/library.txt) that the
unknown-names check of ``dfg validate`` reads, from Microsoft's Power Query M reference
(https://github.com/MicrosoftDocs/query-docs, folder query-languages/m):

    git clone --depth 1 https://github.com/MicrosoftDocs/query-docs /tmp/query-docs
    python scripts/gen_m_library.py /tmp/query-docs [commit]   # commit: when not a git checkout

Taken: every function and enumeration named in the reference's table of contents (toc.yml), every
enumeration value listed on an enumeration page (``|`JoinKind.Inner`|0|…``), and every ``X.Type``
type the pages mention (``Int64.Type``). The names that Fabric dataflows use but the reference does
not list (Fabric connectors) are kept by hand in data/connectors.txt.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "dataflow_gitops" / "pipeline" / "definition" / "mlang" / "data" / "library.txt"
_DOTTED = re.compile(r"^[A-Z#][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+$")
_VALUE = re.compile(r"^\|`([A-Z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+)`\|")
_TYPE = re.compile(r"\b([A-Z][A-Za-z0-9]*\.Type)\b")


def main() -> int:
    docs = Path(sys.argv[1])
    folder = docs / "query-languages" / "m"
    names: set[str] = set()
    for line in (folder / "toc.yml").read_text(encoding="utf-8").splitlines():
        name = line.strip().removeprefix("- ").removeprefix("name: ").strip()
        if line.strip().startswith(("- name:", "name:")) and _DOTTED.match(name):
            names.add(name)
    for page in sorted(folder.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        names.update(_TYPE.findall(text))
        if page.name.endswith("-type.md"):
            names.update(m.group(1) for line in text.splitlines() if (m := _VALUE.match(line)))
    commit = sys.argv[2] if len(sys.argv) > 2 else ""
    commit = (
        commit
        or subprocess.run(
            ["git", "-C", str(docs), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    )
    header = [
        "# Power Query M standard library: functions, enumerations and their values, types.",
        "# Source: Microsoft's Power Query M reference, https://github.com/MicrosoftDocs/query-docs",
        f"# (query-languages/m, commit {commit or 'unknown'}); made by scripts/gen_m_library.py.",
    ]
    OUT.write_text("\n".join([*header, *sorted(names)]) + "\n", encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {len(names)} names")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
