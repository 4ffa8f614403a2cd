"""The records of the forecast: what ``tracker.analysis.forecast.forecast`` returns, and what every face reads.

One record tree, one JSON shape (``Forecast.as_dict()``, the one ``consent-tracker forecast --format json`` prints and
the report's figures.json holds)::

    Forecast
      exhaustion, exhaustion_consent_adjusted        Runout            median, p10, p90 (+ their months)
      exhaustion_restriction_held                    HeldRunout        … and the level held
      exhaustion_with_preferences                    PreferencesRunout … and the preferences' share
      stock_tokens                                   StockTokens       p5, median, p95 in the base year
      demand_tokens                                  YearQuantiles …   per year
      gap                                            GapYear …         demand, usable, synthetic tokens and share
      restricted_share                               RestrictedShare   observed months, forecast, path, backtest
      preferences                                    Preferences       the use-preference scenario's availability
      categories                                     CategoryForecast …
      sample                                         Sample            what the measured restriction rests on
      definitions                                    Definitions       what each figure means
      params                                         Parameters        every assumption (ForecastParams)

What was never measured is None (no restricted share, no scenario), never zero.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from tracker.records.json import Json
from tracker.records.trends import Definition

__all__ = [
    "RUNOUT_SCENARIOS",
    "RUNOUT_SHORT",
    "Backtest",
    "CategoryForecast",
    "Definitions",
    "Forecast",
    "GapYear",
    "HeldRunout",
    "HorizonScore",
    "ObservedShare",
    "Parameters",
    "PathPoint",
    "Preferences",
    "PreferencesRunout",
    "Quantiles",
    "RestrictedShare",
    "Runout",
    "Sample",
    "StockTokens",
    "YearQuantiles",
    "year_month",
]


#: The run-out scenarios of a forecast, in the order every face lists them.
RUNOUT_SCENARIOS = {
    "exhaustion": "all public human text (Epoch AI's model)",
    "exhaustion_consent_adjusted": "minus what robots.txt restricts (measured, forecast)",
    "exhaustion_restriction_held": "minus robots.txt restriction held at today's level",
    "exhaustion_with_preferences": "… and use preferences (today's snapshot)",
}


#: The same scenarios, short enough for a chart's axis.
RUNOUT_SHORT = {
    "exhaustion": "Epoch AI's model",
    "exhaustion_consent_adjusted": "− robots.txt (forecast)",
    "exhaustion_restriction_held": "− robots.txt (held)",
    "exhaustion_with_preferences": "− robots.txt and preferences",
}


def year_month(t: float | None) -> str | None:
    """A decimal year as its calendar month, "YYYY-MM" (2027.8 is October 2027, not August); None stays None."""
    if t is None:
        return None
    # Rounded first: a grid time such as 2024 + 7/12 is 2024.58333…, whose (t − year) × 12 may come out as
    # 6.9999999 and would otherwise be read as the month before.
    months = math.floor(round(t * 12, 6))
    year, month = divmod(months, 12)
    month += 1
    return f"{year:04d}-{month:02d}"


class Parameters(Protocol):
    """The forecast's parameters as a record reads them (``tracker.analysis.forecast.ForecastParams``)."""

    @property
    def start(self) -> float:
        """The grid's first decimal year."""

    @property
    def end(self) -> float:
        """The horizon: the grid's last decimal year."""

    def as_dict(self) -> dict[str, Json]:
        """Every parameter, JSON-ready."""


# -- intervals -------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Quantiles:
    """A quantity over the Monte Carlo's draws: its median and 80% interval."""

    p10: float
    median: float
    p90: float

    def as_dict(self) -> dict[str, Json]:
        """``{"p10", "median", "p90"}``."""
        return {"p10": self.p10, "median": self.median, "p90": self.p90}


@dataclass(frozen=True, slots=True)
class YearQuantiles:
    """A quantity's median and 80% interval in the middle of one year."""

    year: int
    p10: float
    median: float
    p90: float

    def as_dict(self) -> dict[str, Json]:
        """``{"year", "p10", "median", "p90"}``."""
        return {"year": self.year, "p10": self.p10, "median": self.median, "p90": self.p90}


@dataclass(frozen=True, slots=True)
class StockTokens:
    """The effective stock of public human text in the base year, tokens: median and 90% interval."""

    year: float
    p5: float
    median: float
    p95: float

    def as_dict(self) -> dict[str, Json]:
        """``{"year", "p5", "median", "p95"}``."""
        return {"year": self.year, "p5": self.p5, "median": self.median, "p95": self.p95}


# -- run-outs --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Runout:
    """When demand reaches the (usable) stock: the decimal year where half the draws have run out, and where 10% and
    90% have; None past the horizon."""

    median: float | None
    p10: float | None
    p90: float | None

    @property
    def median_month(self) -> str | None:
        """The median as "YYYY-MM"."""
        return year_month(self.median)

    @property
    def p10_month(self) -> str | None:
        """The 10% point as "YYYY-MM"."""
        return year_month(self.p10)

    @property
    def p90_month(self) -> str | None:
        """The 90% point as "YYYY-MM"."""
        return year_month(self.p90)

    def as_dict(self) -> dict[str, Json]:
        """Decimal years (``median``, ``p10``, ``p90``) and their calendar months (``median_month`` …)."""
        return {
            "median": self.median,
            "p10": self.p10,
            "p90": self.p90,
            "median_month": self.median_month,
            "p10_month": self.p10_month,
            "p90_month": self.p90_month,
        }


@dataclass(frozen=True, slots=True)
class HeldRunout(Runout):
    """The run-out with the restricted share held at its last measured level for ever."""

    restricted_share: float
    scenario: str

    def as_dict(self) -> dict[str, Json]:
        """The run-out, the level held and the scenario said plainly."""
        return Runout.as_dict(self) | {"restricted_share": self.restricted_share, "scenario": self.scenario}


@dataclass(frozen=True, slots=True)
class PreferencesRunout(Runout):
    """The run-out when use preferences restrict, beyond robots.txt, ``share`` of the sites it leaves open."""

    scenario: str
    share: float

    def as_dict(self) -> dict[str, Json]:
        """The run-out, the scenario said plainly and the preferences' share."""
        return Runout.as_dict(self) | {"scenario": self.scenario, "share": self.share}


# -- the synthetic gap -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GapYear:
    """One year's largest dataset, usable stock, synthetic tokens (the gap) and synthetic share of the mix."""

    year: int
    demand_tokens: Quantiles
    usable_tokens: Quantiles
    synthetic_tokens: Quantiles
    synthetic_share: Quantiles

    def as_dict(self) -> dict[str, Json]:
        """The year, then each quantity's median and 80% interval."""
        return {
            "year": self.year,
            "demand_tokens": self.demand_tokens.as_dict(),
            "usable_tokens": self.usable_tokens.as_dict(),
            "synthetic_tokens": self.synthetic_tokens.as_dict(),
            "synthetic_share": self.synthetic_share.as_dict(),
        }


# -- the restricted share r(t) ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ObservedShare:
    """One measured month of the restricted share."""

    period: str
    period_end: str
    share: float  # restricted, by a group naming an agent or inherited from '*'
    named: float  # by a group naming an agent
    inherited: float  # through 'User-agent: *'
    sites: int
    weight_measured_share: float

    def as_dict(self) -> dict[str, Json]:
        """A plain dict (for JSON)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class PathPoint:
    """One point of r(t)'s forecast path (the first: the last observation, where the forecast starts)."""

    t: float  # decimal year, rounded to 4 places
    month: str | None  # "YYYY-MM"
    p10: float
    median: float
    p90: float

    def as_dict(self) -> dict[str, Json]:
        """A plain dict (for JSON)."""
        return {"t": self.t, "month": self.month, "p10": self.p10, "median": self.median, "p90": self.p90}


@dataclass(frozen=True, slots=True)
class HorizonScore:
    """Rolling-origin errors at one horizon (shares, not points)."""

    months: int  # forecast this many months ahead
    origins: int  # forecasts scored (one per origin with ≥ 12 months behind it and the month to score)
    mae: float  # mean absolute error of the method
    mae_last_value: float
    mae_drift: float
    mae_damped_trend: float
    coverage: float  # share of outcomes inside the method's 10–90% band (0.8 when calibrated)

    def as_dict(self) -> dict[str, Json]:
        """A plain dict (for JSON)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Backtest:
    """The method and its baselines scored on one series by a rolling origin."""

    method: str
    min_history: int  # months behind the first origin
    horizons: tuple[HorizonScore, ...]  # 3, 6, 12 months, those the series is long enough for

    def at(self, months: int) -> HorizonScore | None:
        """The score at ``months`` ahead, if the series was long enough to have one."""
        return next((s for s in self.horizons if s.months == months), None)

    def as_dict(self) -> dict[str, Json]:
        """A plain dict (for JSON)."""
        return {
            "method": self.method,
            "min_history": self.min_history,
            "horizons": [s.as_dict() for s in self.horizons],
        }


@dataclass(frozen=True, slots=True)
class RestrictedShare:
    """The restricted share r(t) the consent adjustment applies: measured each month, then forecast — per year and
    as a monthly path from the last observation — with the method's backtest on this series."""

    observed: tuple[ObservedShare, ...]
    method: str
    description: str
    backtest: Backtest | None  # None: the series was too short to score
    forecast: tuple[YearQuantiles, ...]  # the middle of each year
    path: tuple[PathPoint, ...]
    definition: Definition

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready, nested."""
        return {
            "observed": [o.as_dict() for o in self.observed],
            "method": self.method,
            "description": self.description,
            "backtest": self.backtest.as_dict() if self.backtest else None,
            "forecast": [f.as_dict() for f in self.forecast],
            "path": [p.as_dict() for p in self.path],
            "definition": self.definition.as_dict(),
        }


# -- the use-preference scenario, categories, the sample, definitions -----------------------------------------
@dataclass(frozen=True, slots=True)
class Preferences:
    """Whether the use-preference scenario could be computed, on what, and why not. The counts are None when no
    site was read (the scenario switched off, or no homepage ever fetched); ``share`` is None unless available."""

    available: bool
    reason: str | None  # None when available
    sites_read: int | None = None
    open_sites: int | None = None  # of those read, the sites robots.txt leaves open to the agents
    observed_sites: int | None = None  # of those, the sites whose use preferences were observed
    opted_out: int | None = None  # of those, the sites whose preferences opt out of training
    share: float | None = None  # opted_out / observed_sites

    def as_dict(self) -> dict[str, Json]:
        """``available``, the counts when sites were read, ``share`` when available, ``reason``."""
        out: dict[str, Json] = {"available": self.available}
        if self.sites_read is not None:
            out |= {
                "sites_read": self.sites_read,
                "open_sites": self.open_sites,
                "observed_sites": self.observed_sites,
                "opted_out": self.opted_out,
            }
        if self.available:
            out["share"] = self.share
        return out | {"reason": self.reason}


@dataclass(frozen=True, slots=True)
class CategoryForecast:
    """One category's share of the sample, the restriction applied to it (its own curve or the overall one), its
    run-out and gap."""

    category: str
    sites: int
    share: float  # of the sample's tokens (weighted) or sites
    share_of: str  # "sites", or "tokens (<weights label>)"
    restricted_now: float | None  # its own last measured share (None: the overall curve applies)
    restriction: str  # which curve, and why
    exhaustion: Runout
    gap: tuple[GapYear, ...]

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready, nested."""
        return {
            "category": self.category,
            "sites": self.sites,
            "share": self.share,
            "share_of": self.share_of,
            "restricted_now": self.restricted_now,
            "restriction": self.restriction,
            "exhaustion": self.exhaustion.as_dict(),
            "gap": [g.as_dict() for g in self.gap],
        }


@dataclass(frozen=True, slots=True)
class Sample:
    """What the measured restriction rests on. Unmeasured: ``note`` says why, every other field is None."""

    measured: bool
    note: str | None = None  # only when not measured
    date_from: str | None = None  # first month's end
    date_to: str | None = None  # last month's end
    months: int | None = None
    sites: int | None = None  # observed at the end
    weighting: str | None = None
    weight_measured_share: float | None = None
    sites_sample: str | None = None  # which sites
    purpose: str | None = None
    group_by: str | None = None
    group: str | None = None
    rule: str | None = None
    agents: tuple[str, ...] | None = None
    restricted: str | None = None  # the definition of the restricted share, one paragraph

    def as_dict(self) -> dict[str, Json]:
        """``{"measured": false, "note"}``, or everything the measurement rests on."""
        if not self.measured:
            return {"measured": False, "note": self.note}
        return {
            "measured": True,
            "from": self.date_from,
            "to": self.date_to,
            "months": self.months,
            "sites": self.sites,
            "weighting": self.weighting,
            "weight_measured_share": self.weight_measured_share,
            "sites_sample": self.sites_sample,
            "purpose": self.purpose,
            "group_by": self.group_by,
            "group": self.group,
            "rule": self.rule,
            "agents": list(self.agents) if self.agents is not None else None,
            "restricted": self.restricted,
        }


@dataclass(frozen=True, slots=True)
class Definitions:
    """What each of the forecast's figures means, one sentence each (``restricted``: None until measured)."""

    restricted: Definition | None
    usable_stock: str
    run_out: str
    gap: str
    demand: str
    projection: str
    monte_carlo: str

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready (``restricted`` as its own ``as_dict``)."""
        return {
            "restricted": self.restricted.as_dict() if self.restricted else None,
            "usable_stock": self.usable_stock,
            "run_out": self.run_out,
            "gap": self.gap,
            "demand": self.demand,
            "projection": self.projection,
            "monte_carlo": self.monte_carlo,
        }


# -- the whole -------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Forecast:
    """The whole forecast: the ``forecast`` command's output, the report's figures and the dashboard's, from one
    call. A scenario that could not be computed is None, with the reason in ``sample`` or ``preferences``."""

    data_through: str | None  # the last measured month's end (None: nothing measured)
    exhaustion: Runout  # Epoch AI's model, unadjusted
    stock_tokens: StockTokens
    demand_tokens: tuple[YearQuantiles, ...]
    exhaustion_consent_adjusted: Runout | None
    exhaustion_restriction_held: HeldRunout | None
    exhaustion_with_preferences: PreferencesRunout | None
    preferences: Preferences | None  # None: no restriction measured, so no scenario to add to
    restricted_share: RestrictedShare | None
    gap: tuple[GapYear, ...]
    categories: tuple[CategoryForecast, ...]
    params: Parameters
    sample: Sample
    definitions: Definitions

    def runouts(self) -> dict[str, Runout]:
        """The run-out scenarios computed, by key, in the order every face lists them."""
        found = ((key, getattr(self, key)) for key in RUNOUT_SCENARIOS)
        return {key: e for key, e in found if e is not None}

    def as_dict(self) -> dict[str, Json]:
        """The JSON ``consent-tracker forecast --format json`` prints."""
        return {
            "data_through": self.data_through,
            "exhaustion": self.exhaustion.as_dict(),
            "stock_tokens": self.stock_tokens.as_dict(),
            "demand_tokens": [d.as_dict() for d in self.demand_tokens],
            "exhaustion_consent_adjusted": _opt(self.exhaustion_consent_adjusted),
            "exhaustion_restriction_held": _opt(self.exhaustion_restriction_held),
            "exhaustion_with_preferences": _opt(self.exhaustion_with_preferences),
            "preferences": _opt(self.preferences),
            "restricted_share": _opt(self.restricted_share),
            "gap": [g.as_dict() for g in self.gap],
            "categories": [c.as_dict() for c in self.categories],
            "params": self.params.as_dict(),
            "sample": self.sample.as_dict(),
            "definitions": self.definitions.as_dict(),
        }


def _opt(record: Any) -> Any:
    return record.as_dict() if record is not None else None
