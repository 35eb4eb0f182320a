"""The aggregate functions of the rule language, each declared once.

An :class:`AggregateFunction` says everything the rest of the library needs: whether it takes a
property (``count(purchase)`` does not, ``sum(purchase.value)`` does) and whether that property
must be a number, its result type for the type checker, its value over no interactions, the
reduction of a list of values (the reference every evaluator agrees with), and the running
state the streaming engine keeps for it over all of a customer's history. The parser, the type
checkers, the batch evaluator and the streaming engine read :data:`AGGREGATE_FUNCTIONS`;
adding a function is one entry here (the batch evaluator has faster array kernels for the
built-in ones and reduces any other function's values group by group).

Examples
--------
>>> AGGREGATE_FUNCTIONS["max"].reduce([3.0, 7.0, 5.0])
7.0
>>> AGGREGATE_FUNCTIONS["median"].reduce([3.0, 7.0, 5.0, 1.0])
4.0
>>> AGGREGATE_FUNCTIONS["count"].empty
0.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

import attrs

__all__ = ["AGGREGATE_FUNCTIONS", "AggregateFunction", "RunningValue", "exact_sum"]


#: every finite float is a whole multiple of 2**-1074 (the smallest subnormal)
_UNIT_BITS = 1074


def _scaled(value: float) -> int:
    """``value`` (finite) in units of 2**-1074, exactly."""
    numerator, denominator = float(value).as_integer_ratio()
    return numerator << (_UNIT_BITS - (denominator.bit_length() - 1))


def _unscaled(total: int) -> float:
    """A whole number of units of 2**-1074 as a float, correctly rounded (an integer true
    division is); beyond the float range, infinity of its sign."""
    try:
        return total / (1 << _UNIT_BITS)
    except OverflowError:
        return math.inf if total > 0 else -math.inf


def exact_sum(values: Iterable[float]) -> float:
    """The sum of ``values`` correctly rounded (:func:`math.fsum`): the same whatever the
    order of the values or how they are grouped, so batch, streaming and Dask agree exactly.
    A sum beyond the float range (values near 1.8e308) is infinite, with its sign; one that
    passes beyond it on the way and comes back is exact all the same.

    Examples
    --------
    >>> exact_sum([0.1] * 10)
    1.0
    >>> exact_sum([1.7e308, 1.7e308]), exact_sum([1.7e308, 1.7e308, -1.7e308])
    (inf, 1.7e+308)
    """
    items = values if isinstance(values, Collection) else list(values)
    try:
        return math.fsum(items)
    except OverflowError:  # an intermediate sum beyond the float range: exact in integers
        return _unscaled(sum(_scaled(v) for v in items))


def _partials_add(partials: list[Any], value: float) -> list[Any]:
    """Add ``value`` to the exact sum held as non-overlapping ``partials`` (Shewchuk's
    algorithm, as :func:`math.fsum` runs it): a handful of floats whatever the count. A sum
    that leaves the float range is held from then on as one integer, in units of 2**-1074
    (:func:`_scaled`), exact whatever comes."""
    x = float(value)
    if partials and type(partials[0]) is int:
        partials[0] += _scaled(x)
        return partials
    kept = 0
    for at, y in enumerate(partials):
        if abs(x) < abs(y):
            x, y = y, x
        high = x + y
        if high - high != 0.0:  # beyond the float range: the lows kept, x and the rest
            total = sum(_scaled(p) for p in partials[:kept]) + _scaled(x) + _scaled(y)
            total += sum(_scaled(p) for p in partials[at + 1 :])
            partials[:] = [total]
            return partials
        low = y - (high - x)
        if low:
            partials[kept] = low
            kept += 1
        x = high
    del partials[kept:]
    partials.append(x)
    return partials


def _partials_sum(partials: list[Any]) -> float:
    """The sum :func:`_partials_add` holds, correctly rounded."""
    if partials and type(partials[0]) is int:
        return _unscaled(partials[0])
    return exact_sum(partials)


class RunningValue:
    """The running state of one aggregate over a stream of values: :meth:`add` each value
    (missing ones are never passed), read :meth:`value`; :meth:`to_list` and
    :meth:`from_list` give the JSON form a durable store keeps."""

    __slots__ = ("count", "state")

    def __init__(self, function: AggregateFunction) -> None:
        self.count = 0
        self.state: Any = function.start()

    def add(self, function: AggregateFunction, value: Any) -> None:
        """Take one value in."""
        self.count += 1
        self.state = function.step(self.state, value, self.count)

    def value(self, function: AggregateFunction) -> Any:
        """The aggregate so far (``function.empty`` before any value)."""
        if self.count == 0:
            return function.empty
        return function.finish(self.state, self.count)

    def copy(self) -> RunningValue:
        """An independent copy (a sum's partials and a distinct's set are copied; values
        are shared, as nothing changes them)."""
        out = RunningValue.__new__(RunningValue)
        out.count = self.count
        state = self.state
        out.state = state.copy() if isinstance(state, (list, set)) else state
        return out

    def to_list(self) -> list[Any]:
        """The JSON-ready form."""
        state = sorted(self.state, key=repr) if isinstance(self.state, set) else self.state
        return [self.count, state]

    @staticmethod
    def from_list(function: AggregateFunction, data: Sequence[Any]) -> RunningValue:
        """The running value :meth:`to_list` wrote."""
        out = RunningValue(function)
        out.count = int(data[0])
        state = data[1]
        out.state = set(state) if function.name == "distinct" else state
        return out


@attrs.frozen
class AggregateFunction:
    """One aggregate function (see the module docstring).

    ``step(state, value, count)`` returns the running state after ``value`` (the
    ``count``-th); ``finish(state, count)`` turns it into the result. ``orders``: it compares
    the values with each other, so a property holding text beside numbers is an error
    (a numeric function's values are numbers already).
    """

    name: str
    takes_field: bool
    numeric_field: bool
    result: str | None  # the result type, or None: the property's own type
    empty: Any  # the value over no interactions (None: missing)
    reduce: Callable[[list[Any]], Any]  # values in log order, none missing -> result
    start: Callable[[], Any]
    step: Callable[[Any, Any, int], Any]
    finish: Callable[[Any, int], Any]
    #: whether it compares its values with each other (text beside numbers cannot be)
    orders: bool = False

    def of(self, values: list[Any]) -> Any:
        """The aggregate of ``values`` (``empty`` when there are none)."""
        return self.reduce(values) if values else self.empty


def _listed(state: list[Any] | None, value: Any, count: int) -> list[Any]:
    out = [] if state is None else state
    out.append(value)
    return out


def _added(state: set[Any], value: Any) -> set[Any]:
    state.add(value)
    return state


def _median(values: list[Any]) -> float:
    ordered = sorted(float(v) for v in values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def _unsigned(value: Any) -> Any:
    """``value`` with the sign of a zero dropped (``-0.0`` is ``0.0``). ``-0.0 == 0.0``, so a
    min or max over both could keep either; each evaluator keeps ``0.0``, and so they agree
    (and one over ``-0.0`` alone gives ``0.0`` too). Text is left as it is."""
    return value + 0.0 if isinstance(value, float) else value


def _keep(choose: Callable[[Any, Any], bool]) -> Callable[[Any, Any, int], Any]:
    return lambda state, value, count: value if count == 1 or choose(value, state) else state


_FUNCTIONS = (
    AggregateFunction(
        "count", False, False, "float", 0.0,
        lambda values: float(len(values)),
        lambda: None, lambda state, value, count: None, lambda state, count: float(count),
    ),
    AggregateFunction(
        "sum", True, True, "float", 0.0,
        exact_sum,
        list, lambda state, value, count: _partials_add(state, value),
        lambda state, count: _partials_sum(state),
    ),
    AggregateFunction(
        "avg", True, True, "float", None,
        lambda values: exact_sum(values) / len(values),
        list, lambda state, value, count: _partials_add(state, value),
        lambda state, count: _partials_sum(state) / count,
    ),
    AggregateFunction(
        "median", True, True, "float", None,
        _median,
        lambda: None, _listed, lambda state, count: _median(state),
    ),
    AggregateFunction(
        "min", True, False, None, None,
        lambda values: _unsigned(min(values)),
        lambda: None, _keep(lambda value, best: value < best),
        lambda state, count: _unsigned(state), orders=True,
    ),
    AggregateFunction(
        "max", True, False, None, None,
        lambda values: _unsigned(max(values)),
        lambda: None, _keep(lambda value, best: value > best),
        lambda state, count: _unsigned(state), orders=True,
    ),
    AggregateFunction(
        "first", True, False, None, None,
        lambda values: values[0],
        lambda: None, _keep(lambda value, kept: False), lambda state, count: state,
    ),
    AggregateFunction(
        "last", True, False, None, None,
        lambda values: values[-1],
        lambda: None, lambda state, value, count: value, lambda state, count: state,
    ),
    AggregateFunction(
        "distinct", True, False, "float", 0.0,
        lambda values: float(len(set(values))),
        set, lambda state, value, count: _added(state, value),
        lambda state, count: float(len(state)),
    ),
)  # fmt: skip

#: Every aggregate function by name.
AGGREGATE_FUNCTIONS: dict[str, AggregateFunction] = {f.name: f for f in _FUNCTIONS}
