"""Parameters: found with value, type and required flag; rewritten by replacing only their literal."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from dataflow_gitops.pipeline.definition.mlang import (
    Parameter,
    format_literal,
    parameters,
    parse_section,
    set_parameter,
)

ALL_TYPES = """section Section1;
shared Server = "dev-sql" meta [IsParameterQuery = true, IsParameterQueryRequired = true, \
Type = type text];
shared Days = 30 meta [IsParameterQuery = true, IsParameterQueryRequired = false, Type = type number];
shared Ratio = -0.25 meta [IsParameterQuery = true, Type = type number];
shared Archived = false meta [IsParameterQuery = true, Type = type logical];
shared Start = #date(2024, 1, 1) meta [IsParameterQuery = true, Type = type date];
shared Cutoff = #datetime(2024, 6, 30, 23, 59, 59) meta [IsParameterQuery = true, Type = type datetime];
shared Stamp = #datetimezone(2024, 6, 30, 8, 0, 0, 2, 0) meta [IsParameterQuery = true, \
Type = type datetimezone];
shared At = #time(6, 30, 0) meta [IsParameterQuery = true, Type = type time];
shared Window = #duration(0, 12, 0, 0) meta [IsParameterQuery = true, Type = type duration];
shared Blob = #binary("AQID") meta [IsParameterQuery = true, Type = type binary];
shared Anything = null meta [IsParameterQuery = true, Type = type any];
shared Region = "EU" meta [IsParameterQuery = true, List = {"EU", "US"}, DefaultValue = "EU", \
Type = type text, IsParameterQueryRequired = true];
shared Maybe = "x" meta [IsParameterQuery = true, Type = type nullable text];
shared Untyped = 5 meta [IsParameterQuery = true];
shared NotAParameter = "y" meta [IsParameterQuery = false, Type = type text];
shared Plain = "z";
shared Computed = Variable.ValueOrDefault("$(/**/Lib/Server)", "x") meta [IsParameterQuery = true, \
Type = type text];
shared Orders = Sql.Database(Server, "Sales");
"""

DESKTOP = """section Section1;

shared Server = "localhost" meta [IsParameterQuery=true, Type="Text", IsParameterQueryRequired=true];

shared Threshold = 10 meta [IsParameterQuery=true, Type="Number", IsParameterQueryRequired=true];

shared Flag = true meta [IsParameterQuery=true, Type="True/False", IsParameterQueryRequired=false];

shared Since = #date(2023, 5, 1) meta [IsParameterQuery=true, Type="Date", \
IsParameterQueryRequired=true];

shared Other = "?" meta [IsParameterQuery=true, Type="Whatever"];
"""


def test_parameters_of_every_type() -> None:
    doc = parse_section(ALL_TYPES)
    found = {p.name: (p.value, p.type_name, p.required, p.literal_text) for p in parameters(doc)}
    utc2 = dt.timezone(dt.timedelta(hours=2))
    assert found == {
        "Server": ("dev-sql", "text", True, '"dev-sql"'),
        "Days": (30, "number", False, "30"),
        "Ratio": (-0.25, "number", False, "-0.25"),
        "Archived": (False, "logical", False, "false"),
        "Start": (dt.date(2024, 1, 1), "date", False, "#date(2024, 1, 1)"),
        "Cutoff": (
            dt.datetime(2024, 6, 30, 23, 59, 59),
            "datetime",
            False,
            "#datetime(2024, 6, 30, 23, 59, 59)",
        ),
        "Stamp": (
            dt.datetime(2024, 6, 30, 8, tzinfo=utc2),
            "datetimezone",
            False,
            "#datetimezone(2024, 6, 30, 8, 0, 0, 2, 0)",
        ),
        "At": (dt.time(6, 30), "time", False, "#time(6, 30, 0)"),
        "Window": (dt.timedelta(hours=12), "duration", False, "#duration(0, 12, 0, 0)"),
        "Blob": (b"\x01\x02\x03", "binary", False, '#binary("AQID")'),
        "Anything": (None, "any", False, "null"),
        "Region": ("EU", "text", True, '"EU"'),
        "Maybe": ("x", "text", False, '"x"'),
        "Untyped": (5, "number", False, "5"),
    }
    assert [p.name for p in parameters(doc)][:3] == ["Server", "Days", "Ratio"]  # document order


def test_parameter_span_locates_the_literal() -> None:
    doc = parse_section(ALL_TYPES)
    for p in parameters(doc):
        assert doc.text[p.span[0] : p.span[1]] == p.literal_text
        member = doc.member(p.name)
        assert member is not None
        assert member.start < p.span[0] < p.span[1] < member.end
        assert doc.line_of(p.span[0]) == member.line


def test_power_bi_desktop_type_strings() -> None:
    found = {p.name: (p.value, p.type_name, p.required) for p in parameters(parse_section(DESKTOP))}
    assert found == {
        "Server": ("localhost", "text", True),
        "Threshold": (10, "number", True),
        "Flag": (True, "logical", False),
        "Since": (dt.date(2023, 5, 1), "date", True),
        "Other": ("?", "any", False),
    }


@pytest.mark.parametrize(
    ("name", "value", "literal"),
    [
        ("Server", "prod-sql.example.net", '"prod-sql.example.net"'),
        ("Server", 'a "quoted" name', '"a ""quoted"" name"'),
        ("Days", 7, "7"),
        ("Days", "14", "14"),
        ("Ratio", 0.5, "0.5"),
        ("Ratio", -3, "-3"),
        ("Archived", True, "true"),
        ("Archived", "FALSE", "false"),
        ("Start", dt.date(2025, 12, 31), "#date(2025, 12, 31)"),
        ("Start", "2025-02-03", "#date(2025, 2, 3)"),
        ("Cutoff", dt.datetime(2025, 1, 2, 3, 4, 5), "#datetime(2025, 1, 2, 3, 4, 5)"),
        ("Stamp", "2025-01-02T03:04:05-05:30", "#datetimezone(2025, 1, 2, 3, 4, 5, -5, -30)"),
        ("At", dt.time(7, 15, 30, 500000), "#time(7, 15, 30.5)"),
        ("Window", dt.timedelta(days=2, minutes=5), "#duration(2, 0, 5, 0)"),
        ("Blob", b"hi", '#binary("aGk=")'),
        ("Anything", 12, "12"),
        ("Anything", None, "null"),
        ("Region", "US", '"US"'),
    ],
)
def test_set_parameter_replaces_only_the_literal(name: str, value: object, literal: str) -> None:
    doc = parse_section(ALL_TYPES)
    before = next(p for p in parameters(doc) if p.name == name)
    new_text = set_parameter(doc, name, value)
    start, end = before.span
    assert new_text == doc.text[:start] + literal + doc.text[end:]
    again = parse_section(new_text)
    after = next(p for p in parameters(again) if p.name == name)
    assert after.literal_text == literal
    assert after.type_name == before.type_name
    unchanged = [m.source for m in doc.members if m.name != name]
    assert [m.source for m in again.members if m.name != name] == unchanged


def test_set_parameter_value_round_trips() -> None:
    doc = parse_section(ALL_TYPES)
    text = set_parameter(doc, "Stamp", dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.UTC))
    stamp = next(p for p in parameters(parse_section(text)) if p.name == "Stamp")
    assert stamp.value == dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


def test_set_parameter_errors() -> None:
    doc = parse_section(ALL_TYPES)
    with pytest.raises(KeyError):
        set_parameter(doc, "NoSuchThing", "x")
    with pytest.raises(KeyError):
        set_parameter(doc, "Plain", "x")  # a query, not a parameter
    with pytest.raises(KeyError):
        set_parameter(doc, "NotAParameter", "x")
    with pytest.raises(KeyError):
        set_parameter(doc, "server", "x")  # names are case-sensitive
    with pytest.raises(ValueError, match="computed"):
        set_parameter(doc, "Computed", "x")
    with pytest.raises(ValueError, match="not a number"):
        set_parameter(doc, "Days", "thirty")
    with pytest.raises(ValueError, match="not a date"):
        set_parameter(doc, "Start", dt.datetime(2024, 1, 1, 10))


@pytest.mark.parametrize(
    ("value", "type_name", "literal"),
    [
        ("plain", "text", '"plain"'),
        ('say "hi"', "text", '"say ""hi"""'),
        ("line1\nline2\r\n\ttab", "text", '"line1#(lf)line2#(cr)#(lf)#(tab)tab"'),
        ("#(lf) is literal", "text", '"#(#)(lf) is literal"'),
        ("bell\x07", "text", '"bell#(0007)"'),
        ("", "text", '""'),
        (42, "text", '"42"'),
        (dt.date(2024, 1, 1), "text", '"2024-01-01"'),
        (0, "number", "0"),
        (-12, "number", "-12"),
        (10**20, "number", "100000000000000000000"),
        (2.0, "number", "2"),
        (1e-7, "number", "1e-07"),
        (math.inf, "number", "#infinity"),
        (-math.inf, "number", "-#infinity"),
        (math.nan, "number", "#nan"),
        (" 3.25 ", "number", "3.25"),
        (True, "logical", "true"),
        ("False", "logical", "false"),
        (dt.date(2024, 2, 29), "date", "#date(2024, 2, 29)"),
        (dt.datetime(2024, 1, 1), "datetime", "#datetime(2024, 1, 1, 0, 0, 0)"),
        (dt.date(2024, 1, 2), "datetime", "#datetime(2024, 1, 2, 0, 0, 0)"),
        ("2024-01-01T10:30:00.25", "datetime", "#datetime(2024, 1, 1, 10, 30, 0.25)"),
        ("2024-01-01T10:30:00Z", "datetimezone", "#datetimezone(2024, 1, 1, 10, 30, 0, 0, 0)"),
        (dt.time(0, 0), "time", "#time(0, 0, 0)"),
        ("13:45", "time", "#time(13, 45, 0)"),
        (dt.timedelta(seconds=90.5), "duration", "#duration(0, 0, 1, 30.5)"),
        (-dt.timedelta(days=1, hours=2), "duration", "#duration(-1, -2, 0, 0)"),
        ("PT12H", "duration", "#duration(0, 12, 0, 0)"),
        ("P1DT2H3M4.5S", "duration", "#duration(1, 2, 3, 4.5)"),
        ("-P1W", "duration", "#duration(-7, 0, 0, 0)"),
        ("1.02:03:04", "duration", "#duration(1, 2, 3, 4)"),
        ("-00:30:00", "duration", "#duration(0, 0, -30, 0)"),
        (b"", "binary", '#binary("")'),
        ("text", "any", '"text"'),
        (False, "any", "false"),
        (dt.date(2020, 1, 1), "any", "#date(2020, 1, 1)"),
    ],
)
def test_format_literal(value: object, type_name: str, literal: str) -> None:
    assert format_literal(value, type_name) == literal


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (None, "text"),
        (True, "text"),
        (["a"], "text"),
        (True, "number"),
        ("12abc", "number"),
        (None, "number"),
        ("yes", "logical"),
        (1, "logical"),
        ("2024-13-01", "date"),
        (dt.datetime(2024, 1, 1), "date"),
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "datetime"),
        (dt.datetime(2024, 1, 1), "datetimezone"),
        (dt.date(2024, 1, 1), "datetimezone"),
        ("noon", "time"),
        (60, "duration"),
        ("P", "duration"),
        ("PT", "duration"),
        ("12 hours", "duration"),
        ("AQID", "binary"),
        (object(), "any"),
        ("x", "decimal"),
    ],
)
def test_format_literal_refuses_values_of_another_type(value: object, type_name: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        format_literal(value, type_name)


def test_parameter_is_a_frozen_value() -> None:
    p = parameters(parse_section(ALL_TYPES))[0]
    assert isinstance(p, Parameter)
    with pytest.raises(AttributeError):
        p.name = "Other"  # type: ignore[misc]
