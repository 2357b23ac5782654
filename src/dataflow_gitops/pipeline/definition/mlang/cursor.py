"""M token cursor (stage ① source, mashup.pq reader): tokens → position, lookahead, errors.

The base of the recursive-descent parser: it moves over the token lists, matches expected tokens,
reads plain, quoted and generalized names, and turns a wrong token into a one-line
:class:`~dataflow_gitops.errors.MSyntaxError` at its line and column.

The parser's hot paths read ``texts[i]`` (a token's kind follows from its text) and move with
``i += 1``; :class:`Token` objects are only built for callers that ask for one (``tok``,
``advance``) and for errors.
"""

from __future__ import annotations

from dataflow_gitops.errors import MSyntaxError
from dataflow_gitops.pipeline.definition.mlang import nodes
from dataflow_gitops.pipeline.definition.mlang.literals import unescape_quoted
from dataflow_gitops.pipeline.definition.mlang.tokens import (
    Kind,
    Token,
    Tokens,
    is_word,
    kind_of,
)

_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_CLOSING = frozenset(_CLOSERS.values())


class Cursor:
    """A position in the token lists, with the error builders every parsing rule shares."""

    def __init__(self, text: str, tokens: Tokens, *, path: str) -> None:
        self.text = text
        self.tokens = tokens
        self.texts = tokens.texts
        self.starts = tokens.starts
        self.ends = tokens.ends
        self.path = path
        self.i = 0
        self.last = len(tokens.texts) - 1  # the END token's index: the cursor never moves past it
        self.closers: dict[int, int] = {}  # bracket index → its closing bracket's, as found

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek_text(self, ahead: int = 1) -> str:
        return self.texts[min(self.i + ahead, self.last)]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        if self.i < self.last:
            self.i += 1
        return token

    def last_end(self) -> int:
        return self.ends[self.i - 1] if self.i else 0

    def open_brackets(self) -> list[Token]:
        """The brackets opened before the cursor and not closed (each closer closes the last)."""
        # Worked out only for an error at the end of a document, so the hot path keeps no stack.
        stack: list[int] = []
        for j, text in enumerate(self.texts[: self.i]):
            if text in _CLOSERS:
                stack.append(j)
            elif text in _CLOSING and stack:
                stack.pop()
        return [self.tokens[j] for j in stack]

    def error(self, message: str, token: Token | None = None, hint: str | None = None) -> MSyntaxError:
        token = token or self.tok
        return MSyntaxError(message, path=self.path, line=token.line, column=token.column, hint=hint)

    def unexpected(self, expected: str) -> MSyntaxError:
        opened = self.open_brackets() if self.i == self.last else []
        if opened:
            opener = opened[-1]
            return self.error(
                f"unexpected end of document: {opener.text!r} opened at line {opener.line}, "
                f"column {opener.column} is not closed",
                hint=f"close it with {_CLOSERS[opener.text]!r} and end the query with ';'",
            )
        return self.error(
            f"unexpected {self.tok.describe()}, expected {expected}",
            hint="correct the M text at this position; the Power Query editor shows the same query",
        )

    def expect(self, text: str, what: str | None = None) -> int:
        """Move past the operator or keyword ``text`` (or fail); the end offset of that token."""
        i = self.i
        if self.texts[i] != text:
            raise self.unexpected(what or repr(text))
        self.i = i + 1
        return self.ends[i]

    def expect_op(self, text: str, what: str | None = None) -> Token:
        token = self.tok
        self.expect(text, what)
        return token

    def name(self, what: str) -> tuple[str, nodes.Span]:
        i = self.i
        text = self.texts[i]
        kind = kind_of(text)
        if kind is Kind.IDENTIFIER or kind is Kind.QUOTED:
            self.i = i + 1
            name = text if kind is Kind.IDENTIFIER else unescape_quoted(text)
            return name, (self.starts[i], self.ends[i])
        raise self.unexpected(what)

    def generalized_name(self, what: str) -> tuple[str, nodes.Span]:
        """A field name: words separated by spaces (``Column 1``, ``Kind``, ``Data.Name``), any of
        them ``#"quoted"`` (the engine reads ``#"Sales" Amount`` as ``Sales Amount``)."""
        texts = self.texts
        first = self.i
        j = first
        text = texts[first]
        while is_word(text) and text[0] != "#" or text.startswith('#"'):
            j += 1
            text = texts[j]
        if j == first:
            raise self.unexpected(what)
        if j == first + 1 and texts[first][0] == "#":
            return self.name(what)
        for k in range(first + 1, j):
            # Spaces only between the words: not a comment, tab, line break or other blank.
            if self.text[self.ends[k - 1] : self.starts[k]].strip(" "):
                raise self.error(
                    "the words of a field name are separated by something other than spaces",
                    self.tokens[k],
                    hint='separate its words with spaces only, or quote the name: #"…"',
                )
        self.i = j
        start, end = self.starts[first], self.ends[j - 1]
        name = self.text[start:end]
        if '#"' in name:
            pieces = [self.text[self.ends[k - 1] : self.starts[k]] for k in range(first + 1, j)]
            words = [unescape_quoted(t) if t[0] == "#" else t for t in texts[first:j]]
            name = words[0] + "".join(gap + word for gap, word in zip(pieces, words[1:], strict=True))
        return name, (start, end)
