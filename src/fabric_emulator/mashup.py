"""Dataflow mashup layer: `mashup.pq` text → checked section document (members with their expression
text) → public parameters. A small checker of the emulator's own, enough to fail ApplyChanges on a
document that Power Query would refuse; it is not a full M parser."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

_CLOSERS = {"(": ")", "[": "]", "{": "}"}
# The lexical rules of the M specification, as dataflow_gitops' M reader applies them (this package
# may not import it): ASCII digits only in numbers, M's name characters in names (a dot continues
# a name before another part, which may start with a digit), a byte-order mark only first, the
# `#` words M knows, and nothing else.
_LEXEME = re.compile(
    r"""
      (?P<number>0[xX][0-9a-fA-F]+|(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    | (?P<ident>[^\W\d]\w*(?:\.\w+)*)
    | (?P<hash>\#(?:binary|datetimezone|datetime|date|duration|infinity|nan|sections|shared|table
                   |time)(?!\w))
    | (?P<punct>\.\.\.|\.\.|=>|<=|>=|<>|\?\?|[=<>+\-*&@!?,;()\[\]{}]|/(?![/*]))
    """,
    re.VERBOSE,
)
_LINE_BREAKS = "\r\n\x85\u2028\u2029"
# M's own classes (the spec's, as the M reader applies them): \w also takes other numbers (²,
# ½), which M does not.
_START_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nl"})
_PART_CATEGORIES = _START_CATEGORIES | {"Nd", "Pc", "Mn", "Mc", "Cf"}
# Python's isspace() also counts the information separators U+001C-U+001F; M does not.
_NOT_M_BLANK = frozenset("\x1c\x1d\x1e\x1f")
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


class MashupSyntaxError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ident | string | number | punct | qident
    text: str
    line: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    expression: str
    line: int


@dataclass(frozen=True, slots=True)
class SectionDocument:
    section: str
    members: tuple[Member, ...]


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        ch = text[i]
        if ch in _LINE_BREAKS:
            line += 1
            i += 2 if text.startswith("\r\n", i) else 1
        elif (ch.isspace() and ch not in _NOT_M_BLANK) or (ch == "\ufeff" and i == 0):
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] not in _LINE_BREAKS:
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise MashupSyntaxError(line, "unterminated block comment")
            line += len(_LINE_BREAK.findall(text, i, end))
            i = end + 2
        elif ch == '"' or text.startswith('#"', i):
            start, start_line = i, line
            i += 2 if ch == "#" else 1
            while True:
                close = text.find('"', i)
                if close < 0:
                    raise MashupSyntaxError(start_line, "unterminated string literal")
                if text.startswith('""', close):
                    i = close + 2
                    continue
                line += len(_LINE_BREAK.findall(text, start, close))
                i = close + 1
                break
            kind = "qident" if ch == "#" else "string"
            tokens.append(Token(kind, text[start:i], start_line, start, i))
        else:
            m = _LEXEME.match(text, i)
            end = m.end() if m is not None else i
            if m is not None and m.lastgroup == "ident" and _continues_name(text, end):
                # A combining mark or format character that \w does not cover: read the name
                # character by character, as the M reader does.
                m, end = None, _name_end(text, i) if _is_name_start(ch) else i
                if end > i:
                    tokens.append(Token("ident", text[i:end], line, i, end))
                    i = end
                    continue
            if m is not None and m.lastgroup == "hash" and _continues_name(text, end):
                m = None  # `#date` + a format character is another word, one M does not know
            if m is None or m.lastgroup is None:
                what = re.match(r"#\w*", text[i:]).group() if ch == "#" else ch  # type: ignore[union-attr]
                raise MashupSyntaxError(line, f"unexpected {what!r}")
            kind = "ident" if m.lastgroup == "hash" else m.lastgroup
            if m.lastgroup == "ident" and not _m_name(m.group()):
                raise MashupSyntaxError(line, f"unexpected {m.group()!r}")
            tokens.append(Token(kind, m.group(), line, i, end))
            i = end
    return tokens


def _m_name(name: str) -> bool:
    """Every character of ``name`` is one of M's name characters (ASCII ones always are)."""
    if name.isascii():
        return True
    return _is_name_start(name[0]) and all(_is_name_part(c) for c in name if c != ".")


def _is_name_start(ch: str) -> bool:
    if ch < "\x80":
        return ch == "_" or ch.isalpha()
    return unicodedata.category(ch) in _START_CATEGORIES


def _is_name_part(ch: str) -> bool:
    if ch < "\x80":
        return ch == "_" or ch.isalnum()
    return unicodedata.category(ch) in _PART_CATEGORIES


def _continues_name(text: str, at: int) -> bool:
    return at < len(text) and text[at] >= "\x80" and _is_name_part(text[at])


def _name_end(text: str, i: int) -> int:
    """End of the name starting at `i`: name characters, and a dot only before another part."""
    n = len(text)
    while True:
        while i < n and _is_name_part(text[i]):
            i += 1
        if i + 1 < n and text[i] == "." and _is_name_part(text[i + 1]):
            i += 1
            continue
        return i


def _skip_balanced(tokens: list[Token], pos: int) -> int:
    """Index just after the bracket group opening at `pos`."""
    stack: list[Token] = []
    while pos < len(tokens):
        tok = tokens[pos]
        if tok.kind == "punct" and tok.text in _CLOSERS:
            stack.append(tok)
        elif tok.kind == "punct" and tok.text in _CLOSERS.values():
            if not stack or _CLOSERS[stack[-1].text] != tok.text:
                raise MashupSyntaxError(tok.line, f"unexpected '{tok.text}'")
            stack.pop()
            if not stack:
                return pos + 1
        pos += 1
    raise MashupSyntaxError(
        stack[-1].line if stack else 0,
        f"unclosed '{stack[-1].text}'" if stack else "unexpected end of document",
    )


def _expression_end(tokens: list[Token], pos: int, member_line: int) -> int:
    """Index of the `;` that ends the member expression starting at `pos`."""
    while pos < len(tokens):
        tok = tokens[pos]
        if tok.kind == "punct" and tok.text in _CLOSERS:
            pos = _skip_balanced(tokens, pos)
            continue
        if tok.kind == "punct" and tok.text in _CLOSERS.values():
            raise MashupSyntaxError(tok.line, f"unexpected '{tok.text}'")
        if tok.kind == "punct" and tok.text == ";":
            return pos
        pos += 1
    raise MashupSyntaxError(member_line, "member is not terminated by ';'")


def _name(tok: Token) -> str:
    if tok.kind == "qident":
        return tok.text[2:-1].replace('""', '"')
    if tok.kind == "ident" and not tok.text.startswith("#"):
        return tok.text
    raise MashupSyntaxError(tok.line, f"expected a query name, found '{tok.text}'")


def parse_section(text: str) -> SectionDocument:
    """Check `text` as `[attrs] section Name; ([attrs] shared Name = expr;)*`."""
    tokens = tokenize(text)
    pos = 0
    if pos < len(tokens) and tokens[pos].text == "[":
        pos = _skip_balanced(tokens, pos)
    if pos >= len(tokens) or tokens[pos].text != "section":
        line = tokens[pos].line if pos < len(tokens) else 1
        raise MashupSyntaxError(line, "expected 'section <Name>;' at the start of the document")
    if pos + 2 >= len(tokens) or tokens[pos + 2].text != ";":
        raise MashupSyntaxError(tokens[pos].line, "expected 'section <Name>;'")
    section = _name(tokens[pos + 1])
    pos += 3
    members: list[Member] = []
    while pos < len(tokens):
        if tokens[pos].text == "[":
            pos = _skip_balanced(tokens, pos)
            continue
        tok = tokens[pos]
        if tok.text != "shared":
            raise MashupSyntaxError(tok.line, f"expected 'shared', found '{tok.text}'")
        if pos + 3 >= len(tokens) or tokens[pos + 2].text != "=":
            raise MashupSyntaxError(tok.line, "expected 'shared <Name> = <expression>;'")
        name = _name(tokens[pos + 1])
        end = _expression_end(tokens, pos + 3, tok.line)
        if end == pos + 3:
            raise MashupSyntaxError(tok.line, f"query '{name}' has an empty expression")
        expr = text[tokens[pos + 3].start : tokens[end - 1].end]
        members.append(Member(name, expr, tok.line))
        pos = end + 1
    return SectionDocument(section, tuple(members))


# Power Query Online writes `type text`; Power BI Desktop writes `"Text"`.
_TYPE_NAMES = {
    "text": "String",
    "number": "Number",
    "logical": "Boolean",
    "date": "Date",
    "datetime": "DateTime",
    "datetimezone": "DateTimeZone",
    "time": "Time",
    "duration": "Duration",
    "int64.type": "Integer",
    "integer": "Integer",
}


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: str
    is_required: bool
    description: str
    default_value: Any

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "isRequired": self.is_required,
            "description": self.description,
            "defaultValue": self.default_value,
        }


def _meta_fields(tokens: list[Token]) -> dict[str, list[Token]]:
    """`[A = x, B = type text]` → {A: tokens of x, B: tokens of `type text`} (top-level only)."""
    fields: dict[str, list[Token]] = {}
    pos, key = 1, None
    current: list[Token] = []
    while pos < len(tokens) - 1:
        tok = tokens[pos]
        if key is None:
            if tok.kind in ("ident", "qident") and pos + 1 < len(tokens) and tokens[pos + 1].text == "=":
                key, pos = _name(tok), pos + 2
                continue
            pos += 1
            continue
        if tok.text in _CLOSERS:
            end = _skip_balanced(tokens, pos)
            current.extend(tokens[pos:end])
            pos = end
            continue
        if tok.text == ",":
            fields[key], key, current = current, None, []
        else:
            current.append(tok)
        pos += 1
    if key is not None:
        fields[key] = current
    return fields


def _number(text: str) -> int | float | str:
    """An M number literal's value, as the M reader reads it (leading zeros are decimal: 09 is 9)."""
    if text[:2] in ("0x", "0X"):
        return int(text, 16)
    if text.isdigit():
        return int(text)
    value = float(text)
    # JSON has no infinity: a literal too big for a double keeps its text.
    return value if math.isfinite(value) else text


def _literal(tokens: list[Token]) -> Any:
    texts = [t.text for t in tokens]
    if len(tokens) == 1:
        tok = tokens[0]
        if tok.kind == "string":
            return tok.text[1:-1].replace('""', '"')
        if tok.kind == "number":
            return _number(tok.text)
        if tok.text in ("true", "false"):
            return tok.text == "true"
        if tok.text == "null":
            return None
    if len(tokens) == 2 and texts[0] == "-" and tokens[1].kind == "number":
        value = _literal(tokens[1:])
        return -value if isinstance(value, int | float) else value
    if texts and texts[0] in ("#date", "#datetime", "#datetimezone", "#time", "#duration"):
        numbers = [_number(t.text) for t in tokens if t.kind == "number"]
        if all(isinstance(v, int | float) and abs(v) < 10**9 for v in numbers):
            return _temporal(texts[0], [int(v) for v in numbers])
    return "".join(texts)


def _temporal(kind: str, n: list[int]) -> str:
    n = n + [0] * (8 - len(n))
    if kind == "#date":
        return f"{n[0]:04d}-{n[1]:02d}-{n[2]:02d}"
    if kind == "#time":
        return f"{n[0]:02d}:{n[1]:02d}:{n[2]:02d}"
    if kind == "#duration":
        return f"P{n[0]}DT{n[1]}H{n[2]}M{n[3]}S"
    stamp = f"{n[0]:04d}-{n[1]:02d}-{n[2]:02d}T{n[3]:02d}:{n[4]:02d}:{n[5]:02d}"
    if kind == "#datetimezone":
        return f"{stamp}{'+' if n[6] >= 0 else '-'}{abs(n[6]):02d}:{n[7]:02d}"
    return f"{stamp}.000Z"


def _parameter(member: Member) -> Parameter | None:
    tokens = tokenize(member.expression)
    meta_at = next((i for i, t in enumerate(tokens) if t.text == "meta"), None)
    if meta_at is None or meta_at + 1 >= len(tokens) or tokens[meta_at + 1].text != "[":
        return None
    end = _skip_balanced(tokens, meta_at + 1)
    fields = _meta_fields(tokens[meta_at + 1 : end])
    flag = [t.text for t in fields.get("IsParameterQuery", [])]
    if flag != ["true"]:
        return None
    type_tokens = [t for t in fields.get("Type", []) if t.text != "type"]
    type_key = "".join(_literal([t]) if t.kind == "string" else t.text for t in type_tokens).lower()
    value = _literal(tokens[:meta_at])
    kind = _TYPE_NAMES.get(type_key, "String")
    if kind == "Number" and isinstance(value, int) and not isinstance(value, bool):
        kind = "Integer"
    required = [t.text for t in fields.get("IsParameterQueryRequired", [])] == ["true"]
    description = fields.get("Description", [])
    return Parameter(
        member.name, kind, required, str(_literal(description)) if description else "", value
    )


def parameters(text: str) -> list[Parameter]:
    """Public parameters of a section document (members flagged `IsParameterQuery = true`)."""
    found = (_parameter(m) for m in parse_section(text).members)
    return [p for p in found if p is not None]
