"""The data-stock model: Epoch AI's Monte Carlo of the stock of public human text and of the demand for it, and
the date at which demand reaches the (possibly consent-adjusted) stock (forecast.md §2).

Vectorised over draws × time: 100,000 draws over a monthly grid to 2040 take about a second. Seeded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tracker.forecast.params import DemandParams, ForecastParams, Interval, StockParams

__all__ = ["Draws", "Exhaustion", "draw", "exhaustion", "quantiles"]

Array = NDArray[np.float64]


def _ln(rng: np.random.Generator, i: Interval, n: int) -> Array:
    return np.exp(rng.normal(i.mu, i.sigma, n))


@dataclass(frozen=True, slots=True)
class Draws:
    """The Monte Carlo: per draw, the stock's base and growth and the demand's base and growth (log10)."""

    times: Array  # decimal years of the grid
    stock: Array  # draws × times: effective stock, tokens
    demand: Array  # draws × times: largest dataset, tokens

    @property
    def n(self) -> int:
        """Number of draws."""
        return int(self.stock.shape[0])


def _stock(rng: np.random.Generator, p: StockParams, n: int, times: Array) -> Array:
    pages = _ln(rng, p.pages, n)
    text = _ln(rng, p.bytes_per_page, n)
    bytes_per_token = np.clip(6.0 - _ln(rng, p.bytes_per_token_offset, n), 0.5, None)
    indexed = pages * text / bytes_per_token
    growth = _ln(rng, p.growth_a, n) * _ln(rng, p.growth_b, n)
    effective = indexed * _ln(rng, p.quality, n) * _ln(rng, p.repetition, n)
    return effective[:, None] * growth[:, None] ** (times[None, :] - p.base_year)


def _demand(rng: np.random.Generator, p: DemandParams, n: int, times: Array) -> Array:
    years = times[None, :] - p.base_year
    # historical: log-linear trend of dataset sizes, its slope a normal by its 95% interval
    mean = (p.oom_per_year_low + p.oom_per_year_high) / 2
    sd = (p.oom_per_year_high - p.oom_per_year_low) / (2 * 1.959963984540054)
    base = _ln(rng, p.largest_dataset, n)
    slope = rng.normal(mean, sd, n)
    historical = base[:, None] * 10.0 ** (slope[:, None] * years)
    if p.projection == "historical":
        d = historical
    else:
        # compute: Chinchilla-optimal D = 20·sqrt(C/120) with frontier compute growing by a factor a year
        flop = _ln(rng, p.compute_flop, n)
        growth = _ln(rng, p.compute_growth, n)
        compute = 20.0 * np.sqrt(flop[:, None] * growth[:, None] ** years / 120.0)
        if p.projection == "compute":
            d = compute
        else:  # pooled: each draw follows one of the two projections
            pick = rng.random(n) < 0.5
            d = np.where(pick[:, None], historical, compute)
    return d * p.overtraining


def draw(params: ForecastParams) -> Draws:
    """Draw the stock and the demand on the parameters' time grid."""
    rng = np.random.default_rng(params.seed)
    steps = round((params.end - params.start) * params.steps_per_year) + 1
    times = np.linspace(params.start, params.end, steps)
    stock = _stock(rng, params.stock, params.draws, times)
    return Draws(times, stock, _demand(rng, params.demand, params.draws, times))


@dataclass(frozen=True, slots=True)
class Exhaustion:
    """When demand reaches the stock: the probability by each time, and its median and 80% interval."""

    times: Array
    probability: Array  # share of draws exhausted by each time
    median: float | None  # decimal year where the probability crosses 0.5 (None: not within the horizon)
    p10: float | None
    p90: float | None
    stock_at: Array | None = None  # the stock (draws) at the median date, for reporting

    def as_dict(self) -> dict[str, float | None]:
        """``{"median", "p10", "p90"}``, decimal years (None past the horizon)."""
        return {"median": self.median, "p10": self.p10, "p90": self.p90}


def _crossing(times: Array, prob: Array, level: float) -> float | None:
    idx = int(np.argmax(prob >= level))
    if prob[idx] < level:
        return None
    if idx == 0:
        return float(times[0])
    t0, t1, p0, p1 = times[idx - 1], times[idx], prob[idx - 1], prob[idx]
    return float(t0 + (level - p0) / (p1 - p0) * (t1 - t0)) if p1 > p0 else float(t1)


def exhaustion(draws: Draws, usable: Callable[[Array], Array] | Array | None = None) -> Exhaustion:
    """Run-out: P(demand ≥ usable stock) at each time; a draw counts as exhausted from its first crossing on.

    ``usable`` is the stock after consent (draws × times), or a function of the stock; None: the whole stock."""
    stock = draws.stock if usable is None else (usable(draws.stock) if callable(usable) else usable)
    crossed = np.maximum.accumulate(draws.demand >= stock, axis=1)
    prob = crossed.mean(axis=0)
    return Exhaustion(draws.times, prob, _crossing(draws.times, prob, 0.5), _crossing(draws.times, prob, 0.1),
                      _crossing(draws.times, prob, 0.9))  # fmt: skip


def quantiles(values: Array, qs: tuple[float, ...] = (0.05, 0.5, 0.95)) -> list[float]:
    """Quantiles over draws."""
    return [float(x) for x in np.quantile(values, qs)]
