"""M expression parser (stage ① source, mashup.pq reader): tokens → syntax tree (:mod:`.nodes`).

A recursive-descent parser over the expression grammar of the Power Query M specification, with
its operator precedence (lowest first): ``??``, ``or``, ``and``, ``is``, ``as``, ``=``/``<>``,
relational, ``+ - &``, ``* /``, ``meta``, unary, then primaries with their ``(…)``, ``{…}``, ``[…]``
postfixes. ``let``, ``if``, ``each``, ``try``, ``error`` and function literals extend as far right as
possible. Errors are :class:`~dataflow_gitops.errors.MSyntaxError` with line and column.

Speed matters here (every changed dataflow is read in full): the rules compare token texts (an
operator's or keyword's text is unique to it), and binary operators are read by precedence
climbing in one loop, so a plain operand costs a few calls whatever the depth of the grammar.
The grammar's corners are kept exactly (``meta`` only after a unary operand, ``let``/``if``/…
after an operator read as a whole expression), so trees and errors are those of the rule-per-level
parser this one replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from dataflow_gitops.pipeline.definition.mlang import nodes
from dataflow_gitops.pipeline.definition.mlang.literals import number_value, unescape_quoted
from dataflow_gitops.pipeline.definition.mlang.signatures import PRIMITIVE_TYPES, SignatureRules
from dataflow_gitops.pipeline.definition.mlang.tokens import (
    FIXED_KINDS,
    NUMBER_FIRST,
    OPERATOR_SET,
    Kind,
    is_word,
)

__all__ = ["PRIMITIVE_TYPES", "Parser"]

_N = TypeVar("_N")
_BINARY_LEVELS: tuple[tuple[str, ...], ...] = (
    ("??",),
    ("or",),
    ("and",),
    ("is",),
    ("as",),
    ("=", "<>"),
    ("<", ">", "<=", ">="),
    ("+", "-", "&"),
    ("*", "/"),
)
_LEVELS = {op: level for level, ops in enumerate(_BINARY_LEVELS) for op in ops}
_EXTENDING = frozenset(("let", "if", "each", "try", "error"))
# What a unary expression can start with besides a primary.
_PREFIXES = _EXTENDING | {"+", "-", "not", "type", "("}
_POSTFIXES = frozenset(("(", "{", "["))
_NOT_PLAIN_FIRST = frozenset('"#')  # a text literal, a quoted identifier or a #-keyword
_LITERAL_WORDS = frozenset(("true", "false", "null"))
_LITERAL_FIRST = frozenset('"0123456789.')


class Parser(SignatureRules):
    """Expression rules; each method parses one grammar production at the cursor."""

    # The node constructors: the tree classes, or spans only while :meth:`skim` reads.
    make: nodes.Builders = nodes

    def restart(self, rule: Callable[[], _N]) -> Callable[[], _N]:
        """``rule`` from the cursor's present position, as often as called: what
        :func:`~.depth.deeply` needs to read again after reaching the recursion limit."""
        start = self.i

        def again() -> _N:
            self.i = start
            self.make = nodes
            return rule()

        return again

    def skim(self, rule: Callable[[], nodes.Node]) -> nodes.Span:
        """The span of what ``rule`` (``self.expression``, ``self.record``…) reads, read and checked
        exactly as by ``rule()`` (same errors) but without building its tree, for callers that
        need where an expression ends and not what it says (a document read ~15% faster)."""
        self.make = nodes.SPANS_ONLY
        try:
            return rule().span
        finally:
            self.make = nodes

    # -- expressions ----------------------------------------------------------------------------

    def expression(self) -> nodes.Node:
        text = self.texts[self.i]
        if text in _EXTENDING:
            return self.extending()
        if text == "(" and self.function_ahead():
            return self.function()
        return self.binary(0)

    def extending(self) -> nodes.Node:
        texts = self.texts
        word = texts[self.i]
        start = self.starts[self.i]
        self.i += 1
        if word == "let":
            bindings = [self.binding()]
            while texts[self.i] == ",":
                self.i += 1
                bindings.append(self.binding())
            if texts[self.i] != "in":
                raise self.unexpected("',' or 'in' after a let binding")
            self.i += 1
            body = self.expression()
            return self.make.Let((start, body.span[1]), tuple(bindings), body)
        if word == "if":
            condition = self.expression()
            self.expect("then")
            then = self.expression()
            self.expect("else")
            otherwise = self.expression()
            return self.make.If((start, otherwise.span[1]), condition, then, otherwise)
        if word == "each":
            body = self.expression()
            return self.make.Each((start, body.span[1]), body)
        if word == "error":
            value = self.expression()
            return self.make.Raise((start, value.span[1]), value)
        body = self.expression()  # try
        handler: nodes.Node | None = None
        catch: nodes.Node | None = None
        if texts[self.i] == "otherwise":
            self.i += 1
            handler = self.expression()
        elif texts[self.i] == "catch":
            self.i += 1
            catch = self.catch_function()
        end = (handler or catch or body).span[1]
        return self.make.Try((start, end), body, handler, catch)

    def binding(self) -> nodes.Field:
        name, name_span = self.name("a variable name")
        self.expect("=", "'=' after the variable name")
        value = self.expression()
        return self.make.Field((name_span[0], value.span[1]), name, name_span, value)

    def binary(self, min_level: int) -> nodes.Node:
        """Precedence climbing over the binary operator levels; every level is left-associative."""
        texts = self.texts
        if texts[self.i] in _PREFIXES:
            left = self.unary()
        else:  # the common case, inlined: a primary and its postfixes
            left = self.primary()
            if texts[self.i] in _POSTFIXES:
                left = self.postfix(left)
        if texts[self.i] == "meta":
            left = self.meta(left)
        levels = _LEVELS
        while True:
            op = texts[self.i]
            if op not in levels:
                return left
            level = levels[op]
            if level < min_level:
                return left
            self.i += 1
            following = texts[self.i]
            if op == "is" or op == "as":
                right = self.primitive_type()
            elif following in _EXTENDING or (following == "(" and self.function_ahead()):
                right = self.expression()
            else:
                right = self.binary(level + 1)
            left = self.make.Binary((left.span[0], right.span[1]), op, left, right)

    def meta(self, left: nodes.Node) -> nodes.Node:
        """``left meta right`` chains: metadata binds tighter than every binary operator, and both
        its operands are unary (so nothing after an ``is``/``as`` type takes it)."""
        texts = self.texts
        while texts[self.i] == "meta":
            self.i += 1
            right = self.unary()
            left = self.make.Binary((left.span[0], right.span[1]), "meta", left, right)
        return left

    def unary(self) -> nodes.Node:
        i = self.i
        text = self.texts[i]
        if text in _PREFIXES:
            if text == "+" or text == "-" or text == "not":
                self.i = i + 1
                operand = self.unary()
                return self.make.Unary((self.starts[i], operand.span[1]), text, operand)
            if text == "type":
                self.i = i + 1
                inner = self.type_()
                return self.make.TypeExpr((self.starts[i], inner.span[1]), inner)
            if text in _EXTENDING:
                return self.extending()
            if self.function_ahead():  # at "("
                return self.function()
        node = self.primary()
        if self.texts[self.i] in _POSTFIXES:
            return self.postfix(node)
        return node

    def primary(self) -> nodes.Node:
        i = self.i
        text = self.texts[i]
        span = (self.starts[i], self.ends[i])
        if text not in FIXED_KINDS:  # an identifier, a text literal, a quoted identifier or a number
            self.i = i + 1
            first = text[0]
            if first == '"':
                return self.make.Literal(span, "text", unescape_quoted(text), text)
            if first == "#":
                return self.make.Identifier(span, unescape_quoted(text), quoted=True)
            if first in NUMBER_FIRST:
                return self.make.Literal(span, "number", number_value(text), text)
            if self.texts[i + 1] == "!":
                return self.section_access(text, span)
            return self.make.Identifier(span, text)
        kind = FIXED_KINDS[text]
        if kind is Kind.NUMBER:  # #infinity, #nan
            self.i = i + 1
            return self.make.Literal(span, "number", number_value(text), text)
        if text == "true" or text == "false":
            self.i = i + 1
            return self.make.Literal(span, "logical", text == "true", text)
        if text == "null":
            self.i = i + 1
            return self.make.Literal(span, "null", None, text)
        if kind is Kind.KEYWORD and text[0] == "#":
            self.i = i + 1
            return self.make.Identifier(span, text)
        if text == "@":
            self.i = i + 1
            name, name_span = self.name("a name after '@'")
            return self.make.Identifier((span[0], name_span[1]), name, inclusive=True)
        if text == "(":
            self.i = i + 1
            inner = self.expression()
            end = self.expect(")", "')'")
            return self.make.Parenthesized((span[0], end), inner)
        if text == "[":
            return self.field_access(None) or self.record()
        if text == "{":
            return self.list_()
        if text == "...":
            self.i = i + 1
            return self.make.NotImplementedExpr(span)
        raise self.unexpected("an expression")

    def section_access(self, section: str, span: nodes.Span) -> nodes.Node:
        """``Section1!Name``: a member of another section (spec: section-access-expression)."""
        self.i += 1  # the `!`
        name, name_span = self.name("a member name after '!'")
        return self.make.SectionAccess((span[0], name_span[1]), section, name)

    def postfix(self, node: nodes.Node) -> nodes.Node:
        texts = self.texts
        while True:
            text = texts[self.i]
            if text == "(":
                self.i += 1
                args: list[nodes.Node] = []
                if texts[self.i] != ")":
                    args.append(self.expression())
                    while texts[self.i] == ",":
                        self.i += 1
                        args.append(self.expression())
                end = self.expect(")", "',' or ')' in the argument list")
                node = self.make.Invoke((node.span[0], end), node, tuple(args))
            elif text == "{":
                self.i += 1
                selector = self.expression()
                end = self.expect("}", "'}' after the item selector")
                optional = texts[self.i] == "?"
                if optional:
                    end = self.ends[self.i]
                    self.i += 1
                node = self.make.ItemAccess((node.span[0], end), node, selector, optional)
            elif text == "[":
                access = self.field_access(node)
                if access is None:
                    return node  # a record literal after an expression: not ours to read
                node = access
            else:
                return node

    def field_access(self, target: nodes.Node | None) -> nodes.FieldAccess | None:
        """At ``[``: a field access ``[Name]``, ``[Name]?`` or projection ``[[A],[B]]`` (of ``target``,
        or implicit), or None when the bracket starts a record literal instead."""
        texts = self.texts
        i = self.i
        name = texts[i + 1]
        if name and name[0] not in _NOT_PLAIN_FIRST and name not in OPERATOR_SET and texts[i + 2] == "]":
            # `[Name]`, by far the most common: read at once.
            names: list[str] = [name]
            projection = False
            self.i = i + 3
            end = self.ends[i + 2]
        else:
            if not self.field_access_ahead():
                return None
            self.i = i + 1
            names = []
            projection = texts[self.i] == "["
            if projection:
                while True:
                    self.expect("[", "'[' in the projection")
                    names.append(self.generalized_name("a field name")[0])
                    self.expect("]", "']' after the field name")
                    if texts[self.i] != ",":
                        break
                    self.i += 1
            else:
                names.append(self.generalized_name("a field name")[0])
            end = self.expect("]", "']' after the field name")
        optional = texts[self.i] == "?"
        if optional:
            end = self.ends[self.i]
            self.i += 1
        start = self.starts[i] if target is None else target.span[0]
        return self.make.FieldAccess((start, end), target, tuple(names), projection, optional)

    def field_access_ahead(self) -> bool:
        texts = self.texts
        j = self.i + 1
        following = texts[min(j, self.last)]
        if following == "]":
            return False  # `[]` is the empty record
        if following == "[":
            return True
        text = texts[j]
        while is_word(text) or text.startswith('#"'):
            j += 1
            text = texts[j]
        return text == "]"

    def record(self) -> nodes.Record:
        return self._record(self.expression)

    def literal_record(self) -> nodes.Record:
        """``[Name = literal, …]``: the attributes of a section or a member, whose values are
        literals (text, number, logical, null, and lists and records of them; spec:
        literal-attribs). The same nodes as :meth:`record`."""
        return self._record(self.any_literal)

    def _record(self, value_of: Callable[[], nodes.Node]) -> nodes.Record:
        texts = self.texts
        start = self.starts[self.i]
        self.expect("[")
        fields: list[nodes.Field] = []
        if texts[self.i] != "]":
            while True:
                name, name_span = self.generalized_name("a field name")
                self.expect("=", f"'=' after the field name {name!r}")
                value = value_of()
                fields.append(self.make.Field((name_span[0], value.span[1]), name, name_span, value))
                if texts[self.i] != ",":
                    break
                self.i += 1
        end = self.expect("]", "',' or ']' in the record")
        return self.make.Record((start, end), tuple(fields))

    def any_literal(self) -> nodes.Node:
        texts = self.texts
        text = texts[self.i]
        if text == "[":
            return self.literal_record()
        if text == "{":
            start = self.starts[self.i]
            self.i += 1
            items: list[nodes.Node] = []
            if texts[self.i] != "}":
                items.append(self.any_literal())
                while texts[self.i] == ",":
                    self.i += 1
                    items.append(self.any_literal())
            end = self.expect("}", "',' or '}' in the list")
            return self.make.ListExpr((start, end), tuple(items))
        if text in _LITERAL_WORDS or (text[:1] in _LITERAL_FIRST and not text.startswith("#")):
            return self.primary()
        raise self.error(
            f"unexpected {self.tok.describe()}, expected a literal",
            hint="attribute values are literals: text, numbers, true, false, null, and lists or "
            "records of them",
        )

    def list_(self) -> nodes.ListExpr:
        texts = self.texts
        start = self.starts[self.i]
        self.expect("{")
        items: list[nodes.Node] = []
        if texts[self.i] != "}":
            while True:
                item = self.expression()
                if texts[self.i] == "..":
                    self.i += 1
                    stop = self.expression()
                    item = self.make.Range((item.span[0], stop.span[1]), item, stop)
                items.append(item)
                if texts[self.i] != ",":
                    break
                self.i += 1
        end = self.expect("}", "',' or '}' in the list")
        return self.make.ListExpr((start, end), tuple(items))
