"""The rule parser: text -> :class:`RuleSet`, reporting every error at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cxmodel.errors import TriggerSyntaxError, TriggerTypeError
from cxmodel.expr import Diagnostic, Duration, Expr, render_diagnostics, tokenize
from cxmodel.expr._lexer import Token
from cxmodel.expr._parser import ParseAbort, describe
from cxmodel.triggers._alert_parse import AlertParser
from cxmodel.triggers._alerts import Alert
from cxmodel.triggers._check import check_rules
from cxmodel.triggers._contact import ContactPolicy, policy_problems
from cxmodel.triggers._reach import Reach
from cxmodel.triggers._rules import (
    MAX_RULES,
    Emit,
    Holdout,
    Pattern,
    QuietHours,
    Rule,
    RuleSet,
    Then,
    ThenMode,
    Unless,
    WhenMode,
)

__all__ = ["parse"]

_CLAUSES = (
    "when", "unless", "if", "emit", "cooldown", "once", "requires", "quiet", "holdout",
)  # fmt: skip


class _RuleParser(AlertParser):
    def sync(self) -> None:
        """Skip to the next clause keyword, ``trigger`` or ``contact policy``."""
        while (
            self.tok.kind != "EOF"
            and not self.at_word("trigger", *_CLAUSES)
            and not (self.at_word("in") and self._at_in_customer_timezone())
            and not self.at_policy()
            and not self.at_alert()
        ):
            self.advance()

    def at_policy(self) -> bool:
        """At ``contact policy`` (``contact`` alone may be a property's name)."""
        following = self.peek()
        return self.at_word("contact") and following.kind == "NAME" and following.text == "policy"

    def at_block(self) -> bool:
        """At the start of a rule, an alert or a contact policy."""
        return self.at_word("trigger") or self.at_policy() or self.at_alert()

    def ruleset(self) -> list[Rule]:
        rules: list[Rule] = []
        self.policies: list[tuple[ContactPolicy, list[Token]]] = []
        self.alerts: list[Alert] = []
        seen: dict[str, int] = {}
        while self.tok.kind != "EOF":
            if self.at_policy():
                policy = self.policy()
                if policy is not None:
                    self.policies.append(policy)
                continue
            if self.at_alert():
                start = self.tok
                alert = self.alert()
                if alert is not None:
                    self.unique(alert.name, start, seen)
                    self.alerts.append(alert)
                continue
            if not self.at_word("trigger"):
                try:
                    raise self.fail(
                        "E201",
                        f"expected 'trigger', 'alert' or 'contact policy', found "
                        f"{describe(self.tok)}",
                        hint="each rule starts with 'trigger NAME:', each alert with "
                        "'alert NAME:', each policy with 'contact policy NAME:'",
                    )
                except ParseAbort:
                    self.advance()
                    while self.tok.kind != "EOF" and not self.at_block():
                        self.advance()
                    continue
            start = self.tok
            rule = self.rule()
            if rule is None:
                continue
            self.unique(rule.name, start, seen)
            rules.append(rule)
            if len(rules) > MAX_RULES:
                self.errors.append(
                    Diagnostic("E100", start.line, start.column, f"more than {MAX_RULES} rules")
                )
                break
        return rules

    def unique(self, name: str, start: Token, seen: dict[str, int]) -> None:
        """Report a rule or alert ``name`` defined before (E209); remember it."""
        if name in seen:
            self.errors.append(
                Diagnostic(
                    "E209",
                    start.line,
                    start.column,
                    f"a rule or alert named {name!r} is already defined on line {seen[name]}",
                    "give each rule and alert a unique name",
                )
            )
        seen.setdefault(name, start.line)

    def rule(self) -> Rule | None:
        start = self.advance()  # trigger
        n_errors = len(self.errors)
        fields: dict[str, object] = {}
        name = self.block_name("trigger", "a rule name", "churn_risk", self.sync)
        positions: dict[str, int] = {}
        while self.tok.kind != "EOF" and not self.at_block():
            word = self.tok
            if not self.at_word("in", *_CLAUSES):
                try:
                    raise self.fail(
                        "E205",
                        f"expected a clause (when, unless, if, emit, cooldown, once, requires, "
                        f"quiet, holdout, in customer timezone), found {describe(word)}",
                        hint="conditions continue with 'and' / 'or'",
                    )
                except ParseAbort:
                    self.advance()
                    self.sync()
                    continue
            if word.text in positions:
                clause = "in customer timezone" if word.text == "in" else word.text
                self.errors.append(
                    Diagnostic(
                        "E206",
                        word.line,
                        word.column,
                        f"{clause!r} appears twice in rule {name!r} (first on line "
                        f"{positions[word.text]})",
                        "combine the two into one clause",
                    )
                )
            positions[word.text] = word.line
            self.advance()
            try:
                if word.text == "when":
                    fields["when"], fields["then"] = self.when()
                elif word.text == "unless":
                    kind_tok = self.expect_name("an interaction kind after 'unless'")
                    fields["unless"] = Unless(
                        kind_tok.text, self.where(), pos=(kind_tok.line, kind_tok.column)
                    )
                elif word.text == "if":
                    fields["condition"] = self.expression()
                elif word.text == "emit":
                    fields["emit"] = self.emit()
                elif word.text == "cooldown":
                    fields["cooldown"] = self.duration("cooldown")
                elif word.text == "once":
                    self.expect_word("per", "after 'once'", hint="once per customer [every D]")
                    self.expect_word("customer", "after 'once per'", hint="once per customer")
                    fields["once"] = True
                    if self.at_word("every"):
                        self.advance()
                        fields["once_every"] = self.duration("every")
                elif word.text == "requires":
                    self.expect_word(
                        "consent", "after 'requires'", hint="requires consent marketing"
                    )
                    fields["consent"] = self.expect_name(
                        "a consent purpose", hint="e.g. marketing"
                    ).text
                elif word.text == "in":
                    self.customer_timezone("'in'")
                    fields["customer_timezone"] = True
                elif word.text == "holdout":
                    fields["holdout"] = self.holdout()
                else:
                    fields["quiet"] = self.quiet()
            except TriggerSyntaxError as exc:  # an AST invariant, e.g. quiet hours 08:00-08:00
                self.invalid(exc, word)
                self.sync()
            except ParseAbort:
                self.sync()
        if len(self.errors) > n_errors:
            return None
        for needed in ("when", "emit"):
            if needed not in fields:
                self.errors.append(
                    Diagnostic(
                        "E203" if needed == "when" else "E204",
                        start.line,
                        start.column,
                        f"rule {name!r} has no {needed!r} clause",
                        "every rule needs 'when ...' and 'emit ACTION'",
                    )
                )
                return None
        when = fields["when"]
        if fields.get("unless") is not None:
            then = fields.get("then")
            if not isinstance(then, Then) or then.mode is not ThenMode.AFTER:
                self.errors.append(
                    Diagnostic(
                        "E210",
                        start.line,
                        start.column,
                        "'unless' needs a delay: write 'when A as x then after D'",
                        "unless cancels a delayed firing",
                    )
                )
                return None
        assert isinstance(when, Pattern)
        try:
            return Rule(name=name, pos=(start.line, start.column), **fields)  # type: ignore[arg-type]
        except TriggerSyntaxError as exc:
            self.invalid(exc, start)
            return None

    def where(self) -> Expr | None:
        if self.at_word("where"):
            self.advance()
            return self.expression()
        return None

    def when(self) -> tuple[Pattern, Then | None]:
        token = self.tok
        pos = (token.line, token.column)
        if self.at_word("inactive"):
            self.advance()
            self.expect_word("for", "after 'inactive'", hint="when inactive for 90 days")
            return Pattern(WhenMode.INACTIVE, duration=self.duration("for"), pos=pos), None
        if self.at_word("no"):
            self.advance()
            kind = self.expect_name("an interaction kind after 'no'").text
            where = self.where()
            self.expect_word("for", f"after 'no {kind}'", hint=f"when no {kind} for 30 days")
            return Pattern(
                WhenMode.ABSENT, kind, where=where, duration=self.duration("for"), pos=pos
            ), None
        kind = self.expect_name("an interaction kind after 'when'", hint="e.g. when purchase").text
        alias = None
        if self.at_word("as"):
            self.advance()
            alias = self.expect_name("a name after 'as'", hint="e.g. as p").text
        where = self.where()
        reach = self.reach() if self.at_word("for") else None
        pattern = Pattern(WhenMode.EVENT, kind, alias, where, reach=reach, pos=pos)
        if not self.at_word("then"):
            return pattern, None
        then_tok = self.advance()
        if alias is None:
            raise self.fail(
                "E211",
                "'then' needs the first event bound with 'as'",
                token=then_tok,
                hint=f"write 'when {kind} as x then ...'",
            )
        tpos = (then_tok.line, then_tok.column)
        if self.at_word("after"):
            self.advance()
            return pattern, Then(ThenMode.AFTER, duration=self.duration("after"), pos=tpos)
        if self.at_word("no"):
            self.advance()
            tpos = (self.tok.line, self.tok.column)
            second = self.expect_name("an interaction kind after 'then no'").text
            where = self.where()
            self.expect_word("for", f"after 'then no {second} ...'", hint="... for 7 days")
            return pattern, Then(ThenMode.ABSENT, second, where, self.duration("for"), pos=tpos)
        tpos = (self.tok.line, self.tok.column)
        second = self.expect_name("an interaction kind after 'then'").text
        where = self.where()
        within: Duration | None = None
        if self.at_word("within"):
            self.advance()
            within = self.duration("within")
        return pattern, Then(ThenMode.EVENT, second, where, within, pos=tpos)

    def reach(self) -> Reach:
        """``for customers with KIND [where C] within D`` (a catalogue rule), at ``for``."""
        hint = "e.g. for customers with product_view where product == r.product within 30 days"
        self.advance()
        self.expect_word("customers", "after 'for' (a catalogue event reaches customers)", hint)
        self.expect_word("with", "after 'for customers'", hint)
        token = self.tok
        kind = self.expect_name("an interaction kind after 'for customers with'", hint).text
        where = self.where()
        self.expect_word("within", f"after 'for customers with {kind} ...'", hint)
        within = self.duration("within")
        return Reach(kind, where, within, pos=(token.line, token.column))

    def emit(self) -> Emit:
        token = self.tok
        action = self.expect_name(
            "an action name after 'emit'", hint="e.g. emit follow_up_task"
        ).text
        payload: list[tuple[str, Expr]] = []
        if self.at_op("("):
            self.advance()
            keys: set[str] = set()
            while not self.at_op(")"):
                key = self.expect_name("a payload key", hint="emit action(key = value)")
                if key.text in keys:
                    raise self.fail("E212", f"payload key {key.text!r} given twice", token=key)
                keys.add(key.text)
                self.expect_op("=", f"after payload key {key.text!r}")
                payload.append((key.text, self.expression()))
                if not self.at_op(","):
                    break
                self.advance()
            self.expect_op(")", "to close the payload")
        return Emit(action, tuple(payload), pos=(token.line, token.column))

    def clock(self) -> int:
        token = self.tok
        if token.kind != "NUMBER" or not isinstance(token.value, int) or self.peek().text != ":":
            raise self.fail_missing(
                "E208",
                f"expected a time HH:MM, found {describe(token)}",
                hint="quiet hours 22:00-08:00",
            )
        self.advance()
        self.advance()
        minutes = self.tok
        if minutes.kind != "NUMBER" or not isinstance(minutes.value, int) or len(minutes.text) != 2:
            raise self.fail(
                "E208",
                f"expected two-digit minutes, found {describe(minutes)}",
                hint="quiet hours 22:00-08:00",
            )
        self.advance()
        if token.value > 23 or minutes.value > 59:
            raise self.fail(
                "E208",
                f"{token.text}:{minutes.text} is not a time of day",
                token=token,
                hint="hours 00-23, minutes 00-59",
            )
        return token.value * 60 + minutes.value

    def quiet(self) -> QuietHours:
        self.expect_word("hours", "after 'quiet'", hint="quiet hours 22:00-08:00")
        start = self.clock()
        self.expect_op("-", "between the two times")
        end = self.clock()
        local = False
        if self.at_word("in"):
            self.advance()
            self.customer_timezone(f"'in' after quiet hours {QuietHours(start, end)}")
            local = True
        return QuietHours(start, end, local)

    def holdout(self) -> Holdout:
        """``holdout P% [salt "S"]`` once ``holdout`` is read."""
        hint = 'e.g. holdout 10% or holdout 10% salt "v2"'
        token = self.tok
        sign = 1
        if self.at_op("-"):  # read on, so that the share is refused with E215
            sign = -1
            self.advance()
        number = self.tok
        if number.kind != "NUMBER" or not isinstance(number.value, int | float):
            raise self.fail_missing(
                "E215", f"expected a share such as 10% after 'holdout', found {describe(number)}",
                hint=hint,
            )  # fmt: skip
        self.advance()
        self.expect_op("%", f"after 'holdout {number.text}'")
        salt = None
        if self.at_word("salt"):
            self.advance()
            if self.tok.kind != "STRING":
                raise self.fail_missing(
                    "E106", f"expected a string after 'salt', found {describe(self.tok)}",
                    hint=hint,
                )  # fmt: skip
            salt = str(self.advance().value)
        return Holdout(sign * number.value, salt, pos=(token.line, token.column))

    def policy(self) -> tuple[ContactPolicy, list[Token]] | None:
        """``contact policy NAME: at most N per D rules A > B ...`` (the two clauses in either
        order), with the tokens of the rule names (to place errors about them)."""
        start = self.advance()  # contact
        self.advance()  # policy
        n_errors = len(self.errors)
        limit: int | None = None
        per: Duration | None = None
        names: list[Token] = []
        seen: dict[str, int] = {}
        name = self.block_name("contact policy", "a policy name", "weekly", self.sync_policy)
        while self.tok.kind != "EOF" and not self.at_block():
            word = self.tok
            try:
                if not self.at_word("at", "rules"):
                    raise self.fail(
                        "E216",
                        f"expected 'at most N per D' or 'rules A > B' in contact policy "
                        f"{name!r}, found {describe(word)}",
                        hint="e.g. at most 2 per 7 days",
                    )
                if word.text in seen:
                    self.errors.append(
                        Diagnostic(
                            "E206",
                            word.line,
                            word.column,
                            f"{word.text!r} appears twice in contact policy {name!r} (first on "
                            f"line {seen[word.text]})",
                            "keep one",
                        )
                    )
                seen[word.text] = word.line
                self.advance()
                if word.text == "at":
                    self.expect_word("most", "after 'at'", hint="at most 2 per 7 days")
                    number = self.tok
                    if number.kind != "NUMBER" or not isinstance(number.value, int):
                        raise self.fail_missing(
                            "E216",
                            f"expected a whole number after 'at most', found {describe(number)}",
                            hint="e.g. at most 2 per 7 days",
                        )
                    self.advance()
                    limit = number.value
                    self.expect_word("per", f"after 'at most {number.text}'", hint="... per 7 days")
                    per = self.duration("per")
                else:
                    names = [self.expect_name("a rule name after 'rules'", hint="rules a > b")]
                    while self.at_op(">"):
                        self.advance()
                        names.append(self.expect_name("a rule name after '>'"))
            except ParseAbort:
                self.sync_policy()
        if len(self.errors) > n_errors:
            return None
        if limit is None or per is None or not names:
            missing = "'at most N per D'" if limit is None or per is None else "'rules A > B'"
            self.errors.append(
                Diagnostic(
                    "E216",
                    start.line,
                    start.column,
                    f"contact policy {name!r} has no {missing} clause",
                    "a policy needs 'at most N per D' and 'rules A > B ...'",
                )
            )
            return None
        try:
            policy = ContactPolicy(
                name, limit, per, tuple(t.text for t in names), pos=(start.line, start.column)
            )
        except TriggerSyntaxError as exc:
            self.invalid(exc, start)
            return None
        return policy, names

    def sync_policy(self) -> None:
        """Skip to the next clause of a contact policy, rule or policy."""
        while self.tok.kind != "EOF" and not self.at_block() and not self.at_word("at", "rules"):
            self.advance()

    def customer_timezone(self, after: str) -> None:
        """The rest of ``in customer timezone`` once ``in`` is read."""
        hint = "write 'in customer timezone' (months and quiet hours in the customer's zone)"
        self.expect_word("customer", f"after {after}", hint=hint)
        self.expect_word("timezone", "after 'in customer'", hint=hint)


def parse(
    text: str,
    *,
    schema: Mapping[str, str] | None = None,
    kinds: Sequence[str] | None = None,
) -> RuleSet:
    """Parse rule text into a :class:`RuleSet`.

    Names bound with ``as`` are always checked. With ``schema`` (property -> type, e.g.
    ``log.schema``) and ``kinds``, unknown properties and kinds and type mismatches are
    reported too.

    Parameters
    ----------
    text : str
        The rule text.
    schema : mapping of str to str, optional
        Property -> type, e.g. ``log.schema``, to check properties and types.
    kinds : sequence of str, optional
        The known kinds, to check them.

    Raises
    ------
    TriggerSyntaxError
        Listing every syntax error in ``errors`` (line, column, code, hint).
    TriggerTypeError
        When the rules parse but do not type-check.

    Examples
    --------
    >>> rules = parse('''
    ... trigger detractor_follow_up:
    ...     when survey as r where r.metric == "nps" and r.score <= 6
    ...     emit follow_up_task(priority = "high", score = r.score)
    ... ''')
    >>> print(rules)
    trigger detractor_follow_up:
        when survey as r where r.metric == "nps" and r.score <= 6
        emit follow_up_task(priority = "high", score = r.score)
    <BLANKLINE>
    >>> parse(str(rules)) == rules
    True
    """
    tokens, lex_errors = tokenize(text)
    parser = _RuleParser(tokens)
    rules: list[Rule] = []
    if not lex_errors:
        rules = parser.ruleset()
    errors = tuple(sorted([*lex_errors, *parser.errors], key=lambda d: (d.line, d.column)))
    if errors:
        raise TriggerSyntaxError(render_diagnostics(errors, text), errors)
    policies = parser.policies if not lex_errors else []
    alerts = parser.alerts if not lex_errors else []
    problems = policy_problems(
        [r.name for r in rules], [p for p, _ in policies], [a.name for a in alerts]
    )
    if problems:  # placed at the policy or at the rule name it is about
        diagnostics = []
        for i, j, message, hint in problems:
            policy, tokens = policies[i]
            line, column = policy.pos if j is None else (tokens[j].line, tokens[j].column)
            diagnostics.append(Diagnostic("E217", line, column, message, hint))
        raise TriggerSyntaxError(render_diagnostics(tuple(diagnostics), text), tuple(diagnostics))
    ruleset = RuleSet(tuple(rules), tuple(p for p, _ in policies), tuple(alerts))
    type_errors = check_rules(ruleset, schema=schema, kinds=kinds)
    if type_errors:
        raise TriggerTypeError(render_diagnostics(type_errors, text), type_errors)
    return ruleset
