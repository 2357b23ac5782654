"""Realistic Dataflow Gen2 section documents: they parse, keep every member's exact text, print back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dataflow_gitops.pipeline.definition.mlang import (
    SectionDocument,
    nodes,
    parse_section,
    split_queries,
)

LAKEHOUSE = """[StagingDefinition = [Kind = "FastCopy"]]
section Section1;
[DataDestinations = {[Definition = [Kind = "Reference", QueryName = "Table_DataDestination", \
IsNewTarget = true], Settings = [Kind = "Automatic", TypeSettings = [Kind = "Table"]]]}]
shared Table = let
  Source = Table.FromRows(Json.Document(Binary.Decompress(Binary.FromText("i45WKkktLlGK1YlWSkksSQQ\
A", BinaryEncoding.Base64), Compression.Deflate)), let _t = ((type nullable text) meta [Serialized.Text \
= true]) in type table [Item = _t]),
  #"Changed column type" = Table.TransformColumnTypes(Source, {{"Item", type text}})
in
  #"Changed column type";
shared Table_DataDestination = let
  Pattern = Lakehouse.Contents([CreateNavigationProperties = false, EnableFolding = false]),
  Navigation_1 = Pattern{[workspaceId = "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10"]}[Data],
  Navigation_2 = Navigation_1{[lakehouseId = "7b9e2c41-3a5d-4f8e-b1c2-9d0e6f3a8b27"]}[Data],
  TableNavigation = Navigation_2{[Id = "Items", ItemKind = "Table"]}?[Data]?
in
  TableNavigation;
"""

WAREHOUSE_MANUAL = """section Section1;
[DataDestinations = {[Definition = [Kind = "Reference", QueryName = "City_DataDestination", \
IsNewTarget = false], Settings = [Kind = "Manual", AllowCreation = true, ColumnSettings = [Mappings = \
{[SourceColumnName = "City", DestinationColumnName = "City"], [SourceColumnName = "Population", \
DestinationColumnName = "Population"]}], DynamicSchema = false, UpdateMethod = [Kind = "Append"], \
TypeSettings = [Kind = "Table"]]]}]
shared City = let
    Source = Sql.Database("sql.contoso.net", "World"),
    dbo_City = Source{[Schema = "dbo", Item = "City"]}[Data],
    Filtered = Table.SelectRows(dbo_City, each [Population] > 100000 and not ([Name] = null))
in
    Filtered;
shared City_DataDestination = let
    Pattern = Fabric.Warehouse([HierarchicalNavigation = null, CreateNavigationProperties = false]),
    Navigation_1 = Pattern{[workspaceId = "2f1c7a52-8d3e-4b0a-9c61-5e7d2a9b4f10"]}[Data],
    Navigation_2 = Navigation_1{[warehouseId = "c4a81f3e-6b2d-4e95-8a7c-1f3b5d9e2c68"]}[Data],
    TableNavigation = Navigation_2{[Item = "City", Schema = "dbo"]}?[Data]?
in
    TableNavigation;
"""

READS_TWO = """section Section1;
shared Orders = let
  Source = PowerPlatform.Dataflows([]),
  #"Navigation 1" = Source{[Id = "Workspaces"]}[Data],
  #"Navigation 2" = #"Navigation 1"{[workspaceId = "00000000-0000-0000-0000-000000000000"]}[Data],
  #"Navigation 3" = #"Navigation 2"{[dataflowId = "018b9992-976d-40c5-a0e4-1b53a9a4c7b5"]}[Data],
  #"Navigation 4" = #"Navigation 3"{[entity = "Orders", version = ""]}[Data]
in
  #"Navigation 4";
shared Customers = let
  Source = PowerPlatform.Dataflows([]),
  #"Navigation 1" = Source{[Id = "Workspaces"]}[Data],
  #"Navigation 2" = #"Navigation 1"{[workspaceId = "00000000-0000-0000-0000-000000000000"]}[Data],
  #"Navigation 3" = #"Navigation 2"{[dataflowId = "af1fafc3-cb96-4bd4-a768-ede35d9766a9"]}[Data],
  #"Navigation 4" = #"Navigation 3"{[entity = "Customers", version = ""]}[Data]
in
  #"Navigation 4";
shared Joined = Table.NestedJoin(Orders, {"CustomerID"}, Customers, {"CustomerID"}, "C", JoinKind.Inner);
"""

PARAMETERS = """section Section1;
shared ServerName = "dev-sql.contoso.net" meta [IsParameterQuery = true, IsParameterQueryRequired = \
true, Type = type text];
shared DaysBack = 30 meta [IsParameterQuery = true, IsParameterQueryRequired = false, Type = type \
number];
shared Ratio = -0.25 meta [IsParameterQuery = true, Type = type number];
shared IncludeArchived = false meta [IsParameterQuery = true, Type = type logical];
shared StartDate = #date(2024, 1, 1) meta [IsParameterQuery = true, Type = type date];
shared Cutoff = #datetime(2024, 6, 30, 23, 59, 59) meta [IsParameterQuery = true, Type = type datetime];
shared Region = "EU" meta [IsParameterQuery = true, List = {"EU", "US", "APAC"}, DefaultValue = "EU", \
Type = type text, IsParameterQueryRequired = true];
shared Orders = Sql.Database(ServerName, "Sales"){[Schema = "dbo", Item = "Orders"]}[Data];
"""

DESKTOP = """section Section1;

shared Server = "localhost" meta [IsParameterQuery=true, Type="Text", IsParameterQueryRequired=true];

shared Threshold = 10 meta [IsParameterQuery=true, Type="Number", IsParameterQueryRequired=true];

shared Data = let
    Source = Sql.Databases(Server)
in
    Source;
"""

COMMENTS = """// exported from Power Query Online
/* a block
   comment before the section */
section /* here too */ Section1 // and here
;
// before an attribute
[ /* inside */ Description = "x" // line
] /* between */ shared /* x */ A /* y */ = /* z */ 1 /* w */ ;
shared B = let // step comments
    // full line
    x = 1, /* trailing */
    y = x + /* mid-expression */ 2
in
    y // last
;
/* trailing block */ // trailing line"""

QUOTED = '''section Section1;
shared #"Sales ""2024"" (EU)" = "He said ""hi""";
shared #"let" = #"Sales ""2024"" (EU)" & " and more";
shared #"Column 1 ""x""" = [#"A ""b""" = 1, Column 1 = 2, Kind = 3, type = 4]{0}?;
'''

EXPRESSIONS = """section Section1;
shared Nested = let
    a = let b = 1, c = let d = b + 1 in d * 2 in c,
    f = (x as number, optional y as nullable text) as text => Text.From(x) & (y ?? ""),
    g = each _ + 1,
    h = (x) => (y) => x + y,
    t = try Number.From("x") otherwise 0,
    u = try error "boom" catch (e) => e[Message],
    v = try error [Reason = "r", Message = "m"] catch () => null,
    w = if a > 1 then "big" else if a = 1 then "one" else "small",
    r = {1..10, 20},
    s = @Nested,
    p = Table.SelectColumns(#table({"A", "B"}, {{1, 2}}), {"A"})[[A]],
    q = 0xFF + 1.5e3 - .5 + #infinity * 0 - #nan,
    z = #shared[Nested]?,
    k = #sections,
    m = type table [A = text, B = nullable number, optional C = {text}],
    n = type function (x as number, optional y as text) as text,
    o = type [A = number, ...],
    l = Value.Type(1) is number and (1 as number) = 1 or not true,
    y = #duration(1, 2, 3, 4.5) + #time(10, 0, 0) meta [X = 1],
    nope = ...
in
    a;
"""

LIBRARY = """section Funcs;
shared fnType = type function (
        url as (type text meta [Documentation.FieldCaption = "URL", Documentation.SampleValues = {"https://x"}]),
        optional options as (type nullable record meta [Documentation.FieldCaption = "Options"])
    ) as table meta [Documentation.Name = "Fn", Documentation.LongDescription = "Line1#(lf)Line2"];
shared Fn = Value.ReplaceType((url as text, optional options as nullable record) as table =>
    let
        headers = [#"Content-Type" = "application/json", Accept = "*/*"],
        body = Json.FromValue([query = url, limit = 100, flags = {true, false, null}]),
        response = Web.Contents(url, [Headers = headers, Content = body,
            ManualStatusHandling = {400, 404}]),
        status = Value.Metadata(response)[Response.Status],
        result = if status >= 400 then error Error.Record("HTTP", "Failed", [Status = status])
            else Json.Document(response),
        page = List.Generate(() => [i = 0, r = null], each [i] < 3,
            each [i = [i] + 1, r = [i] * 2], each [r]),
        recur = (n as number) as number => if n <= 1 then 1 else n * @recur(n - 1),
        typed = result as record,
        isText = result is text,
        x = 1 / 0 ?? 2,
        range = {1..5, 7, 9..11},
        sel = Table.SelectRows(tbl, (row) => row[A] <> null and not (row[B] = "x")),
        projected = tbl{0}[[A], [B]],
        nested = #table(type table [A = number, B = nullable text], {{1, "a"}, {2, null}}),
        dt = DateTime.LocalNow() - #duration(1, 0, 0, 0) > #datetime(2024, 1, 1, 0, 0, 0),
        tz = #datetimezone(2024, 1, 1, 0, 0, 0, -8, 0),
        bin = #binary({0x00, 0xFF}),
        neg = -1e-3 * +2,
        rec = [a = 1, b = [c = {[d = 2]}]][b][c]{0}[d]
    in
        result, fnType);
"""

GENERALIZED = """section Section1;
shared Hours = // comment between '=' and the expression
let
    Source = Excel.CurrentWorkbook(){[Name = "Shifts"]}[Content],
    Overtime = Source{0}[1.5OT],
    Spaced = Source{0}[Column 2 Total]?,
    Path = Text.Split("C:\\dir\\", "\\")
in
    Overtime;
"""


def _check_layout(doc: SectionDocument, text: str) -> None:
    assert doc.print() == text
    for member in doc.members:
        assert text[member.start : member.end] == member.source
        assert member.source.endswith(";")
        assert member.expression_text in member.source
        span = member.expression.span
        assert text[span[0] : span[1]] == member.expression_text
        if member.attribute_text is not None:
            assert member.source.startswith(member.attribute_text)


@pytest.mark.parametrize(
    ("text", "section", "names", "attributed"),
    [
        (LAKEHOUSE, "Section1", ["Table", "Table_DataDestination"], ["Table"]),
        (WAREHOUSE_MANUAL, "Section1", ["City", "City_DataDestination"], ["City"]),
        (READS_TWO, "Section1", ["Orders", "Customers", "Joined"], []),
        (
            PARAMETERS,
            "Section1",
            [
                "ServerName",
                "DaysBack",
                "Ratio",
                "IncludeArchived",
                "StartDate",
                "Cutoff",
                "Region",
                "Orders",
            ],
            [],
        ),
        (DESKTOP, "Section1", ["Server", "Threshold", "Data"], []),
        (COMMENTS, "Section1", ["A", "B"], ["A"]),
        (QUOTED, "Section1", ['Sales "2024" (EU)', "let", 'Column 1 "x"'], []),
        (EXPRESSIONS, "Section1", ["Nested"], []),
        (LIBRARY, "Funcs", ["fnType", "Fn"], []),
        (GENERALIZED, "Section1", ["Hours"], []),
    ],
    ids=[
        "lakehouse",
        "warehouse-manual",
        "reads-two",
        "parameters",
        "desktop",
        "comments",
        "quoted",
        "expressions",
        "library",
        "generalized",
    ],
)
def test_realistic_documents_parse_and_print_back(
    text: str, section: str, names: list[str], attributed: list[str]
) -> None:
    doc = parse_section(text)
    assert doc.section_name == section
    assert [m.name for m in doc.members] == names
    assert [m.name for m in doc.members if m.attribute_text is not None] == attributed
    assert all(m.shared for m in doc.members)
    _check_layout(doc, text)


def test_spec_example(spec_mashup: str) -> None:
    doc = parse_section(spec_mashup)
    assert doc.attribute_text == '[StagingDefinition = [Kind = "FastCopy"]]'
    assert doc.section_name == "Section1"
    assert [(m.name, m.line) for m in doc.members] == [("Query", 3), ("MDF transform", 9)]
    mdf = doc.members[1]
    assert mdf.attribute_text == '[ItemType = "MDF"]'
    assert mdf.expression_text == '"___ExternalResource-Placeholder___"'
    assert mdf.source == (
        '[ItemType = "MDF"]\nshared #"MDF transform" = "___ExternalResource-Placeholder___";'
    )
    query = doc.member("Query")
    assert query is not None
    assert isinstance(query.expression, nodes.Let)
    assert [b.name for b in query.expression.bindings] == ["Source", "Changed column type"]
    _check_layout(doc, spec_mashup)


def test_crlf_and_bom_keep_exact_text_and_lines() -> None:
    text = "\ufeffsection S;\r\nshared A = 1;\r\n\r\nshared B =\r\n  2;\r\n"
    doc = parse_section(text)
    assert doc.print() == text
    assert [(m.name, m.line) for m in doc.members] == [("A", 2), ("B", 4)]
    assert doc.members[1].source == "shared B =\r\n  2;"


def test_members_without_shared_and_document_without_members() -> None:
    doc = parse_section("section Private;\nHelper = 1;\nshared Out = Helper;")
    assert [(m.name, m.shared) for m in doc.members] == [("Helper", False), ("Out", True)]
    empty = parse_section("section Empty;\n")
    assert empty.members == ()
    assert empty.member("X") is None
    assert empty.print() == "section Empty;\n"


def test_member_lookup_and_split_queries() -> None:
    doc = parse_section(LAKEHOUSE)
    table = doc.member("Table")
    assert table is not None
    assert table.attribute_text is not None
    assert table.attribute_text.startswith("[DataDestinations = {")
    assert isinstance(table.attribute, nodes.Record)
    assert table.line == 4
    queries = split_queries(doc)
    assert list(queries) == ["Table", "Table_DataDestination"]
    assert (
        queries["Table_DataDestination"].lstrip("\n").startswith("shared Table_DataDestination = let\n")
    )
    assert queries["Table_DataDestination"].endswith("TableNavigation;\n")
    assert doc.member("table") is None  # names are case-sensitive


def test_comments_stay_inside_member_source() -> None:
    doc = parse_section(COMMENTS)
    a, b = doc.members
    assert a.source.startswith("[ /* inside */ Description")
    assert a.source.endswith("1 /* w */ ;")
    assert a.expression_text == "1"
    assert b.expression_text.endswith("    y")
    assert "// full line" in b.source


def test_quoted_names_decode_escapes_like_text_literals() -> None:
    doc = parse_section(
        'section S;\nshared #"Tab#(tab)Name ""q""" = 1;\nshared B = #"Tab#(tab)Name ""q""";'
    )
    assert doc.members[0].name == 'Tab\tName "q"'
    reference = doc.members[1].expression
    assert isinstance(reference, nodes.Identifier)
    assert reference.name == 'Tab\tName "q"'
    assert reference.quoted


def test_public_api_is_pinned() -> None:
    import dataflow_gitops.pipeline.definition.mlang as mlang

    assert sorted(mlang.__all__) == [
        "FieldLiteral",
        "Member",
        "Node",
        "Parameter",
        "RawReference",
        "SectionDocument",
        "apply_edits",
        "dataflow_references",
        "field_literals",
        "format_literal",
        "parameters",
        "parse_section",
        "query_dependencies",
        "set_parameter",
        "split_queries",
    ]
    assert all(hasattr(mlang, name) for name in mlang.__all__)


def test_the_reader_imports_only_the_standard_library_and_the_error_tree() -> None:
    import ast
    import sys
    from pathlib import Path

    import dataflow_gitops.pipeline.definition.mlang as mlang

    allowed_own = ("dataflow_gitops.errors", "dataflow_gitops.pipeline.definition.mlang")
    offenders = []
    for path in Path(mlang.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "__future__":
                    continue
                if not name.startswith(allowed_own):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_split_queries_gives_every_comment_between_queries_to_a_query() -> None:
    text = (
        "section S; // header note\n"
        "// documents A\n"
        "shared A = 1; // after A\n"
        "\n"
        "/* documents B,\n   over two lines */\n"
        "shared B = 2; /* spans\n a line break */ shared C = 3;\n"
        "// trailing\n"
    )
    queries = split_queries(parse_section(text))
    assert queries == {
        "A": " // header note\n// documents A\nshared A = 1; // after A\n",
        "B": "\n/* documents B,\n   over two lines */\nshared B = 2; /* spans\n a line break */ ",
        "C": "shared C = 3;\n// trailing\n",
    }
    # Nothing after the section header is lost: the queries put together are the body.
    assert "".join(queries.values()) == text[text.index(";") + 1 :]


@given(st.lists(st.sampled_from(["", "// c\n", "/* b */", "\n", " ", "/* x\ny */\n"]), max_size=12))
def test_a_comment_change_between_queries_changes_some_query(trivia: list[str]) -> None:
    base = "section S;\nshared A = 1;{}shared B = 2;{}"
    middle, tail = "".join(trivia[::2]), "".join(trivia[1::2])
    before = split_queries(parse_section(base.format(middle, tail)))
    after = split_queries(parse_section(base.format(middle + "// new\n", tail)))
    assert before != after
    assert "".join(after.values()).count("// new") == 1
