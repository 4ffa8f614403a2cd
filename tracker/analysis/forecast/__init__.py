"""When the real data runs out, adjusted for consent, and where synthetic data must fill the gap.

tracker.analysis.forecast.params       every assumption, with its source; TOML files and overrides
tracker.analysis.forecast.stock        Epoch AI's data-stock Monte Carlo and the run-out date (forecast.md §2)
tracker.analysis.forecast.restriction  the measured restricted share r(t) forecast by a combination of simple methods,
                              its band from backtest errors, its own rolling-origin backtest
tracker.analysis.forecast.model        the consent-adjusted stock, the synthetic gap, categories, the scenario with use
                              preferences: one :class:`~tracker.records.forecast.Forecast` record (tracker.records
                              .forecast), whose ``as_dict()`` the ``forecast`` command prints
"""

from __future__ import annotations

from tracker.analysis.forecast.model import decimal_year, forecast, measured_restriction
from tracker.analysis.forecast.params import ForecastParams, Interval, load_params
from tracker.analysis.forecast.restriction import backtest, forecast_restriction
from tracker.analysis.forecast.stock import draw, exhaustion
from tracker.records.forecast import Forecast

__all__ = [
    "Forecast",
    "ForecastParams",
    "Interval",
    "backtest",
    "decimal_year",
    "draw",
    "exhaustion",
    "forecast",
    "forecast_restriction",
    "load_params",
    "measured_restriction",
]
