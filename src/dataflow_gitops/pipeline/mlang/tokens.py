"""M lexer (stage ① source, mashup.pq reader): document text → tokens with offset, line, column.

Follows the lexical grammar of the Power Query M specification: regular identifiers (dotted, as in
``Table.FromRows``), ``#"quoted"`` identifiers, keywords, ``#``-keywords (``#date``, ``#table``…),
decimal/hex/exponent numbers, text literals with ``""`` escapes, operators and punctuators. Comments
and whitespace are trivia: skipped, but never lost, because every token keeps its offsets into the
original text and the document is printed from that text.
"""

from __future__ import annotations

import bisect
import enum
import re
import unicodedata
from dataclasses import dataclass

from dataflow_gitops.errors import MSyntaxError


class Kind(enum.Enum):
    IDENTIFIER = "identifier"
    QUOTED = "quoted identifier"
    KEYWORD = "keyword"
    NUMBER = "number"
    TEXT = "text"
    OPERATOR = "operator"
    END = "end of document"


KEYWORDS = frozenset(
    {
        "and",
        "as",
        "each",
        "else",
        "error",
        "false",
        "if",
        "in",
        "is",
        "let",
        "meta",
        "not",
        "null",
        "or",
        "otherwise",
        "section",
        "shared",
        "then",
        "true",
        "try",
        "type",
        "catch",
    }
)
HASH_KEYWORDS = frozenset(
    {
        "#binary",
        "#date",
        "#datetime",
        "#datetimezone",
        "#duration",
        "#infinity",
        "#nan",
        "#sections",
        "#shared",
        "#table",
        "#time",
    }
)
# Longest first, so that `...` wins over `..` and `=>` over `=`.
OPERATORS = (
    "...", "..", "=>", "<=", ">=", "<>", "??",
    "=", "<", ">", "+", "-", "*", "/", "&", "@", "?",
    ",", ";", "(", ")", "[", "]", "{", "}",
)  # fmt: skip
LINE_BREAKS = "\r\n\x85\u2028\u2029"
DIGITS = "0123456789"
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_WORD = re.compile(r"\w*")
_DIGIT_RUN = re.compile("[0-9]*")
_OPERATOR_SET = frozenset(OPERATORS)
# The same lexical grammar as the character-by-character path below, for its common cases; anything
# unusual or wrong (unterminated literals, #-keywords, stray characters) falls through to that path.
_FAST = re.compile(
    r"""
      (?P<blank>[\s\ufeff]+)
    | (?P<line>//[^\r\n\x85\u2028\u2029]*)
    | (?P<block>/\*.*?\*/)
    | (?P<text>"(?:[^"]|"")*+")
    | (?P<quoted>\#"(?:[^"]|"")*+")
    | (?P<number>0[xX][0-9a-fA-F]+|(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    | (?P<ident>[^\W\d]\w*(?:\.[^\W\d]\w*)*)
    | (?P<op>\.\.\.|\.\.|=>|<=|>=|<>|\?\?|[=<>+\-*&@?,;()\[\]{}]|/(?![/*]))
    """,
    re.VERBOSE | re.DOTALL,
)
_FAST_KINDS = {"text": Kind.TEXT, "quoted": Kind.QUOTED, "number": Kind.NUMBER, "op": Kind.OPERATOR}
_NAMED_ESCAPES = {"cr": "\r", "lf": "\n", "tab": "\t", "#": "#"}
_ESCAPE = re.compile(r"#\(([^()]*)\)")
_EXTRA_PART_CATEGORIES = frozenset({"Mn", "Mc", "Pc", "Cf"})


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    start: int
    end: int
    line: int
    column: int

    def is_op(self, *texts: str) -> bool:
        return self.kind is Kind.OPERATOR and self.text in texts

    def is_keyword(self, *texts: str) -> bool:
        return self.kind is Kind.KEYWORD and self.text in texts

    def describe(self) -> str:
        if self.kind is Kind.END:
            return "end of document"
        return repr(self.text if len(self.text) <= 40 else self.text[:37] + "...")


class Positions:
    """Offset → (1-based line, 1-based column), counting CR, LF, CRLF and Unicode breaks."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]

    def at(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1


def is_identifier_start(ch: str) -> bool:
    return ch == "_" or ch.isalpha()


def is_identifier_part(ch: str) -> bool:
    return ch == "_" or ch.isalnum() or unicodedata.category(ch) in _EXTRA_PART_CATEGORIES


def unescape_quoted(raw: str) -> str:
    """The value of a ``"…"`` literal or ``#"…"`` identifier: quotes off, ``""`` and ``#(…)`` decoded."""
    body = raw[2:-1] if raw.startswith("#") else raw[1:-1]
    return decode_text(body.replace('""', '"'))


def decode_text(body: str) -> str:
    """The value of a text literal's body (quotes removed, ``""`` already undoubled)."""

    def one(match: re.Match[str]) -> str:
        out = []
        for item in match.group(1).split(","):
            item = item.strip()
            if item in _NAMED_ESCAPES:
                out.append(_NAMED_ESCAPES[item])
            elif len(item) in (4, 8) and all(c in "0123456789abcdefABCDEF" for c in item):
                out.append(chr(int(item, 16)))
            else:
                return match.group(0)  # not an escape sequence: the characters stand as written
        return "".join(out)

    return _ESCAPE.sub(one, body)


class _Lexer:
    def __init__(self, text: str, path: str, start: int = 0, end: int | None = None) -> None:
        self.text = text
        self.path = path
        self.positions = Positions(text)
        self.pos = start
        self.stop = len(text) if end is None else end
        self.tokens: list[Token] = []

    def fail(self, message: str, offset: int, hint: str | None = None) -> MSyntaxError:
        line, column = self.positions.at(offset)
        return MSyntaxError(message, path=self.path, line=line, column=column, hint=hint)

    def emit(self, kind: Kind, start: int) -> None:
        line, column = self.positions.at(start)
        self.tokens.append(Token(kind, self.text[start : self.pos], start, self.pos, line, column))

    def run(self) -> list[Token]:
        # The hot loop: one master-regex match per token, lines counted forward instead of
        # searched, and anything the regex does not cover left to the careful path (slow).
        text, stop, tokens = self.text, self.stop, self.tokens
        starts = self.positions.starts
        last_line = len(starts) - 1
        line = bisect.bisect_right(starts, self.pos) - 1
        match, keywords, kinds = _FAST.match, KEYWORDS, _FAST_KINDS
        identifier, keyword = Kind.IDENTIFIER, Kind.KEYWORD
        length = len(text)
        while self.pos < stop:
            found = match(text, self.pos)
            group = found.lastgroup if found is not None else None
            if found is None or group is None:
                self.slow()
                continue
            start, end = found.span()
            # A combining mark or format character that \w does not cover: always non-ASCII.
            after = text[end] if end < length else ""
            if group == "ident" and after >= "\x80" and is_identifier_part(after):
                self.slow()
                continue
            self.pos = end
            if group == "blank" or group == "line" or group == "block":
                continue
            while line < last_line and starts[line + 1] <= start:
                line += 1
            word = found.group()
            kind = kinds.get(group) or (keyword if word in keywords else identifier)
            tokens.append(Token(kind, word, start, end, line + 1, start - starts[line] + 1))
        tokens.append(Token(Kind.END, "", stop, stop, *self.positions.at(stop)))
        return tokens

    def slow(self) -> None:
        text, n = self.text, len(self.text)
        ch = text[self.pos]
        start = self.pos
        if ch.isspace() or ch == "\ufeff":
            self.pos += 1
        elif text.startswith("//", start):
            self.skip_line_comment()
        elif text.startswith("/*", start):
            end = text.find("*/", start + 2)
            if end < 0:
                raise self.fail("unterminated block comment", start, "close the comment with '*/'")
            self.pos = end + 2
        elif ch == '"':
            self.quoted(start + 1, start, "text literal")
            self.emit(Kind.TEXT, start)
        elif ch == "#":
            self.hash(start)
        elif ch in DIGITS or (ch == "." and start + 1 < n and text[start + 1] in DIGITS):
            self.number()
            self.emit(Kind.NUMBER, start)
        elif is_identifier_start(ch):
            self.identifier()
            word = text[start : self.pos]
            self.emit(Kind.KEYWORD if word in KEYWORDS else Kind.IDENTIFIER, start)
        else:
            op = next(
                (text[start : start + k] for k in (3, 2, 1) if text[start : start + k] in _OPERATOR_SET),
                None,
            )
            if op is None:
                raise self.fail(
                    f"unexpected character {ch!r}", start, "remove it or put it inside a text literal"
                )
            self.pos += len(op)
            self.emit(Kind.OPERATOR, start)

    def skip_line_comment(self) -> None:
        n = len(self.text)
        while self.pos < n and self.text[self.pos] not in LINE_BREAKS:
            self.pos += 1

    def quoted(self, body_start: int, start: int, what: str) -> None:
        text = self.text
        i = body_start
        while True:
            end = text.find('"', i)
            if end < 0:
                raise self.fail(
                    f"unterminated {what}",
                    start,
                    "close it with '\"' (write a quote inside it as '\"\"')",
                )
            if text.startswith('""', end):
                i = end + 2
                continue
            self.pos = end + 1
            return

    def hash(self, start: int) -> None:
        text = self.text
        if text.startswith('#"', start):
            self.quoted(start + 2, start, "quoted identifier")
            self.emit(Kind.QUOTED, start)
            return
        self.pos = start + 1
        while self.pos < len(text) and is_identifier_part(text[self.pos]):
            self.pos += 1
        word = text[start : self.pos]
        if word not in HASH_KEYWORDS:
            raise self.fail(
                f"unknown {word!r}",
                start,
                'quote a name as #"name"; known: ' + ", ".join(sorted(HASH_KEYWORDS)),
            )
        self.emit(Kind.NUMBER if word in ("#infinity", "#nan") else Kind.KEYWORD, start)

    def number(self) -> None:
        text, n = self.text, len(self.text)
        if text.startswith(("0x", "0X"), self.pos) and self.pos + 2 < n and _is_hex(text[self.pos + 2]):
            self.pos += 2
            while self.pos < n and _is_hex(text[self.pos]):
                self.pos += 1
            return
        self.digits()
        if self.pos + 1 < n and text[self.pos] == "." and text[self.pos + 1] in DIGITS:
            self.pos += 1
            self.digits()
        if self.pos < n and text[self.pos] in "eE":
            after = self.pos + 1
            if after < n and text[after] in "+-":
                after += 1
            if after < n and text[after] in DIGITS:
                self.pos = after
                self.digits()

    def digits(self) -> None:
        run = _DIGIT_RUN.match(self.text, self.pos)
        self.pos = run.end() if run else self.pos

    def identifier(self) -> None:
        text, n = self.text, len(self.text)
        while True:
            while self.pos < n:
                word = _WORD.match(text, self.pos)
                self.pos = word.end() if word else self.pos
                if self.pos < n and is_identifier_part(text[self.pos]):
                    self.pos += 1  # a combining mark or format character \w does not cover
                else:
                    break
            # A dot continues the identifier only when a new part follows: `Table.FromRows`, not `a..b`.
            if self.pos + 1 < n and text[self.pos] == "." and is_identifier_start(text[self.pos + 1]):
                self.pos += 1
                continue
            return


def _is_hex(ch: str) -> bool:
    return ch in "0123456789abcdefABCDEF"


def tokenize(
    text: str, *, path: str = "mashup.pq", start: int = 0, end: int | None = None
) -> list[Token]:
    """Every significant token of ``text[start:end]``, ending with one ``Kind.END`` token at ``end``
    (offsets, lines and columns stay those of the whole text)."""
    return _Lexer(text, path, start, end).run()
