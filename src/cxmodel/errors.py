"""The exceptions cxmodel raises.

Every error derives from :class:`CXModelError` and also from the builtin it refines, so
``except ValueError`` keeps working for callers who do not know cxmodel.

Examples
--------
>>> from cxmodel.errors import CXModelError, SchemaError
>>> issubclass(SchemaError, ValueError) and issubclass(SchemaError, CXModelError)
True
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

__all__ = [
    "CXModelError",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "EvaluationLimitError",
    "IndexOutOfRangeError",
    "MissingDependencyError",
    "NotFittedError",
    "NotFoundError",
    "RowSchemaError",
    "SchemaError",
    "StoreError",
    "TriggerSyntaxError",
    "TriggerTypeError",
    "ValueTypeError",
    "counted_warning",
]


class CXModelError(Exception):
    """Base class of every error raised by cxmodel."""


class SchemaError(CXModelError, ValueError):
    """Input data do not match the expected schema: a column, type, scale or value is wrong."""


class RowSchemaError(SchemaError):
    """A :class:`SchemaError` about one rejected input row, the first of ``more`` + 1.

    ``position`` is the row's 0-based position in the input, ``reason`` what is wrong with
    it, and ``source`` the file or argument read (``None`` if none). A caller that built a log
    from a piece of the user's data (a Dask partition) uses them to name the row as the user
    knows it.

    Examples
    --------
    >>> error = RowSchemaError("row 3: kind 5 is not text", 2, "kind 5 is not text", 0)
    >>> isinstance(error, SchemaError), error.position
    (True, 2)
    """

    def __init__(
        self, message: str, position: int, reason: str, more: int, source: str | None = None
    ) -> None:
        super().__init__(message)
        self.position = position
        self.reason = reason
        self.more = more
        self.source = source

    def __reduce__(self) -> tuple[object, ...]:  # keeps its fields across processes
        return (type(self), (str(self), self.position, self.reason, self.more, self.source))


class DataError(CXModelError, ValueError):
    """A request cannot be answered from the data given (empty input, unknown customer, ...)."""


class NotFoundError(CXModelError, KeyError):
    """A name looked up is not there: a rule, a trigger, a touchpoint, a stop-word language.

    The message names what was looked up, lists or suggests what is there.
    """

    def __str__(self) -> str:
        # KeyError quotes its argument; a sentence reads better unquoted
        return str(self.args[0]) if self.args else ""


class IndexOutOfRangeError(CXModelError, IndexError):
    """A position outside a sequence's range."""


class ValueTypeError(CXModelError, TypeError):
    """A value of a type the operation cannot take: a rule expression used as a bool, values
    that cannot be ordered against each other, a value JSON cannot hold."""


class MissingDependencyError(CXModelError, ImportError):
    """An optional dependency needed by the called feature is not installed."""


class NotFittedError(CXModelError, AttributeError):
    """A model was used before ``fit`` was called."""


class ConvergenceError(CXModelError, RuntimeError):
    """An optimiser failed from every starting point; ``diagnostics`` says how."""

    def __init__(self, message: str, diagnostics: object = None) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


class TriggerSyntaxError(CXModelError, ValueError):
    """Rule text that does not parse. ``errors`` lists every diagnostic found."""

    def __init__(self, message: str, errors: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.errors = errors


class TriggerTypeError(CXModelError, ValueError):
    """Rule text that parses but does not type-check against the schema."""

    def __init__(self, message: str, errors: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.errors = errors


class EvaluationLimitError(CXModelError, RuntimeError):
    """Evaluating a rule or expression exceeded its cost bound."""


class StoreError(CXModelError, RuntimeError):
    """A trigger state store cannot be opened, read or written: the file is held by another
    engine, corrupt, not a store, or a commit failed (the engine is left as before the call)."""


class DataWarning(UserWarning):
    """An answer that is right but easy to misread: input rows set aside under
    ``errors="quarantine"`` (the message gives the count; ``log.rejected`` lists each row with
    its reason), a requested kind that never occurs in the log, session ids interleaved across
    sessions, ... The message says what the result means and what to do."""


class ConvergenceWarning(UserWarning):
    """A model fit stopped without meeting its convergence test; the estimates are the best
    point found and ``diagnostics`` (on the fitted model) says how the optimiser ended."""


def counted_warning(category: type[Warning], template: str, **counts: int) -> Warning:
    """A warning whose message is ``template.format(**counts)`` and which keeps ``template``
    and ``counts``, so that the warnings of pieces of one analysis (the partitions of
    :mod:`cxmodel.dask`) add up to the warning of the whole. Raise it with ``warnings.warn``.

    Parameters
    ----------
    category : type of Warning
        The warning's class, e.g. :class:`DataWarning`.
    template : str
        The message with a ``{name}`` field per count (format specs allowed: ``{rows:,}``).
    **counts : int
        The counts the fields show; pieces' warnings of one template add them.

    Returns
    -------
    Warning
        An instance of ``category`` with ``template`` and ``counts`` attributes.

    Examples
    --------
    >>> w = counted_warning(DataWarning, "{rows:,} row(s) set aside", rows=1200)
    >>> type(w).__name__, str(w), w.counts
    ('DataWarning', '1,200 row(s) set aside', {'rows': 1200})
    """
    warning = category(template.format(**counts))
    warning.template = template  # type: ignore[attr-defined]
    warning.counts = dict(counts)  # type: ignore[attr-defined]
    return warning


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """A hint naming the closest of ``known`` to ``name``, or an empty string (always for a
    ``name`` that is not text: a lookup by a wrong key still reports that key).

    Examples
    --------
    >>> did_you_mean("purchse", ["view", "purchase"])
    "; did you mean 'purchase'?"
    >>> did_you_mean("NPS ", ["ces", "nps"])  # another case, spaces around
    "; did you mean 'nps'?"
    >>> did_you_mean("zzz", ["view"]), did_you_mean(5, ["view"])
    ('', '')
    """
    if not isinstance(name, str):
        return ""
    known = list(known)
    folded = name.strip().casefold()
    same = [k for k in known if k.strip().casefold() == folded and k != name]
    if same:
        return f"; did you mean {same[0]!r}?"
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


_MAX_SPELLING_IDS = 100_000


def _normal_id(text: str) -> str:
    """Case-folded, with leading zeros dropped from every run of digits: C00042 -> c42."""
    return re.sub(r"\d+", lambda m: m.group().lstrip("0") or "0", text.strip().casefold())


def similar_ids(wanted: str, ids: list[str], n: int = 3) -> list[str]:
    """Ids that ``wanted`` probably meant: equal up to case and zero padding, else close ones
    (spelling is compared only among at most 100,000 ids, to answer in well under a second).

    Examples
    --------
    >>> similar_ids("c42", ["C00041", "C00042", "C00420"])
    ['C00042']
    >>> similar_ids("C0042", ["C00041", "C00042", "D99999"])
    ['C00042']
    >>> similar_ids("alice", ["alicia", "bob"])
    ['alicia']
    """
    key = _normal_id(wanted)
    exact = [i for i in ids if _normal_id(i) == key]
    if exact or len(ids) > _MAX_SPELLING_IDS:
        return exact[:n]
    folded: dict[str, str] = {}
    for i in ids:
        folded.setdefault(i.casefold(), i)
    close = difflib.get_close_matches(wanted.casefold(), list(folded), n=n, cutoff=0.6)
    return [folded[c] for c in close]
