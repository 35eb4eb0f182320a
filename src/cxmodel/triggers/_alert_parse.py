"""Parsing ``alert NAME:`` blocks: the clauses of an alert across customers, and a rule's
clauses refused in one (E225). The rule parser (``_parse.py``) builds on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from cxmodel.errors import TriggerSyntaxError
from cxmodel.expr import Diagnostic
from cxmodel.expr._parser import ExprParser, ParseAbort, describe
from cxmodel.triggers._alerts import RULE_ONLY_CLAUSES, Alert
from cxmodel.triggers._rules import Emit

__all__ = ["AlertParser"]

_ALERT_CLAUSES = ("when", "for", "emit", "cooldown", "once")


class AlertParser(ExprParser):
    """The alert part of the rule-set parser; ``emit`` and ``at_block`` come from it."""

    if TYPE_CHECKING:  # given by the rule parser this part is mixed into

        def emit(self) -> Emit:
            """``emit ACTION(key = expr, ...)`` once ``emit`` is read."""

        def at_block(self) -> bool:
            """At the start of a rule, an alert or a contact policy."""

    def block_name(self, keyword: str, what: str, example: str, sync: Callable[[], None]) -> str:
        """The ``NAME`` of ``KEYWORD NAME:`` opening a rule, an alert or a contact policy (the
        keyword is read); on an error, reported, ``sync`` skips ahead and the name is what was
        read of it (``""`` when none)."""
        name = ""
        try:
            hint = f"e.g. {keyword} {example}:"
            name = self.expect_name(f"{what} after {keyword!r}", hint=hint).text
            self.expect_op(":", f"after '{keyword} {name}'")
        except ParseAbort:
            sync()
        return name

    def at_alert(self) -> bool:
        """At ``alert NAME`` (``alert`` alone may be a property's name)."""
        return self.at_word("alert") and self.peek().kind == "NAME"

    def alert(self) -> Alert | None:
        """``alert NAME:`` and its clauses (``when``, ``for customers where``, ``emit``,
        ``cooldown``, ``once``, each once, in any order); a rule's clause is refused (E225)."""
        start = self.advance()  # alert
        n_errors = len(self.errors)
        fields: dict[str, object] = {}
        name = self.block_name("alert", "an alert name", "spike", self.sync_alert)
        positions: dict[str, int] = {}
        while self.tok.kind != "EOF" and not self.at_block():
            word = self.tok
            try:
                if self.at_rule_clause():
                    clause = "in customer timezone" if word.text == "in" else word.text
                    raise self.fail(
                        "E225", f"{clause!r} does not apply to alert {name!r}",
                        hint=RULE_ONLY_CLAUSES[word.text],
                    )  # fmt: skip
                if not self.at_word(*_ALERT_CLAUSES):
                    raise self.fail(
                        "E205",
                        f"expected an alert clause (when, for customers where, emit, cooldown, "
                        f"once), found {describe(word)}",
                        hint="conditions continue with 'and' / 'or'",
                    )
                if word.text in positions:
                    first = positions[word.text]
                    twice = f"{word.text!r} appears twice in alert {name!r} (first on line {first})"
                    hint = "combine the two into one clause"
                    self.errors.append(Diagnostic("E206", word.line, word.column, twice, hint))
                positions[word.text] = word.line
                self.advance()
                if word.text == "when":
                    fields["when"] = self.expression()
                elif word.text == "for":
                    hint = 'for customers where customer.plan == "pro"'
                    self.expect_word("customers", "after 'for'", hint=hint)
                    self.expect_word("where", "after 'for customers'", hint=hint)
                    fields["segment"] = self.expression()
                elif word.text == "emit":
                    fields["emit"] = self.emit()
                elif word.text == "cooldown":
                    fields["cooldown"] = self.duration("cooldown")
                else:
                    fields["once"] = True
            except TriggerSyntaxError as exc:  # an AST invariant, e.g. a payload key twice
                self.invalid(exc, word)
                self.sync_alert()
            except ParseAbort:
                if self.tok is word:  # refused before the clause was read: skip its word
                    self.advance()
                self.sync_alert()
        if len(self.errors) > n_errors:
            return None
        for needed in ("when", "emit"):
            if needed not in fields:
                code = "E203" if needed == "when" else "E204"
                message = f"alert {name!r} has no {needed!r} clause"
                hint = "every alert needs 'when CONDITION' and 'emit ACTION'"
                self.errors.append(Diagnostic(code, start.line, start.column, message, hint))
                return None
        try:
            return Alert(name=name, pos=(start.line, start.column), **fields)  # type: ignore[arg-type]
        except TriggerSyntaxError as exc:
            self.invalid(exc, start)
            return None

    def at_rule_clause(self) -> bool:
        """At a clause only a rule has (``in`` only as ``in customer timezone``)."""
        if self.at_word("in"):
            return self._at_in_customer_timezone()
        return self.at_word(*RULE_ONLY_CLAUSES)

    def sync_alert(self) -> None:
        """Skip to the next clause of an alert (or a rule's, to refuse it), or a block."""
        while (
            self.tok.kind != "EOF"
            and not self.at_block()
            and not self.at_word(*_ALERT_CLAUSES)
            and not self.at_rule_clause()
        ):
            self.advance()
