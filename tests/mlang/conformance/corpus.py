"""The conformance probe corpus: M documents the project wrote itself, one group per class of the
reader's agreement with Microsoft's M parser (issue 15), plus mutants of the valid ones.

Each probe is a whole section document. ``oracle.json`` (next to this file) holds Microsoft's
parser's verdict for each, made by ``scripts/regen_m_oracle.py``; the tests compare the reader with
it. Where the reader deliberately differs, the probe says so (``differs``) and why.

Pure data and a deterministic mutator: no reader code is used to build the corpus, so a change to
the reader never changes the probes (only the verdicts it is compared on).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    id: str
    group: str
    text: str
    # Why the reader's verdict differs from Microsoft's parser on purpose (None: it must agree).
    differs: str | None = None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def doc(expression: str) -> str:
    return f"section Section1;\n\nshared Query1 = {expression};\n"


# Reasons for the deliberate differences (docs/m-language.md says the same).
LENIENT_DOT = "a name cannot end in '.' (spec: identifier parts are separated by one dot each)"
LENIENT_EMPTY_LET = "'let' needs at least one binding (spec: variable-list is not optional)"
LENIENT_SECTION = "a section needs a name (spec: section-name is not optional)"
LENIENT_DUPLICATE = "two members with one name make the section invalid (the engine refuses it)"
LENIENT_BREAKS = "CR, NEL, U+2028 and U+2029 are line breaks in M (spec: new-line-character)"
STRICT_LITERAL_POSTFIX = (
    "a literal is a primary expression (spec: literal-expression), so it can be indexed, called or "
    "accessed; the engine reads it and fails only when it evaluates it"
)
STRICT_OPTIONAL = "'optional' is not a keyword in the spec: a parameter may be called optional"
SPEC_SECTION_ACCESS = (
    "section access `Section1!Name` is in the spec (section-access-expression) and used by the "
    "engine's own modules"
)
BOM_AT_START = "a byte-order mark before the text is the file's encoding, not M text"
SPEC_TABLE_CATCH = (
    "after `try … type table`, `catch` starts the handler (`table` is the primitive type there), as "
    "the spec reads it; Microsoft's parser takes `catch` as the name of a row type"
)
SPEC_CATCH = "spec: a catch function is `(name) => body` or `() => body`; no 'optional', no type"
OPEN_EXTENDING = (
    "decided: if/let/each/try/error/a function after a binary or unary operator is read as the "
    "operand (Power Query's own editor writes `x + if c then 1 else 2`; the engine evaluates it)"
)
OPEN_CHAINED_META = (
    "decided: chained meta (`1 meta [a=1] meta [b=2]`) is read left to right, as the engine does"
)
OPEN_GENERALIZED = (
    'decided: quoted and plain words mix in a field name in any order (`[a #"b" = 1]` is the '
    "field 'a b'), as the engine reads them; Microsoft's parser takes a quoted word first only"
)


VALID = {
    # type table <primary-expression>: what Microsoft's engine modules and connectors write
    "type_table_call": doc("let r = type [a = number] in type table Type.ForRecord(r, false)"),
    "type_table_paren": doc("let t = type [a = text] in type table (t)"),
    "type_table_name": doc("let newRowType = type [a = text] in type table newRowType"),
    "type_table_record": doc('type table [A = number, #"B c" = nullable text]'),
    "type_table_field_access": doc("type table Value.Type(x)[Row]"),
    "type_nullable_table": doc("type nullable table [A = number]"),
    "type_function": doc("type function (a as number, optional b as text) as table"),
    "type_function_nullable": doc("type function (a as nullable number) as nullable text"),
    "type_list": doc("type {number}"),
    "type_list_of_record": doc("type {[a = text]}"),
    "type_record_open": doc("type [a = number, ...]"),
    "type_record_optional": doc("type [optional a = number, b]"),
    "type_record_empty_open": doc("type [...]"),
    "type_primitive_all": doc(
        "{type any, type anynonnull, type binary, type date, type datetime, type datetimezone, "
        "type duration, type function, type list, type logical, type none, type null, type number, "
        "type record, type table, type text, type time, type type}"
    ),
    "type_of_name_in_paren": doc("let t = type text in type {t}"),
    "type_meta": doc("(type nullable text) meta [Serialized.Text = true]"),
    "catch_name_let": doc("let catch = 1 in catch"),
    "catch_name_field": doc("[catch = 1][catch]"),
    "catch_handler": doc('try error "x" catch (e) => e[Message]'),
    "catch_handler_no_param": doc('try error "x" catch () => 0'),
    "try_otherwise": doc("try 1 otherwise 0"),
    "as_primitive": doc("x as number"),
    "is_nullable": doc("x is nullable text"),
    "param_types": doc("(a as number, optional b as nullable text) as list => {a, b}"),
    "optional_params": doc("(a, optional b, optional c) => a"),
    "each_field": doc("Table.SelectRows(t, each [Amount] > 10 and _[Name] <> null)"),
    "recursion_at": doc("let f = (n) => if n = 0 then 1 else n * @f(n - 1) in f(5)"),
    "implicit_projection": doc("each [[A], [B]]"),
    "field_optional": doc("r[a]? ?? r{0}?"),
    "hash_keywords": doc(
        "{#date(2024, 1, 2), #datetime(2024, 1, 2, 3, 4, 5), #time(1, 2, 3), "
        '#duration(1, 2, 3, 4), #binary("AA=="), #infinity, #nan, #shared, #sections}'
    ),
    "table_ctor": doc("#table(type table [A = number], {{1}, {2}})"),
    "numbers": doc("{0x1F, 1.5e3, .5, 1e-2, 10}"),
    "text_escapes": doc('"a""b#(cr,lf)#(tab)#(0041)"'),
    "not_implemented": doc("..."),
    "ranges": doc("{1..3, 5}"),
    "unary_chain": doc("- - +1"),
    "not_not": doc("not not true"),
    "coalesce": doc("a ?? b ?? c"),
    "meta_single": doc("1 meta [a = 1]"),
    "comments_everywhere": (
        "// leading\nsection Section1; /* block */\n\nshared /*x*/ Query1 = // tail\n  1 /* */ + 2;\n"
    ),
    "attributes": (
        '[Version = "1.0.0", Flag = true, N = 1, Nothing = null, L = {1, "a"}, R = [x = 1]]\n'
        "section Section1;\n\n"
        '[Description = "a query"]\nshared Query1 = 1;\n'
    ),
    "member_attribute_negative": "section Section1;\n\n[a = 1]\nshared Query1 = 1;\n",
    "generalized_names": doc('[Column 1 = 1, #"Quoted name" = 2, Data.Name = 3, and = 4, if = 5]'),
    "generalized_access": doc("r[Column 1] + r[if] + r[Data.Name]"),
    "field_name_spaces": doc("[a  b = 1]"),
    "implicit_access_word_number": doc("[a 1]"),
    # decided (issue 15, open): digits after a dot in a name, a quoted word first in a field name
    "digits_after_dot_field": doc("[Foo.1 = 1][Foo.1]"),
    "digits_after_dot_name": doc("let Foo.1 = 1 in Foo.1"),
    "mixed_field_name_quoted_first": doc('[#"a" b = 1]'),
    "unicode_name": doc("let Ærø = 1, naïve = 2, 日本 = 3 in Ærø + naïve + 日本"),
    "name_letter_number": doc("let x\u2167 = 1 in x\u2167"),
    "unicode_combining": doc("let e\u0301 = 1 in e\u0301"),
    "underscore_name": doc("let _a = 1, _ = 2 in _a + _"),
    "dotted_name": doc("Table.FromRows({})"),
    "quoted_name_escapes": doc('let #"a""b" = 1 in #"a""b"'),
    "crlf": "section Section1;\r\n\r\nshared Query1 =\r\n  1;\r\n",
    "empty_section": "section Section1;\n",
    "shared_and_not": "section Section1;\n\nQuery1 = 1;\nshared Query2 = Query1;\n",
    "function_in_let": doc("let f = (x as number) as number => x + 1, g = each _ * 2 in g(f(1))"),
    "nested_functions": doc("(a) => (b) => (c) => a + b + c"),
    "error_record": doc('error [Reason = "r", Message = "m"]'),
    "try_in_operand": doc("(try 1 otherwise 2) + 3"),
    "logical_ops": doc("a and b or not c"),
    "relational_chain": doc("a < b = true"),
    "is_as_chain": doc("(x as number) is number"),
    "list_of_functions": doc("{(x) => x, each _}"),
    "invoke_record": doc("f([a = 1])"),
    "item_of_list": doc("{1, 2}{0}"),
    "empty_record_list": doc("{[], {}, [ ]}"),
    "paren_function_return": doc("(x) as nullable number => null"),
    "deep_else_if_50": doc(" ".join(f"if x = {i} then {i} else" for i in range(50)) + " 0"),
    "long_concat": doc(" & ".join(f'"{i}"' for i in range(200))),
    "tab_between_tokens": doc("1\t+\t2"),
    "nbsp_between_tokens": doc("1\u00a0+\u00a02"),
    "line_separator_whitespace": "section Section1;\u2028shared Query1 = 1;\n",
    "let_trailing_comment": doc("let a = 1 // note\nin a"),
    "type_function_no_params": doc("type function () as any"),
    "typed_table_call": doc("Table.FromRecords({}, type table [a = text])"),
    "optional_as_field": doc("[optional = 1]"),
    "shared_name_quoted": 'section Section1;\n\nshared #"My Query" = 1;\nshared Q = #"My Query";\n',
    "number_member_access": doc("{1}{0}"),
    "each_each": doc("each each _"),
    "metadata_in_type": doc('type text meta [Documentation.Name = "x"]'),
}

# What Microsoft's parser refuses and the reader must refuse too, at the same line: the forms the
# reader accepted before issue 15, then the common mistakes.
REFUSED = {
    # a non-primitive type after as/is or as a parameter or return type
    "is_name": doc("x is Foo"),
    "as_list_type": doc("x as {number}"),
    "param_dotted_type": doc("(x as Uri.Type) => x"),
    "return_record_type": doc("(x) as [a = number] => x"),
    "as_table": doc("x as table [a = number]"),
    "is_nullable_name": doc("x is nullable Foo"),
    # catch handler shapes
    "catch_typed_param": doc("try 1 catch (e as record) => e"),
    "catch_two_params": doc("try 1 catch (a, b) => a"),
    "catch_return_type": doc("try 1 catch (e) as number => 1"),
    "catch_each": doc("try 1 catch each _"),
    "catch_value": doc("try 1 catch 2"),
    # required after optional
    "required_after_optional": doc("(optional a, b) => a"),
    "required_after_optional_typed": doc("(a, optional b as text, c as number) => a"),
    "type_function_required_after_optional": doc(
        "type function (optional a as number, b as text) as any"
    ),
    # type forms outside the grammar
    "type_name": doc("type Foo"),
    "type_function_untyped": doc("type function (x) as text"),
    "type_record_trailing_comma": doc("type [a,]"),
    "type_table_open": doc("type table [a = number, ...]"),
    "type_function_no_return": doc("type function (x as number)"),
    "type_table_literal": doc('type table "x"'),
    "type_paren": doc("type (number)"),
    # non-literal attribute values
    "attr_negative": "[a = -1]\nsection Section1;\n\nshared Query1 = 1;\n",
    "attr_name": "[a = Foo]\nsection Section1;\n\nshared Query1 = 1;\n",
    "attr_date": "[a = #date(2024, 1, 1)]\nsection Section1;\n\nshared Query1 = 1;\n",
    "member_attr_expression": "section Section1;\n\n[a = 1 + 1]\nshared Query1 = 1;\n",
    "member_attr_type": "section Section1;\n\n[a = type text]\nshared Query1 = 1;\n",
    # field names whose words are separated by more than spaces
    "field_name_comment": doc("[a/*c*/b = 1]"),
    "field_name_tab": doc("[a\tb = 1]"),
    "field_name_newline": doc("[a\nb = 1]"),
    "field_name_nbsp": doc("[a\u00a0b = 1]"),
    "field_access_comment": doc("r[a/*c*/b]"),
    # characters outside M's character classes
    "name_superscript": doc("let a\u00b2 = 1 in 1"),
    "name_fraction": doc("let \u00bd = 1 in 1"),
    "whitespace_1c": doc("1\u001c+ 2"),
    "whitespace_1f": doc("1 +\u001f2"),
    "bom_between_tokens": doc("1 +\ufeff2"),
    # both refuse
    "unknown_hash": doc("#foo"),
    "unterminated_text": 'section Section1;\n\nshared Query1 = "abc;\nshared Query2 = 1;\n',
    "unterminated_quoted": 'section Section1;\n\nshared #"Query1 = 1;\n',
    "unterminated_comment": "section Section1;\n/* never\n\nshared Query1 = 1;\n",
    "missing_semicolon": "section Section1;\n\nshared Query1 = 1\nshared Query2 = 2;\n",
    "missing_semicolon_let": (
        "section Section1;\n\nshared Query1 = let\n  a = 1\nin\n  a\n\nshared Query2 = 2;\n"
    ),
    "missing_section": "shared Query1 = 1;\n",
    "empty_document": "",
    "missing_in": doc("let a = 1, b = 2 b"),
    "missing_comma_let": "section Section1;\n\nshared Query1 = let\n  a = 1\n  b = 2\nin\n  b;\n",
    "missing_else": doc("if x then 1"),
    "missing_then": doc("if x 1 else 2"),
    "unclosed_paren": "section Section1;\n\nshared Query1 = (1 +\n 2;\n",
    "unclosed_record": "section Section1;\n\nshared Query1 = [a = 1,\n b = 2;\n",
    "unclosed_list": "section Section1;\n\nshared Query1 = {1,\n 2;\n",
    "extra_close": doc("f(1))"),
    "extra_close_record": doc("[a = 1]]"),
    "dangling_operator": doc("1 +"),
    "dangling_comma_list": doc("{1, 2,}"),
    "dangling_comma_record": doc("[a = 1,]"),
    "dangling_comma_args": doc("f(1,)"),
    "double_operator": doc("1 * * 2"),
    "missing_operand": doc("(1 + )"),
    "stray_dollar": doc("1 $ 2"),
    "stray_backtick": doc("`x`"),
    "empty_parens": doc("()"),
    "missing_query_name": "section Section1;\n\nshared = 1;\n",
    "missing_equals": "section Section1;\n\nshared Query1 1;\n",
    "keyword_as_name": doc("let if = 1 in 1"),
    "keyword_query_name": "section Section1;\n\nshared let = 1;\n",
    "arrow_without_params": doc("=> 1"),
    "each_nothing": doc("each"),
    "try_nothing": doc("try"),
    "unfinished_record_field": doc("[a = ]"),
    "field_access_empty": doc("r[]"),
    "number_bad_hex": doc("0x"),
    "number_exponent": doc("1e"),
    "let_missing_value": doc("let a = in a"),
    "semicolon_in_list": doc("{1; 2}"),
    "section_twice": "section Section1;\nsection Section2;\n",
    "attribute_without_section": "[a = 1]\n",
    "member_without_shared_or_name": "section Section1;\n\nshared shared Q = 1;\n",
    "two_expressions": doc("1 2"),
    "trailing_garbage": "section Section1;\n\nshared Query1 = 1;\n)\n",
    "unclosed_long": (
        "section Section1;\n\nshared Query1 = let\n  Source = Table.FromRows({\n    {1, 2},\n"
        "    {3, 4}\n  ),\n  Next = Source\nin\n  Next;\n"
    ),
    "missing_paren_call_multiline": (
        "section Section1;\n\nshared Query1 = let\n  Source = Table.SelectRows(T, each [A] > 1,\n"
        "  Next = Source\nin\n  Next;\n"
    ),
    "bad_at": doc("@ 1"),
    "not_then_type": doc("not type"),
    "is_missing_type": doc("x is"),
    "as_missing_type": doc("x as"),
    "double_meta_operand": doc("1 meta"),
    "range_outside_list": doc("1..2"),
    "otherwise_without_try": doc("1 otherwise 2"),
    "catch_without_try": doc("1 catch (e) => e"),
    "optional_twice": doc("(optional optional a) => 1"),
    "type_nullable_nothing": doc("type nullable"),
    "type_list_empty": doc("type {}"),
    "type_list_two": doc("type {number, text}"),
}

# Where Microsoft's parser is lenient or wrong and the reader keeps refusing (or reading) on purpose.
READER_RIGHT = {
    "name_ending_in_dot": (doc("let a. = 1 in 1"), LENIENT_DOT),
    "let_without_bindings": (doc("let in 1"), LENIENT_EMPTY_LET),
    "section_without_name": ("section;\n\nshared Query1 = 1;\n", LENIENT_SECTION),
    "duplicate_members": ("section Section1;\n\nshared A = 1;\nshared A = 2;\n", LENIENT_DUPLICATE),
    "lone_cr_break": ("section Section1;\r\rshared Query1 =\r  (1;\r", LENIENT_BREAKS),
    "nel_break": ("section Section1;\x85\x85shared Query1 =\x85  (1;\x85", LENIENT_BREAKS),
    "index_text_literal": (doc('"abc"{0}'), STRICT_LITERAL_POSTFIX),
    "call_number_literal": (doc("1(2)"), STRICT_LITERAL_POSTFIX),
    "field_of_null": (doc("null[a]"), STRICT_LITERAL_POSTFIX),
    "optional_as_name": (doc("(optional) => optional"), STRICT_OPTIONAL),
    "optional_as_parameter": (doc("(optional) => 1"), STRICT_OPTIONAL),
    "section_access": (doc("Section1!Query2"), SPEC_SECTION_ACCESS),
    "section_access_quoted": (doc('Section1!#"Query 2"'), SPEC_SECTION_ACCESS),
    "bom_at_start": ("\ufeffsection Section1;\n\nshared Query1 = 1;\n", BOM_AT_START),
    "catch_optional_param": (doc("try 1 catch (optional e) => e"), SPEC_CATCH),
    "try_type_table_catch": (doc("try type table catch (e) => 0"), SPEC_TABLE_CATCH),
}

OPEN = {
    "plus_if": (doc("1 + if c then 1 else 2"), OPEN_EXTENDING),
    "and_let": (doc("a and let b = 1 in b"), OPEN_EXTENDING),
    "concat_each": (doc('"a" & each _'), OPEN_EXTENDING),
    "minus_try": (doc("- try 1 otherwise 2"), OPEN_EXTENDING),
    "not_if": (doc("not if a then b else c"), OPEN_EXTENDING),
    "equals_function": (doc("f = (x) => x"), OPEN_EXTENDING),
    "coalesce_error": (doc('a ?? error "none"'), OPEN_EXTENDING),
    "chained_meta": (doc("1 meta [a = 1] meta [b = 2]"), OPEN_CHAINED_META),
    "mixed_field_name_quoted_last": (doc('[a #"b" = 1]'), OPEN_GENERALIZED),
    "mixed_field_access_quoted_last": (doc('r[a #"b"]'), OPEN_GENERALIZED),
}

# Shapes that decide what "the same line" means: one error each, on a line other than the member's.
POSITIONS = {
    "pos_missing_comma_record": ("section Section1;\n\nshared Query1 = [\n  a = 1\n  b = 2\n];\n"),
    "pos_missing_value_last_line": "section Section1;\n\nshared Query1 = let\n  a = 1\nin\n;\n",
    "pos_bad_char_line_4": "section Section1;\n\nshared Query1 = let\n  a = 1 ~ 2\nin\n  a;\n",
    "pos_unclosed_string_line_5": (
        'section Section1;\n\nshared Query1 = let\n  a = 1,\n  b = "x\nin\n  b;\n'
    ),
    "pos_missing_then_multiline": "section Section1;\n\nshared Query1 =\n  if a\n  1\n  else 2;\n",
    "pos_eof_in_let": "section Section1;\n\nshared Query1 = let\n  a = 1,\n",
    "pos_eof_after_equals": "section Section1;\n\nshared Query1 =\n",
    "pos_extra_in": "section Section1;\n\nshared Query1 = let\n  a = 1\nin\nin\n  a;\n",
    "pos_second_query_broken": (
        "section Section1;\n\nshared Query1 = 1;\n\nshared Query2 = let\n  a = (1\nin\n  a;\n"
    ),
    "pos_type_table_bad": "section Section1;\n\nshared Query1 =\n  type table\n    Foo Bar;\n",
}


def _deep(group: str) -> dict[str, str]:
    arms = 2000
    depth = 1000
    return {
        "deep_else_if_2000": doc(" ".join(f"if x = {i} then {i} else" for i in range(arms)) + " 0"),
        "deep_parens_1000": doc("(" * depth + "1" + ")" * depth),
        "deep_lists_1000": doc("{" * depth + "1" + "}" * depth),
        "deep_records_1000": doc("[a = " * depth + "1" + "]" * depth),
        "deep_lets_1000": doc("let a = " * depth + "1" + " in a" * depth),
        "deep_calls_1000": doc("f(" * depth + "1" + ")" * depth),
        "deep_each_1000": doc("each " * depth + "_"),
        "deep_unary_1000": doc("-" * depth + "1"),
    }


# Valid documents the mutants start from: realistic queries in the shapes dataflows carry.
BASES = {
    "base_sales": (
        "section Section1;\n\n"
        'shared ServerName = "sql.example.net" meta [IsParameterQuery = true, Type = "Text", '
        "IsParameterQueryRequired = true];\n"
        "shared Orders = let\n"
        '  Source = Sql.Database(ServerName, "Sales"),\n'
        '  Orders = Source{[Schema = "dbo", Item = "Orders"]}[Data],\n'
        '  #"Filtered rows" = Table.SelectRows(Orders, each [Amount] > 100 and [Status] <> "void"),\n'
        '  #"Added custom" = Table.AddColumn(#"Filtered rows", "Band", each if [Amount] > 1000 then '
        '"high" else if [Amount] > 500 then "mid" else "low", type text),\n'
        '  #"Changed type" = Table.TransformColumnTypes(#"Added custom", {{"Amount", Currency.Type}, '
        '{"Date", type date}})\n'
        "in\n"
        '  #"Changed type";\n'
    ),
    "base_function": (
        "section Section1;\n\n"
        "shared Fetch = (url as text, optional pages as nullable number) as table =>\n"
        "  let\n"
        "    count = if pages = null then 1 else pages,\n"
        "    get = (n as number) => Json.Document(Web.Contents(url, [Query = [page = Text.From(n)]])),\n"
        "    rows = List.Combine(List.Transform({1..count}, each get(_)[items])),\n"
        '    result = try Table.FromRecords(rows) catch (e) => #table({"error"}, {{e[Message]}})\n'
        "  in\n"
        "    result;\n"
        'shared Result = Fetch("https://example.net/api", 2);\n'
    ),
    "base_types": (
        "section Section1;\n\n"
        "shared RowType = type [Id = number, Name = nullable text, optional Tags = {text}];\n"
        "shared Empty = #table(type table [Id = number, Name = text], {});\n"
        "shared Shape = type function (t as table, optional n as number) as table meta "
        '[Documentation.Name = "Shape"];\n'
        "shared Typed = Value.ReplaceType(Empty, type table RowType);\n"
    ),
    "base_destination": (
        '[StagingDefinition = [Kind = "FastCopy"]]\n'
        "section Section1;\n\n"
        '[DataDestinations = {[Definition = [Kind = "Reference", QueryName = "Q_Dest", '
        'IsNewTarget = true], Settings = [Kind = "Automatic", TypeSettings = [Kind = "Table"]]]}]\n'
        "shared Q = let\n"
        "  Source = Lakehouse.Contents([EnableFolding = false]),\n"
        '  Nav = Source{[workspaceId = "0000"]}[Data],\n'
        '  Tbl = Nav{[Id = "T", ItemKind = "Table"]}?[Data]?\n'
        "in\n"
        "  Tbl;\n"
        "shared Q_Dest = let\n"
        "  Pattern = Lakehouse.Contents([CreateNavigationProperties = false]),\n"
        '  Navigation = Pattern{[lakehouseId = "1111"]}[Data]\n'
        "in\n"
        "  Navigation;\n"
    ),
    "base_records": (
        "section Section1;\n\n"
        "shared Config = [\n"
        '  Name = "x",\n'
        "  Limits = [Max = 10, Min = -1],\n"
        "  Steps = {1, 2, 3},\n"
        "  Flag = not false,\n"
        "  Total = List.Sum(Steps) * 2 / 3 - 1,\n"
        '  Label = Name & " " & Text.From(Total)\n'
        "];\n"
        "shared Pick = Config[Limits][Max] ?? 0;\n"
    ),
}


_PIECE = re.compile(r'\s+|#?"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_.]*|[0-9]+|=>|<>|<=|>=|\.\.\.?|.', re.S)
_INSERTS = ("(", ")", "[", "]", "{", "}", ",", ";", "=", "let", "in", "if", "then", "else", "each",
            "=>", "1", "x", "+", "..", "?", "@", "\"", "type", "as")  # fmt: skip


def mutants(count_per_base: int = 120, seed: int = 15) -> dict[str, str]:
    """Deterministic token-level mutants of the base documents: delete, duplicate, swap, insert."""
    rng = random.Random(seed)
    out: dict[str, str] = {}
    for name, text in BASES.items():
        pieces = _PIECE.findall(text)
        significant = [i for i, p in enumerate(pieces) if not p.isspace()]
        # The header (`section Section1;`) stays, so mutants test expressions, not the header.
        significant = [i for i in significant if "".join(pieces[: i + 1]).count(";") >= 1]
        for n in range(count_per_base):
            edited = list(pieces)
            at = rng.choice(significant)
            how = n % 4
            if how == 0:
                edited[at] = ""
            elif how == 1:
                edited[at] = edited[at] + " " + edited[at]
            elif how == 2:
                other = rng.choice(significant)
                edited[at], edited[other] = edited[other], edited[at]
            else:
                edited[at] = edited[at] + " " + rng.choice(_INSERTS)
            mutated = "".join(edited)
            if mutated != text:
                out.setdefault(f"mutant_{name}_{n:03d}", mutated)
    return out


def probes() -> list[Probe]:
    """The whole corpus, in a stable order."""
    out: list[Probe] = []
    out += [Probe(k, "valid", v) for k, v in VALID.items()]
    out += [Probe(k, "refused", v) for k, v in REFUSED.items()]
    out += [Probe(k, "reader_right", v, why) for k, (v, why) in READER_RIGHT.items()]
    out += [Probe(k, "open", v, why) for k, (v, why) in OPEN.items()]
    out += [Probe(k, "positions", v) for k, v in POSITIONS.items()]
    out += [Probe(k, "deep", v) for k, v in _deep("deep").items()]
    out += [Probe(k, "bases", v) for k, v in BASES.items()]
    out += [Probe(k, "mutants", v) for k, v in mutants().items()]
    ids = [p.id for p in out]
    assert len(ids) == len(set(ids)), "probe ids are unique"
    return out
