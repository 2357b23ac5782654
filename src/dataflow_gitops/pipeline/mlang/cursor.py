"""M token cursor (stage ① source, mashup.pq reader): tokens → position, lookahead, errors.

The base of the recursive-descent parser: it moves over the token list, matches expected tokens,
reads plain, quoted and generalized names, and turns a wrong token into a one-line
:class:`~dataflow_gitops.errors.MSyntaxError` at its line and column.
"""

from __future__ import annotations

from dataflow_gitops.errors import MSyntaxError
from dataflow_gitops.pipeline.mlang import nodes
from dataflow_gitops.pipeline.mlang.tokens import Kind, Token, unescape_quoted

_CLOSERS = {"(": ")", "[": "]", "{": "}"}


class Cursor:
    """A position in the token list, with the error builders every parsing rule shares."""

    def __init__(self, text: str, tokens: list[Token], *, path: str) -> None:
        self.text = text
        self.tokens = tokens
        self.path = path
        self.i = 0
        self.open_brackets: list[Token] = []  # so that an error at the end can name the unclosed one

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        if token.kind is not Kind.END:
            self.i += 1
            if token.kind is Kind.OPERATOR:
                if token.text in "([{":
                    self.open_brackets.append(token)
                elif token.text in ")]}" and self.open_brackets:
                    self.open_brackets.pop()
        return token

    def last_end(self) -> int:
        return self.tokens[self.i - 1].end if self.i else 0

    def error(self, message: str, token: Token | None = None, hint: str | None = None) -> MSyntaxError:
        token = token or self.tok
        return MSyntaxError(message, path=self.path, line=token.line, column=token.column, hint=hint)

    def unexpected(self, expected: str) -> MSyntaxError:
        if self.tok.kind is Kind.END and self.open_brackets:
            opener = self.open_brackets[-1]
            return self.error(
                f"unexpected end of document: {opener.text!r} opened at line {opener.line}, "
                f"column {opener.column} is not closed",
                hint=f"close it with {_CLOSERS[opener.text]!r} and end the query with ';'",
            )
        return self.error(
            f"unexpected {self.tok.describe()}, expected {expected}",
            hint="correct the M text at this position; the Power Query editor shows the same query",
        )

    def expect_op(self, text: str, what: str | None = None) -> Token:
        if not self.tok.is_op(text):
            raise self.unexpected(what or repr(text))
        return self.advance()

    def expect_keyword(self, text: str) -> Token:
        if not self.tok.is_keyword(text):
            raise self.unexpected(repr(text))
        return self.advance()

    def name(self, what: str) -> tuple[str, nodes.Span]:
        token = self.tok
        if token.kind is Kind.IDENTIFIER:
            self.advance()
            return token.text, (token.start, token.end)
        if token.kind is Kind.QUOTED:
            self.advance()
            return unescape_quoted(token.text), (token.start, token.end)
        raise self.unexpected(what)

    def generalized_name(self, what: str) -> tuple[str, nodes.Span]:
        """A field name: ``#"quoted"`` or words separated by blanks (``Column 1``, ``Kind``)."""
        if self.tok.kind is Kind.QUOTED:
            return self.name(what)
        first = self.tok
        words = (Kind.IDENTIFIER, Kind.KEYWORD, Kind.NUMBER)
        if first.kind not in words or first.text.startswith("#"):
            raise self.unexpected(what)
        while self.tok.kind in words and not self.tok.text.startswith("#"):
            self.advance()
        end = self.last_end()
        return self.text[first.start : end], (first.start, end)
