"""The data-stock model: Epoch AI's Monte Carlo of the stock of public human text and of the demand for it, and
the date at which demand reaches the (possibly consent-adjusted) stock (forecast.md §2).

Vectorised over draws × time, in logs. Seeded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tracker.analysis.forecast.params import DemandParams, ForecastParams, Interval, StockParams
from tracker.records.forecast import Runout, year_month
from tracker.records.json import Json

__all__ = ["Draws", "Exhaustion", "draw", "exhaustion", "quantiles", "year_month"]

Array = NDArray[np.float64]


def _ln(rng: np.random.Generator, i: Interval, n: int) -> Array:
    return np.exp(rng.normal(i.mu, i.sigma, n))


@dataclass(frozen=True, slots=True)
class Draws:
    """The Monte Carlo: per draw and time, the effective stock and the largest dataset — kept as natural logs, so
    that a run-out test under consent (demand ≥ stock × (1 − r)) is a sum and a comparison, never a power."""

    times: Array  # decimal years of the grid
    log_stock: Array  # draws × times: ln effective stock, tokens
    log_demand: Array  # draws × times: ln largest dataset, tokens

    @property
    def n(self) -> int:
        """Number of draws."""
        return int(self.log_stock.shape[0])

    @property
    def stock(self) -> Array:
        """Effective stock, tokens (draws × times)."""
        return np.exp(self.log_stock)

    @property
    def demand(self) -> Array:
        """Largest dataset, tokens (draws × times)."""
        return np.exp(self.log_demand)


def _stock(rng: np.random.Generator, p: StockParams, n: int, times: Array) -> Array:
    pages = _ln(rng, p.pages, n)
    text = _ln(rng, p.bytes_per_page, n)
    bytes_per_token = np.clip(6.0 - _ln(rng, p.bytes_per_token_offset, n), 0.5, None)
    indexed = pages * text / bytes_per_token
    growth = _ln(rng, p.growth_a, n) * _ln(rng, p.growth_b, n)
    effective = indexed * _ln(rng, p.quality, n) * _ln(rng, p.repetition, n)
    out = np.multiply.outer(np.log(growth), times - p.base_year)  # one allocation: large arrays cost page faults
    out += np.log(effective)[:, None]
    return out


def _demand(rng: np.random.Generator, p: DemandParams, n: int, times: Array) -> Array:
    years = times[None, :] - p.base_year
    # historical: log-linear trend of dataset sizes, its slope a normal by its 95% interval
    mean = (p.oom_per_year_low + p.oom_per_year_high) / 2
    sd = (p.oom_per_year_high - p.oom_per_year_low) / (2 * 1.959963984540054)
    base = _ln(rng, p.largest_dataset, n)
    slope = rng.normal(mean, sd, n)
    historical = np.multiply.outer(slope * math.log(10.0), years[0])
    historical += np.log(base)[:, None]
    if p.projection == "historical":
        d = historical
    else:
        # compute: Chinchilla-optimal D = 20·sqrt(C/120) with frontier compute growing by a factor a year
        flop = _ln(rng, p.compute_flop, n)
        growth = _ln(rng, p.compute_growth, n)
        compute = math.log(20.0) + 0.5 * (np.log(flop / 120.0)[:, None] + np.log(growth)[:, None] * years)
        if p.projection == "compute":
            d = compute
        else:  # pooled: each draw follows one of the two projections
            pick = rng.random(n) < 0.5
            d = np.where(pick[:, None], historical, compute)
    d += math.log(p.overtraining)
    return np.asarray(d)


def draw(params: ForecastParams) -> Draws:
    """Draw the stock and the demand on the parameters' time grid."""
    rng = np.random.default_rng(params.seed)
    steps = round((params.end - params.start) * params.steps_per_year) + 1
    times = np.linspace(params.start, params.end, steps)
    log_stock = _stock(rng, params.stock, params.draws, times)
    return Draws(times, log_stock, _demand(rng, params.demand, params.draws, times))


@dataclass(frozen=True, slots=True)
class Exhaustion:
    """When demand reaches the stock: the probability by each time, and its median and 80% interval."""

    times: Array
    probability: Array  # share of draws exhausted by each time
    median: float | None  # decimal year where the probability crosses 0.5 (None: not within the horizon)
    p10: float | None
    p90: float | None

    def runout(self) -> Runout:
        """The run-out's median and 80% interval (decimal years, None past the horizon) as a record."""
        return Runout(self.median, self.p10, self.p90)

    def as_dict(self) -> dict[str, Json]:
        """Decimal years (``median``, ``p10``, ``p90``) and their calendar months (``median_month`` …, "YYYY-MM");
        None past the horizon."""
        return self.runout().as_dict()


def _crossing(times: Array, prob: Array, level: float) -> float | None:
    idx = int(np.argmax(prob >= level))
    if prob[idx] < level:
        return None
    if idx == 0:
        return float(times[0])
    t0, t1, p0, p1 = times[idx - 1], times[idx], prob[idx - 1], prob[idx]
    return float(t0 + (level - p0) / (p1 - p0) * (t1 - t0)) if p1 > p0 else float(t1)


def exhaustion(
    draws: Draws, usable: Callable[[Array], Array] | Array | None = None, *, restricted: Array | None = None
) -> Exhaustion:
    """Run-out: P(demand ≥ usable stock) at each time; a draw counts as exhausted from its first crossing on.

    ``restricted``: the restricted share r (draws × times, or broadcastable), usable = stock × (1 − r) — the fast
    path, in logs. ``usable``: the stock after consent in tokens, or a function of the stock. Neither: the whole
    stock."""
    if restricted is not None:
        with np.errstate(divide="ignore"):
            crossed = draws.log_demand >= draws.log_stock + np.log1p(-np.clip(restricted, 0.0, 1.0))
    elif usable is None:
        crossed = draws.log_demand >= draws.log_stock
    else:
        stock = usable(draws.stock) if callable(usable) else usable
        crossed = draws.demand >= stock
    prob = np.maximum.accumulate(crossed, axis=1).mean(axis=0)
    return Exhaustion(
        draws.times,
        prob,
        _crossing(draws.times, prob, 0.5),
        _crossing(draws.times, prob, 0.1),
        _crossing(draws.times, prob, 0.9),
    )


def quantiles(values: Array, qs: tuple[float, ...] = (0.05, 0.5, 0.95)) -> list[float]:
    """Quantiles over draws."""
    return [float(x) for x in np.quantile(values, qs)]
