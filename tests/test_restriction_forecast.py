"""The restriction forecast of issue 17: paths that start from the last observation, a point forecast that stays
sane to 2040, a band that widens yet stays in [0, 1], a method no worse than the simple baselines on a rolling-origin
backtest with an 80% band that holds about 80% of what followed, and clear errors for series it cannot forecast."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tracker.analysis.forecast.restriction import (
    CALIBRATION,
    LEVELS,
    SHAPES,
    backtest,
    backtest_summary,
    baselines,
    forecast_restriction,
    simulate,
)
from tracker.errors import TrendError

GRID = 2024.0 + np.arange(193) / 12  # monthly, 2024 → 2040, as the forecast's Monte Carlo uses


def monthly(r: list[float] | np.ndarray, start: float = 2022.5) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(r, dtype=float)
    return start + (np.arange(len(r)) + 1) / 12, r


def test_every_path_starts_from_the_last_observation() -> None:
    rng = np.random.default_rng(5)
    for shape in SHAPES:
        t, r = simulate(shape, rng, months=20)  # ends 2024-03: the grid starts before it
        fc = forecast_restriction(t, r, np.append(GRID, t[-1]))
        observed = t[-1] >= GRID
        assert observed.any() and (~observed).any()
        # Up to the last observation every path is the observed series, interpolated; at it, the last value.
        assert np.allclose(fc.curves[:, :-1][:, observed], np.interp(GRID[observed], t, r))
        assert np.allclose(fc.curves[:, -1], r[-1]) and fc.point[-1] == pytest.approx(r[-1])
        # No jump after it: a month on, no path is further from the last value than the 1-month errors go.
        month_on = int(np.argmax(t[-1] < GRID))
        fraction = (GRID[month_on] - t[-1]) * 12
        assert np.abs(fc.curves[:, month_on] - r[-1]).max() <= fraction * (0.01 + max(map(abs, CALIBRATION[0])) / 100)


def test_bands_median_is_the_point_forecast_and_paths_are_coherent() -> None:
    t, r = simulate("s_curve_late", np.random.default_rng(2), months=30)
    fc = forecast_restriction(t, r, GRID, paths=400)
    b = fc.bands((0.1, 0.5, 0.9))
    assert b.shape == (3, len(GRID)) and fc.curves.shape == (400, len(GRID))
    assert np.array_equal(b[1], fc.point)
    assert np.all(b[0] <= b[1]) and np.all(b[1] <= b[2])
    # Comonotone: path j is at one quantile of the errors at every horizon, so the paths never cross …
    assert np.all(np.diff(fc.curves, axis=0) >= -1e-12)
    # … and the band is the paths' own quantiles (up to the stratified draw).
    assert np.abs(np.quantile(fc.curves, (0.1, 0.9), axis=0) - b[[0, 2]]).max() < 0.01
    assert fc.sample(np.random.default_rng(0), 1000).shape == (1000, len(GRID))
    assert fc.method == "combination" and fc.description.endswith(".") and "band" in fc.description


def test_the_point_forecast_stays_sane_to_2040_and_the_band_widens_within_0_1() -> None:
    flat = monthly(np.random.default_rng(1).binomial(800, 0.15, 30) / 800)
    line = monthly(0.05 + 0.008 * np.arange(36))  # a point a month: a line carried to 2040 would pass 100%
    high = monthly(np.linspace(0.80, 0.97, 30))
    low = monthly(np.full(30, 0.01))
    for t, r in (flat, line, high, low):
        fc = forecast_restriction(t, r, GRID)
        b = fc.bands((0.1, 0.5, 0.9))
        assert np.all((fc.curves >= 0) & (fc.curves <= 1)) and np.all((b >= 0) & (b <= 1))
        if r is high[1]:
            continue  # pressed against 100%, the band can only narrow at first
        width = b[2] - b[0]
        ahead = t[-1] < GRID
        assert np.all(np.diff(width[ahead]) >= -1e-9)  # widens with the horizon …
        assert width[-1] > width[ahead][12] > 0  # … beyond the 12 months it was measured at
    fc = forecast_restriction(*flat, GRID)
    assert abs(fc.point[-1] - flat[1][-12:].mean()) < 0.03  # flat stays flat
    fc = forecast_restriction(*line, GRID)
    assert line[1][-1] < fc.point[-1] < 0.5  # keeps rising a little, damped, not to 100%
    assert fc.point[-1] - fc.point[np.searchsorted(GRID, 2030.0)] < 0.005  # flat by 2030


def _pooled(series: list[tuple[np.ndarray, np.ndarray]]) -> tuple[dict[str, dict[int, float]], dict[int, float]]:
    """Pooled rolling-origin MAE of the method and each baseline, and the band's coverage, per horizon."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    sums: dict[str, dict[int, float]] = {}
    inside: dict[int, float] = {3: 0.0, 6: 0.0, 12: 0.0}
    counts: dict[int, int] = {3: 0, 6: 0, 12: 0}
    for t, r in series:
        bt = backtest(t, r)
        assert bt is not None
        for s in bt.horizons:
            counts[s.months] += s.origins
            inside[s.months] += s.coverage * s.origins
            for name, mae in (
                ("method", s.mae),
                ("last value", s.mae_last_value),
                ("drift", s.mae_drift),
                ("damped trend", s.mae_damped_trend),
            ):
                sums.setdefault(name, {3: 0.0, 6: 0.0, 12: 0.0})[s.months] += mae * s.origins
        # statsmodels' damped-trend ETS, the best baseline of the issue's backtest (auto-ARIMA: too slow for a
        # test; bench/restriction_backtest.py scores it)
        for k in range(12, len(r) - 2):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = np.clip(ETSModel(r[:k], trend="add", damped_trend=True).fit(disp=False).forecast(12), 0, 1)
            for h in (3, 6, 12):
                if k - 1 + h < len(r):
                    sums.setdefault("statsmodels ETS", {3: 0.0, 6: 0.0, 12: 0.0})[h] += abs(f[h - 1] - r[k - 1 + h])
    maes = {m: {h: v[h] / counts[h] for h in v} for m, v in sums.items()}
    return maes, {h: inside[h] / counts[h] for h in counts}


@pytest.mark.slow
def test_no_worse_than_the_baselines_with_an_honest_band_on_simulated_shapes() -> None:
    # Three series of every shape, seeded apart from the calibration's (17) and the bench's (2024).
    rng = np.random.default_rng(7)
    series = [simulate(shape, rng) for shape in SHAPES for _ in range(3)]
    maes, coverage = _pooled(series)
    for name, m in maes.items():
        print(f"{name:>16}: " + "  ".join(f"{h} months {100 * m[h]:.2f}" for h in (3, 6, 12)))
    print("coverage:", {h: round(c, 2) for h, c in coverage.items()})
    for h in (3, 6, 12):
        best = min(m[h] for name, m in maes.items() if name != "method")
        assert maes["method"][h] <= best, (h, maes)
    overall = float(np.mean(list(coverage.values())))
    assert 0.7 <= overall <= 0.9 and all(0.6 <= c <= 0.95 for c in coverage.values()), coverage


def test_the_backtest_record_on_a_series_long_enough() -> None:
    t, r = simulate("step", np.random.default_rng(3), months=25)
    fc = forecast_restriction(t, r, GRID)
    assert fc.backtest is not None and fc.backtest.method == "combination"
    # origins: fitted on 12…22 points for 3 months ahead, 12…19 for 6, 12…13 for 12
    assert [(s.months, s.origins) for s in fc.backtest.horizons] == [(3, 11), (6, 8), (12, 2)]
    for s in fc.backtest.horizons:
        assert 0 <= s.coverage <= 1 and s.mae >= 0 and s.mae_last_value >= 0
    assert fc.backtest.at(6) is fc.backtest.horizons[1] and fc.backtest.at(24) is None
    assert fc.backtest.as_dict()["horizons"][0]["months"] == 3
    # 14 points: no origin with 12 months behind it has 3 months to score
    short = forecast_restriction(*monthly(r[:14]), GRID)
    assert short.backtest is None and backtest(*monthly(r[:14])) is None
    assert forecast_restriction(t, r, GRID, evaluate=False).backtest is None


def test_baselines_are_what_they_say() -> None:
    y = np.array([0.1, 0.12, 0.14, 0.16, 0.18, 0.2])
    b = baselines(y, 3)
    assert np.allclose(b["last_value"], 0.2) and np.allclose(b["drift"], [0.22, 0.24, 0.26])
    assert np.all(np.diff(b["damped_trend"]) > 0) and b["damped_trend"][-1] <= 0.26 + 1e-9


@pytest.mark.parametrize(
    ("t", "r", "message"),
    [
        (*monthly([0.1, 0.1, 0.1, 0.1, 0.1]), "at least 6 monthly points, the series has 5"),
        ([], [], "at least 6 monthly points, the series has 0"),
        (*monthly([0.1] * 5 + [np.nan] + [0.1] * 4), "missing"),
        (np.arange(10.0), [0.1] * 10, "monthly series"),
        (*monthly([0.1] * 9 + [1.2]), r"\[0, 1\]"),
        (monthly([0.1] * 10)[0][::-1], [0.1] * 10, "increase"),
        (monthly([0.1] * 10)[0], [0.1] * 9, "10 times but 9 shares"),
    ],
)
def test_a_series_it_cannot_forecast_is_a_trend_error(t: object, r: object, message: str) -> None:
    with pytest.raises(TrendError, match=message):
        forecast_restriction(t, r, GRID)


def test_deterministic_for_a_seed() -> None:
    t, r = simulate("two_steps", np.random.default_rng(11), months=30)
    a, b = forecast_restriction(t, r, GRID, seed=3), forecast_restriction(t, r, GRID, seed=3)
    c = forecast_restriction(t, r, GRID, seed=4)
    assert np.array_equal(a.curves, b.curves) and a.backtest == b.backtest
    assert not np.array_equal(a.curves, c.curves)  # the seed places each path inside its slice of quantiles …
    assert np.array_equal(a.bands(), c.bands()) and np.array_equal(a.point, c.point)  # … never the forecast
    assert a.sample(np.random.default_rng(9), 50).tolist() == b.sample(np.random.default_rng(9), 50).tolist()


def test_the_calibration_table_is_well_formed() -> None:
    assert len(CALIBRATION) == 12 and all(len(row) == len(LEVELS) for row in CALIBRATION)
    assert all(np.all(np.diff(row) > 0) for row in CALIBRATION)  # quantiles increase with the level
    assert all(CALIBRATION[h][0] < CALIBRATION[h][-1] for h in range(12))
    spread = [row[LEVELS.index(0.9)] - row[LEVELS.index(0.1)] for row in CALIBRATION]
    assert np.all(np.diff(spread) > 0)  # further ahead, wider


def test_backtest_summary_says_each_horizon_in_points() -> None:
    t, r = simulate("line", np.random.default_rng(4), months=25)
    bt = backtest(t, r)
    assert bt is not None
    lines = backtest_summary(bt)
    assert lines == backtest_summary(bt.as_dict()) and len(lines) == 3
    three = bt.horizons[0]
    assert lines[0].startswith("3 months ahead (11 forecasts on this series): off by ")
    assert f"{100 * three.mae:.1f} points" in lines[0] and f"held {three.coverage:.0%}" in lines[0]
