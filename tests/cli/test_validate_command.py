"""`dfg validate` end to end, and every Bad-input case of issue 2 at the CLI boundary.

Each bad case must give one line naming the file (and line) or the dataflow, exit 1, and no
traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import git
import pytest
from parse_count import counting_name_checks

from dataflow_gitops.cli.main import run

CUSTOMERS = "dataflows/Customers.Dataflow"
SUMMARY_ID = "d504e0e3-7328-484e-a6b9-a52abc3596a1"


def _edit_json(path: Path, change: Callable[[dict], None]) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("Error: ")]


def test_validate_passes_on_the_example(dfg) -> None:
    result = dfg("validate")
    assert result.code == 0, result.err
    assert result.out.strip() == "✓ 7 dataflows, 4 environments valid"
    assert result.err == ""


def test_validate_one_environment(dfg) -> None:
    result = dfg("validate", "-e", "prod")
    assert result.code == 0, result.err
    assert result.out.strip() == "✓ 7 dataflows, 1 environment valid"


def test_validate_in_the_repository_itself(capsys: pytest.CaptureFixture[str]) -> None:
    repo_root = Path(__file__).resolve().parents[2]
    assert run(["-C", str(repo_root), "validate"]) == 0
    assert "7 dataflows, 4 environments valid" in capsys.readouterr().out


def test_help_shows_examples(dfg) -> None:
    result = dfg("validate", "--help")
    assert result.code == 0
    assert "Examples:" in result.out
    assert "  dfg validate -e prod" in result.out


def _unterminated_string(p: Path) -> None:
    (p / CUSTOMERS / "mashup.pq").write_text('section Section1;\nshared Customers = "abc;\n')


def _missing_semicolon(p: Path) -> None:
    (p / CUSTOMERS / "mashup.pq").write_text(
        "section Section1;\nshared ServerName = 1\nshared DatabaseName = 2;\nshared Customers = 3;\n"
    )


def _no_section(p: Path) -> None:
    (p / CUSTOMERS / "mashup.pq").write_text("shared Customers = 1;\n")


def _invalid_json(p: Path) -> None:
    (p / CUSTOMERS / "queryMetadata.json").write_text('{\n  "formatVersion": "202502",\n  oops\n}\n')


def _missing_part(p: Path) -> None:
    (p / CUSTOMERS / "queryMetadata.json").unlink()


def _empty_part(p: Path) -> None:
    (p / CUSTOMERS / "mashup.pq").write_bytes(b"")


def _non_utf8(p: Path) -> None:
    (p / CUSTOMERS / "mashup.pq").write_bytes(b'section Section1;\n\nshared A = "\xff\xfe";\n')


def _no_logical_id(p: Path) -> None:
    _edit_json(p / CUSTOMERS / ".platform", lambda d: d["config"].pop("logicalId"))


def _other_item_type(p: Path) -> None:
    _edit_json(p / CUSTOMERS / ".platform", lambda d: d["metadata"].update(type="Notebook"))


def _duplicate_name(p: Path) -> None:
    _edit_json(
        p / "dataflows/Products.Dataflow/.platform",
        lambda d: d["metadata"].update(displayName="Customers"),
    )


def _duplicate_logical_id(p: Path) -> None:
    _edit_json(
        p / "dataflows/Products.Dataflow/.platform",
        lambda d: d["config"].update(logicalId="af1fafc3-cb96-4bd4-a768-ede35d9766a9"),
    )


def _unknown_format_version(p: Path) -> None:
    _edit_json(p / CUSTOMERS / "queryMetadata.json", lambda d: d.update(formatVersion="203001"))


def _legacy(p: Path) -> None:
    _edit_json(p / CUSTOMERS / "queryMetadata.json", lambda d: d.update(formatVersion="202412"))


def _cycle(p: Path) -> None:
    mashup = p / "dataflows/Sales Orders.Dataflow/mashup.pq"
    mashup.write_text(
        mashup.read_text()
        + (
            "shared Back = let\n  Source = PowerPlatform.Dataflows([]),\n"
            '  W = Source{[Id = "Workspaces"]}[Data],\n'
            '  WS = W{[workspaceId = "00000000-0000-0000-0000-000000000000"]}[Data],\n'
            f'  DF = WS{{[dataflowId = "{SUMMARY_ID}"]}}[Data]\nin\n  DF;\n'
        )
    )


def _invalid_yaml(p: Path) -> None:
    (p / "environments/test.yaml").write_text(
        "workspace_id: 6a4d8f2e-1c3b-4a5d-9e7f-0b2c4d6e8f13\nparameters: [unclosed\n"
    )


def _not_a_mapping(p: Path) -> None:
    (p / "environments/test.yaml").write_text("- just\n- a list\n")


def _unset_env_var(p: Path) -> None:
    path = p / "environments/dev.yaml"
    path.write_text(
        path.read_text() + "\n# appended by the test\ndescription: ${env:DFG_TEST_SURELY_UNSET}\n"
    )


def _unknown_overlay_key(p: Path) -> None:
    path = p / "environments/test.yaml"
    path.write_text(path.read_text() + "\nparamters:\n  DaysBack: 3\n")


def _non_guid_id(p: Path) -> None:
    path = p / "environments/prod.yaml"
    text = path.read_text()
    path.write_text(
        text.replace("workspace_id: 8c2e4a6d-5f7b-4c9e-a1d3-7e9f1b3d5a24", "workspace_id: 8c2e4a6d")
    )


def _undeclared_parameter(p: Path) -> None:
    path = p / "environments/test.yaml"
    path.write_text(path.read_text().replace("parameters:\n", "parameters:\n  ServerNmae: x\n", 1))


def _non_guid_query_id(p: Path) -> None:
    _edit_json(
        p / CUSTOMERS / "queryMetadata.json",
        lambda d: d["queriesMetadata"]["Customers"].update(queryId="customers-1"),
    )


CASES = [
    # (id, mutate, location regex (start of the message), message fragment)
    ("unterminated string", _unterminated_string, rf"{CUSTOMERS}/mashup\.pq:2:\d+", "unterminated"),
    ("missing semicolon", _missing_semicolon, rf"{CUSTOMERS}/mashup\.pq:\d+:\d+", "missing ';'"),
    ("no section", _no_section, rf"{CUSTOMERS}/mashup\.pq:1:1", "no 'section'"),
    ("invalid JSON", _invalid_json, rf"{CUSTOMERS}/queryMetadata\.json:3", "invalid JSON"),
    ("missing part", _missing_part, rf"{CUSTOMERS}", "missing part `queryMetadata.json`"),
    ("empty part", _empty_part, rf"{CUSTOMERS}/mashup\.pq", "empty part"),
    ("non-UTF-8 part", _non_utf8, rf"{CUSTOMERS}/mashup\.pq:3", "not valid UTF-8"),
    ("no logicalId", _no_logical_id, rf"{CUSTOMERS}/\.platform:\d+", "no config.logicalId"),
    ("other item type", _other_item_type, rf"{CUSTOMERS}/\.platform:\d+", "not 'Dataflow'"),
    (
        "duplicate display name",
        _duplicate_name,
        r"dataflows/Products\.Dataflow/\.platform:\d+",
        "duplicate display name 'Customers'",
    ),
    (
        "duplicate logicalId",
        _duplicate_logical_id,
        r"dataflows/Products\.Dataflow/\.platform:\d+",
        "duplicate logicalId",
    ),
    (
        "unknown formatVersion",
        _unknown_format_version,
        rf"{CUSTOMERS}/queryMetadata\.json:2",
        "unknown formatVersion '203001'",
    ),
    ("legacy format", _legacy, rf"{CUSTOMERS}/queryMetadata\.json", 'dfg migrate "'),
    ("reference cycle", _cycle, r"Sales (Orders|Summary)", "cycle"),
    ("invalid YAML", _invalid_yaml, r"environments/test\.yaml:\d+", ""),
    ("overlay not a mapping", _not_a_mapping, r"environments/test\.yaml(:\d+)?", "mapping"),
    ("unset env var", _unset_env_var, r"environments/dev\.yaml:\d+", "DFG_TEST_SURELY_UNSET"),
    ("unknown overlay key", _unknown_overlay_key, r"environments/test\.yaml:\d+", "'paramters'"),
    ("non-GUID id", _non_guid_id, r"environments/prod\.yaml:4", "not a GUID"),
    (
        "non-GUID queryId",
        _non_guid_query_id,
        rf"{CUSTOMERS}/queryMetadata\.json:\d+",
        "queryId 'customers-1' is not a GUID",
    ),
    (
        "parameter no dataflow declares",
        _undeclared_parameter,
        r"environments/test\.yaml:\d+",
        "'ServerNmae' is declared by no dataflow",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "location", "fragment"), [pytest.param(m, loc, frag, id=i) for i, m, loc, frag in CASES]
)
def test_bad_input_gives_one_located_line_and_exit_1(
    dfg, project: Path, mutate, location: str, fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access during an offline command")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    mutate(project)
    result = dfg("validate")
    assert result.code == 1
    errors = _error_lines(result.err)
    assert len(errors) == 1, result.err
    assert re.match(rf"Error: {location}: ", errors[0]), errors[0]
    assert fragment in errors[0]
    assert "Traceback" not in result.err + result.out
    assert result.err.rstrip().endswith("✗ 1 problem found")


def test_several_problems_are_listed_together(dfg, project: Path) -> None:
    _no_section(project)
    _invalid_yaml(project)
    (project / "dataflows/Products.Dataflow/queryMetadata.json").write_text("[")
    result = dfg("validate")
    assert result.code == 1
    assert len(_error_lines(result.err)) == 3
    assert "✗ 3 problems found" in result.err


def test_warnings_do_not_fail(dfg, project: Path) -> None:
    mashup = project / "dataflows/Hello Dataflow.Dataflow/mashup.pq"
    mashup.write_text(mashup.read_text() + "shared Extra = 1;\n")
    result = dfg("validate", "-e", "dev")
    assert result.code == 0
    assert "Warning: dataflows/Hello Dataflow.Dataflow/mashup.pq:8: query 'Extra'" in result.err


def test_an_unknown_name_is_a_warning_with_a_did_you_mean_and_strict_makes_it_fail(
    dfg, project: Path, git_repo: git.Repo
) -> None:
    mashup = project / CUSTOMERS / "mashup.pq"
    mashup.write_text(mashup.read_text().replace("Sql.Database(ServerName,", "Sql.Database(ServerNme,"))
    git_repo.git.commit("-am", "a typo")
    result = dfg("validate", "-e", "dev")  # checked by default
    assert result.code == 0, result.err
    (warning,) = [line for line in result.err.splitlines() if "ServerNme" in line]
    assert warning.startswith(f"Warning: {CUSTOMERS}/mashup.pq:6:25: query 'Customers' uses 'ServerNme'")
    assert warning.endswith("(did you mean 'ServerName'?)")
    assert dfg("validate", "-e", "dev", "--names").err == result.err  # the former opt-in still reads
    skipped = dfg("validate", "-e", "dev", "--no-names")
    assert (skipped.code, skipped.err) == (0, "")
    strict = dfg("validate", "-e", "dev", "--strict")
    assert strict.code == 1
    assert f"Error: {CUSTOMERS}/mashup.pq:6:25: query 'Customers' uses 'ServerNme'" in strict.err
    assert "✗ 1 problem found" in strict.err


def test_a_warm_run_takes_the_unknown_names_from_the_read_cache(
    dfg, project: Path, git_repo: git.Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = counting_name_checks(monkeypatch)
    mashup = project / CUSTOMERS / "mashup.pq"
    mashup.write_text(mashup.read_text().replace("Sql.Database(ServerName,", "Sql.Database(ServerNme,"))
    git_repo.git.commit("-am", "a typo")
    for path in project.glob("dataflows/*/mashup.pq"):  # texts this process never read: cold
        path.write_bytes(f"// {uuid.uuid4()}\n".encode() + path.read_bytes())
    git_repo.git.commit("-am", "texts of their own")
    texts = [p.read_text(encoding="utf-8-sig") for p in project.glob("dataflows/*/mashup.pq")]
    cold = dfg("validate", "--strict")
    assert cold.code == 1
    assert "did you mean 'ServerName'?" in cold.err
    assert sorted(checked) == sorted(texts)  # each mashup checked once

    checked.clear()
    again = dfg("validate", "--strict")  # in this process its parts know their names already
    assert (again.code, again.err) == (cold.code, cold.err)
    assert checked == []

    # A new process knows nothing: every document and every answer comes from the read cache.
    warm = subprocess.run(
        [sys.executable, "-m", "dataflow_gitops", "-vv", "validate", "--strict"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert warm.returncode == 1
    assert "did you mean 'ServerName'?" in warm.stderr
    n = len(texts)
    assert (
        f"read-ahead: {n} texts; 0 known in this process, {n} from the read cache, 0 parsed "
        f"(0 invalid) by 1 worker(s); unknown names: {n} from the read cache, 0 found"
    ) in warm.stderr


def test_strict_passes_on_the_example(dfg) -> None:
    result = dfg("validate", "--strict")
    assert (result.code, result.err) == (0, "")


def test_validate_and_render_make_no_network_call(dfg, monkeypatch, tmp_path: Path) -> None:
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("network access during an offline command")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert dfg("validate").code == 0
    assert dfg("render", "-e", "local", "--out", str(tmp_path / "local")).code == 0
