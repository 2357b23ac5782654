"""Every syntax error is one MSyntaxError line naming file, line and column, with a hint."""

from __future__ import annotations

import pytest

from dataflow_gitops.errors import MSyntaxError, SourceError
from dataflow_gitops.pipeline.definition.mlang import (
    dataflow_references,
    parse_section,
    query_dependencies,
)

PATH = "dataflows/Sales.Dataflow/mashup.pq"


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ('section S;\nshared A = "abc;\nshared B = 1;', 2, 12, "unterminated text literal"),
        ('section S;\nshared A = "say ""hi"";', 2, 12, "unterminated text literal"),
        ('section S;\nshared #"A = 1;', 2, 8, "unterminated quoted identifier"),
        ("section S;\n/* never closed\nshared A = 1;", 2, 1, "unterminated block comment"),
        ("section S;\nshared A = 1\nshared B = 2;", 3, 1, "missing ';' after query 'A'"),
        ("section S;\nshared A = let x = 1 in x", 2, 26, "missing ';' after query 'A'"),
        ("section S;\nshared A = x\n[Attr = 1]\nshared B = 2;", 3, 1, "missing ';' after query 'A'"),
        ("section S\nshared A = 1;", 2, 1, "missing ';' after 'section S'"),
        ("shared A = 1;", 1, 1, "no 'section' declaration"),
        ("", 1, 1, "no 'section' declaration"),
        ("// only a comment\n", 2, 1, "no 'section' declaration"),
        ('[StagingDefinition = [Kind = "FastCopy"]]\n', 2, 1, "no 'section' declaration"),
        ("section S;\nshared A = let x = 1 in ;", 2, 25, "unexpected ';', expected an expression"),
        ("section S;\nshared A = (1 + );", 2, 17, "unexpected ')', expected an expression"),
        ("section S;\nshared A = let x = 1 y = 2 in y;", 2, 22, "expected ',' or 'in'"),
        ("section S;\nshared A = if x then 1;", 2, 23, "expected 'else'"),
        ("section S;\nshared A = [B = 1;", 2, 18, "expected ',' or ']' in the record"),
        ("section S;\nshared A = {1, 2;", 2, 17, "expected ',' or '}' in the list"),
        ("section S;\nshared A = f(1;", 2, 15, "expected ',' or ')' in the argument list"),
        ("section S;\nshared = 1;", 2, 8, "expected a query name"),
        ("section S;\nshared A 1;", 2, 10, "expected '=' after the query name 'A'"),
        ("section S;\nshared A = 1 $ 2;", 2, 14, "unexpected character '$'"),
        ("section S;\nshared A = #foo;", 2, 12, "unknown '#foo'"),
        ("section S;\nshared A = try 1 catch 2;", 2, 24, "after 'catch'"),
        ("section S;\nshared A = 1;\nshared A = 2;", 3, None, "query 'A' is defined twice"),
        ("section S;\nshared A = f(1));", 2, 16, "unexpected ')': no bracket is open here"),
        ("section S;\nshared A = f([B = {1,\n2", 3, 2, "'{' opened at line 2, column 19 is not closed"),
        ("section S;\nshared A = (1 + 2", 2, 18, "'(' opened at line 2, column 12 is not closed"),
        ("section S;\nshared A = [B = 1]];", 2, 19, "unexpected ']': no bracket is open here"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None,
)
def test_syntax_errors_name_line_and_column(
    text: str, line: int, column: int | None, fragment: str
) -> None:
    with pytest.raises(MSyntaxError) as caught:
        parse_section(text, path=PATH)
    error = caught.value
    assert isinstance(error, SourceError)
    assert (error.path, error.line, error.column) == (PATH, line, column)
    message = str(error)
    where = f"{PATH}:{line}" + (f":{column}" if column is not None else "")
    assert message.startswith(where + ": ")
    assert fragment in message
    assert "\n" not in message
    assert error.hint


def test_error_hint_for_missing_semicolon_says_what_to_do() -> None:
    with pytest.raises(MSyntaxError) as caught:
        parse_section("section S;\nshared A = 1\nshared B = 2;")
    assert caught.value.hint == "end every query with ';'"
    assert "found 'shared'" in caught.value.message


def test_error_quotes_long_tokens_briefly_on_one_line() -> None:
    long_text = '"' + "line\n" * 100 + '"'
    with pytest.raises(MSyntaxError) as caught:
        parse_section(f"section S;\nshared A = 1 {long_text};")
    message = str(caught.value)
    assert "\n" not in message
    assert len(message) < 200
    assert message.startswith("mashup.pq:2:14: missing ';' after query 'A'")


def test_absurd_nesting_is_a_syntax_error_not_a_crash() -> None:
    depth = 50_000
    with pytest.raises(MSyntaxError, match="nested too deeply"):
        parse_section("section S;\nshared A = " + "(" * depth + "1" + ")" * depth + ";")


def test_long_flat_chains_parse() -> None:
    chain = " & ".join(f'"{i}"' for i in range(3000))
    items = ", ".join(str(i) for i in range(3000))
    doc = parse_section(f"section S;\nshared A = {chain};\nshared B = {{{items}}};")
    assert [m.name for m in doc.members] == ["A", "B"]
    else_ifs = " ".join(f"if x = {i} then {i} else" for i in range(150))
    assert parse_section(f"section S;\nshared C = {else_ifs} 0;").members[0].name == "C"


def test_a_missing_semicolon_after_the_section_says_how_to_write_it() -> None:
    with pytest.raises(MSyntaxError) as caught:
        parse_section("section Section1\nshared A = 1;", path=PATH)
    assert "write 'section Section1;'" in str(caught.value)
    assert "query" not in str(caught.value)


def test_deep_generated_queries_read_and_their_trees_are_walked() -> None:
    # Power Query writes a conditional column as one `else if` per arm; thousands are real.
    arms = " ".join(f"if [c] = {i} then Other else" for i in range(3000))
    text = f"section S;\nshared Other = 1;\nshared Q = each {arms} PowerPlatform.Dataflows(null);\n"
    doc = parse_section(text)
    assert query_dependencies(doc)["Q"] == ("Other",)
    assert dataflow_references(doc) == ()
    assert sum(1 for _ in doc.members[1].expression.walk()) > 3000 * 4
