"""FROZEN — the restriction forecast as it was before issue 17, kept only so that bench/restriction_backtest.py can
score it beside its replacement (tracker.analysis.forecast.restriction). Not used by the library; do not edit.

Its original docstring:

The restricted share r(t) — measured by our crawls and backfills — fitted and carried forward with its
uncertainty (forecast.md §3).

Two curves suit adoption: a logistic ``K / (1 + exp(−k (t − t0)))`` whose ceiling K has a prior (a normal around
0.5 by default: restriction will not reach everything, nor stop where it is), and a plain linear trend. Neither may
rise above the prior's upper value (mean + one standard deviation, 0.75 by default): a straight line carried
fifteen years forward would otherwise claim that every site restricts, which no measurement supports. The one with
the lower error on the last months — fitted without them — is chosen; then residual bootstrap refits give the bands.
:func:`backtest` fits up to a cut-off and scores what followed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

__all__ = ["Backtest", "Fit", "RestrictionForecast", "backtest", "choose", "fit", "forecast_restriction"]

Array = NDArray[np.float64]
MODELS = ("logistic", "linear")


@dataclass(frozen=True, slots=True)
class Fit:
    """A fitted curve."""

    model: str
    params: tuple[float, ...]
    cap: float = 1.0  # no forecast above this share

    def __call__(self, t: Array | float) -> Array:
        x = np.asarray(t, dtype=float)
        if self.model == "logistic":
            k_ceiling, rate, mid = self.params
            return np.asarray(np.clip(k_ceiling / (1.0 + np.exp(-rate * (x - mid))), 0.0, self.cap))
        slope, intercept = self.params
        return np.asarray(np.clip(intercept + slope * x, 0.0, self.cap))


def fit(
    t: Sequence[float] | Any, r: Sequence[float] | Any, model: str, prior: tuple[float, float] = (0.5, 0.25)
) -> Fit:
    """Fit one curve by least squares (the logistic's ceiling pulled towards its prior)."""
    x, y = np.asarray(t, dtype=float), np.asarray(r, dtype=float)
    mean, sd = prior
    cap = float(max(min(1.0, mean + sd), y.max() if len(y) else 0.0))
    if model == "linear" or len(x) < 4:
        slope, intercept = np.polyfit(x, y, 1) if len(x) >= 2 else (0.0, float(y.mean()) if len(y) else 0.0)
        return Fit("linear", (float(slope), float(intercept)), cap)
    top = float(max(y.max(), 1e-6))
    # The prior enters as one more residual, weighted as one observation per year of data.
    weight = math.sqrt(max(1.0, (x.max() - x.min())))

    def residuals(p: Array) -> Array:
        return np.append(p[0] / (1 + np.exp(-p[1] * (x - p[2]))) - y, weight * (p[0] - mean) / sd / len(x) ** 0.5)

    start = np.array([max(top * 1.5, mean), 1.0, float(x[np.argmin(np.abs(y - top / 2))])])
    lower = [top * 0.999, 0.05, x.min() - 20]
    upper = [max(cap, top), 20.0, x.max() + 30]
    start = np.clip(start, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = least_squares(residuals, start, bounds=(lower, upper), max_nfev=2000)
    return Fit("logistic", tuple(float(v) for v in res.x), cap)


@dataclass(frozen=True, slots=True)
class Backtest:
    """Fit up to a cut-off, score the months after it."""

    model: str
    cutoff: float
    months: int
    mae: float  # mean absolute error of the share
    last_observed: float
    last_predicted: float


def backtest(
    t: Sequence[float] | Any,
    r: Sequence[float] | Any,
    cutoff: float,
    *,
    model: str | None = None,
    prior: tuple[float, float] = (0.5, 0.25),
) -> Backtest:
    """Fit (the chosen model, or ``model``) on points ≤ cutoff; score the points after it."""
    x, y = np.asarray(t, dtype=float), np.asarray(r, dtype=float)
    train, test = x <= cutoff, x > cutoff
    if train.sum() < 3 or test.sum() < 1:
        raise ValueError("a backtest needs at least 3 points before the cut-off and 1 after it")
    chosen = model or choose(x[train], y[train], holdout=min(6, max(1, int(train.sum()) // 4)), prior=prior)[0]
    f = fit(x[train], y[train], chosen, prior)
    pred = f(x[test])
    return Backtest(
        chosen, cutoff, int(test.sum()), float(np.mean(np.abs(pred - y[test]))), float(y[test][-1]), float(pred[-1])
    )


def choose(x: Array, y: Array, *, holdout: int, prior: tuple[float, float]) -> tuple[str, dict[str, float]]:
    """The curve with the lower mean absolute error on the last ``holdout`` points, fitted without them."""
    if len(x) <= holdout + 3:
        return "linear", {}
    errors = {}
    for m in MODELS:
        f = fit(x[:-holdout], y[:-holdout], m, prior)
        errors[m] = float(np.mean(np.abs(f(x[-holdout:]) - y[-holdout:])))
    return min(errors, key=lambda m: errors[m]), errors


@dataclass(frozen=True, slots=True)
class RestrictionForecast:
    """r(t) measured, the chosen fit, and bootstrap curves on a time grid."""

    observed_t: Array
    observed_r: Array
    fit: Fit
    errors: dict[str, float]  # out-of-sample error of each candidate
    times: Array
    curves: Array  # bootstrap × times

    def bands(self, qs: tuple[float, ...] = (0.1, 0.5, 0.9)) -> Array:
        """Quantiles of the bootstrap curves at each time (len(qs) × times)."""
        return np.quantile(self.curves, qs, axis=0)

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        """n curves (draws × times), drawn from the bootstrap ones."""
        return self.curves[rng.integers(0, len(self.curves), n)]


def forecast_restriction(
    t: Sequence[float],
    r: Sequence[float],
    times: Array,
    *,
    bootstrap: int = 200,
    holdout: int = 6,
    prior: tuple[float, float] = (0.5, 0.25),
    seed: int = 0,
    model: str = "auto",
) -> RestrictionForecast:
    """Fit r(t), choose the curve out of sample, and bootstrap it (residuals resampled, refitted) onto ``times``.

    Before the first observation the curve is the fit (restriction before measurement is rarely known, and the
    grid starts at the stock's base year); it is kept in [0, 1]."""
    x, y = np.asarray(t, dtype=float), np.asarray(r, dtype=float)
    chosen, errors = choose(x, y, holdout=holdout, prior=prior)
    model = chosen if model == "auto" else model
    best = fit(x, y, model, prior)
    resid = y - best(x)
    rng = np.random.default_rng(seed)
    curves = np.empty((max(1, bootstrap), len(times)))
    curves[0] = best(times)
    for b in range(1, len(curves)):
        yb = np.clip(best(x) + rng.choice(resid, len(resid), replace=True), 0.0, 1.0)
        curves[b] = fit(x, yb, model, prior)(times)
    return RestrictionForecast(x, y, best, errors, times, np.clip(curves, 0.0, 1.0))
