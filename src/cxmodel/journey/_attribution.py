"""Multi-touch attribution: rule-based models, Markov removal effects and exact Shapley values."""

from __future__ import annotations

from collections.abc import Sequence
from math import factorial
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import (
    finite_values,
    float_array,
    integer,
    interaction_log,
    name_sequence,
)
from cxmodel._pieces import warn, warn_counted
from cxmodel._result import Result
from cxmodel._sums import checked_total, grouped_sums
from cxmodel._time import DurationLike
from cxmodel.errors import DataError, DataWarning, SchemaError, counted_warning
from cxmodel.journey._common import duration_us, next_occurrence, row_mask
from cxmodel.journey._funnel import Step, check_steps, step_mask

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cxmodel.log import InteractionLog

__all__ = ["MODELS", "Attribution", "attribution", "markov_removal_effects", "shapley_values"]

MODELS = ("first", "last", "linear", "position", "time_decay", "markov", "shapley")
MAX_SHAPLEY_CHANNELS = 20
MAX_MARKOV_CHANNELS = 200  # one (K x K) solve per channel removed: seconds at 200, hours at 2,000
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@attrs.frozen(eq=False, repr=False)
class Attribution(Result):
    """Credit per channel under several models, side by side.

    Attributes
    ----------
    channels : ndarray of str
        Channel labels.
    models : tuple of str
        Model names, in the order asked.
    credit : ndarray of float64, shape (M, C)
        Conversions (or revenue) credited to each channel; each row sums to ``total``.
    total : float
        Attributed conversions (or revenue): conversions with at least one touch.
    unattributed : float
        Conversions (or revenue) without any touch in the lookback.
    removal_effects : ndarray of float64 or None
        Markov removal effect per channel, ``1 - P(conv without c) / P(conv)``; with
        ``revenue=True`` the value removal effect ``1 - V(without c) / V``.
    p_conversion : float or None
        Markov probability of conversion from START.
    """

    channels: npt.NDArray[np.object_]
    models: tuple[str, ...]
    credit: FloatArray
    total: float
    unattributed: float
    removal_effects: FloatArray | None = None
    p_conversion: float | None = None

    _frame_index = "channel"
    _dict_lists = True

    def _rows(self) -> dict[Any, Any]:
        """One row per channel, one column per model."""
        out: dict[str, Any] = {"channel": self.channels.tolist()}
        for m, row in zip(self.models, self.credit, strict=True):
            out[m] = row.tolist()
        return out

    def _details(self) -> dict[str, Any]:
        return {"total": self.total, "unattributed": self.unattributed}

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw each channel's share of the credit, one series per model (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_attribution`.
        """
        from cxmodel.plot import plot_attribution

        return plot_attribution(self, ax, **kwargs)


def markov_removal_effects(
    counts: npt.ArrayLike,
    start: int,
    conv: int,
    null: int,
    conv_value: npt.ArrayLike | None = None,
) -> tuple[float, FloatArray]:
    """Exact absorbing-chain conversion probability and removal effect of each transient state.

    ``counts`` is a square transition-count matrix over all states. States ``conv`` and
    ``null`` are absorbing; the rest are transient. With ``Q`` the transient block and
    ``R`` the transient-to-absorbing block, absorption probabilities are ``(I - Q)^-1 R``
    (``np.linalg.solve``). Removing a state redirects every transition into it to ``null``.
    Returns ``(P(conv | start), effects)``, effects indexed like ``counts`` (0 for
    ``start``, ``conv`` and ``null``).

    With ``conv_value`` (one number per state: the value a conversion earns when it is
    entered from that state, e.g. the mean revenue of those conversions) the chain is a
    reward chain: the first number returned is the *expected value* from ``start``,
    ``(I - Q)^-1 (R_conv * conv_value)``, and the removal effect of ``s`` is
    ``1 - V_without_s / V``. Transition probabilities stay count-based, so multiplying all
    values by a constant changes nothing but ``V``.

    Parameters
    ----------
    counts : array-like, shape (K, K)
        Transition counts between all states (``counts[i, j]``: ``i`` followed by ``j``).
    start, conv, null : int
        The indexes of the start state and of the absorbing conversion and loss states.
    conv_value : array-like, shape (K,), optional
        The value a conversion earns when entered from each state (a reward chain).

    Examples
    --------
    >>> # START -> A -> CONV and START -> B -> NULL
    >>> c = [[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0] * 5, [0] * 5]
    >>> p, re = markov_removal_effects(c, start=0, conv=3, null=4)
    >>> p, re.tolist()
    (0.5, [0.0, 1.0, 0.0, 0.0, 0.0])
    >>> # the same chain when A's conversions are worth 10 each: expected value 5
    >>> markov_removal_effects(c, 0, 3, 4, conv_value=[0, 10, 0, 0, 0])[0]
    5.0
    """
    where = "markov_removal_effects()"
    c = float_array(counts, where, "counts", ndim=2)
    k = c.shape[0]
    if c.shape != (k, k):
        raise SchemaError(f"{where}: counts must be a square matrix; got shape {c.shape}")
    start = integer(start, where, "start", minimum=0)
    conv = integer(conv, where, "conv", minimum=0)
    null = integer(null, where, "null", minimum=0)
    if len({start, conv, null}) < 3 or max(start, conv, null) >= k:
        raise SchemaError(
            f"{where}: start, conv and null must be three different states in 0..{k - 1}; "
            f"got {start}, {conv}, {null}"
        )
    reward = np.ones(k) if conv_value is None else float_array(conv_value, where, "conv_value")
    if reward.shape != (k,):
        raise SchemaError(
            f"{where}: conv_value must have one entry per state ({k}); got shape {reward.shape}"
        )
    for name, values in (("counts", c), ("conv_value", reward)):
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise SchemaError(
                f"{where}: {name}{list(at)} is {float(values[at])!r}; expected finite numbers >= 0"
            )
    transient = np.array([i for i in range(k) if i not in (conv, null)])
    rows = c.sum(axis=1, keepdims=True)
    p = np.divide(c, rows, out=np.zeros_like(c), where=rows > 0)
    # states never left, and loops the chain never leaves (A -> B -> A), reach neither
    # conv nor null: they never convert, so they are lost (else I - Q is singular)
    stuck = transient[~_reaches(p > 0, (conv, null))[transient]]
    p[stuck] = 0.0
    p[stuck, null] = 1.0

    def absorb(pm: FloatArray) -> float:
        q = pm[np.ix_(transient, transient)]
        r = pm[transient, conv] * reward[transient]
        x = np.linalg.solve(np.eye(len(transient)) - q, r)
        return float(x[int(np.flatnonzero(transient == start)[0])])

    base = absorb(p)
    effects = np.zeros(k)
    for s in transient.tolist():
        if s == start:
            continue
        pm = p.copy()
        pm[:, null] += pm[:, s]
        pm[:, s] = 0.0
        pm[s, :] = 0.0
        pm[s, null] = 1.0
        effects[s] = 1.0 - absorb(pm) / base if base > 0 else 0.0
    return base, effects


def _reaches(edges: npt.NDArray[np.bool_], targets: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    """The states from which a path along ``edges`` leads to one of ``targets``."""
    seen = np.zeros(edges.shape[0], dtype=bool)
    seen[list(targets)] = True
    while True:
        grown = seen | edges[:, seen].any(axis=1)
        if np.array_equal(grown, seen):
            return seen
        seen = grown


def shapley_values(masks: npt.ArrayLike, weights: npt.ArrayLike, n_players: int) -> FloatArray:
    """Exact Shapley values for ``v(S) = sum of weights of journeys whose channel set is within S``.

    ``masks`` are channel sets as bit masks. ``v`` is built on all ``2**n`` coalitions with a
    subset-sum (zeta) transform; ``phi_i = sum_S |S|! (n - |S| - 1)! / n! (v(S+i) - v(S))``.

    Parameters
    ----------
    masks : array-like of int
        Each journey's channel set as a bit mask (bit ``i``: player ``i``).
    weights : array-like of float
        Each journey's weight (1 per conversion, or its revenue).
    n_players : int
        The number of channels (at most 20: the coalitions are enumerated).

    Examples
    --------
    >>> shapley_values([0b011, 0b110, 0b100], [1, 1, 1], 3).tolist()
    [0.5, 1.0, 1.5]
    """
    n_players = integer(n_players, "shapley_values()", "n_players", minimum=0)
    if n_players > MAX_SHAPLEY_CHANNELS:
        raise DataError(
            f"exact Shapley needs at most {MAX_SHAPLEY_CHANNELS} channels, got {n_players}"
        )
    size = 1 << n_players
    mask_values = float_array(masks, "shapley_values()", "masks", ndim=1)
    journey_weights = float_array(weights, "shapley_values()", "weights", ndim=1)
    if journey_weights.shape != mask_values.shape:
        raise SchemaError(
            f"shapley_values(): weights must hold one weight per mask ({len(mask_values)}); "
            f"got {len(journey_weights)}"
        )
    finite_values(journey_weights, "shapley_values()", "weights")
    if not np.all((mask_values >= 0) & (mask_values < size) & (mask_values % 1 == 0)):
        raise SchemaError(
            f"shapley_values(): masks must be whole numbers in 0..{size - 1} (bit i: player i)"
        )
    v = np.bincount(mask_values.astype(np.int64), weights=journey_weights, minlength=size)
    coalitions = np.arange(size)
    for i in range(n_players):
        has = (coalitions >> i) & 1 == 1
        v[has] += v[coalitions[has] ^ (1 << i)]
    popcount = np.zeros(size, dtype=np.int64)
    for i in range(n_players):
        popcount += (coalitions >> i) & 1
    weight = np.array(
        [
            factorial(s) * factorial(n_players - s - 1) / factorial(n_players)
            for s in range(n_players)
        ]
    )
    phi = np.zeros(n_players)
    for i in range(n_players):
        without = coalitions[(coalitions >> i) & 1 == 0]
        phi[i] = float(np.sum(weight[popcount[without]] * (v[without | (1 << i)] - v[without])))
    return phi


def attribution(
    log: InteractionLog,
    *,
    conversion: Step = "purchase",
    channel: str = "channel",
    model: str | Sequence[str] = MODELS,
    lookback: DurationLike = "30d",
    half_life: DurationLike = "7d",
    revenue: bool = False,
    segment: npt.ArrayLike | None = None,
) -> Attribution:
    """Credit conversions to channels.

    Definitions
    -----------
    * **Touch**: a row with a non-missing ``channel`` that is not itself a conversion.
    * **Converting journey**: the touches of a customer strictly before a conversion (log
      order), after the customer's previous conversion, and at most ``lookback`` before it.
      Conversions without touches are ``unattributed``.
    * **Non-converting journey** (Markov only): a customer's touches after their last
      conversion (all touches when they never converted).
    * ``first`` / ``last``: all credit to the first / last touch. ``linear``: equal split
      over touches. ``position``: 40% first, 40% last, 20% split over the middle touches
      (one touch: 100%; two: 50/50). ``time_decay``: weights ``2 ** (-age / half_life)``,
      age = conversion time minus touch time, normalised per conversion (so the weights
      stay finite however many half-lives old every touch is).
    * ``markov``: first-order chain START -> channels -> CONV / NULL built from all
      journeys (repeated touches give self-loops); removal effects computed exactly
      (:func:`markov_removal_effects`); credit = total x effect / sum of effects. With
      ``revenue=True`` the removal effects are *value* removal effects: each transition
      ``c -> CONV`` earns the mean revenue of the conversions entered from ``c``, and the
      effect of ``c`` is ``1 - V_without_c / V`` with ``V`` the chain's expected revenue
      from START (transition probabilities stay count-based; ``p_conversion`` stays the
      conversion probability). At most 200 channels (one chain is solved per channel
      removed): more are a :class:`~cxmodel.errors.DataError`.
    * ``shapley``: ``v(S)`` = conversions (or revenue) of converting journeys whose channel
      set is a subset of ``S``; exact values (:func:`shapley_values`). For this ``v`` the
      value equals an equal split of each conversion over its distinct channels.
    * ``revenue=True`` weights each conversion by its ``value``; a conversion without one
      counts as 0, with a :class:`~cxmodel.errors.DataWarning` giving how many.
    * A ``conversion`` kind that is neither in the log nor a standard kind raises
      :class:`~cxmodel.errors.SchemaError` with a did-you-mean; one that never occurs in the
      log warns (:class:`~cxmodel.errors.DataWarning`): every credit is then 0. So do
      conversions of which none has a touch within ``lookback`` (no ``channel`` value, or
      touches too old): all are then ``unattributed``.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    conversion : str or (column, value), default "purchase"
        The conversion event: a kind, or a ``(column, value)`` pair.
    channel : str, default "channel"
        The string column naming each touch's channel.
    model : str or sequence of str
        The models to compute, in this order; default all seven.
    lookback : duration, default "30d"
        How far before a conversion touches count.
    half_life : duration, default "7d"
        Half-life of the ``time_decay`` weights.
    revenue : bool, default False
        Weight each conversion by its ``value`` instead of counting it once.
    segment : bool array, optional
        Keep only these rows before attributing.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "a"], timestamp=[0, 60, 120],
    ...     kind=["email_clicked", "view", "purchase"], channel=["email", "web", None])
    >>> a = attribution(log, model=("first", "last", "linear"))
    >>> a.channels.tolist(), a.credit.tolist()
    (['email', 'web'], [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    """
    log = interaction_log(log, "attribution()")
    models = name_sequence(model, "attribution()", "model", at_least_one=True)
    for m in models:
        if m not in MODELS:
            raise SchemaError(f"model={m!r}; expected some of {MODELS}")
    look = duration_us(lookback, "attribution()", "lookback")
    half = duration_us(half_life, "attribution()", "half_life")
    check_steps(
        log,
        [conversion],
        argument="attribution() conversion",
        meaning="there is nothing to attribute and every credit is 0",
    )
    mask = row_mask(log, segment)
    if mask is not None:
        log = log.filter(mask)
    n = len(log)
    conv_mask = step_mask(log, conversion)
    ch_codes32, channels = log.categorical(channel) if channel in log else (None, None)
    if ch_codes32 is None or channels is None or log.schema.get(channel) != "string":
        raise SchemaError(f"channel={channel!r} is not a string column of the log")
    ch = ch_codes32.astype(np.int64)
    n_ch = len(channels)
    if "markov" in models and n_ch > MAX_MARKOV_CHANNELS:
        raise DataError(
            f"attribution(model='markov'): channel={channel!r} has {n_ch:,} values, and the "
            f"Markov model takes at most {MAX_MARKOV_CHANNELS} (it solves one chain of all "
            "of them per channel removed); group the channels into fewer, or use the "
            "rule-based models (first, last, linear, position, time_decay)"
        )
    cust = log.customer_codes.astype(np.int64)
    t = log.timestamps
    if revenue and log.schema.get("value") != "float":
        raise SchemaError("revenue=True needs a numeric value column")
    conv_rows = np.flatnonzero(conv_mask)
    value = _conversion_values(log, conv_rows) if revenue else np.ones(n)
    touch = (ch >= 0) & ~conv_mask
    rows = np.flatnonzero(touch).astype(np.int64)
    nxt = next_occurrence(conv_mask, cust, rows + 1, cust[rows])
    ok = (nxt >= 0) & (t[np.maximum(nxt, 0)] - t[rows] <= look)
    c_rows, c_jid = rows[ok], nxt[ok]
    jw = value[c_jid]
    first = np.ones(len(c_rows), dtype=bool)
    first[1:] = c_jid[1:] != c_jid[:-1]
    last = np.ones(len(c_rows), dtype=bool)
    last[:-1] = c_jid[1:] != c_jid[:-1]
    seg = np.cumsum(first) - 1
    size = np.bincount(seg)[seg] if len(seg) else np.zeros(0, dtype=np.int64)
    attributed = np.zeros(n, dtype=bool)
    attributed[c_jid] = True
    where = "attribution(revenue=True)" if revenue else "attribution()"
    held = attributed[conv_rows]
    total = checked_total(value[conv_rows][held], column="value", where=where)
    unattributed = checked_total(value[conv_rows][~held], column="value", where=where)
    warn_counted(
        DataWarning,
        "attribution(): none of the {conversions:,} conversions has a touch (a row with a "
        f"{channel!r} that is not a conversion) within lookback before it, so every credit is "
        "0 and all are unattributed; check the channel column and lookback",
        conversions=int(conv_rows.size) if not held.any() else 0,
    )
    credit = np.zeros((len(models), n_ch))
    re_out: FloatArray | None = None
    p_conv: float | None = None
    for i, m in enumerate(models):
        if m in ("first", "last", "linear", "position", "time_decay"):
            if m == "first":
                w = first.astype(np.float64)
            elif m == "last":
                w = last.astype(np.float64)
            elif m == "linear":
                w = 1.0 / size
            elif m == "position":
                middle = np.maximum(size - 2, 1)
                w = np.where(first | last, 0.4, 0.2 / middle)
                w = np.where(size == 1, 1.0, np.where(size == 2, 0.5, w))
            else:
                # ages counted from the journey's last (newest) touch: the same normalised
                # weights, but the newest weighs 1, so old touches cannot all underflow to 0
                age = t[c_jid] - t[c_rows]
                raw = np.exp2(-(age - age[last][seg]) / half)
                w = raw / np.bincount(seg, weights=raw)[seg]
            credit[i] = np.bincount(ch[c_rows], weights=w * jw, minlength=n_ch)
        elif m == "shapley":
            bits = np.left_shift(np.int64(1), ch[c_rows])
            starts = np.flatnonzero(first)
            masks = np.bitwise_or.reduceat(bits, starts) if len(starts) else np.zeros(0, np.int64)
            credit[i] = shapley_values(masks, jw[starts], n_ch) if n_ch else np.zeros(0)
        else:
            p_conv, effects = _markov(rows, ok, nxt, cust, ch, n_ch, n, value if revenue else None)
            re_out = effects
            s = effects.sum()
            credit[i] = total * effects / s if s > 0 else 0.0
    return Attribution(
        channels=np.asarray(channels, dtype=object),
        models=models,
        credit=credit,
        total=total,
        unattributed=unattributed,
        removal_effects=re_out,
        p_conversion=p_conv,
    )


def _conversion_values(log: InteractionLog, conv_rows: IntArray) -> FloatArray:
    """The ``value`` of every row with missing as 0, warning
    (:class:`~cxmodel.errors.DataWarning`) with the count of conversions (``conv_rows``) that
    have none: they carry no revenue."""
    raw = log.numeric("value")
    missing = int(np.isnan(raw[conv_rows]).sum())
    if missing:
        message = counted_warning(
            DataWarning,
            "attribution(revenue=True): {missing:,} of {conversions:,} conversion(s) have no "
            "value and count as 0 revenue, so their channels earn nothing from them; fill "
            "value, or attribute counts with revenue=False",
            missing=missing,
            conversions=len(conv_rows),
        )
        warn(message)
    return np.nan_to_num(raw)


def _markov(
    rows: IntArray,
    ok: npt.NDArray[np.bool_],
    nxt: IntArray,
    cust: IntArray,
    ch: IntArray,
    n_ch: int,
    n: int,
    value: FloatArray | None,
) -> tuple[float, FloatArray]:
    """States: 0 START, 1..C channels, C+1 CONV, C+2 NULL.

    With ``value`` (per row) the effects are value removal effects; the probability
    returned is still ``P(conv | START)``.
    """
    keep = ok | (nxt < 0)  # converting within lookback, or non-converting
    r = rows[keep]
    key = np.where(nxt[keep] >= 0, nxt[keep], n + cust[r])
    order = np.argsort(key, kind="stable")
    r, key = r[order], key[order]
    state = ch[r] + 1
    converting = key < n
    k = n_ch + 3
    conv_s, null_s = n_ch + 1, n_ch + 2
    if len(r) == 0:
        return 0.0, np.zeros(n_ch)
    first = np.ones(len(r), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    last = np.ones(len(r), dtype=bool)
    last[:-1] = key[1:] != key[:-1]
    src = np.concatenate(
        [state[:-1][~first[1:]], np.zeros(int(first.sum()), np.int64), state[last]]
    )
    dst = np.concatenate(
        [state[1:][~first[1:]], state[first], np.where(converting[last], conv_s, null_s)]
    )
    counts = np.bincount(src * k + dst, minlength=k * k).reshape(k, k)
    p, effects = markov_removal_effects(counts, 0, conv_s, null_s)
    if value is not None:
        into_conv = last & converting
        revenue = grouped_sums(
            state[into_conv],
            value[key[into_conv]],
            k,
            column="value",
            where="attribution(revenue=True)",
        )
        entered = np.bincount(state[into_conv], minlength=k)
        mean = np.divide(revenue, entered, out=np.zeros(k), where=entered > 0)
        _, effects = markov_removal_effects(counts, 0, conv_s, null_s, conv_value=mean)
    return p, effects[1 : n_ch + 1]
