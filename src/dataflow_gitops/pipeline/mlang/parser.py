"""M expression parser (stage ① source, mashup.pq reader): tokens → syntax tree (:mod:`.nodes`).

A recursive-descent parser over the expression grammar of the Power Query M specification, with
its operator precedence (lowest first): ``??``, ``or``, ``and``, ``is``, ``as``, ``=``/``<>``,
relational, ``+ - &``, ``* /``, ``meta``, unary, then primaries with their ``(…)``, ``{…}``, ``[…]``
postfixes. ``let``, ``if``, ``each``, ``try``, ``error`` and function literals extend as far right as
possible. Errors are :class:`~dataflow_gitops.errors.MSyntaxError` with line and column.
"""

from __future__ import annotations

from dataflow_gitops.pipeline.mlang import nodes
from dataflow_gitops.pipeline.mlang.cursor import Cursor
from dataflow_gitops.pipeline.mlang.literals import number_value
from dataflow_gitops.pipeline.mlang.tokens import Kind, unescape_quoted

PRIMITIVE_TYPES = frozenset(
    {
        "any",
        "anynonnull",
        "binary",
        "date",
        "datetime",
        "datetimezone",
        "duration",
        "function",
        "list",
        "logical",
        "none",
        "null",
        "number",
        "record",
        "table",
        "text",
        "time",
        "type",
    }
)
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
_EXTENDING = ("let", "if", "each", "try", "error")


class Parser(Cursor):
    """Expression rules; each method parses one grammar production at the cursor."""

    # -- expressions ----------------------------------------------------------------------------

    def expression(self) -> nodes.Node:
        tok = self.tok
        if tok.is_keyword(*_EXTENDING):
            return self.extending()
        if tok.is_op("(") and self.function_ahead():
            return self.function()
        return self.binary(0)

    def extending(self) -> nodes.Node:
        start = self.advance()
        word = start.text
        if word == "let":
            bindings = [self.binding()]
            while self.tok.is_op(","):
                self.advance()
                bindings.append(self.binding())
            if not self.tok.is_keyword("in"):
                raise self.unexpected("',' or 'in' after a let binding")
            self.advance()
            body = self.expression()
            return nodes.Let((start.start, body.span[1]), tuple(bindings), body)
        if word == "if":
            condition = self.expression()
            self.expect_keyword("then")
            then = self.expression()
            self.expect_keyword("else")
            otherwise = self.expression()
            return nodes.If((start.start, otherwise.span[1]), condition, then, otherwise)
        if word == "each":
            body = self.expression()
            return nodes.Each((start.start, body.span[1]), body)
        if word == "error":
            value = self.expression()
            return nodes.Raise((start.start, value.span[1]), value)
        body = self.expression()  # try
        handler: nodes.Node | None = None
        catch: nodes.Node | None = None
        if self.tok.is_keyword("otherwise"):
            self.advance()
            handler = self.expression()
        elif self.tok.is_keyword("catch"):
            self.advance()
            if not (self.tok.is_op("(") and self.function_ahead()):
                raise self.unexpected("a function '(e) => …' after 'catch'")
            catch = self.function()
        end = (handler or catch or body).span[1]
        return nodes.Try((start.start, end), body, handler, catch)

    def binding(self) -> nodes.Field:
        name, name_span = self.name("a variable name")
        self.expect_op("=", "'=' after the variable name")
        value = self.expression()
        return nodes.Field((name_span[0], value.span[1]), name, name_span, value)

    def binary(self, min_level: int) -> nodes.Node:
        """Precedence climbing over the binary operator levels; every level is left-associative."""
        left = self.meta()
        while True:
            tok = self.tok
            level = _LEVELS.get(tok.text) if tok.kind in (Kind.OPERATOR, Kind.KEYWORD) else None
            if level is None or level < min_level:
                return left
            op = self.advance().text
            if op in ("is", "as"):
                right = self.type_operand()
            elif self.tok.is_keyword(*_EXTENDING) or (self.tok.is_op("(") and self.function_ahead()):
                right = self.expression()
            else:
                right = self.binary(level + 1)
            left = nodes.Binary((left.span[0], right.span[1]), op, left, right)

    def meta(self) -> nodes.Node:
        left = self.unary()
        while self.tok.is_keyword("meta"):
            self.advance()
            right = self.unary()
            left = nodes.Binary((left.span[0], right.span[1]), "meta", left, right)
        return left

    def unary(self) -> nodes.Node:
        tok = self.tok
        if tok.is_op("+", "-") or tok.is_keyword("not"):
            self.advance()
            operand = self.unary()
            return nodes.Unary((tok.start, operand.span[1]), tok.text, operand)
        if tok.is_keyword("type"):
            self.advance()
            inner = self.type_()
            return nodes.TypeExpr((tok.start, inner.span[1]), inner)
        if tok.is_keyword(*_EXTENDING) or (tok.is_op("(") and self.function_ahead()):
            return self.expression()
        return self.postfix(self.primary())

    def primary(self) -> nodes.Node:
        tok = self.tok
        span = (tok.start, tok.end)
        if tok.kind is Kind.NUMBER:
            self.advance()
            return nodes.Literal(span, "number", number_value(tok.text), tok.text)
        if tok.kind is Kind.TEXT:
            self.advance()
            return nodes.Literal(span, "text", unescape_quoted(tok.text), tok.text)
        if tok.is_keyword("true", "false"):
            self.advance()
            return nodes.Literal(span, "logical", tok.text == "true", tok.text)
        if tok.is_keyword("null"):
            self.advance()
            return nodes.Literal(span, "null", None, tok.text)
        if tok.kind is Kind.IDENTIFIER:
            self.advance()
            return nodes.Identifier(span, tok.text)
        if tok.kind is Kind.QUOTED:
            self.advance()
            return nodes.Identifier(span, unescape_quoted(tok.text), quoted=True)
        if tok.kind is Kind.KEYWORD and tok.text.startswith("#"):
            self.advance()
            return nodes.Identifier(span, tok.text)
        if tok.is_op("@"):
            self.advance()
            name, name_span = self.name("a name after '@'")
            return nodes.Identifier((tok.start, name_span[1]), name, inclusive=True)
        if tok.is_op("("):
            self.advance()
            inner = self.expression()
            close = self.expect_op(")", "')'")
            return nodes.Parenthesized((tok.start, close.end), inner)
        if tok.is_op("["):
            return self.bracket(None)
        if tok.is_op("{"):
            return self.list_()
        if tok.is_op("..."):
            self.advance()
            return nodes.NotImplementedExpr(span)
        raise self.unexpected("an expression")

    def postfix(self, node: nodes.Node) -> nodes.Node:
        while True:
            tok = self.tok
            if tok.is_op("("):
                self.advance()
                args: list[nodes.Node] = []
                if not self.tok.is_op(")"):
                    args.append(self.expression())
                    while self.tok.is_op(","):
                        self.advance()
                        args.append(self.expression())
                close = self.expect_op(")", "',' or ')' in the argument list")
                node = nodes.Invoke((node.span[0], close.end), node, tuple(args))
            elif tok.is_op("{"):
                self.advance()
                selector = self.expression()
                end = self.expect_op("}", "'}' after the item selector").end
                optional = self.tok.is_op("?")
                if optional:
                    end = self.advance().end
                node = nodes.ItemAccess((node.span[0], end), node, selector, optional)
            elif tok.is_op("[") and self.field_access_ahead():
                node = self.bracket(node)
            else:
                return node

    def bracket(self, target: nodes.Node | None) -> nodes.Node:
        """``[`` starts a record literal, a field access ``[Name]`` or a projection ``[[A],[B]]``."""
        open_ = self.tok
        if target is None and not self.field_access_ahead():
            return self.record()
        self.advance()
        names: list[str] = []
        projection = self.tok.is_op("[")
        if projection:
            while True:
                self.expect_op("[", "'[' in the projection")
                names.append(self.generalized_name("a field name")[0])
                self.expect_op("]", "']' after the field name")
                if not self.tok.is_op(","):
                    break
                self.advance()
        else:
            names.append(self.generalized_name("a field name")[0])
        end = self.expect_op("]", "']' after the field name").end
        optional = self.tok.is_op("?")
        if optional:
            end = self.advance().end
        start = target.span[0] if target else open_.start
        return nodes.FieldAccess((start, end), target, tuple(names), projection, optional)

    def field_access_ahead(self) -> bool:
        nxt = self.peek()
        if nxt.is_op("]"):
            return False  # `[]` is the empty record
        if nxt.is_op("["):
            return True
        j = self.i + 1
        if self.tokens[j].kind is Kind.QUOTED:
            j += 1
        else:
            while self.tokens[j].kind in (Kind.IDENTIFIER, Kind.KEYWORD, Kind.NUMBER):
                j += 1
        return self.tokens[j].is_op("]")

    def record(self) -> nodes.Record:
        open_ = self.expect_op("[")
        fields: list[nodes.Field] = []
        if not self.tok.is_op("]"):
            while True:
                name, name_span = self.generalized_name("a field name")
                self.expect_op("=", f"'=' after the field name {name!r}")
                value = self.expression()
                fields.append(nodes.Field((name_span[0], value.span[1]), name, name_span, value))
                if not self.tok.is_op(","):
                    break
                self.advance()
        close = self.expect_op("]", "',' or ']' in the record")
        return nodes.Record((open_.start, close.end), tuple(fields))

    def list_(self) -> nodes.ListExpr:
        open_ = self.expect_op("{")
        items: list[nodes.Node] = []
        if not self.tok.is_op("}"):
            while True:
                item = self.expression()
                if self.tok.is_op(".."):
                    self.advance()
                    stop = self.expression()
                    item = nodes.Range((item.span[0], stop.span[1]), item, stop)
                items.append(item)
                if not self.tok.is_op(","):
                    break
                self.advance()
        close = self.expect_op("}", "',' or '}' in the list")
        return nodes.ListExpr((open_.start, close.end), tuple(items))

    # -- functions ------------------------------------------------------------------------------

    def function_ahead(self) -> bool:
        """At ``(``: is this a function literal (``(…) [as T] =>``) rather than parentheses?"""
        depth, j = 0, self.i
        while True:
            t = self.tokens[j]
            if t.kind is Kind.END:
                return False
            if t.is_op("(", "[", "{"):
                depth += 1
            elif t.is_op(")", "]", "}"):
                depth -= 1
                if depth == 0:
                    break
            j += 1
        after = self.tokens[j + 1]
        if after.is_op("=>"):
            return True
        if not after.is_keyword("as"):
            return False
        k = j + 2
        if self.tokens[k].text == "nullable":
            k += 1
        return self.tokens[k + 1].is_op("=>")

    def parameters(self) -> tuple[nodes.FunctionParameter, ...]:
        self.expect_op("(")
        params: list[nodes.FunctionParameter] = []
        if not self.tok.is_op(")"):
            while True:
                start = self.tok.start
                optional = (
                    self.tok.kind is Kind.IDENTIFIER
                    and self.tok.text == "optional"
                    and self.peek().kind in (Kind.IDENTIFIER, Kind.QUOTED)
                )
                if optional:
                    self.advance()
                name, _ = self.name("a parameter name")
                type_: nodes.Node | None = None
                if self.tok.is_keyword("as"):
                    self.advance()
                    type_ = self.type_operand()
                end = type_.span[1] if type_ else self.last_end()
                params.append(nodes.FunctionParameter((start, end), name, optional, type_))
                if not self.tok.is_op(","):
                    break
                self.advance()
        self.expect_op(")", "',' or ')' in the parameter list")
        return tuple(params)

    def function(self) -> nodes.Function:
        start = self.tok.start
        params = self.parameters()
        return_type: nodes.Node | None = None
        if self.tok.is_keyword("as"):
            self.advance()
            return_type = self.type_operand()
        self.expect_op("=>", "'=>' after the parameter list")
        body = self.expression()
        return nodes.Function((start, body.span[1]), params, return_type, body)

    # -- types ----------------------------------------------------------------------------------

    def type_operand(self) -> nodes.Node:
        """After ``as``/``is``: ``[nullable] <primitive type>`` (or, permissively, a primary)."""
        tok = self.tok
        if tok.kind is Kind.IDENTIFIER and tok.text == "nullable":
            self.advance()
            inner = self.type_operand()
            return nodes.NullableType((tok.start, inner.span[1]), inner)
        if (
            tok.kind is Kind.IDENTIFIER or tok.is_keyword("null", "type")
        ) and tok.text in PRIMITIVE_TYPES:
            self.advance()
            return nodes.PrimitiveType((tok.start, tok.end), tok.text)
        return self.postfix(self.primary())

    def type_(self) -> nodes.Node:
        """After ``type``: primitive, nullable, list, record, table or function type, or a primary."""
        tok = self.tok
        word = tok.text if tok.kind is Kind.IDENTIFIER else ""
        if word == "nullable":
            self.advance()
            inner = self.type_()
            return nodes.NullableType((tok.start, inner.span[1]), inner)
        if word == "table" and self.peek().is_op("["):
            self.advance()
            row = self.record_type()
            return nodes.TableType((tok.start, row.span[1]), row)
        if word == "function" and self.peek().is_op("("):
            self.advance()
            params = self.parameters()
            self.expect_keyword("as")
            ret = self.type_operand()
            return nodes.FunctionType((tok.start, ret.span[1]), params, ret)
        if tok.is_op("["):
            return self.record_type()
        if tok.is_op("{"):
            self.advance()
            item = self.type_()
            close = self.expect_op("}", "'}' after the list item type")
            return nodes.ListType((tok.start, close.end), item)
        if (word or tok.is_keyword("null", "type")) and tok.text in PRIMITIVE_TYPES:
            self.advance()
            return nodes.PrimitiveType((tok.start, tok.end), tok.text)
        return self.postfix(self.primary())

    def record_type(self) -> nodes.RecordType:
        open_ = self.expect_op("[")
        fields: list[nodes.FieldSpec] = []
        is_open = False
        while not self.tok.is_op("]"):
            if self.tok.is_op("..."):
                self.advance()
                is_open = True
                break
            start = self.tok.start
            optional = self.tok.text == "optional" and self.peek().kind in (
                Kind.IDENTIFIER,
                Kind.QUOTED,
                Kind.KEYWORD,
            )
            if optional:
                self.advance()
            name, name_span = self.generalized_name("a field name")
            type_: nodes.Node | None = None
            if self.tok.is_op("="):
                self.advance()
                type_ = self.type_()
            end = type_.span[1] if type_ else name_span[1]
            fields.append(nodes.FieldSpec((start, end), name, optional, type_))
            if not self.tok.is_op(","):
                break
            self.advance()
        close = self.expect_op("]", "',' or ']' in the record type")
        return nodes.RecordType((open_.start, close.end), tuple(fields), is_open)
