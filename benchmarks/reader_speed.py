"""The M reader's speed, side by side with another checkout (a minute, not the full benchmark).

Reads the same generated documents (the offline benchmark's ``mashup.pq`` shape, plus variants
with comments and non-ASCII text, which take the reader's other paths) with this tree's reader and
with the reader of ``--against`` (a folder holding an older ``src/``, e.g. from
``git archive <commit> src | tar -x -C /tmp/old``), alternating runs so both see the same machine
load, and prints the best time of each and their ratio::

    python -m benchmarks.reader_speed --against /tmp/old [--documents 40] [--kb 50] [--rounds 7]

Each document is read whole (``parse_section``) and then every member's tree is built, as
``dfg validate`` does for a changed dataflow.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from benchmarks.generate import mashup

HERE = Path(__file__).resolve().parent.parent
_TIMER = """
import json, sys, time
from dataflow_gitops.pipeline.definition.mlang.document import parse_section
texts = json.load(sys.stdin)
best = {}
for rounds in range(int(sys.argv[1])):
    for kind, docs in texts.items():
        start = time.process_time()
        for text in docs:
            doc = parse_section(text)
            for member in doc.members:
                member.expression
        took = time.process_time() - start
        best[kind] = min(best.get(kind, took), took)
print(json.dumps(best))
"""


def documents(count: int, kb: int) -> dict[str, list[str]]:
    plain = [mashup(i, kb * 1024)[0] for i in range(count)]
    commented = [
        text.replace(" = let\n", " = let // step list\n").replace("in\n", "/* result */ in\n")
        for text in plain
    ]
    accented = [text.replace('Item = "', 'Item = "Catégorie ') for text in plain]
    return {"generated": plain, "comments": commented, "non-ascii text": accented}


def run(src: Path, texts: dict[str, list[str]], rounds: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _TIMER, str(rounds)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src)},
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="a folder with an older src/")
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--kb", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    texts = documents(args.documents, args.kb)
    best_new: dict[str, float] = {}
    best_old: dict[str, float] = {}
    for _ in range(3):  # alternate, so that both see the same load
        for best, src in ((best_old, args.against / "src"), (best_new, HERE / "src")):
            for kind, took in run(src, texts, args.rounds).items():
                best[kind] = min(best.get(kind, took), took)
    print(f"{args.documents} documents x {args.kb} KB, best of {3 * args.rounds} rounds")
    for kind in texts:
        old, new = best_old[kind], best_new[kind]
        print(f"  {kind:16} old {old:.3f} s  new {new:.3f} s  new/old {new / old:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
