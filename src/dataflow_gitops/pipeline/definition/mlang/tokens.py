"""M lexer (stage ① source, mashup.pq reader): document text → tokens with offset, line, column.

Follows the lexical grammar of the Power Query M specification: regular identifiers (dotted, as in
``Table.FromRows``), ``#"quoted"`` identifiers, keywords, ``#``-keywords (``#date``, ``#table``…),
decimal/hex/exponent numbers, text literals with ``""`` escapes, operators and punctuators. Comments
and whitespace are trivia: skipped, but never lost, because every token keeps its offsets into the
original text and the document is printed from that text.

Tokens are kept as three parallel lists (text, start, end) rather than one object each: the parser
reads them by index, and a token's kind follows from its text (:func:`kind_of`). Lines and columns
are only worked out when someone asks (an error, a member's line), so reading a small span of a
large text costs the span, not the text.
"""

from __future__ import annotations

import bisect
import enum
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, compress
from operator import not_, sub
from typing import overload

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
    ("and", "as", "each", "else", "error", "false", "if", "in", "is", "let", "meta", "not", "null",
     "or", "otherwise", "section", "shared", "then", "true", "try", "type")
)  # fmt: skip
# `catch` is not a keyword in the spec (`let catch = 1 in catch` is valid): the parser knows it by
# its place, right after a `try` body, where no other name can stand.
HASH_KEYWORDS = frozenset(
    ("#binary", "#date", "#datetime", "#datetimezone", "#duration", "#infinity", "#nan",
     "#sections", "#shared", "#table", "#time")
)  # fmt: skip
HASH_NUMBERS = frozenset({"#infinity", "#nan"})
# Longest first, so that `...` wins over `..` and `=>` over `=`.
OPERATORS = (
    "...", "..", "=>", "<=", ">=", "<>", "??",
    "=", "<", ">", "+", "-", "*", "/", "&", "@", "?", "!",
    ",", ";", "(", ")", "[", "]", "{", "}",
)  # fmt: skip
OPERATOR_SET = frozenset(OPERATORS)
LINE_BREAKS = "\r\n\x85\u2028\u2029"
DIGITS = "0123456789"
# Every text whose kind is fixed; any other token is an identifier, a number, a text literal or a
# quoted identifier, told apart by its first character.
FIXED_KINDS: dict[str, Kind] = {
    **{op: Kind.OPERATOR for op in OPERATORS},
    **{word: Kind.KEYWORD for word in KEYWORDS | HASH_KEYWORDS},
    **{word: Kind.NUMBER for word in HASH_NUMBERS},
    "": Kind.END,
}
NUMBER_FIRST = frozenset(DIGITS + ".")
_LINE_BREAK_SPLIT = re.compile("(\r\n|[\r\n\x85\u2028\u2029])")
_ASCII_WORD = re.compile("[A-Za-z0-9_]*")
_DIGIT_RUN = re.compile("[0-9]*")
# Whitespace and comments. Python's \s and \w are broader than M's classes: \s also takes U+001C to
# U+001F and \w takes numeric characters (`²`, `½`); :func:`tokenize` sends such texts to the careful
# path, which reads with M's classes. A byte-order mark is trivia only before the first token.
_TRIVIA = r"""\s*+(?:(?://[^\r\n\x85\u2028\u2029]*|/\*.*?\*/)\s*+)*+"""
_NOT_M_BLANK = "\x1c\x1d\x1e\x1f"
# Most frequent first; no two alternatives can start at the same text, so the order is speed only.
_TOKEN = r"""
      [^\W\d]\w*+(?:\.\w++)*+
    | [,;()\[\]{}&@*+\-!] | =>? | <[=>]? | >=? | \?\?? | \.\.\.? | /(?![/*])
    | "[^"]*+(?:""[^"]*+)*+"
    | \#"[^"]*+(?:""[^"]*+)*+"
    | 0[xX][0-9a-fA-F]+ | (?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?
    | \#(?:binary|datetimezone|datetime|date|duration|infinity|nan|sections|shared|table|time)(?!\w)
"""
# One match per token: (trivia before it, the token), and a last (trivia, "") at the end. Where no
# token starts (unterminated literal, stray character, unknown #-word, a combining mark after a
# name, a BOM inside a name) the scan skips a character, so matched lengths that do not add up to
# the text's length send the text to the careful path below, which reads it exactly or says why not.
_SCAN = re.compile(f"({_TRIVIA})(?:({_TOKEN})|\\Z)", re.VERBOSE | re.DOTALL)
# Whitespace-only trivia and no groups (see _scan_blank_separated).
_SCAN_BLANK_SEPARATED = re.compile(f"\\s*+(?:{_TOKEN}|\\Z)", re.VERBOSE | re.DOTALL)
_NOT_BLANK_TRIVIA = ("//", "/*")
# The same lexical grammar for the careful path's common cases (one match at a time).
_FAST = re.compile(
    r"""
      (?P<blank>[^\S\x1c-\x1f]+)
    | (?P<line>//[^\r\n\x85\u2028\u2029]*)
    | (?P<block>/\*.*?\*/)
    | (?P<text>"(?:[^"]|"")*+")
    | (?P<quoted>\#"(?:[^"]|"")*+")
    | (?P<number>0[xX][0-9a-fA-F]+|(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    | (?P<ident>[^\W\d]\w*(?:\.\w+)*)
    | (?P<op>\.\.\.|\.\.|=>|<=|>=|<>|\?\?|[=<>+\-*&@?!,;()\[\]{}]|/(?![/*]))
    """,
    re.VERBOSE | re.DOTALL,
)
# M's character classes (spec, lexical grammar): letter-character starts a name; decimal digits,
# connecting, combining and formatting characters may follow.
_START_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nl"})
_PART_CATEGORIES = _START_CATEGORIES | {"Nd", "Pc", "Mn", "Mc", "Cf"}


def kind_of(text: str) -> Kind:
    """The kind of a token, from its text alone (``""`` is the end of the document)."""
    kind = FIXED_KINDS.get(text)
    if kind is not None:
        return kind
    first = text[0]
    if first == '"':
        return Kind.TEXT
    if first == "#":
        return Kind.QUOTED
    return Kind.NUMBER if first in NUMBER_FIRST else Kind.IDENTIFIER


def is_word(text: str) -> bool:
    """An identifier, keyword or number token (the pieces of a generalized name)."""
    return bool(text) and text not in OPERATOR_SET and text[0] != '"' and not text.startswith('#"')


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
        self.text = text
        # Nearly every text breaks lines with LF or CRLF only; then counting LFs is exact and
        # costs, from the offset asked before (callers mostly go forward), only the distance.
        self.starts: list[int] | None = None
        self._last = (0, 1)  # (offset, its line), one value so that readers never see half of it
        if not _lf_breaks_only(text):
            # [line, break, line, break, …, line]: each break's running end starts a line.
            pieces = _LINE_BREAK_SPLIT.split(text)
            self.starts = [0, *list(accumulate(map(len, pieces)))[1::2]]

    def at(self, offset: int) -> tuple[int, int]:
        if self.starts is not None:
            index = bisect.bisect_right(self.starts, offset) - 1
            return index + 1, offset - self.starts[index] + 1
        text = self.text
        before, line = self._last
        if offset < before:
            before, line = 0, 1
        line += text.count("\n", before, offset)
        self._last = (offset, line)
        return line, offset - text.rfind("\n", 0, offset)


def _lf_breaks_only(text: str) -> bool:
    """No line break in ``text`` but LF and CRLF (no lone CR, NEL, line or paragraph separator)."""
    return (
        "\x85" not in text
        and "\u2028" not in text
        and "\u2029" not in text
        and text.count("\r") == text.count("\r\n")
    )


class Tokens(Sequence[Token]):
    """The tokens of ``text[start:end]``, ending with one ``Kind.END`` token: ``texts[i]``,
    ``starts[i]`` and ``ends[i]`` for the parser's hot paths, :class:`Token` objects on indexing."""

    __slots__ = ("text", "path", "texts", "starts", "ends", "_positions", "_made")

    def __init__(
        self, text: str, path: str, texts: list[str], starts: list[int], ends: list[int]
    ) -> None:
        self.text = text
        self.path = path
        self.texts = texts
        self.starts = starts
        self.ends = ends
        self._positions: Positions | None = None
        self._made: dict[int, Token] = {}  # callers that step by Token ask for the same one often

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) of an offset of the whole text (positions are set up on first use)."""
        if self._positions is None:
            self._positions = Positions(self.text)
        return self._positions.at(offset)

    def __len__(self) -> int:
        return len(self.texts)

    @overload
    def __getitem__(self, index: int) -> Token: ...
    @overload
    def __getitem__(self, index: slice) -> list[Token]: ...
    def __getitem__(self, index: int | slice) -> Token | list[Token]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.texts)))]
        token = self._made.get(index)
        if token is None:
            text, start = self.texts[index], self.starts[index]
            token = Token(kind_of(text), text, start, self.ends[index], *self.position(start))
            self._made[index] = token
        return token

    def __iter__(self) -> Iterator[Token]:
        return (self[i] for i in range(len(self.texts)))


def is_identifier_start(ch: str) -> bool:
    if ch < "\x80":
        return ch == "_" or ch.isalpha()
    return unicodedata.category(ch) in _START_CATEGORIES


def is_identifier_part(ch: str) -> bool:
    if ch < "\x80":
        return ch == "_" or ch.isalnum()
    return unicodedata.category(ch) in _PART_CATEGORIES


def is_m_blank(ch: str) -> bool:
    """M whitespace (spec: Zs, tab, vertical tab, form feed, the line breaks), not Python's."""
    return ch.isspace() and ch not in _NOT_M_BLANK


def _m_names(texts: list[str]) -> bool:
    """Every identifier among ``texts`` (non-ASCII ones: ASCII \\w is M's class) is made of M's
    name characters, as the scan's \\w cannot tell."""
    for word in compress(texts, map(not_, map(str.isascii, texts))):  # no Python call per token
        if word[0] in '"#':
            continue
        if not is_identifier_start(word[0]) or not all(map(is_identifier_part, word.replace(".", ""))):
            return False
    return True


def tokenize(text: str, *, path: str = "mashup.pq", start: int = 0, end: int | None = None) -> Tokens:
    """Every significant token of ``text[start:end]``, ending with one ``Kind.END`` token at ``end``
    (offsets, lines and columns stay those of the whole text)."""
    stop = len(text) if end is None else end
    if start == 0 and text.startswith("\ufeff"):
        start = 1
    found = None
    if not any(text.find(ch, start, stop) >= 0 for ch in _NOT_M_BLANK):
        found = _scan_blank_separated(text, start, stop) or _scan(text, start, stop)
        if found is not None and not text.isascii() and not _m_names(found[0]):
            found = None
    if found is None:
        return _Lexer(text, path, start, stop).run()
    texts, starts, ends = found
    if len(texts) > 1 and texts[-2] == "":
        # Trailing trivia ends in a match of its own before the final empty one.
        del texts[-1], starts[-1], ends[-1]
    return Tokens(text, path, texts, starts, ends)


_Found = tuple[list[str], list[int], list[int]]


def _scan(text: str, start: int, stop: int) -> _Found | None:
    """(texts, starts, ends) by the scan, or None where it skipped a character."""
    # Flattened (trivia, token) pairs; running lengths give every offset without a Python-level
    # step per token.
    flat = list(chain.from_iterable(_SCAN.findall(text, start, stop)))
    offsets = list(accumulate(map(len, flat), initial=start))
    if offsets[-1] != stop:
        return None
    return flat[1::2], offsets[1::2], offsets[2::2]


def _scan_blank_separated(text: str, start: int, stop: int) -> _Found | None:
    """:func:`_scan` for text whose only trivia is whitespace (no comment, no BOM), a quarter faster:
    the matches are (whitespace + token) strings, and stripping the whitespace gives the token."""
    if any(text.find(mark, start, stop) >= 0 for mark in _NOT_BLANK_TRIVIA):
        return None  # a comment may be there (or `//` in a literal: the scan tells them apart)
    matched = _SCAN_BLANK_SEPARATED.findall(text, start, stop)
    ends = list(accumulate(map(len, matched), initial=start))
    if ends[-1] != stop:
        return None
    del ends[0]
    texts = list(map(str.lstrip, matched))  # str.lstrip strips exactly what \s matches
    return texts, list(map(sub, ends, map(len, texts))), ends


class _Lexer:
    """The careful path: one token at a time, exact errors, and what the scan does not cover."""

    def __init__(self, text: str, path: str, start: int = 0, end: int | None = None) -> None:
        self.text = text
        self.path = path
        # A byte-order mark before the first token is the file's encoding, not M text.
        self.pos = 1 if start == 0 and text.startswith("\ufeff") else start
        self.stop = len(text) if end is None else end
        self.tokens = Tokens(text, path, [], [], [])

    def fail(self, message: str, offset: int, hint: str | None = None) -> MSyntaxError:
        line, column = self.tokens.position(offset)
        return MSyntaxError(message, path=self.path, line=line, column=column, hint=hint)

    def emit(self, start: int) -> None:
        self.tokens.texts.append(self.text[start : self.pos])
        self.tokens.starts.append(start)
        self.tokens.ends.append(self.pos)

    def run(self) -> Tokens:
        # One master-regex match per token where it applies; the per-character path otherwise.
        text, stop, tokens = self.text, self.stop, self.tokens
        match, length = _FAST.match, len(text)
        texts, starts, ends = tokens.texts, tokens.starts, tokens.ends
        while self.pos < stop:
            found = match(text, self.pos)
            group = found.lastgroup if found is not None else None
            if found is None or group is None:
                self.slow()
                continue
            start, end = found.span()
            # A name with a character outside ASCII: \w is not M's class there.
            after = text[end] if end < length else ""
            if group == "ident" and (after >= "\x80" or not found.group().isascii()):
                self.slow()
                continue
            self.pos = end
            if group == "blank" or group == "line" or group == "block":
                continue
            texts.append(found.group())
            starts.append(start)
            ends.append(end)
        texts.append("")
        starts.append(stop)
        ends.append(stop)
        return tokens

    def slow(self) -> None:
        text, n = self.text, len(self.text)
        ch = text[self.pos]
        start = self.pos
        if is_m_blank(ch):
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
            self.emit(start)
        elif ch == "#":
            self.hash(start)
        elif ch in DIGITS or (ch == "." and start + 1 < n and text[start + 1] in DIGITS):
            self.number()
            self.emit(start)
        elif is_identifier_start(ch):
            self.identifier()
            self.emit(start)
        else:
            op = next(
                (text[start : start + k] for k in (3, 2, 1) if text[start : start + k] in OPERATOR_SET),
                None,
            )
            if op is None:
                raise self.fail(
                    f"unexpected character {ch!r}", start, "remove it or put it inside a text literal"
                )
            self.pos += len(op)
            self.emit(start)

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
            self.emit(start)
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
        self.emit(start)

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
                word = _ASCII_WORD.match(text, self.pos)
                self.pos = word.end() if word else self.pos
                if self.pos < n and text[self.pos] >= "\x80" and is_identifier_part(text[self.pos]):
                    self.pos += 1
                else:
                    break
            # A dot continues the identifier only when a new part follows: `Table.FromRows`, not
            # `a..b`; the part may start with a digit (`Foo.1`), as the engine and Microsoft's
            # parser read it.
            if self.pos + 1 < n and text[self.pos] == "." and is_identifier_part(text[self.pos + 1]):
                self.pos += 1
                continue
            return


def _is_hex(ch: str) -> bool:
    return ch in "0123456789abcdefABCDEF"
