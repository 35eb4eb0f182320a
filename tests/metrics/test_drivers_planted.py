"""driver_model recovers the planted churn and spend drivers of the synthetic world.

The generator plants two drivers that strike at random among marketing emails
(docs/guide/synthetic-data.md): a price-rise notice makes a customer who is still there leave
with probability ``exit_probability`` (churn up, spend down), and an offer is redeemed by a
buyer with probability ``offer_take_up`` as one purchase of ``offer_value`` an exponential delay
later (spend up). Marketing email itself goes to customers with marketing consent, which
travels with tenure, so ``email`` is a driver too: given an email, whether it carried a notice
or an offer is random.

The planted effect is what the generator's mechanism implies on the regression's scale: the
least-squares projection, on the same design, of each row's expected outcome with the plants
minus its outcome without them. "Without" comes from the counterfactual world
(``generate(..., exits=False)``: every draw the same, nobody leaves at a notice). Expected
values average over the plants' coin tosses after the split (as_of - window); earlier exits are
taken as they happened. Measured on generate(5000, seed=0), window 30 days, as_of the end:

    churn, price rise: 0.190 (0.120 to 0.260), planted 0.199
    spend, offer: 2.67 (0.50 to 4.83), planted 3.75; price rise: -0.50 (-3.24 to 2.24),
    planted -0.78
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from cxmodel.datasets import SyntheticWorld
from cxmodel.datasets._synthetic import generate
from cxmodel.log import InteractionLog
from cxmodel.metrics import DriverModel, driver_model
from cxmodel.models import ACTIVITY_KINDS

DAY = 86_400_000_000
WINDOW_DAYS = 30
F = npt.NDArray[np.float64]


@cache
def _worlds() -> tuple[SyntheticWorld, SyntheticWorld]:
    common = {"start": "2024-01-01", "end": "2025-01-01", "seed": 0}
    return generate(5000, **common), generate(5000, exits=False, **common)  # type: ignore[arg-type]


def _drivers(log: InteractionLog) -> dict[str, npt.NDArray[np.bool_]]:
    email = log.kind_mask("email_sent")
    campaign = log.column("campaign")
    return {"offer": email & (campaign == "offer"), "price rise": email & (campaign == "price_rise"),
            "email": email}  # fmt: skip


def _times(values: npt.NDArray[np.datetime64]) -> F:
    """datetime64 as float microseconds, NaT as +inf."""
    out = values.astype("datetime64[us]").astype(np.int64).astype(np.float64)
    out[np.isnat(values)] = np.inf
    return out


def _fit(outcome: str) -> tuple[DriverModel, npt.NDArray[np.intp], F, float, float]:
    """The model, its rows (customer codes), design with intercept, split and end."""
    log = _worlds()[0].log
    kinds = [k for k in ACTIVITY_KINDS if k in set(log.kinds.tolist())]
    end = float(log.timestamps.max() + 1)
    model = driver_model(log, outcome=outcome, drivers=_drivers(log), window="30 days",
                         activity=kinds, as_of=np.datetime64(int(end), "us"))  # fmt: skip
    split = end - WINDOW_DAYS * DAY
    codes, ts = log.customer_codes, log.timestamps.astype(np.float64)
    active = log.kind_mask(*kinds) & (ts >= split - WINDOW_DAYS * DAY) & (ts < split)
    rows = np.unique(codes[active]).astype(np.intp)
    columns = []
    for mask in _drivers(log).values():
        hit = np.zeros(log.n_customers, bool)
        hit[codes[mask & (ts >= split - WINDOW_DAYS * DAY) & (ts < split)]] = True
        columns.append(hit[rows])
    design = np.column_stack([np.ones(rows.size), *columns]).astype(np.float64)
    assert model.n == rows.size
    return model, rows, design, split, end


def _projection(design: F, y: F) -> dict[str, float]:
    coef = np.linalg.lstsq(design, y, rcond=None)[0][1:]
    return dict(zip(_drivers(_worlds()[0].log), coef.tolist(), strict=True))


def _notices_before(log: InteractionLog, baseline_death: F) -> tuple[npt.NDArray[np.int64], F, F]:
    """Price-rise notices that can strike (before the BG/NBD death): sorted keys and times."""
    rows = _drivers(log)["price rise"]
    who = log.customer_codes[rows].astype(np.int64)
    at = log.timestamps[rows].astype(np.float64)
    live = at < baseline_death[who]
    return who[live], at[live], np.sort(who[live] * 1e17 + at[live])


def _count(keys: F, who: npt.NDArray[np.int64], lo: F, hi: F) -> F:
    """Notices of customer ``who`` in [lo, hi)."""
    upper = np.searchsorted(keys, who * 1e17 + hi)
    lower = np.searchsorted(keys, who * 1e17 + lo)
    return np.maximum(upper - lower, 0).astype(np.float64)


def _check(model: DriverModel, planted: dict[str, float], names: tuple[str, ...]) -> None:
    row = {name: i for i, name in enumerate(model["driver"].tolist())}
    for name in names:
        i = row[name]
        low, high = float(model["ci_low"][i]), float(model["ci_high"][i])
        assert low <= planted[name] <= high, (name, model["coefficient"][i], low, high, planted)


def test_churn_price_rise_recovered() -> None:
    """A price-rise notice in the window raises churn by about exit_probability x the share
    who would have come back; the fitted effect is positive and its interval holds it."""
    world, without = _worlds()
    model, rows, design, split, end = _fit("churn")
    q = world.truth.service_parameters["exit_probability"]
    log0 = without.log
    kinds = [k for k in ACTIVITY_KINDS if k in set(log0.kinds.tolist())]
    ts0 = log0.timestamps.astype(np.float64)
    later = log0.kind_mask(*kinds) & (ts0 >= split) & (ts0 < end)
    first_back = np.full(log0.n_customers, np.inf)
    np.minimum.at(first_back, log0.customer_codes[later], ts0[later])
    stayed = np.isinf(first_back)  # churn without the plant
    everyone = np.arange(log0.n_customers, dtype=np.int64)
    _, _, keys = _notices_before(world.log, _times(without.truth.death_time))
    strikes = _count(keys, everyone, np.full(everyone.size, split), np.minimum(first_back, end))
    left = _times(world.truth.exit_time) < split
    expected = np.where(left, 1.0, stayed + ~stayed * (1 - (1 - q) ** strikes))
    planted = _projection(design, (expected - stayed)[rows])
    print({k: round(v, 3) for k, v in planted.items()})
    _check(model, planted, ("price rise",))
    i = model["driver"].tolist().index("price rise")
    assert model["ci_low"][i] > 0 and planted["price rise"] > 0.1


def test_spend_offer_and_price_rise_recovered() -> None:
    """Offers raise spend, price-rise notices lower it; both intervals hold the planted
    effect (expected spend with both plants minus the spend without either)."""
    world, without = _worlds()
    model, rows, design, split, end = _fit("spend")
    params = world.truth.service_parameters
    q = params["exit_probability"]
    log, log0 = world.log, without.log
    # without the plants: purchases other than redeemed offers, in the outcome window
    ts0 = log0.timestamps.astype(np.float64)
    offer0 = log0.column("campaign") == "offer"
    buys = log0.kind_mask("purchase") & (ts0 >= split) & (ts0 < end)
    value = np.nan_to_num(log0.numeric("value"))
    base = np.bincount(log0.customer_codes[buys & ~offer0], weights=value[buys & ~offer0],
                       minlength=log0.n_customers)  # fmt: skip
    # those purchases survive the notices after the split (earlier exits as they happened)
    who = log0.customer_codes[buys & ~offer0].astype(np.int64)
    at = ts0[buys & ~offer0]
    _, _, keys = _notices_before(log, _times(without.truth.death_time))
    left = _times(world.truth.exit_time) < split
    survive = np.where(left[who], 0.0, (1 - q) ** _count(keys, who, np.full(who.size, split), at))
    kept = np.bincount(who, weights=value[buys & ~offer0] * survive, minlength=log0.n_customers)
    # offers: redeemed with the take-up probability after an exponential delay, while there
    sent = _drivers(log)["offer"]
    o_who = log.customer_codes[sent].astype(np.int64)
    o_at = log.timestamps[sent].astype(np.float64)
    first = _times(world.truth.first_purchase)[o_who]
    death = _times(world.truth.death_time)[o_who]
    mean_delay = params["offer_delay_days"] * DAY
    lo = np.maximum(np.maximum(split, first), o_at) - o_at
    hi = np.minimum(end, death) - o_at
    land = np.where(hi > lo, np.exp(-lo / mean_delay) - np.exp(-hi / mean_delay), 0.0)
    offers = np.bincount(o_who, weights=params["offer_take_up"] * params["offer_value"] * land,
                         minlength=log.n_customers)  # fmt: skip
    planted = _projection(design, (kept + offers - base)[rows])
    _check(model, planted, ("offer", "price rise"))
    print({k: round(v, 3) for k, v in planted.items()})
    assert planted["offer"] > 2.0 and planted["price rise"] < 0
    i = model["driver"].tolist().index("offer")
    assert model["ci_low"][i] > 0
