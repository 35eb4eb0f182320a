"""Holdout assignment: where a customer falls in [0, 1) for a named experiment.

Shared by the trigger rules (``holdout P%``) and the next best action (``holdout=P``), so a
customer's assignment is defined once.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import got
from cxmodel._pieces import warn
from cxmodel.errors import DataWarning, SchemaError, ValueTypeError

__all__ = [
    "held_out_customers",
    "holdout_fraction",
    "holdout_percent",
    "percent_text",
    "warn_if_share",
]

_PERCENT_TEXT = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*%\s*")


def holdout_fraction(rule: str, salt: str | None, customer_id: str) -> float:
    """Where ``customer_id`` falls in [0, 1) for a rule's holdout: the first 8 bytes of the
    SHA-256 of the JSON text ``[rule, salt, customer_id]`` (``salt`` ``None`` is ``""``) as a
    big-endian integer, divided by 2**64.

    A customer is held out of ``holdout P%`` when this is below ``P / 100``. It depends only on
    the three strings, so it is the same in every run, process and Python version (Python's
    ``hash`` is not); rules with different names, or one rule with a new salt, assign
    customers independently.

    Parameters
    ----------
    rule : str
        The rule's name.
    salt : str or None
        The holdout's salt (``None`` is ``""``).
    customer_id : str
        The customer, as text: the engine reads ids as text, so ``123`` and ``"123"`` would
        hash apart.

    Raises
    ------
    ValueTypeError
        When ``rule`` or ``customer_id`` is not text, or ``salt`` is neither text nor ``None``.

    Examples
    --------
    >>> round(holdout_fraction("win_back", None, "c1"), 6)
    0.175059
    >>> holdout_fraction("win_back", None, "c1") == holdout_fraction("win_back", "", "c1")
    True
    """
    for name, value in (("rule", rule), ("customer_id", customer_id)):
        if not isinstance(value, str):
            raise ValueTypeError(f"holdout_fraction(): {name} must be text; got {got(value)}")
    if salt is not None and not isinstance(salt, str):
        raise ValueTypeError(f"holdout_fraction(): salt must be text or None; got {got(salt)}")
    return _fraction(rule, salt, customer_id)


def _fraction(rule: str, salt: str | None, customer_id: str) -> float:
    """:func:`holdout_fraction` of arguments known to be text."""
    text = json.dumps([rule, salt or "", customer_id], ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def held_out_customers(
    name: str, salt: str | None, share: float, customer_ids: Iterable[str]
) -> npt.NDArray[np.bool_]:
    """Whether each customer is held out of experiment ``name`` at ``share`` (in [0, 1]):
    :func:`holdout_fraction` below ``share``. One hash per customer (SHA-256 has no array
    form in the standard library).

    Examples
    --------
    >>> held_out_customers("win_back", None, 0.2, ["c1", "c2", "c3"]).tolist()
    [True, True, False]
    """
    ids = [str(c) for c in customer_ids]
    return np.array([_fraction(name, salt, c) < share for c in ids], dtype=bool)


def percent_text(value: Any) -> float | None:
    """The number of a percentage written as text with its sign (``"0.5%"``, as the trigger
    language's ``holdout 0.5%``), else ``None``.

    Examples
    --------
    >>> percent_text("0.5%"), percent_text(" 12.5 % "), percent_text("10"), percent_text(10)
    (0.5, 12.5, None, None)
    """
    if not isinstance(value, str) or _PERCENT_TEXT.fullmatch(value) is None:
        return None
    return float(value.strip()[:-1])


def warn_if_share(value: Any, where: str, name: str) -> None:
    """Warn (:class:`~cxmodel.errors.DataWarning`) when a holdout given as a number of percent
    lies strictly between 0 and 1: most likely a share (``0.5`` for a half, as scikit-learn's
    ``test_size``) that would hold out a hundred times fewer customers than meant.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     warn_if_share(0.5, "f()", "holdout")
    >>> print(seen[0].message)
    f(): holdout=0.5 is read as 0.5 % of the customers (1 in 200), not as a share of them: for half of them write holdout=50; to hold out 0.5 % without this warning write holdout='0.5%'
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and 0.0 < float(value) < 1.0:
        number = float(value)
        warn(
            f"{where}: {name}={number:g} is read as {number:g} % of the customers "
            f"(1 in {100.0 / number:,.0f}), not as a share of them: for half of them write "
            f"{name}=50; to hold out {number:g} % without this warning write "
            f"{name}='{number:g}%'",
            DataWarning,
        )


def holdout_percent(value: Any, where: str, name: str = "holdout") -> float:
    """``value`` as the percentage of customers held out: a number strictly between 0 and 100,
    or text with its percent sign (``"0.5%"``).

    A number strictly between 0 and 1 warns (:func:`warn_if_share`): ``0.5`` is 0.5 %, not a
    half; the same percentage as text (``"0.5%"``) says it is meant and does not warn.

    Raises
    ------
    SchemaError
        A value outside (0, 100), NaN, an infinity, a bool, or text that is not a percentage
        with its sign (naming the value).

    Examples
    --------
    >>> holdout_percent(10, "f()"), holdout_percent("0.5%", "f()")
    (10.0, 0.5)
    >>> holdout_percent(150, "f()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: f(): holdout must be a percentage strictly between 0 and 100 (e.g. holdout=10 for 10 %, or holdout='0.5%'); got int 150
    """
    explicit = percent_text(value)
    number = explicit
    if number is None:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:  # an int past the largest float is past 100 too
                number = math.inf
        else:
            number = math.nan
    if not 0.0 < number < 100.0:  # refuses NaN and infinities too
        hint = ""
        if isinstance(value, str):
            try:
                meant = float(value)
            except ValueError:
                meant = math.nan
            if 0.0 < meant < 100.0:
                hint = f": did you mean {name}={meant:g} (a number, not text)?"
        raise SchemaError(
            f"{where}: {name} must be a percentage strictly between 0 and 100 (e.g. "
            f"{name}=10 for 10 %, or {name}='0.5%'); got {got(value)}{hint}"
        )
    if explicit is None:
        warn_if_share(value, where, name)
    return number
