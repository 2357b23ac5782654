"""Regenerate tests/mlang/conformance/oracle.json: Microsoft's M parser's verdict on every probe of
the conformance corpus (tests/mlang/conformance/corpus.py). The test suite reads the stored verdicts
and never needs node; run this after adding or editing a probe:

    python scripts/regen_m_oracle.py               # npm-installs the pinned parser into a scratch
                                                   # folder outside the repository, then rewrites
    python scripts/regen_m_oracle.py --modules DIR # use an existing node_modules folder instead
    python scripts/regen_m_oracle.py --report      # also print the reader's agreement numbers

Needs node (>= 18) and npm. The parser version is pinned in scripts/m_oracle/package.json; the
verdicts come from scripts/m_oracle/verdicts.js (section-document mode, default settings).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORACLE_DIR = ROOT / "scripts" / "m_oracle"
FIXTURE = ROOT / "tests" / "mlang" / "conformance" / "oracle.json"


def _corpus() -> object:
    sys.path.insert(0, str(ROOT))
    from tests.mlang.conformance import corpus

    return corpus


def _install(scratch: Path) -> Path:
    shutil.copy(ORACLE_DIR / "package.json", scratch / "package.json")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=scratch, check=True)
    return scratch / "node_modules"


def _verdicts(modules: Path, texts: dict[str, str]) -> dict[str, dict[str, object]]:
    env = {**os.environ, "NODE_PATH": str(modules)}
    done = subprocess.run(
        ["node", "--stack-size=65500", str(ORACLE_DIR / "verdicts.js")],
        input=json.dumps(texts).encode("utf-8"),
        capture_output=True,
        env=env,
        check=True,
    )
    result: dict[str, dict[str, object]] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=Path, help="an existing node_modules with the parser")
    parser.add_argument("--report", action="store_true", help="print the agreement numbers")
    args = parser.parse_args()
    corpus = _corpus()
    probes = corpus.probes()  # type: ignore[attr-defined]
    texts = {p.id: p.text for p in probes}
    package = json.loads((ORACLE_DIR / "package.json").read_text(encoding="utf-8"))
    version = package["dependencies"]["@microsoft/powerquery-parser"]
    if args.modules:
        verdicts = _verdicts(args.modules, texts)
    else:
        with tempfile.TemporaryDirectory(prefix="m-oracle-") as scratch:
            verdicts = _verdicts(_install(Path(scratch)), texts)
    entries = {}
    for p in probes:
        entry: dict[str, object] = {"group": p.group, "digest": p.digest, **verdicts[p.id]}
        if p.differs:
            entry["differs"] = p.differs
        entries[p.id] = entry
    fixture = {
        "parser": f"@microsoft/powerquery-parser {version}",
        "mode": "ParseSection (section document), DefaultSettings otherwise",
        "regenerate": "python scripts/regen_m_oracle.py",
        "probes": entries,
    }
    FIXTURE.write_text(json.dumps(fixture, indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
    print(f"{FIXTURE.relative_to(ROOT)}: {len(entries)} verdicts from {fixture['parser']}")
    if args.report:
        from tests.mlang.conformance.agreement import report

        print(report(probes, entries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
