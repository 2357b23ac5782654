"""YAML with positions: values, pointer → line maps, and YAML errors at their line."""

from __future__ import annotations

import pytest

from dataflow_gitops.config.yamlpos import load_yaml
from dataflow_gitops.errors import ConfigError
from dataflow_gitops.utf8 import decode_text

TEXT = """\
# comment
workspace_id: abc
parameters:
  DaysBack: 30
  StartDate: 2024-01-01
replace:
  - find: x
    with: y
"""


def test_values_and_lines() -> None:
    doc = load_yaml(TEXT, path="environments/t.yaml")
    assert doc.value["parameters"] == {"DaysBack": 30, "StartDate": "2024-01-01"}
    assert doc.line(("workspace_id",)) == 2
    assert doc.line(("parameters", "StartDate")) == 5
    assert doc.line(("replace", 0, "with")) == 8
    assert doc.where(("replace", 0), key=False) == "environments/t.yaml:7"
    assert doc.line(("parameters",), key=True) == 3
    # an unknown pointer falls back to the nearest known ancestor
    assert doc.line(("parameters", "Nope", "deeper")) == 4
    assert doc.line(("nothing",)) == 2  # the top-level mapping starts after the comment


def test_empty_document_is_none() -> None:
    assert load_yaml("# only a comment\n", path="e.yaml").value is None


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\nb: [1, 2\n", 3, "invalid YAML"),
        ("a: 1\n  b: 2\n", 2, "invalid YAML"),
        ("a: 1\nb: 2\na: 3\n", 3, "given twice"),
        ("a: &x [*x]\n", 1, "refers to itself"),
        ("a: 1\n---\nb: 2\n", 2, "invalid YAML"),
        ("a: !python/object x\n", 1, "invalid YAML value"),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", 3, "merge keys"),
        ("? [a, b]\n: 1\n", 1, "plain value"),
    ],
)
def test_errors_name_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml(text, path="environments/t.yaml")
    assert caught.value.path == "environments/t.yaml"
    assert caught.value.line == line
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"environments/t.yaml:{line}: ")


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    with pytest.raises(ConfigError, match="too large"):
        load_yaml("\n".join(lines) + "\n", path="bomb.yaml")


def test_non_utf8_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        decode_text(b"a: 1\nb: \xff\n", path="environments/t.yaml", error=ConfigError)
    assert caught.value.line == 2
    assert "0xff" in caught.value.message
    assert decode_text("\ufeffa: 1".encode(), path="x", error=ConfigError) == "a: 1"


@pytest.mark.parametrize(
    "text",
    [
        "[" * 3000,
        "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 1500)),
        "x: " + "[" * 60 + "]" * 60 + "\n",
    ],
)
def test_deep_nesting_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_yaml(text, path="deep.yaml")


def test_control_characters_name_their_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml("a: 1\nb: \x00\n", path="c.yaml")
    assert caught.value.line == 2
    assert "\n" not in str(caught.value)
