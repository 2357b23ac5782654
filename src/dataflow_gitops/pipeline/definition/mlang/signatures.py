"""M function and type rules (stage ① source, mashup.pq reader): parameters, function literals,
catch handlers and type expressions, as the M specification's grammar has them.

Kept apart from the expression rules (:mod:`.parser`, which inherits these) because this is where
the grammar is narrow and the reader must refuse what Power Query refuses: after ``as``/``is`` and
in a function literal's signature only a (nullable) primitive type; a required parameter never
after an optional one; a catch handler is ``(name) => body``; ``type`` is followed by a type, not by
any expression.
"""

from __future__ import annotations

from dataflow_gitops.errors import MSyntaxError
from dataflow_gitops.pipeline.definition.mlang import nodes
from dataflow_gitops.pipeline.definition.mlang.cursor import Cursor
from dataflow_gitops.pipeline.definition.mlang.tokens import Kind, kind_of

PRIMITIVE_TYPES = frozenset(
    ("any", "anynonnull", "binary", "date", "datetime", "datetimezone", "duration", "function",
     "list", "logical", "none", "null", "number", "record", "table", "text", "time", "type")
)  # fmt: skip
_OPENING = frozenset(("(", "[", "{"))
_CLOSING = frozenset((")", "]", "}"))
_NAME_KINDS = (Kind.IDENTIFIER, Kind.QUOTED)
_FIELD_KINDS = (Kind.IDENTIFIER, Kind.QUOTED, Kind.KEYWORD)
# After `type table`, what starts the primary expression of a row type held elsewhere
# (`type table Type.ForRecord(r, false)`, `type table (t)`, `type table newRowType`).
_ROW_EXPRESSION_START = frozenset(("(", "@"))
# Words that start a type rather than an expression where the grammar allows both (spec: `type`).
_TYPE_WORDS = frozenset(("nullable", "[", "{")) | PRIMITIVE_TYPES
_PRIMITIVE_HINT = (
    "after 'as' and 'is', and in a function's signature, M takes a primitive type (number, text, "
    "nullable date…); check other types with Type.Is"
)


class SignatureRules(Cursor):
    """Function and type productions; the expression rules come from the parser that inherits."""

    make: nodes.Builders = nodes
    closers: dict[int, int]

    def expression(self) -> nodes.Node:
        raise NotImplementedError

    def primary(self) -> nodes.Node:
        raise NotImplementedError

    def postfix(self, node: nodes.Node) -> nodes.Node:
        raise NotImplementedError

    def error_at(self, index: int, message: str, hint: str) -> MSyntaxError:
        return self.error(message, self.tokens[index], hint)

    # -- functions ------------------------------------------------------------------------------

    def function_ahead(self) -> bool:
        """At ``(``: is this a function literal (``(…) [as T] =>``) rather than parentheses?"""
        texts, last = self.texts, self.last
        j = self.closer(self.i)
        if j < 0:
            return False
        after = texts[j + 1]
        if after == "=>":
            return True
        if after != "as":
            return False
        k = j + 2
        if texts[k] == "nullable":
            k += 1
        return texts[min(k + 1, last)] == "=>"

    def closer(self, opener: int) -> int:
        """The index of the bracket that closes the one at ``opener`` (-1: none does).

        The walk records the closers of every bracket it passes, so the brackets nested inside are
        answered without walking again: n nested parentheses cost n steps, not n²."""
        known = self.closers.get(opener)
        if known is not None:
            return known
        texts, closers = self.texts, self.closers
        stack: list[int] = []
        j = opener
        while True:
            text = texts[j]
            if not text:
                return -1
            if text in _OPENING:
                stack.append(j)
            elif text in _CLOSING:
                closers[stack.pop()] = j
                if not stack:
                    return j
            j += 1

    def parameters(self, *, in_type: bool = False) -> tuple[nodes.FunctionParameter, ...]:
        """``(a as number, optional b)``; in a function type (``in_type``) every parameter names its
        type, and that type may be any type; in a function literal only a primitive one."""
        texts = self.texts
        self.expect("(")
        params: list[nodes.FunctionParameter] = []
        after_optional = False
        if texts[self.i] != ")":
            while True:
                start = self.starts[self.i]
                optional = texts[self.i] == "optional" and kind_of(self.peek_text()) in _NAME_KINDS
                if optional:
                    self.i += 1
                at = self.i
                name, _ = self.name("a parameter name")
                if after_optional and not optional:
                    raise self.error_at(
                        at,
                        f"required parameter {name!r} after an optional one",
                        "make it optional too, or move it before the optional parameters",
                    )
                after_optional = optional
                type_: nodes.Node | None = None
                if texts[self.i] == "as":
                    self.i += 1
                    type_ = self.type_any() if in_type else self.primitive_type()
                elif in_type:
                    raise self.unexpected(f"'as' and the type of parameter {name!r}")
                end = type_.span[1] if type_ else self.last_end()
                params.append(self.make.FunctionParameter((start, end), name, optional, type_))
                if texts[self.i] != ",":
                    break
                self.i += 1
        self.expect(")", "',' or ')' in the parameter list")
        return tuple(params)

    def function(self) -> nodes.Function:
        start = self.starts[self.i]
        params = self.parameters()
        return_type: nodes.Node | None = None
        if self.texts[self.i] == "as":
            self.i += 1
            return_type = self.primitive_type()
        self.expect("=>", "'=>' after the parameter list")
        body = self.expression()
        return self.make.Function((start, body.span[1]), params, return_type, body)

    def catch_function(self) -> nodes.Function:
        """After ``catch``: ``(name) => body`` or ``() => body`` (spec: catch-function)."""
        texts, i = self.texts, self.i
        if texts[i] != "(":
            raise self.unexpected("a function '(e) => …' after 'catch'")
        j = i + 1
        if kind_of(texts[j]) in _NAME_KINDS and texts[j] != "optional":
            j += 1
        if texts[j] != ")" or texts[min(j + 1, self.last)] != "=>":
            if self.function_ahead():
                raise self.error_at(
                    i,
                    "a catch handler takes one parameter without a type or 'optional'",
                    "write 'catch (e) => …' and read the error record from e",
                )
            raise self.unexpected("a function '(e) => …' after 'catch'")
        return self.function()

    # -- types ----------------------------------------------------------------------------------

    def primitive_type(self) -> nodes.Node:
        """``[nullable] <primitive type>``: after ``as``/``is`` and in a function literal's signature."""
        i = self.i
        text = self.texts[i]
        if text == "nullable":
            self.i = i + 1
            inner = self.texts[self.i]
            if inner not in PRIMITIVE_TYPES:
                what = f"{self.tok.describe()} is not a primitive type"
                raise self.error_at(self.i, what, _PRIMITIVE_HINT)
            self.i += 1
            primitive = self.make.PrimitiveType((self.starts[i + 1], self.ends[i + 1]), inner)
            return self.make.NullableType((self.starts[i], primitive.span[1]), primitive)
        if text in PRIMITIVE_TYPES:
            self.i = i + 1
            return self.make.PrimitiveType((self.starts[i], self.ends[i]), text)
        raise self.error_at(i, f"{self.tok.describe()} is not a primitive type", _PRIMITIVE_HINT)

    def type_any(self) -> nodes.Node:
        """The spec's ``type``: a primary type, or a primary expression that holds a type (field
        types, list item types, ``nullable``'s operand, a function type's signature)."""
        text = self.texts[self.i]
        if text in _TYPE_WORDS:
            return self.type_()
        return self.postfix(self.primary())

    def type_(self) -> nodes.Node:
        """After the keyword ``type``: a primitive, nullable, list, record, table or function type."""
        i = self.i
        text = self.texts[i]
        start = self.starts[i]
        following = self.peek_text()
        if text == "nullable":
            self.i = i + 1
            inner = self.type_any()
            return self.make.NullableType((start, inner.span[1]), inner)
        if text == "table" and following == "[":
            self.i = i + 1
            row = self.record_type(row=True)
            return self.make.TableType((start, row.span[1]), row)
        # `try type table catch (e) => …`: there `catch` is the handler, not a row type's name.
        row_name = kind_of(following) in _NAME_KINDS and following != "catch"
        if text == "table" and (following in _ROW_EXPRESSION_START or row_name):
            self.i = i + 1
            held = self.postfix(self.primary())
            return self.make.TableType((start, held.span[1]), held)
        if text == "function" and following == "(":
            self.i = i + 1
            params = self.parameters(in_type=True)
            self.expect("as", "'as' and the return type")
            ret = self.type_any()
            return self.make.FunctionType((start, ret.span[1]), params, ret)
        if text == "[":
            return self.record_type(row=False)
        if text == "{":
            self.i = i + 1
            item = self.type_any()
            end = self.expect("}", "'}' after the list item type")
            return self.make.ListType((start, end), item)
        if text in PRIMITIVE_TYPES:
            self.i = i + 1
            return self.make.PrimitiveType((start, self.ends[i]), text)
        raise self.error_at(
            i,
            f"unexpected {self.tok.describe()}, expected a type after 'type'",
            "write a primitive type (text, number…), a record, list, table or function type; "
            "a type held in a name needs no 'type' before it",
        )

    def record_type(self, *, row: bool) -> nodes.RecordType:
        """``[a = number, optional b, ...]``; a table's row type (``row``) is never open."""
        texts = self.texts
        open_start = self.starts[self.i]
        self.expect("[")
        fields: list[nodes.FieldSpec] = []
        is_open = False
        if texts[self.i] != "]":
            while True:
                if texts[self.i] == "..." and not row:
                    self.i += 1
                    is_open = True
                    break
                start = self.starts[self.i]
                optional = texts[self.i] == "optional" and kind_of(self.peek_text()) in _FIELD_KINDS
                if optional:
                    self.i += 1
                name, name_span = self.generalized_name("a field name")
                type_: nodes.Node | None = None
                if texts[self.i] == "=":
                    self.i += 1
                    type_ = self.type_any()
                end = type_.span[1] if type_ else name_span[1]
                fields.append(self.make.FieldSpec((start, end), name, optional, type_))
                if texts[self.i] != ",":
                    break
                self.i += 1
        end = self.expect("]", "',' or ']' in the record type")
        return self.make.RecordType((open_start, end), tuple(fields), is_open)
