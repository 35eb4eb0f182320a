"""Adversarial input for the rule language: every input gives a result or a ``CXModelError``.

Three generators: a grammar-aware generator of rule texts, token mutations of the six example
rules (delete, duplicate, swap, replace with keywords, operators, Unicode digits and letters),
and mutations of the examples' JSON (dropped and renamed keys, wrong types, unknown operators,
deep nesting). Every input that parses must print and re-parse to the same rules and survive a
JSON round trip. Run longer locally with ``FUZZ_EXAMPLES=20000`` (see :data:`FUZZ`).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxmodel.errors import CXModelError, DataWarning
from cxmodel.log import InteractionLog
from cxmodel.triggers import EXAMPLE_RULES, RuleSet, evaluate, parse

#: ``FUZZ_EXAMPLES=20000`` runs each generator that many times (a long local fuzz); otherwise
#: the hypothesis profile decides (``ci``: 100 each, well under a minute in all).
FUZZ = (
    settings(
        max_examples=int(os.environ["FUZZ_EXAMPLES"]),
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    if os.environ.get("FUZZ_EXAMPLES")
    else settings()
)

AS_OF = "2024-06-01T00:00:00Z"
# observed until AS_OF: waiting rules fire after the last interaction without a warning
LOG = InteractionLog.from_records(
    [
        {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase",
         "value": 120.0, "order_id": "o1", "product": "p1", "metric": "nps", "score": 3.0,
         "topic": "payment"},
        {"customer_id": "a", "timestamp": "2024-01-03T00:00:00Z", "kind": "survey",
         "value": 1.0, "order_id": "o1", "product": "p2", "metric": "nps", "score": 9.0,
         "topic": "x"},
        {"customer_id": "b", "timestamp": "2024-01-02T00:00:00Z", "kind": "product_view",
         "value": 5.0, "order_id": "o2", "product": "p1", "metric": "csat", "score": 2.0,
         "topic": "payment"},
        {"customer_id": "b", "timestamp": "2024-02-02T00:00:00Z", "kind": "ticket_opened",
         "value": 0.0, "order_id": "o3", "product": "p3", "metric": "ces", "score": 5.0,
         "topic": "payment"},
    ]
).with_observed_until(AS_OF)  # fmt: skip


def round_trips(rules: RuleSet) -> None:
    """Printing and JSON give back the same rules."""
    assert parse(str(rules)) == rules, str(rules)
    assert RuleSet.from_json(rules.to_json()) == rules


def attempt_text(text: str, *, run: bool = False) -> None:
    """Parse ``text``; a failure must be a CXModelError; a success must round-trip."""
    try:
        rules = parse(text)
    except CXModelError:
        return
    round_trips(rules)
    if run:
        # the library's own warnings (no consent record for `requires consent`, ...) are
        # answers; any other warning, like any other exception, is a bug
        with contextlib.suppress(CXModelError), warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            evaluate(rules, LOG, as_of=AS_OF)


def attempt_json(text: str) -> None:
    """Load ``text`` as JSON rules; a failure must be a CXModelError."""
    try:
        rules = RuleSet.from_json(text)
    except CXModelError:
        return
    round_trips(rules)


# -- a grammar-aware generator ----------------------------------------------------------------
KEYWORDS = ["and", "or", "not", "in", "where", "within", "before", "when", "then", "as",
            "after", "for", "unless", "if", "emit", "trigger", "no", "inactive", "once", "per",
            "customer", "every", "requires", "consent", "quiet", "hours", "timezone",
            "cooldown", "true", "false", "null"]  # fmt: skip
NAMES = ["purchase", "survey", "view", "p", "x", "value", "score", "product", "topic", "order_id",
         "customer", "a_1", "café", "days", "m"]  # fmt: skip
WEIRD = ["²", "٣", "１", "ⅷ", "\u0301", "\u00a0", "\u2028", "ﬁ", "𝟘", "\x00", "\t", "#", "\\",
         "**", "//", "=>", "&&", "'", '"', "\n", "{", "}", ";", "$", "⁹⁹"]  # fmt: skip
OPS = ["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "??", "(", ")", "[", "]", ",",
       ".", ":", "="]  # fmt: skip
UNITS = ["minutes", "m", "h", "hours", "d", "days", "w", "weeks", "mo", "months", "years"]


def _building_blocks(clean: bool) -> tuple[st.SearchStrategy[str], ...]:
    """Names, durations and expressions: only valid ones when ``clean``, else anything."""
    if clean:
        names = st.sampled_from([n for n in NAMES if n not in ("customer", "days", "m")])
        durations = st.builds(
            lambda a, u: f"{a} {u}", st.integers(1, 400), st.sampled_from(UNITS[:-1])
        )
        funcs = ["count", "sum", "max", "last", "distinct"]
        ops = [*OPS[:12], "and", "or"]
        numbers = st.one_of(
            st.integers(-(10**9), 10**9).map(str),
            st.floats(-1e9, 1e9).map(lambda f: f"{f:.3f}"),
        )
        windows = ["", " within 7 days", " where value > 1"]
    else:
        names = st.one_of(st.sampled_from(NAMES), st.sampled_from(KEYWORDS))
        amounts = st.one_of(
            st.integers(0, 400),
            st.sampled_from(["1000000000000", "9" * 5000, "36525", "36526", "1201", "²"]),
        )
        durations = st.builds(lambda a, u: f"{a} {u}", amounts, st.sampled_from(UNITS))
        funcs = ["count", "sum", "max", "last", "distinct", "eval", "__import__"]
        ops = [*OPS[:12], "and", "or", "**"]
        numbers = st.one_of(
            st.integers(-(10**16), 10**16).map(str),
            st.floats(allow_nan=False, allow_infinity=False).map(repr),
            st.sampled_from(["²", "1" * 40, "٣"]),
        )
        windows = ["", " within 7 days", " before p", " where value > 1", " within 0 d"]
    atoms = st.one_of(
        names,
        st.builds(lambda q, n: f"{q}.{n}", names, names),
        numbers,
        st.text(st.characters(codec="utf-8", exclude_characters='\n"\\'), max_size=6).map(
            lambda t: f'"{t}"'
        ),
        durations,
        st.sampled_from(["true", "false", "null"]),
        st.builds(
            lambda f, k, n, w: f"{f}({k}{'' if f == 'count' else n}{w})",
            st.sampled_from(funcs),
            names,
            st.sampled_from([".value", ".score"]),
            st.sampled_from(windows),
        ),
        st.builds(lambda f, a: f"{f}({a})", st.sampled_from(["abs", "lower", "length"]), names),
    )

    def combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(lambda a, o, b: f"{a} {o} {b}", children, st.sampled_from(ops), children),
            st.builds(lambda a: f"(not {a})", children),
            st.builds(lambda a: f"-{a}", children),
            st.builds(lambda a: f"({a})", children),
            st.builds(
                lambda a, items: f"{a} in [{', '.join(items)}]",
                children,
                st.lists(children, max_size=3),
            ),
        )

    return names, durations, st.recursive(atoms, combine, max_leaves=10)


BLOCKS = {clean: _building_blocks(clean) for clean in (True, False)}


@st.composite
def rule_texts(draw: st.DrawFn) -> str:
    """One or two rules built from the grammar: valid building blocks, or (half the time)
    anything, with random omissions."""
    out = []
    clean = draw(st.booleans())
    names, durations, exprs = BLOCKS[clean]
    for _ in range(draw(st.integers(1, 2))):
        name = draw(names)
        mode = draw(st.sampled_from(["event", "inactive", "absent", "then"]))
        kind, alias = draw(names), draw(names)
        if mode == "inactive":
            when = f"when inactive for {draw(durations)}"
        elif mode == "absent":
            when = f"when no {kind} where {draw(exprs)} for {draw(durations)}"
        else:
            when = f"when {kind} as {alias}" + draw(st.sampled_from(["", f" where {draw(exprs)}"]))
            if mode == "then":
                when += draw(
                    st.sampled_from(
                        [
                            f" then after {draw(durations)}",
                            f" then no {draw(names)} where {draw(exprs)} for {draw(durations)}",
                            f" then {draw(names)} where {draw(exprs)} within {draw(durations)}",
                        ]
                    )
                )
        clauses = [when, f"emit {draw(names)}(k = {draw(exprs)}, j = {draw(exprs)})"]
        quiet = (
            ["22:00-08:00", "00:00-23:59"] if clean else ["08:00-08:00", "24:00-01:00", "2:5-1:00"]
        )
        optional = [
            f"if {draw(exprs)}",
            f"cooldown {draw(durations)}",
            "once per customer" + draw(st.sampled_from(["", f" every {draw(durations)}"])),
            f"requires consent {draw(names)}",
            f"quiet hours {draw(st.sampled_from(quiet))}",
            "in customer timezone",
        ]
        if not clean or mode == "then":
            optional.append(f"unless {draw(names)} where {draw(exprs)}")
        clauses += draw(st.lists(st.sampled_from(optional), max_size=4, unique=True))
        clauses = draw(st.permutations(clauses))
        if not clean and draw(st.booleans()):
            clauses = clauses[1:]  # drop a required clause now and then
        colon = ":" if clean else draw(st.sampled_from([":", ""]))
        out.append(f"trigger {name}{colon}\n    " + "\n    ".join(clauses))
    if clean and len(out) == 2:
        out[1] = out[1].replace("trigger ", "trigger second_", 1)
    return "\n\n".join(out) + draw(st.sampled_from(["", "\n", " # end", "\n\n"]))


@FUZZ
@given(rule_texts())
def test_grammar_generated_rules(text: str) -> None:
    """Grammar-built rules parse (and round-trip and evaluate) or raise a CXModelError."""
    attempt_text(text, run=True)


# -- token mutations of the examples ----------------------------------------------------------
TOKEN = re.compile(r"\s+|#[^\n]*|\w+|\"[^\"\n]*\"|==|!=|<=|>=|\?\?|.", re.UNICODE)
EXAMPLE_TOKENS = TOKEN.findall(EXAMPLE_RULES)
replacements = st.one_of(
    st.sampled_from(KEYWORDS),
    st.sampled_from(OPS),
    st.sampled_from(WEIRD),
    st.sampled_from(NAMES),
    st.sampled_from(["0", "1000000000000", "9" * 4400, "1.5", "00", "²", "30 days"]),
    st.text(max_size=3),
)


@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    tokens = list(EXAMPLE_TOKENS)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(tokens) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "replace", "insert"]))
        if op == "delete":
            del tokens[i]
        elif op == "duplicate":
            tokens.insert(i, tokens[i])
        elif op == "swap" and i + 1 < len(tokens):
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        elif op == "replace":
            tokens[i] = draw(replacements)
        else:
            tokens.insert(i, draw(replacements))
    return "".join(tokens)


@FUZZ
@given(mutated_examples())
def test_token_mutations_of_the_examples(text: str) -> None:
    """Mutated example rules parse and round-trip, or raise a CXModelError."""
    attempt_text(text)


# -- JSON mutations ---------------------------------------------------------------------------
EXAMPLE_DICT = parse(EXAMPLE_RULES).to_dict()
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=5),
        st.sampled_from(["**", "eval", "__import__", "evnt", "after", "years", "x", "2e308"]),
    ),
    lambda c: st.one_of(
        st.lists(c, max_size=3), st.dictionaries(st.text(max_size=4), c, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


DEEP = "@@DEEP@@"


@st.composite
def mutated_json(draw: st.DrawFn) -> str:
    data = copy.deepcopy(EXAMPLE_DICT)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if len(paths) < 2:
            break
        path = draw(st.sampled_from(paths[1:]))
        parent, key = _get(data, path[:-1]), path[-1]
        op = draw(st.sampled_from(["drop", "rename", "value", "op", "deep", "copy"]))
        if op == "drop":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["when_", "op", "kind", "Type", "", key + "x"]))] = (
                parent.pop(key)
            )
        elif op == "value":
            parent[key] = draw(json_values)
        elif op == "op":
            parent[key] = draw(st.sampled_from(["**", "^", "eval", "__import__", "evnt", "in"]))
        elif op == "deep":
            parent[key] = DEEP
        else:
            parent[key] = copy.deepcopy(_get(data, draw(st.sampled_from(paths))))
    text = json.dumps(data)
    depth = draw(st.sampled_from([5, 150, 3000]))
    deep = '{"type": "unary", "op": "not", "operand": ' * depth
    deep += '{"type": "literal", "value": true}' + "}" * depth
    return text.replace(json.dumps(DEEP), deep)


@FUZZ
@given(mutated_json())
def test_json_mutations(text: str) -> None:
    """Mutated JSON rules load and round-trip, or raise a CXModelError."""
    attempt_json(text)


@FUZZ
@given(json_values)
def test_arbitrary_json_documents(value: Any) -> None:
    """Any JSON document given to from_json gives rules or a CXModelError."""
    attempt_json(json.dumps(value))
    attempt_json(json.dumps({"version": 1, "rules": [value]}))


@pytest.mark.parametrize("n", [329, 600, 5000])
def test_long_flat_chains(n: int) -> None:
    """Flat chains as long as a rule-builder UI writes them parse, check, print, round-trip
    and evaluate."""
    products = " or ".join(f'product == "p{i}"' for i in range(n))
    sums = " + ".join(["value"] * n)
    text = (
        f"trigger many:\n    when purchase as p where {products}\n"
        f"    if {sums} > 0\n    emit x(total = {sums})"
    )
    rules = parse(text, schema=dict(LOG.schema), kinds=list(LOG.kinds))
    round_trips(rules)
    fired = evaluate(rules, LOG, as_of=AS_OF)
    assert [f.customer_id for f in fired] == ["a"]
