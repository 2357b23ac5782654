"""The persistent read cache and up-front reading of M documents (adapters.read_store,
adapters.read_ahead): a document rebuilt from its stored structure is the parsed document; a damaged,
foreign or stale entry is a miss; an invalid text is never stored; worker processes read the
same documents as this process; commands fill the project's cache and use it on the next run."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from example_repo import REPO_ROOT, copy_example
from parse_count import counting_name_checks

from dataflow_gitops.adapters import read_ahead as preload
from dataflow_gitops.adapters import read_store as store
from dataflow_gitops.adapters.read_ahead import CACHE_DIR, NO_CACHE_ENV, read_structure
from dataflow_gitops.adapters.read_store import ReadStore, text_key
from dataflow_gitops.errors import MSyntaxError
from dataflow_gitops.pipeline.definition.mlang import document, names
from dataflow_gitops.pipeline.definition.mlang.document import (
    from_structure,
    parse_section,
    structure,
)

EXAMPLE_TEXTS = sorted((REPO_ROOT / "dataflows").glob("*/mashup.pq"))


def _unique(text: str) -> str:
    """``text`` with a comment no other test wrote: never in a store another test filled."""
    return f"// {uuid.uuid4()}\n{text}"


def _same(a: document.SectionDocument, b: document.SectionDocument) -> None:
    assert a.text == b.text
    assert a.print() == b.print() == a.text
    assert (a.section_name, a.attribute_text, a.body_start) == (
        b.section_name,
        b.attribute_text,
        b.body_start,
    )
    assert a.members == b.members
    for left, right in zip(a.members, b.members, strict=True):
        assert left.expression == right.expression
        assert left.attribute == right.attribute


@pytest.mark.parametrize("path", EXAMPLE_TEXTS, ids=lambda p: p.parent.name)
def test_structure_rebuilds_the_parsed_document(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    parsed = parse_section(text)
    rebuilt = from_structure(text, structure(parsed))
    assert rebuilt is not None
    _same(parsed, rebuilt)


def test_document_attribute_survives_the_round_trip() -> None:
    text = '[ Version = "1" ]\nsection S;\n[ Description = "d" ]\nshared A = 1;\nB = #"A" + 1;\n'
    parsed = parse_section(text)
    rebuilt = from_structure(text, structure(parsed))
    assert rebuilt is not None
    assert rebuilt.attribute is not None
    _same(parsed, rebuilt)
    assert rebuilt.members[1].shared is False


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: None,
        lambda s: s[:3],
        lambda s: [1, *s[1:]],
        lambda s: [*s[:3], [[*row[:-1]] for row in s[3]]],
        lambda s: [*s[:3], [["A", 1, 0, 10**9, 1, 0, 0, 0, 0, -1, -1]]],
        lambda s: [*s[:3], [[row[0], "1", *row[2:]] for row in s[3]]],
        lambda s: [*s[:3], list(reversed(s[3]))],
        lambda s: [s[0], [0, "x"], *s[2:]],
        lambda s: [*s[:3], [[*row[:7], row[8], row[7], *row[9:]] for row in s[3]]],
        lambda s: [*s[:3], [[*row[:7], row[7], 10**6, *row[9:]] for row in s[3]]],
    ],
)
def test_a_damaged_structure_is_a_miss_not_a_wrong_document(damage: object) -> None:
    text = "section S;\nshared A = 1;\nshared B = A + 1;\n"
    data = damage(structure(parse_section(text)))  # type: ignore[operator]
    assert from_structure(text, data) is None


def test_store_round_trip_and_unknown_keys(tmp_path: Path) -> None:
    cache = ReadStore(tmp_path / "cache")
    assert cache.load(["nothing"]) == {}  # no file yet: a miss, and no file created by reading
    assert not (tmp_path / "cache").exists()
    text = "section S;\nshared A = 1;\n"
    data = structure(parse_section(text))
    cache.save({text_key(text): data})
    assert cache.load([text_key(text), "other"]) == {text_key(text): data}
    assert (tmp_path / "cache" / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"


def test_entries_of_another_reader_version_are_never_read(tmp_path: Path) -> None:
    cache = ReadStore(tmp_path)
    text = "section S;\nshared A = 1;\n"
    key = text_key(text)
    with sqlite3.connect(cache.path) as db:
        db.execute("CREATE TABLE documents (key TEXT PRIMARY KEY, structure TEXT NOT NULL)")
        db.execute("INSERT INTO documents VALUES (?, ?)", (f"0000000000000000:{key}", "[]"))
    db.close()
    assert cache.load([key]) == {}
    cache.save({text_key("x"): ["S", None, 0, []]})
    with sqlite3.connect(cache.path) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM documents")]
    db.close()
    assert keys == [f"{store.reader_version()}:{text_key('x')}"]  # the stale row is gone


def test_a_corrupt_or_unwritable_store_is_only_a_miss(tmp_path: Path) -> None:
    (tmp_path / store.FILE_NAME).write_bytes(b"this is not a database" * 100)
    cache = ReadStore(tmp_path)
    assert cache.load(["k"]) == {}
    cache.save({"k": ["S", None, 0, []]})  # no exception: the store starts again
    assert cache.load(["k"]) == {"k": ["S", None, 0, []]}
    blocked = ReadStore(tmp_path / "a-file" / "cache")
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    blocked.save({"k": ["S", None, 0, []]})
    assert blocked.load(["k"]) == {}


def test_preload_reads_each_text_once_then_from_the_store(tmp_path: Path) -> None:
    good = [_unique(p.read_text(encoding="utf-8-sig")) for p in EXAMPLE_TEXTS]
    bad = _unique("section S;\nshared A = (1;\n")
    cache = ReadStore(tmp_path)
    first = preload.preload([*good, good[0], bad], store=cache, workers=1)
    assert (first.stats.texts, first.stats.parsed, first.stats.invalid) == (len(good) + 1, 7, 1)
    assert set(first.documents) == set(good)  # never the bad one: its reader reports it, with its path
    with pytest.raises(MSyntaxError, match=r"dataflows/X\.Dataflow/mashup\.pq:3:14:"):
        parse_section(bad, path="dataflows/X.Dataflow/mashup.pq")

    # Another process rebuilds every text from the store, and stores nothing for the bad one.
    again = preload.preload([*good, bad], store=cache, workers=1)
    assert (again.stats.from_store, again.stats.parsed, again.stats.invalid) == (len(good), 0, 1)
    for text in good:
        _same(again.documents[text], parse_section(text))


def test_worker_processes_read_the_same_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preload, "PARALLEL_BYTES", 0)
    read_here: list[str] = []

    def counting(text: str) -> object:
        read_here.append(text)
        return read_structure(text)

    monkeypatch.setattr(preload, "read_structure", counting)
    texts = [_unique(p.read_text(encoding="utf-8-sig")) for p in EXAMPLE_TEXTS]
    bad = _unique("section S;\nshared A = ;\n")
    found = preload.preload([*texts, bad], workers=3)
    assert found.stats.workers == 3
    # This process read its own share only: the two workers really read theirs.
    assert 0 < len(read_here) < 5
    assert (found.stats.parsed, found.stats.invalid) == (len(texts), 1)
    assert set(found.documents) == set(texts)
    for text in texts:
        _same(found.documents[text], parse_section(text))
    assert read_structure(bad) is None


@pytest.mark.parametrize("interpreter", ["/nonexistent/python", "/bin/false"])
def test_a_worker_that_cannot_start_or_fails_leaves_its_share_to_this_process(
    monkeypatch: pytest.MonkeyPatch, interpreter: str
) -> None:
    monkeypatch.setattr(preload, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(preload.sys, "executable", interpreter)
    texts = [_unique(p.read_text(encoding="utf-8-sig")) for p in EXAMPLE_TEXTS]
    found = preload.preload(texts, workers=2)
    assert (found.stats.workers, found.stats.parsed, found.stats.invalid) == (2, len(texts), 0)
    for text in texts:
        _same(found.documents[text], parse_section(text))


def test_the_worker_reads_texts_from_stdin() -> None:
    texts = ["section S;\nshared A = 1;\n", "section S;\nshared A = (;\n", "section Ünï;\n"]
    framed = b"".join(b"%d\n%s" % (len(t.encode()), t.encode()) for t in texts)
    worker = subprocess.run(
        [sys.executable, "-m", "dataflow_gitops.adapters.read_ahead"],
        input=framed,
        capture_output=True,
        check=True,
        timeout=60,
    )
    lines = worker.stdout.decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        structure(parse_section(texts[0])),
        None,
        structure(parse_section(texts[2])),
    ]


def _validate(root: Path, *extra_env: tuple[str, str]) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), **dict(extra_env)}
    return subprocess.run(
        [sys.executable, "-m", "dataflow_gitops", "validate"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_commands_fill_the_project_cache_and_trust_only_unchanged_text(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "project")
    first = _validate(root)
    assert first.returncode == 0, first.stderr
    cache = ReadStore(root / CACHE_DIR)
    texts = [p.read_text(encoding="utf-8-sig") for p in sorted(root.glob("dataflows/*/mashup.pq"))]
    assert set(cache.load(text_key(t) for t in texts)) == {text_key(t) for t in texts}

    # A broken edit is a new text: the cache cannot vouch for it, validate reads it and fails.
    broken = root / "dataflows" / "Customers.Dataflow" / "mashup.pq"
    broken.write_text(broken.read_text(encoding="utf-8") + "\nshared Oops = (1;\n", encoding="utf-8")
    second = _validate(root)
    assert second.returncode == 1
    assert "Customers.Dataflow/mashup.pq" in second.stderr + second.stdout


def test_a_corrupt_project_cache_is_ignored_then_rebuilt(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "project")
    (root / CACHE_DIR).mkdir(parents=True)
    (root / CACHE_DIR / store.FILE_NAME).write_bytes(b"\x00garbage, not SQLite\n" * 500)
    result = _validate(root)
    assert result.returncode == 0, result.stderr
    cache = ReadStore(root / CACHE_DIR)
    texts = [p.read_text(encoding="utf-8-sig") for p in sorted(root.glob("dataflows/*/mashup.pq"))]
    assert set(cache.load(text_key(t) for t in texts)) == {text_key(t) for t in texts}


def test_no_cache_setting_leaves_no_file(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "project")
    result = _validate(root, (NO_CACHE_ENV, "1"))
    assert result.returncode == 0, result.stderr
    assert not (root / CACHE_DIR).exists()


# The unknown-names answers (dfg validate's check) --------------------------------------------

TYPO = "section S;\nshared Limit = 1;\nshared Q = Table.SelectRow(#table({}, {}), each [A] > Limt);\n"


def test_preload_finds_unknown_names_once_then_takes_them_from_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = counting_name_checks(monkeypatch)
    texts = [_unique(TYPO), *(_unique(p.read_text(encoding="utf-8-sig")) for p in EXAMPLE_TEXTS)]
    cache = ReadStore(tmp_path)
    first = preload.preload(texts, store=cache, workers=1, names=True).stats
    assert (first.parsed, first.names_found, first.names_from_store) == (8, 8, 0)
    assert sorted(checked) == sorted(texts)
    expected = {t: names.find_unknown_names(parse_section(t)) for t in texts}
    assert [u.name for u in expected[texts[0]]] == ["Table.SelectRow", "Limt"]

    checked.clear()
    found = preload.preload(texts, store=cache, workers=1, names=True)  # another process
    warm = found.stats
    assert (warm.from_store, warm.parsed, warm.names_from_store, warm.names_found) == (8, 0, 8, 0)
    for text in texts:
        assert names.unknown_names(found.documents[text]) == expected[text]
    assert checked == []  # nothing walked a syntax tree


def test_a_read_without_names_leaves_the_check_to_the_next_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _unique(TYPO)
    cache = ReadStore(tmp_path)
    plain_read = preload.preload([text], store=cache, workers=1).stats  # render, plan: no names
    assert (plain_read.parsed, plain_read.names_found) == (1, 0)
    assert cache.load_names([text_key(text)]) == {}
    checked = counting_name_checks(monkeypatch)
    validate = preload.preload([text], store=cache, workers=1, names=True).stats
    assert (validate.from_store, validate.parsed, validate.names_found) == (1, 0, 1)
    assert checked == [text]
    assert set(cache.load_names([text_key(text)])) == {text_key(text)}


def test_a_damaged_or_foreign_names_entry_is_found_again(tmp_path: Path) -> None:
    text = _unique(TYPO)
    key = text_key(text)
    cache = ReadStore(tmp_path)
    preload.preload([text], store=cache, workers=1, names=True)
    cache.save_names({key: [["Q", 1, 2, 3, None]]})  # not an answer
    found = preload.preload([text], store=cache, workers=1, names=True)
    assert (found.stats.names_from_store, found.stats.names_found) == (0, 1)
    doc = found.documents[text]
    assert [u.name for u in names.unknown_names(doc)] == [
        "Table.SelectRow",
        "Limt",
    ]
    with sqlite3.connect(cache.path) as db:
        db.execute("UPDATE names SET key = ? WHERE key LIKE ?", (f"0000000000000000:{key}", "%"))
    db.close()
    assert cache.load_names([key]) == {}  # another reader's (or name list's) answer
    assert ReadStore(tmp_path / "none").load_names([key]) == {}


def test_a_changed_name_list_is_another_reader(tmp_path: Path) -> None:
    here = Path(names.__file__).parent
    copies = []
    for name in ("a", "b"):
        copy = tmp_path / name
        shutil.copytree(here, copy, ignore=shutil.ignore_patterns("__pycache__"))
        copies.append(copy)
    assert store.reader_digest(copies[0]) == store.reader_digest(copies[1]) == store.reader_version()
    library = copies[1] / "data" / "library.txt"
    library.write_text(library.read_text(encoding="utf-8") + "Table.NewFunction\n", encoding="utf-8")
    assert store.reader_digest(copies[1]) != store.reader_digest(copies[0])
    (copies[0] / "names.py").write_text("# another check\n", encoding="utf-8")
    assert store.reader_digest(copies[0]) != store.reader_version()


def test_worker_processes_find_the_same_unknown_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preload, "PARALLEL_BYTES", 0)
    checked = counting_name_checks(monkeypatch)
    texts = [_unique(TYPO), *(_unique(p.read_text(encoding="utf-8-sig")) for p in EXAMPLE_TEXTS)]
    found = preload.preload([*texts, _unique("section S;\nshared A = ;\n")], workers=3, names=True)
    stats = found.stats
    assert (stats.workers, stats.parsed, stats.invalid, stats.names_found) == (3, 8, 1, 8)
    assert 0 < len(checked) < 6  # the workers looked for the others'
    for text in texts:
        doc = found.documents[text]
        assert names.unknown_names(doc) == names.find_unknown_names(parse_section(text))


def test_the_worker_finds_unknown_names_when_asked() -> None:
    texts = [TYPO, "section S;\nshared A = (;\n"]
    framed = b"".join(b"%d\n%s" % (len(t.encode()), t.encode()) for t in texts)
    worker = subprocess.run(
        [sys.executable, "-m", "dataflow_gitops.adapters.read_ahead", "--names"],
        input=framed,
        capture_output=True,
        check=True,
        timeout=60,
    )
    first, second = (json.loads(line) for line in worker.stdout.decode().splitlines())
    doc = parse_section(TYPO)
    assert first == [structure(doc), names.plain(names.find_unknown_names(doc))]
    assert second is None


@pytest.mark.parametrize("path", EXAMPLE_TEXTS, ids=lambda p: p.parent.name)
def test_trees_built_in_the_reading_pass_are_the_trees_built_on_first_use(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    at_once, lazily = parse_section(text, trees=True), parse_section(text)
    assert structure(at_once) == structure(lazily)
    _same(at_once, lazily)
