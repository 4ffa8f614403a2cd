"""The restricted share r(t) — measured by our crawls and backfills — carried forward with its uncertainty
(forecast.md §3), by a method that earned its place on a rolling-origin backtest (issue 17).

The method (``combination``):

- **point forecast** — the mean of three simple, well-tried forecasts made from the last observation: the last
  value, damped-trend exponential smoothing (Holt's, damping φ ≤ 0.98, parameters by least squares over a grid),
  and the theta method (simple exponential smoothing plus half the least-squares trend), the kind of combination
  that won the M4 competition; plus the median error that combination made at that horizon on simulated adoption
  series (it under-forecasts rising series a little: +0.3 points at 3 months, +1.4 at 12). No curve is fitted
  through the history, so nothing jumps at the last observation and no model choice flips from month to month.
- **band** — the empirical quantiles of the h-month errors (h = 1…12) the combination made in rolling-origin
  backtests over simulated series of the shapes adoption takes (:data:`SHAPES`), in points of share
  (:data:`CALIBRATION`, made offline by ``uv run python bench/restriction_backtest.py --calibrate``).
- **beyond 12 months** (the longest horizon the errors were measured at): the combination's monthly increment is
  damped by :data:`LONG_DAMPING` a month (a straight line is not carried to 2040), the correction is held at its
  12-month value, and each path's deviation from the point forecast at 12 months grows as √h, as a random walk's
  spread does, the growth slowing exponentially near 0 and 1 — the band widens with the horizon inside [0, 1].

Sample paths are *comonotone*: path j sits at one quantile u_j of the error distribution (stratified: one in each
1/paths slice of (0, 1), placed by the seed) at every horizon, so a path that is high in 2026 is high in 2040
(restriction is persistent; the Monte Carlo of when the data runs out wants whole trajectories, not independent
months).

:func:`backtest` scores the method on one series by a rolling origin — fit up to a month (at least 12 behind it),
forecast 3, 6 and 12 months ahead, for every origin — beside the baselines it must beat (last value, drift,
damped trend), with the coverage of its 80% band. ``bench/restriction_backtest.py`` runs the same comparison over
the corpus history and simulated series, with statsmodels' ETS and an auto-ARIMA as the baselines, and the
pre-issue-17 method (``bench/_legacy_restriction.py``) beside them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tracker.errors import TrendError
from tracker.records.forecast import Backtest, HorizonScore

__all__ = [
    "CALIBRATION",
    "HORIZONS",
    "LEVELS",
    "SHAPES",
    "Backtest",
    "HorizonScore",
    "RestrictionForecast",
    "backtest",
    "backtest_summary",
    "baselines",
    "combination",
    "damped_trend",
    "forecast_restriction",
    "simulate",
    "theta",
]

Array = NDArray[np.float64]

METHOD = "combination"
DESCRIPTION = (
    "Mean of last value, damped-trend exponential smoothing and the theta method, corrected by its median "
    "backtest error; the 10–90% band is the empirical quantiles of the 1–12-month errors it made in rolling-origin "
    "backtests over simulated adoption series, widening as √h beyond 12 months."
)
MIN_POINTS = 6  # fewer monthly points cannot tell a level from noise, let alone a trend
MIN_HISTORY = 12  # months behind a backtest origin
HORIZONS = (3, 6, 12)  # months ahead scored by backtest()
CALIBRATED = 12  # the longest horizon in CALIBRATION
LONG_DAMPING = 0.9  # beyond CALIBRATED months, the combination's monthly increment shrinks by this factor a month

#: Error quantiles of the combination (observed − forecast, points of share) at each level of :data:`LEVELS` (columns),
#: for horizons 1…12 months (rows). Made by ``uv run python bench/restriction_backtest.py --calibrate``: rolling-
#: origin backtests (every origin with ≥ 12 months behind it) over 25 simulated series of each shape in SHAPES
#: (seed 17, binomial noise of 800 sites) — not the series the bench scores the method on (seed 2024).
#: 45352 errors from 25 series × 8 shapes, seed 17.
LEVELS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975, 0.99)
CALIBRATION: tuple[tuple[float, ...], ...] = (
    # 1 month ahead: 4696 errors
    (-4.20, -3.48, -2.76, -2.07, -1.25, -0.72, -0.26, 0.16, 0.58, 1.02, 1.61, 2.48, 3.42, 4.66, 8.53),
    # 2 months ahead: 4696 errors
    (-4.63, -3.76, -3.00, -2.17, -1.30, -0.73, -0.24, 0.22, 0.66, 1.19, 1.85, 2.97, 4.33, 7.41, 12.05),
    # 3 months ahead: 4496 errors
    (-5.07, -4.03, -3.10, -2.25, -1.35, -0.67, -0.20, 0.28, 0.79, 1.36, 2.12, 3.64, 5.99, 10.02, 13.47),
    # 4 months ahead: 4296 errors
    (-5.83, -4.62, -3.55, -2.49, -1.40, -0.70, -0.11, 0.40, 0.93, 1.57, 2.48, 4.49, 8.14, 11.67, 14.70),
    # 5 months ahead: 4096 errors
    (-6.66, -4.90, -3.79, -2.58, -1.45, -0.69, -0.12, 0.44, 1.05, 1.80, 2.96, 5.55, 9.74, 12.77, 15.75),
    # 6 months ahead: 3896 errors
    (-7.40, -5.31, -4.07, -2.85, -1.51, -0.68, -0.05, 0.54, 1.24, 2.08, 3.61, 7.07, 10.90, 14.06, 17.00),
    # 7 months ahead: 3696 errors
    (-7.86, -5.78, -4.56, -3.11, -1.61, -0.67, 0.03, 0.69, 1.42, 2.48, 4.18, 8.17, 11.86, 14.73, 18.07),
    # 8 months ahead: 3496 errors
    (-8.66, -6.56, -4.79, -3.26, -1.55, -0.62, 0.08, 0.81, 1.66, 2.83, 4.86, 9.25, 12.64, 15.76, 18.87),
    # 9 months ahead: 3296 errors
    (-9.31, -6.78, -5.13, -3.33, -1.65, -0.58, 0.19, 1.01, 1.90, 3.20, 5.52, 10.04, 13.55, 16.84, 19.52),
    # 10 months ahead: 3096 errors
    (-9.71, -7.27, -5.66, -3.53, -1.53, -0.46, 0.27, 1.13, 2.18, 3.68, 6.26, 10.60, 14.17, 17.56, 20.13),
    # 11 months ahead: 2896 errors
    (-10.79, -7.77, -5.70, -3.71, -1.56, -0.47, 0.39, 1.23, 2.37, 4.16, 7.01, 11.07, 15.15, 17.57, 20.23),
    # 12 months ahead: 2696 errors
    (-11.51, -8.18, -5.96, -3.82, -1.44, -0.37, 0.54, 1.40, 2.72, 4.49, 7.66, 11.54, 15.67, 18.35, 20.75),
)

SHAPES = ("s_curve_early", "s_curve_late", "step", "two_steps", "reversal", "line", "flat", "saturation")


# -- the three forecasts and their combination ------------------------------------------------------------------

_ALPHA = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
_BETA_FRACTION = np.array([0.0, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0])  # β as a share of α (β ≤ α keeps it stable)
_PHI = np.array([0.8, 0.85, 0.9, 0.95, 0.98])
_HA, _HB, _HP = (g.ravel() for g in np.meshgrid(_ALPHA, _BETA_FRACTION, _PHI, indexing="ij"))
_HB = _HA * _HB
_SES_ALPHA = np.linspace(0.05, 1.0, 20)


def damped_trend(y: Array, h: int) -> Array:
    """Holt's damped-trend exponential smoothing, months 1…h ahead: (α, β, φ) and the initial trend (0, the first
    three months', the whole history's) chosen by least squares of the one-step errors over a grid."""
    n = len(y)
    k = min(3, n - 1)
    starts = np.array([0.0, (y[k] - y[0]) / k, (y[-1] - y[0]) / (n - 1)])
    grid = len(_HA)
    a, beta, phi = np.tile(_HA, 3), np.tile(_HB, 3), np.tile(_HP, 3)
    trend = np.repeat(starts, grid)
    level = np.full(3 * grid, y[0])
    sse = np.zeros(3 * grid)
    for value in y[1:]:
        fit = level + phi * trend
        err = value - fit
        sse += err * err
        level = fit + a * err
        trend = phi * trend + beta * err
    j = int(np.argmin(sse))
    return np.asarray(level[j] + trend[j] * np.cumsum(phi[j] ** np.arange(1, h + 1)))


def theta(y: Array, h: int) -> Array:
    """The theta method (Assimakopoulos & Nikolopoulos 2000, as in Hyndman & Billah 2003): simple exponential
    smoothing (α by least squares over a grid) plus half the least-squares slope, months 1…h ahead."""
    n = len(y)
    level = np.full(len(_SES_ALPHA), y[0])
    sse = np.zeros(len(_SES_ALPHA))
    for value in y[1:]:
        err = value - level
        sse += err * err
        level = level + _SES_ALPHA * err
    j = int(np.argmin(sse))
    a = _SES_ALPHA[j]
    x = np.arange(n, dtype=float)
    slope = float(np.dot(x - x.mean(), y - y.mean()) / np.dot(x - x.mean(), x - x.mean()))
    steps = np.arange(1, h + 1, dtype=float)
    return np.asarray(level[j] + slope / 2 * (steps - 1 + 1 / a - (1 - a) ** n / a))


def combination(y: Sequence[float] | Array, h: int = CALIBRATED) -> Array:
    """The uncorrected point forecast months 1…h ahead: the mean of last value, damped trend and theta."""
    v = np.asarray(y, dtype=float)
    return (np.full(h, v[-1]) + damped_trend(v, h) + theta(v, h)) / 3.0


def baselines(y: Sequence[float] | Array, h: int) -> dict[str, Array]:
    """The simple forecasts the method must beat, months 1…h ahead: last value, drift (the line from the first
    observation to the last, carried on) and damped trend."""
    v = np.asarray(y, dtype=float)
    steps = np.arange(1, h + 1, dtype=float)
    return {
        "last_value": np.full(h, v[-1]),
        "drift": v[-1] + (v[-1] - v[0]) / (len(v) - 1) * steps,
        "damped_trend": damped_trend(v, h),
    }


# -- the error distribution ------------------------------------------------------------------------------------


def _quantiles(u: Array) -> Array:
    """Error quantiles at levels u (horizons 1…CALIBRATED × len(u)), interpolated between LEVELS."""
    table = np.asarray(CALIBRATION, dtype=float) / 100.0
    return np.stack([np.interp(u, LEVELS, row) for row in table])


def _paths(y: Array, months: int, u: Array) -> tuple[Array, Array]:
    """The point forecast (months 0…months, month 0 the last observation) and the paths at quantiles u
    (len(u) × months + 1), all in [0, 1]."""
    raw = combination(y, CALIBRATED)
    q = _quantiles(np.append(u, 0.5))  # CALIBRATED × (len(u) + 1): the last column is the median error
    median = q[:, -1]
    point = np.empty(months + 1)
    point[0] = y[-1]
    paths = np.empty((len(u), months + 1))
    paths[:, 0] = y[-1]
    near = min(months, CALIBRATED)
    point[1 : near + 1] = np.clip(raw[:near] + median[:near], 0.0, 1.0)
    paths[:, 1 : near + 1] = np.clip(raw[:near] + q[:near, :-1].T, 0.0, 1.0)
    if months > CALIBRATED:
        far = np.arange(1, months - CALIBRATED + 1, dtype=float)
        step = raw[-1] - raw[-2]
        point[CALIBRATED + 1 :] = np.clip(raw[-1] + median[-1] + step * np.cumsum(LONG_DAMPING**far), 0.0, 1.0)
        # Each path's deviation from the point forecast at 12 months grows as √h (a random walk's spread); the
        # growth beyond it slows exponentially as the path nears 0 or 1, so that no path is pressed against a bound.
        dev = (paths[:, CALIBRATED] - point[CALIBRATED])[:, None]
        growth = np.sqrt((CALIBRATED + far) / CALIBRATED)[None, :]
        base = np.clip(point[CALIBRATED + 1 :][None, :] + dev, 0.0, 1.0)
        room = np.where(dev > 0, 1.0 - base, base)
        extra = np.abs(dev) * (growth - 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            squashed = np.where(room > 0, room * -np.expm1(-extra / np.where(room > 0, room, 1.0)), 0.0)
        paths[:, CALIBRATED + 1 :] = np.clip(base + np.sign(dev) * squashed, 0.0, 1.0)
    return point, paths


# -- the record --------------------------------------------------------------------------------------------------


def backtest_summary(bt: Backtest | None) -> list[str]:
    """One plain line per horizon of a rolling-origin backtest (none without one)."""
    lines = []
    for s in bt.horizons if bt is not None else ():
        n = s.origins
        lines.append(
            f"{s.months} months ahead ({n} forecast{'s' if n != 1 else ''} on this series): off by "
            f"{100 * s.mae:.1f} points on average (last value {100 * s.mae_last_value:.1f}, drift "
            f"{100 * s.mae_drift:.1f}, damped trend {100 * s.mae_damped_trend:.1f}); the 80% band held "
            f"{s.coverage:.0%} of what followed"
        )
    return lines


def _series(t: Sequence[float] | Any, r: Sequence[float] | Any) -> tuple[Array, Array]:
    x, y = np.asarray(t, dtype=float).ravel(), np.asarray(r, dtype=float).ravel()
    if len(x) != len(y):
        raise TrendError(f"the restriction series has {len(x)} times but {len(y)} shares")
    if len(y) < MIN_POINTS:
        raise TrendError(f"a restriction forecast needs at least {MIN_POINTS} monthly points, the series has {len(y)}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise TrendError("the restriction series has missing (NaN) or infinite values")
    if np.any(np.diff(x) <= 0):
        raise TrendError("the restriction series' times must increase")
    if np.any((y < 0) | (y > 1)):
        raise TrendError("restricted shares must lie in [0, 1]")
    step = float(np.median(np.diff(x)))
    if not 0.06 <= step <= 0.11:
        raise TrendError(f"the restriction forecast needs a monthly series (its median step is {step * 12:.2f} months)")
    return x, y


def backtest(
    t: Sequence[float] | Any,
    r: Sequence[float] | Any,
    *,
    horizons: Sequence[int] = HORIZONS,
    min_history: int = MIN_HISTORY,
) -> Backtest | None:
    """Score the method and its baselines on one monthly series by a rolling origin: fit on the first k points
    (every k ≥ ``min_history``), forecast each horizon, compare with what followed. None when no origin has a
    month to score."""
    _, y = _series(t, r)
    n, longest = len(y), max(horizons)
    errors: dict[int, dict[str, list[float]]] = {h: {} for h in horizons}
    for k in range(min_history, n):
        if k - 1 + min(horizons) >= n:
            break
        h_max = min(longest, n - k)
        history = y[:k]
        point, paths = _paths(history, h_max, np.array([0.1, 0.9]))
        forecasts = {"method": point[1:], **{m: np.clip(f, 0, 1) for m, f in baselines(history, h_max).items()}}
        for h in horizons:
            if h > h_max:
                continue
            actual = y[k - 1 + h]
            for m, f in forecasts.items():
                errors[h].setdefault(m, []).append(abs(float(f[h - 1]) - actual))
            errors[h].setdefault("inside", []).append(float(paths[0, h] <= actual <= paths[1, h]))
    scores = tuple(
        HorizonScore(
            h,
            len(e["method"]),
            float(np.mean(e["method"])),
            float(np.mean(e["last_value"])),
            float(np.mean(e["drift"])),
            float(np.mean(e["damped_trend"])),
            float(np.mean(e["inside"])),
        )
        for h, e in errors.items()
        if e
    )
    return Backtest(METHOD, min_history, scores) if scores else None


@dataclass(frozen=True, slots=True)
class RestrictionForecast:
    """r(t) measured, and carried onto a time grid: the point forecast, its band and sample paths."""

    observed_t: Array
    observed_r: Array
    times: Array
    point: Array  # the point forecast on ``times`` (the observed series, interpolated, up to the last observation)
    curves: Array  # paths × times: comonotone sample paths, path j at one error quantile u_j ∈ (j, j + 1)/paths
    method: str  # short name
    description: str  # one sentence: the method and how its band was made
    backtest: Backtest | None  # the rolling-origin evaluation on this series (None: too short)

    def bands(self, qs: Sequence[float] = (0.1, 0.5, 0.9)) -> Array:
        """Quantiles of the forecast at each time (len(qs) × times); the 0.5 row is the point forecast. Levels
        beyond the calibrated 1% and 99% are read as those."""
        levels = np.asarray(qs, dtype=float)
        if np.any((levels < 0) | (levels > 1)):
            raise TrendError("band quantiles must lie in [0, 1]")
        return _on_grid(self.observed_t, self.observed_r, self.times, levels)[1]

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        """n paths (draws × times), drawn with replacement from ``curves``."""
        return self.curves[rng.integers(0, len(self.curves), n)]


def _on_grid(x: Array, y: Array, times: Array, u: Array) -> tuple[Array, Array]:
    """The point forecast and the paths at quantiles u on ``times``: the observed series (interpolated; its first
    value before it starts) up to the last observation, the forecast after it, linear between whole months."""
    if len(times) == 0:
        return np.empty(0), np.empty((len(u), 0))
    months_ahead = (times - x[-1]) * 12.0
    last = math.ceil(float(months_ahead.max())) if months_ahead.max() > 0 else 0
    point, paths = _paths(y, max(last, 1), u)
    ahead = months_ahead > 0
    grid = np.arange(len(point), dtype=float)
    observed = np.interp(times, x, y)
    out_point = np.where(ahead, np.interp(np.maximum(months_ahead, 0), grid, point), observed)
    out_paths = np.empty((len(u), len(times)))
    for i in range(len(u)):
        out_paths[i] = np.where(ahead, np.interp(np.maximum(months_ahead, 0), grid, paths[i]), observed)
    return out_point, out_paths


def forecast_restriction(
    t: Sequence[float] | Any,
    r: Sequence[float] | Any,
    times: Sequence[float] | Any,
    *,
    seed: int = 0,
    paths: int = 200,
    evaluate: bool = True,
) -> RestrictionForecast:
    """Carry a monthly restricted share forward onto ``times`` (decimal years), with comonotone sample paths.

    ``t`` are the decimal years of the months' ends (at least 6, monthly), ``r`` the shares. At grid times up to
    the last observation the forecast is the observed series (interpolated; before the first observation, its
    first value), so every path starts from the last observation. Row j of ``curves`` is the path at one error
    quantile u_j, drawn by ``seed`` inside ((j, j + 1)/``paths``), at every horizon: the rows rise with j and never
    cross. The point forecast and :meth:`RestrictionForecast.bands` do not depend on the seed. ``evaluate`` runs
    :func:`backtest` on the series (the ``backtest`` field; None when not asked or too short)."""
    x, y = _series(t, r)
    grid = np.asarray(times, dtype=float).ravel()
    if paths < 1:
        raise TrendError("a restriction forecast needs at least one sample path")
    # Stratified quantiles: one in each of ``paths`` equal slices of (0, 1), at a place the seed draws.
    u = (np.arange(paths) + np.random.default_rng(seed).uniform(size=paths)) / paths
    point, curves = _on_grid(x, y, grid, u)
    record = backtest(x, y) if evaluate else None
    return RestrictionForecast(x, y, grid, point, curves, METHOD, DESCRIPTION, record)


# -- simulated adoption series (what the band was calibrated on, and what the bench and tests score) ------------


def simulate(
    shape: str, rng: np.random.Generator, *, sites: int = 800, months: int | None = None
) -> tuple[Array, Array]:
    """One simulated monthly restriction series of a shape in :data:`SHAPES`: 24–48 months (or ``months``) from
    2022-07, the share of ``sites`` sites that restrict, with binomial sampling noise. Returns (t, r)."""
    n = int(rng.integers(24, 49)) if months is None else months
    i = np.arange(n, dtype=float)
    low = rng.uniform(0.02, 0.12)
    if shape == "s_curve_early":  # the middle of the S in the first half: saturation in view
        p = low + rng.uniform(0.1, 0.4) / (1 + np.exp(-rng.uniform(0.15, 0.5) * (i - rng.uniform(0.15, 0.45) * n)))
    elif shape == "s_curve_late":  # the middle near or after the end: acceleration
        p = low + rng.uniform(0.1, 0.4) / (1 + np.exp(-rng.uniform(0.15, 0.5) * (i - rng.uniform(0.7, 1.1) * n)))
    elif shape == "step":  # a jump over 1–3 months (GPTBot, August 2023), then a plateau
        at = rng.uniform(0.3, 0.8) * n
        p = low + rng.uniform(0.05, 0.2) * np.clip((i - at) / rng.uniform(1, 3), 0, 1)
    elif shape == "two_steps":
        first, second = rng.uniform(0.2, 0.45) * n, rng.uniform(0.55, 0.85) * n
        p = low + rng.uniform(0.04, 0.15) * (i >= first) + rng.uniform(0.04, 0.15) * (i >= second)
    elif shape == "reversal":  # a rise, then some of it undone
        peak, up = rng.uniform(0.5, 0.8) * n, rng.uniform(0.003, 0.01)
        p = low + np.where(i <= peak, up * i, up * peak - rng.uniform(0.3, 1.0) * up * (i - peak))
    elif shape == "line":
        p = low + rng.uniform(0.001, 0.008) * i
    elif shape == "flat":
        p = np.full(n, rng.uniform(0.02, 0.3))
    elif shape == "saturation":  # fast at first, slowing towards a ceiling
        p = low + rng.uniform(0.1, 0.3) * (1 - np.exp(-i / rng.uniform(6, 30)))
    else:
        raise TrendError(f"unknown shape {shape!r} (one of {', '.join(SHAPES)})")
    r = rng.binomial(sites, np.clip(p, 0.001, 0.999)) / sites
    return 2022.5 + (i + 1) / 12, np.asarray(r, dtype=float)
