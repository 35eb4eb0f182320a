"""The one check every analysis that takes interaction kinds runs on them.

A kind asked for by name is either

* in the log's ``kind`` vocabulary: fine, even if a filter left it no rows;
* a standard kind (:data:`cxmodel.STANDARD_KINDS`) the log does not hold: not a typo (a month
  without refunds is a normal month), so no error; the result counts zero rows of it and the
  analyses for which that zero would be misleading warn (:class:`~cxmodel.errors.DataWarning`);
* anything else: almost surely a typo, so :class:`~cxmodel.errors.SchemaError` names it with
  a did-you-mean taken from the log's kinds and the standard ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher, get_close_matches
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cxmodel._pieces import warn
from cxmodel._spelling import Argument, ArgumentWarning
from cxmodel.domain import STANDARD_KINDS
from cxmodel.errors import DataWarning, SchemaError, did_you_mean

if TYPE_CHECKING:
    from cxmodel.log._log import InteractionLog

__all__ = [
    "absent_kinds",
    "check_kinds",
    "kind_rows",
    "kinds_in",
    "lookalike_kinds",
    "read_kinds",
    "warn_absent_kinds",
    "warn_case_variants",
    "warn_lookalike_names",
    "warn_unused_renames",
]


def kind_rows(log: InteractionLog, kinds: Iterable[str]) -> npt.NDArray[np.bool_]:
    """Rows of ``kinds``, without the check: for a piece of a log (a partition may lack a kind
    the data has), whose kinds are checked once against every piece's vocabulary.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a", "a"], [0, 1], ["view", "order"])
    >>> kind_rows(log, ["order", "refund"]).tolist()
    [False, True]
    """
    return kinds_in(*log.categorical("kind"), kinds)


def kinds_in(
    codes: npt.NDArray[np.int32], categories: npt.NDArray[np.object_], kinds: Iterable[str]
) -> npt.NDArray[np.bool_]:
    """Rows whose kind (``codes`` into ``categories``) is one of ``kinds``, unchecked.

    Examples
    --------
    >>> kinds_in(np.array([1, 0, 1]), np.array(["order", "view"], dtype=object), ["view"]).tolist()
    [True, False, True]
    """
    if not categories.size:
        return np.zeros(codes.shape[0], dtype=bool)
    wanted: npt.NDArray[np.bool_] = np.isin(categories, list(kinds))[codes]
    return wanted


def check_kinds(
    vocabulary: Iterable[Any], kinds: Iterable[Any], *, argument: str
) -> tuple[str, ...]:
    """Validate ``kinds`` against a log's kind ``vocabulary``; return the absent standard kinds.

    Parameters
    ----------
    vocabulary
        The kinds the log holds (``log.kinds``).
    kinds
        The kinds asked for.
    argument
        How the caller names the argument in messages, e.g. ``"steps"`` or ``"kind_mask()"``.

    Returns
    -------
    tuple of str
        The standard kinds among ``kinds`` that the log does not hold (in the order asked).

    Raises
    ------
    SchemaError
        A kind that is not a string, or neither in the log nor a standard kind.

    Examples
    --------
    >>> check_kinds(["view", "purchase"], ["view", "refund"], argument="kinds")
    ('refund',)
    >>> check_kinds(["view", "purchase"], ["purchse"], argument="kinds")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: kinds: unknown kind 'purchse' (not in the log and not a standard kind); did you mean 'purchase'?
    """
    known = {str(k) for k in vocabulary}
    absent: list[str] = []
    for kind in kinds:
        if not isinstance(kind, str):
            raise SchemaError(
                f"{argument}: kind {kind!r} is a {type(kind).__name__}; expected a kind name (str)"
            )
        if kind in known:
            continue
        if kind in STANDARD_KINDS:
            if kind not in absent:
                absent.append(kind)
            continue
        raise SchemaError(f"{argument}: unknown kind {kind!r} {_hint(kind, known)}")
    return tuple(absent)


def _hint(kind: str, known: set[str]) -> str:
    candidates = sorted(known | set(STANDARD_KINDS))
    close = get_close_matches(kind, candidates, n=1)
    if not close:  # case slips: "Purchase", "VIEW"
        folded = {c.casefold(): c for c in candidates}
        close = [folded[kind.casefold()]] if kind.casefold() in folded else []
    where = "(not in the log and not a standard kind)"
    if close:
        return f"{where}; did you mean {close[0]!r}?"
    return f"{where}; kinds in the log: {sorted(known)}"


def absent_kinds(vocabulary: Iterable[Any], kinds: Iterable[str]) -> tuple[str, ...]:
    """The ``kinds`` not in ``vocabulary`` (no validation), in the order given."""
    known = {str(k) for k in vocabulary}
    return tuple(dict.fromkeys(k for k in kinds if k not in known))


def warn_absent_kinds(absent: tuple[str, ...], *, argument: str, meaning: str) -> None:
    """Warn (:class:`~cxmodel.errors.DataWarning`) that ``absent`` kinds never occur in the log.

    ``meaning`` says what the result then holds, e.g. ``"their steps count 0"``.
    """
    if not absent:
        return
    names = ", ".join(repr(k) for k in absent)
    what = f"kind {names} does not" if len(absent) == 1 else f"kinds {names} do not"
    warn(
        f"{argument}: {what} occur in the log, so {meaning}; check that the export holds "
        "these events",
        DataWarning,
    )


def read_kinds(
    vocabulary: Iterable[Any], kinds: Iterable[Any], *, argument: str, meaning: str
) -> None:
    """The check of an analysis whose result is empty without rows of ``kinds``:
    :func:`check_kinds` (a typo raises), then, when none of ``kinds`` occurs in the log,
    :func:`warn_absent_kinds` (``meaning`` says what the result then is). One absent kind
    among others present is normal (a month without refunds) and passes silently; no kind at
    all is a :class:`~cxmodel.errors.SchemaError`.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     read_kinds(["order"], ["purchase"], argument="rfm_scores() kind",
    ...         meaning="no customer has a score")
    >>> print(caught[0].message)
    rfm_scores() kind: kind 'purchase' does not occur in the log, so no customer has a score; check that the export holds these events
    """
    kinds = list(kinds)
    if not kinds:  # an empty selection: every result would be empty without a word
        raise SchemaError(f"{argument}: no kind given; name at least one, e.g. 'purchase'")
    absent = check_kinds(vocabulary, kinds, argument=argument)
    if len(absent) == len(set(kinds)):
        warn_absent_kinds(absent, argument=argument, meaning=meaning)


_LOOKALIKE_RATIO = 0.85  # "purchse", "purchases", "chekout" pass; "ticket_closed", "review" do not


def lookalike_kinds(vocabulary: Iterable[Any]) -> dict[str, tuple[str, ...]]:
    """The kinds of a log that look like a standard kind they are not, by standard kind.

    A kind equal to a standard one but for case or surrounding spaces (``"Purchase"``,
    ``"view "``) always looks like it: its rows are not counted as that kind. A kind close in
    spelling (``"purchse"``, ``"purchases"``) looks like a standard kind only when the log does
    not hold that kind, since ``"ticket_reopened"`` next to ``"ticket_opened"`` is a kind of its
    own. An export whose kinds are misspelt gives analyses that find none of the standard kinds;
    this says which kinds to map (``kinds=`` of the readers).

    Examples
    --------
    >>> lookalike_kinds(["Purchase", "purchse", "view", "view ", "order"])
    {'purchase': ('Purchase', 'purchse'), 'view': ('view ',)}
    >>> lookalike_kinds(["ticket_opened", "ticket_reopened"]), lookalike_kinds(["ticket_reopened"])
    ({}, {'ticket_opened': ('ticket_reopened',)})
    """
    known = sorted({str(k) for k in vocabulary})
    held = set(known)
    absent = [k for k in sorted(STANDARD_KINDS) if k not in held]
    found: dict[str, list[str]] = {}
    for kind in known:
        match = _lookalike(kind, absent)
        if match is not None:
            found.setdefault(match, []).append(kind)
    return {k: tuple(v) for k, v in sorted(found.items())}


def _lookalike(kind: str, standard: Iterable[str]) -> str | None:
    """The one of the ``standard`` kinds ``kind`` looks like but is not (see
    :func:`lookalike_kinds`), or ``None``."""
    if kind in STANDARD_KINDS:
        return None
    folded = kind.strip().casefold()
    if folded in STANDARD_KINDS:
        return folded
    best = max(((SequenceMatcher(None, folded, k).ratio(), k) for k in standard), default=None)
    return best[1] if best is not None and best[0] >= _LOOKALIKE_RATIO else None


def warn_unused_renames(renames: Iterable[str], vocabulary: Iterable[Any]) -> None:
    """Warn (an :class:`~cxmodel._spelling.ArgumentWarning` about ``Argument.KINDS``) about
    the event names of ``kinds=`` that no row has (``vocabulary``: the kinds as read): a
    misspelt name renames nothing, and its events stay under the export's own name without a
    word.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_unused_renames(["payment_don"], ["payment_done", "page"])
    >>> print(caught[0].message)
    kinds maps 'payment_don', which no row has, so it renames nothing; did you mean 'payment_done'?
    """
    held = {str(k) for k in vocabulary}
    for name in sorted(set(renames) - held):
        warn(
            ArgumentWarning.about(
                Argument.KINDS,
                f" maps {name!r}, which no row has, so it renames nothing"
                + did_you_mean(name, held),
            ),
        )


def warn_lookalike_names(
    names: Iterable[str], vocabulary: Iterable[Any], *, argument: Argument
) -> None:
    """Warn (an :class:`~cxmodel._spelling.ArgumentWarning` about ``argument``) about each kind
    a reader was told to log rows as (``kinds=`` targets, ``kind=``) that looks like a standard
    kind it is not, as :func:`lookalike_kinds` judges against the log's kind ``vocabulary``:
    ``kinds={"order": "purchses"}`` logs orders that no analysis counts as purchases. The rows
    keep the name given; the warning says which standard kind it resembles.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_lookalike_names(["purchse", "order"], ["purchse", "order"],
    ...                          argument=Argument.KINDS)
    >>> print(caught[0].message)
    kinds: 'purchse' is not a standard kind; did you mean 'purchase'? Its rows are kept as 'purchse' and no analysis counts them as 'purchase'
    """
    looks_like = {
        kind: match for match, kinds in lookalike_kinds(vocabulary).items() for kind in kinds
    }
    for name in sorted(set(names) & looks_like.keys()):
        match = looks_like[name]
        warn(
            ArgumentWarning.about(
                argument,
                f": {name!r} is not a standard kind; did you mean {match!r}? Its rows are "
                f"kept as {name!r} and no analysis counts them as {match!r}",
            ),
        )


def warn_case_variants(
    codes: npt.NDArray[np.int32],
    categories: npt.NDArray[np.object_],
    kinds: Iterable[str],
    *,
    argument: str,
) -> None:
    """Warn (:class:`~cxmodel.errors.DataWarning`) about the rows of a kind that is one of
    ``kinds`` but for case or surrounding spaces (``"Survey"``, ``" purchase"`` for
    ``"survey"``, ``"purchase"``): they are not counted as that kind, so an export that writes
    ``Survey`` for most answers and ``survey`` for a few gets an NPS of the few, without a word.
    A standard kind is never such a variant (asked for ``"Survey"``, the ``"survey"`` rows are
    of their own kind). ``codes`` index the kind ``categories`` row by row (-1: missing);
    ``argument`` names the caller.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_case_variants(np.array([0, 0, 1]), np.array(["Survey", "survey"], dtype=object),
    ...                        ["survey"], argument="nps()")
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    nps(): the log holds 'Survey' (2 rows), the kind 'survey' in another case or with spaces: ...
    """
    wanted = {kind.strip().casefold(): kind for kind in kinds if isinstance(kind, str)}
    variants = [
        (code, str(name), wanted[str(name).strip().casefold()])
        for code, name in enumerate(categories.tolist())
        if str(name).strip().casefold() in wanted
        and str(name) not in wanted.values()
        and str(name) not in STANDARD_KINDS
    ]
    if not variants:
        return
    counts = np.bincount(codes[codes >= 0], minlength=categories.shape[0])
    for code, name, kind in variants:
        if counts[code]:
            rows = f"{int(counts[code]):,} row" + ("" if counts[code] == 1 else "s")
            warn(
                f"{argument}: the log holds {name!r} ({rows}), the kind {kind!r} in another case "
                f"or with spaces: its rows are not counted as {kind!r}; read the data with "
                f"kinds={{{name!r}: {kind!r}}} if they are the same",
                DataWarning,
            )
