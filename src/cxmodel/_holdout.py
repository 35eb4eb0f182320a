"""Holdout assignment: where a customer falls in [0, 1) for a named experiment.

Shared by the trigger rules (``holdout P%``) and the next best action (``holdout=P``), so a
customer's assignment is defined once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import got
from cxmodel.errors import ValueTypeError

__all__ = ["held_out_customers", "holdout_fraction"]


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
