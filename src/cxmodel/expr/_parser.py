"""A recursive-descent parser for expressions, reusable by the rule parser."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from cxmodel.errors import CXModelError, TriggerSyntaxError
from cxmodel.expr._aggregates import AGGREGATE_FUNCTIONS
from cxmodel.expr._ast import (
    AGGREGATES,
    CLAUSE_WORDS,
    DURATION_UNITS,
    FUNCTIONS,
    MAX_DURATION,
    RESERVED,
    Aggregate,
    Binary,
    Call,
    Duration,
    Expr,
    InList,
    Literal,
    Name,
    Unary,
    check_nesting,
)
from cxmodel.expr._diagnostics import Diagnostic, render_diagnostics
from cxmodel.expr._lexer import Token, tokenize

__all__ = [
    "MAX_DEPTH",
    "ExprParser",
    "ParseAbort",
    "parse_expr",
]

#: Deepest nesting of parentheses and operators accepted.
MAX_DEPTH = 40

_RESERVED = RESERVED
_CLAUSE_WORDS = CLAUSE_WORDS
_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


class ParseAbort(CXModelError):
    """Raised internally after a diagnostic is recorded, to resynchronise."""


def describe(token: Token) -> str:
    """Describe a token for a message: ``'days'`` or ``the end of the text``."""
    return "the end of the text" if token.kind == "EOF" else repr(token.text)


class ExprParser:
    """Parse expressions from a token list, collecting diagnostics in ``errors``."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.errors: list[Diagnostic] = []
        self.depth = 0

    # -- token helpers ------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        if token.kind != "EOF":
            self.i += 1
        return token

    def at_word(self, *words: str) -> bool:
        return self.tok.kind == "NAME" and self.tok.text in words

    def at_op(self, *ops: str) -> bool:
        return self.tok.kind == "OP" and self.tok.text in ops

    def fail(
        self, code: str, message: str, hint: str | None = None, token: Token | None = None
    ) -> ParseAbort:
        where = token if token is not None else self.tok
        self.errors.append(Diagnostic(code, where.line, where.column, message, hint))
        return ParseAbort(message)

    def missing(self) -> Token:
        """Where a missing token belongs: the current token, or just after the previous one
        when the current token is the end of the text or on a later line."""
        token = self.tok
        if self.i == 0:
            return token
        previous = self.tokens[self.i - 1]
        if token.kind == "EOF" or token.line > previous.line:
            return Token("EOF", "", previous.line, previous.column + len(previous.text))
        return token

    def fail_missing(self, code: str, message: str, hint: str | None = None) -> ParseAbort:
        """:meth:`fail` at the place where something expected is missing."""
        return self.fail(code, message, hint, token=self.missing())

    def invalid(self, exc: TriggerSyntaxError, token: Token | None = None) -> ParseAbort:
        """Record the diagnostics of an AST invariant broken while building a node."""
        where = token if token is not None else self.tok
        for d in exc.errors:
            assert isinstance(d, Diagnostic)
            if (d.line, d.column) == (0, 0):
                d = attrs.evolve(d, line=where.line, column=where.column)
            self.errors.append(d)
        return ParseAbort(str(exc))

    def expect_op(self, op: str, context: str) -> Token:
        if not self.at_op(op):
            raise self.fail_missing(
                "E106", f"expected {op!r} {context}, found {describe(self.tok)}", hint=f"add {op!r}"
            )
        return self.advance()

    def expect_word(self, word: str, context: str, hint: str | None = None) -> Token:
        if not self.at_word(word):
            raise self.fail_missing(
                "E106", f"expected {word!r} {context}, found {describe(self.tok)}", hint=hint
            )
        return self.advance()

    def expect_name(self, what: str, hint: str | None = None) -> Token:
        token = self.tok
        if token.kind != "NAME" or token.text in _RESERVED or token.text in _CLAUSE_WORDS:
            raise self.fail_missing("E107", f"expected {what}, found {describe(token)}", hint=hint)
        return self.advance()

    def duration(self, after: str) -> Duration:
        """Parse ``N unit`` (or ``Nd``)."""
        token = self.tok
        if token.kind != "NUMBER" or not isinstance(token.value, int):
            raise self.fail_missing(
                "E102",
                f"expected a duration after {after!r}, found {describe(token)}",
                hint=f"write a whole number first, e.g. '{after} 90 days'",
            )
        self.advance()
        unit = self.tok
        if unit.kind != "NAME" or unit.text not in DURATION_UNITS:
            raise self.fail(
                "E102",
                f"expected a time unit after {token.text}, found {describe(unit)}",
                hint="units are minutes, hours, days, weeks, months (or m, h, d, w, mo)",
                token=token if unit.kind == "EOF" else None,
            )
        self.advance()
        canonical = DURATION_UNITS[unit.text]
        if token.value <= 0:
            raise self.fail(
                "E102",
                f"a duration must be positive, got {token.text} {unit.text}",
                hint=f"e.g. '{after} 1 {canonical}'" if after else None,
                token=token,
            )
        if token.value > MAX_DURATION[canonical]:
            raise self.fail(
                "E102",
                f"the duration {token.text} {unit.text} is longer than 100 years",
                hint=f"durations are limited to 100 years ({MAX_DURATION[canonical]:,} "
                f"{canonical})",
                token=token,
            )
        return Duration(token.value, canonical, pos=(token.line, token.column))

    # -- grammar --------------------------------------------------------------------------
    def expression(self) -> Expr:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise self.fail(
                    "E104",
                    f"the expression is nested more than {MAX_DEPTH} levels deep",
                    hint="split it into simpler conditions",
                )
            if self.depth > 1:
                return self._or()
            start = self.tok
            try:
                result = self._or()
            except TriggerSyntaxError as exc:  # an AST invariant broken while building
                raise self.invalid(exc, start) from None
            try:
                check_nesting(result)
            except TriggerSyntaxError as exc:
                raise self.invalid(exc, start) from None
            return result
        finally:
            self.depth -= 1

    def _left_chain(self, operand: Callable[[], Expr], at: Callable[..., bool], *ops: str) -> Expr:
        """``operand (OP operand)*`` for the operators ``ops`` of one precedence level (``at``
        tells whether one is next: :meth:`at_word` or :meth:`at_op`), grouped to the left."""
        left = operand()
        while at(*ops):
            op = self.advance()
            left = Binary(op.text, left, operand(), pos=(op.line, op.column))
        return left

    def _nested_unary(self, op: Token, operand: Callable[[], Expr]) -> Expr:
        """``OP operand`` once ``op`` (``not`` or ``-``) is read, at most
        :data:`MAX_DEPTH` deep."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise self.fail(
                    "E104", f"more than {MAX_DEPTH} nested {op.text!r}", hint="simplify"
                )
            return Unary(op.text, operand(), pos=(op.line, op.column))
        finally:
            self.depth -= 1

    def _comma_list(self, item: Callable[[], Expr], close: str, context: str) -> list[Expr]:
        """``item, item, ...`` (possibly none) and the ``close`` operator after them
        (``context`` says what it closes when it is missing)."""
        items: list[Expr] = []
        if not self.at_op(close):
            items.append(item())
            while self.at_op(","):
                self.advance()
                items.append(item())
        self.expect_op(close, context)
        return items

    def _or(self) -> Expr:
        return self._left_chain(self._and, self.at_word, "or")

    def _and(self) -> Expr:
        return self._left_chain(self._not, self.at_word, "and")

    def _not(self) -> Expr:
        if self.at_word("not"):
            return self._nested_unary(self.advance(), self._not)
        return self._comparison()

    def _comparison(self) -> Expr:
        left = self._coalesce()
        if self.at_op(*_COMPARISONS):
            op = self.advance()
            right = self._coalesce()
            if self.at_op(*_COMPARISONS):
                raise self.fail(
                    "E105",
                    f"comparisons cannot be chained: found {self.tok.text!r} after {op.text!r}",
                    hint="combine them with 'and', e.g. 'a < b and b < c'",
                )
            return Binary(op.text, left, right, pos=(op.line, op.column))
        negated = False
        if self.at_word("not") and self.peek().kind == "NAME" and self.peek().text == "in":
            self.advance()
            negated = True
        if self.at_word("in") and not self._at_in_customer_timezone():
            op = self.advance()
            if not self.at_op("["):
                raise self.fail(
                    "E106",
                    f"expected '[' after 'in', found {describe(self.tok)}",
                    hint="a list test is written x in [1, 2]; the rule line is "
                    "'in customer timezone'",
                )
            self.advance()
            items = self._comma_list(self._coalesce, "]", "to close the list")
            return InList(left, tuple(items), negated, pos=(op.line, op.column))
        return left

    def _at_in_customer_timezone(self) -> bool:
        """``in customer ...`` is the rule line ``in customer timezone``, not a list test: it
        ends the expression before it."""
        following = self.peek()
        return following.kind == "NAME" and following.text == "customer"

    def _coalesce(self) -> Expr:
        return self._left_chain(self._additive, self.at_op, "??")

    def _additive(self) -> Expr:
        return self._left_chain(self._multiplicative, self.at_op, "+", "-")

    def _multiplicative(self) -> Expr:
        return self._left_chain(self._unary, self.at_op, "*", "/", "%")

    def _unary(self) -> Expr:
        if self.at_op("-"):
            op = self.advance()
            if self.tok.kind == "NUMBER" and not (
                self.peek().kind == "NAME" and self.peek().text in DURATION_UNITS
            ):
                number = self.advance()
                assert isinstance(number.value, (int, float))
                return Literal(-number.value, pos=(op.line, op.column))
            return self._nested_unary(op, self._unary)
        return self._primary()

    def _primary(self) -> Expr:
        token = self.tok
        pos = (token.line, token.column)
        if token.kind == "NUMBER":
            if self.peek().kind == "NAME" and self.peek().text in DURATION_UNITS:
                return self.duration("")
            self.advance()
            assert isinstance(token.value, (int, float))
            return Literal(token.value, pos=pos)
        if token.kind == "STRING":
            self.advance()
            assert isinstance(token.value, str)
            return Literal(token.value, pos=pos)
        if self.at_op("("):
            self.advance()
            inner = self.expression()
            self.expect_op(")", "to close '('")
            return inner
        if token.kind == "NAME":
            if token.text in ("true", "false"):
                self.advance()
                return Literal(token.text == "true", pos=pos)
            if token.text == "null":
                self.advance()
                return Literal(None, pos=pos)
            if token.text in _RESERVED or token.text in _CLAUSE_WORDS:
                raise self.fail(
                    "E105",
                    f"expected a value, found the keyword {token.text!r}",
                    hint="a condition is missing here",
                )
            self.advance()
            if self.at_op("("):
                return self._call(token)
            if self.at_op("."):
                self.advance()
                field = self.expect_name(
                    f"a property name after '{token.text}.'", hint=f"e.g. {token.text}.value"
                )
                return Name(field.text, token.text, pos=pos)
            return Name(token.text, pos=pos)
        raise self.fail_missing(
            "E105",
            f"expected a value, found {describe(token)}",
            hint='a value is a number, a "string", a name, or a function call',
        )

    def _call(self, name: Token) -> Expr:
        pos = (name.line, name.column)
        self.advance()  # (
        if name.text in AGGREGATES:
            return self._aggregate(name)
        if name.text not in FUNCTIONS:
            from difflib import get_close_matches

            known = sorted([*FUNCTIONS, *AGGREGATES])
            close = get_close_matches(name.text, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"functions are {', '.join(known)}"
            raise self.fail("E107", f"unknown function {name.text!r}", hint=hint, token=name)
        args = self._comma_list(self.expression, ")", f"to close the call to {name.text}")
        arity = len(FUNCTIONS[name.text][0])
        if len(args) != arity:
            raise self.fail(
                "E108",
                f"{name.text}() takes {arity} argument(s), got {len(args)}",
                token=name,
                hint=f"e.g. {name.text}(x)",
            )
        return Call(name.text, tuple(args), pos=pos)

    def _aggregate(self, name: Token) -> Expr:
        kind = self.expect_name(
            f"an interaction kind inside {name.text}(...)",
            hint=f"e.g. {name.text}(purchase"
            f"{'.value' if AGGREGATE_FUNCTIONS[name.text].takes_field else ''})",
        )
        field = None
        if self.at_op("."):
            self.advance()
            field = self.expect_name(f"a property name after '{kind.text}.'").text
        takes_field = AGGREGATE_FUNCTIONS[name.text].takes_field
        if not takes_field and field is not None:
            raise self.fail(
                "E108",
                f"{name.text}() counts interactions: write {name.text}(kind), not "
                f"{name.text}(kind.field)",
                token=kind,
                hint=f"{name.text}({kind.text})",
            )
        if takes_field and field is None:
            raise self.fail(
                "E108",
                f"{name.text}() needs a property: {name.text}({kind.text}.FIELD)",
                token=kind,
                hint=f"e.g. {name.text}({kind.text}.value)",
            )
        where = within = before = None
        if self.at_word("where"):
            self.advance()
            where = self.expression()
        if self.at_word("within"):
            self.advance()
            within = self.duration("within")
        elif self.at_word("before"):
            self.advance()
            before = self.expect_name("a bound name after 'before'", hint="e.g. before p").text
        self.expect_op(")", f"to close {name.text}(...)")
        return Aggregate(
            name.text, kind.text, field, where, within, before, pos=(name.line, name.column)
        )


def parse_expr(text: str) -> Expr:
    """Parse one expression; raise :class:`TriggerSyntaxError` listing every problem found.

    Examples
    --------
    >>> str(parse_expr('r.score <= 6 and channel in ["web", "app"]'))
    'r.score <= 6 and channel in ["web", "app"]'
    >>> parse_expr("value >")
    Traceback (most recent call last):
    ...
    cxmodel.errors.TriggerSyntaxError: 1 error:
    E105 line 1, column 8: expected a value, found the end of the text
        value >
               ^
    hint: a value is a number, a "string", a name, or a function call
    """
    tokens, errors = tokenize(text)
    parser = ExprParser(tokens)
    parser.errors.extend(errors)
    result: Expr | None = None
    if not errors:
        try:
            result = parser.expression()
            if parser.tok.kind != "EOF":
                raise parser.fail(
                    "E105",
                    f"unexpected {describe(parser.tok)} after the expression",
                    hint="join conditions with 'and' / 'or'",
                )
        except ParseAbort:
            pass
    if parser.errors or result is None:
        found = tuple(parser.errors)
        raise TriggerSyntaxError(render_diagnostics(found, text), found)
    return result
