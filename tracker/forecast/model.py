"""The consent-adjusted forecast: our measured restriction applied to Epoch AI's data stock (forecast.md §3).

- consent-adjusted stock(t) = stock(t) × (1 − r(t)), r(t) the restricted token share of the sites we measure for
  the agents of one purpose (training by default), fitted and carried forward with its bootstrap uncertainty;
- the run-out date it implies, beside the unadjusted one;
- gap(t) = max(0, demand(t) − usable stock(t)): synthetic tokens a year needed, and the synthetic share of the
  training mix it implies; by category, with each category's own restriction (which kinds of text run out first);
- a separate, labelled scenario adding what use preferences (Content-Signal, aipref, TDMRep, noai, ai.txt, RSL,
  terms of service) restrict beyond robots.txt, from a current snapshot held constant.

Every figure says which measurements and which assumptions made it (``sample`` and ``params``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Engine

from tracker.agents import AgentRegistry
from tracker.errors import TrendError
from tracker.forecast.params import ForecastParams
from tracker.forecast.restriction import RestrictionForecast, backtest, forecast_restriction
from tracker.forecast.stock import Draws, draw, exhaustion, quantiles
from tracker.trends import DEFINITIONS, TrendRow, restriction_series
from tracker.vocabulary import GroupBy, Weighting
from tracker.weights import Weights, stored_weights

__all__ = ["Measured", "decimal_year", "forecast", "measured_restriction"]


def decimal_year(d: date) -> float:
    """A date as a decimal year (the middle of its day)."""
    start = date(d.year, 1, 1)
    days = (date(d.year + 1, 1, 1) - start).days
    return d.year + ((d - start).days + 0.5) / days


@dataclass(frozen=True, slots=True)
class Measured:
    """The measured restricted share of one purpose's agents, per month."""

    rows: list[TrendRow]
    weighting: str
    agents: list[str]

    @property
    def t(self) -> list[float]:
        """Decimal years of the months' ends."""
        return [decimal_year(date.fromisoformat(r.period_end)) for r in self.rows]

    @property
    def r(self) -> list[float]:
        """The restricted share (blocked, named or inherited from '*')."""
        return [r.blocked_share for r in self.rows]


def _weights(engine: Engine, weighting: str) -> Weights | None:
    if weighting == "sites":
        return None
    try:
        return stored_weights(engine)
    except TrendError:
        if weighting == "tokens":
            raise
        return None


def measured_restriction(
    engine: Engine,
    registry: AgentRegistry,
    params: ForecastParams,
    *,
    category: str | None = None,
    lists: list[str] | None = None,
) -> Measured:
    """Monthly restricted share for one purpose's (or company's, or one agent's) agents, token-weighted when
    weights are stored."""
    c = params.consent
    by = GroupBy(c.group_by)
    name = c.group or c.purpose
    if by is GroupBy.purpose:
        agents = [a.token for a in registry.select(purpose=name)]
    elif by is GroupBy.company:
        agents = [a.token for a in registry.select(company=name)]
    else:
        found = registry.get(name)
        agents, by = ([found.token] if found else []), GroupBy.agent
    if not agents:
        raise TrendError(f"no agent of {c.group_by} {name!r} in the registry (see `consent-tracker agents list`)")
    weights = _weights(engine, c.weighting)
    rows = restriction_series(
        engine, registry, agents, by=by, category=category, lists=lists,
        weight=Weighting.tokens if weights is not None else Weighting.none, weights=weights,
    )  # fmt: skip
    key = agents[0] if by is GroupBy.agent else (registry.get(agents[0]).company if by is GroupBy.company else name)  # type: ignore[union-attr]
    rows = [r for r in rows if r.agent == key]
    return Measured(rows, rows[-1].weighting if rows else ("tokens" if weights else "sites"), agents)


def _by_year(times: np.ndarray, values: np.ndarray, years: range) -> list[dict[str, float]]:
    out = []
    for y in years:
        i = int(np.searchsorted(times, y + 0.5))
        if i >= len(times):
            break
        p10, p50, p90 = np.quantile(values[:, i], (0.1, 0.5, 0.9))
        out.append({"year": y, "p10": float(p10), "median": float(p50), "p90": float(p90)})
    return out


def _gap(draws: Draws, usable: np.ndarray, first_year: int) -> list[dict[str, Any]]:
    gap = np.maximum(draws.demand - usable, 0.0)
    share = gap / draws.demand
    years = range(first_year, int(draws.times[-1]))
    tokens = _by_year(draws.times, gap, years)
    shares = _by_year(draws.times, share, years)
    keys = ("p10", "median", "p90")
    return [
        {"year": a["year"], "synthetic_tokens": {k: a[k] for k in keys}, "synthetic_share": {k: b[k] for k in keys}}
        for a, b in zip(tokens, shares, strict=True)
    ]


def _restriction_json(m: Measured, fc: RestrictionForecast, first_year: int, end: float) -> dict[str, Any]:
    observed = [{"period": r.period, "share": r.blocked_share, "named": r.blocked_named_share,
                 "inherited": round(r.blocked_share - r.blocked_named_share, 6), "sites": r.sites,
                 "weight_measured_share": r.weight_measured_share} for r in m.rows]  # fmt: skip
    bands = fc.bands()
    forecast_rows = []
    for y in range(first_year, int(end) + 1):
        i = int(np.searchsorted(fc.times, y + 0.5))
        if i < len(fc.times):
            forecast_rows.append({"year": y, "p10": float(bands[0, i]), "median": float(bands[1, i]),
                                  "p90": float(bands[2, i])})  # fmt: skip
    return {"observed": observed, "model": fc.fit.model, "params": list(fc.fit.params), "cap": fc.fit.cap,
            "out_of_sample_error": fc.errors, "forecast": forecast_rows}  # fmt: skip


def _preferences_uplift(
    engine: Engine, registry: AgentRegistry, tokens: list[str], limit: int
) -> dict[str, Any] | None:
    """Of the sites robots.txt leaves open to these agents, the share whose use preferences opt out of training
    (a current snapshot over at most ``limit`` sites)."""
    if limit <= 0:
        return None
    from tracker.report import latest_records

    open_sites = optout = seen = 0
    for rec in latest_records(engine, registry):
        seen += 1
        if seen > limit:
            break
        agents = [rec["agents"][t] for t in tokens if t in rec["agents"]]
        if not agents or rec["robots_status"] in ("unreachable", "network_error"):
            continue
        if all(a["allowed_root"] for a in agents):
            open_sites += 1
            optout += any(a["training_optout"] for a in agents)
    if not open_sites:
        return None
    return {"share": optout / open_sites, "sites_read": min(seen, limit), "open_sites": open_sites,
            "opted_out": optout}  # fmt: skip


def forecast(engine: Engine | None, registry: AgentRegistry | None, params: ForecastParams) -> dict[str, Any]:
    """The whole forecast as a JSON-ready dict (the ``forecast`` command's output)."""
    draws = draw(params)
    first_year = int(params.start)
    stock_now = quantiles(draws.stock[:, 0])
    out: dict[str, Any] = {
        "exhaustion": exhaustion(draws).as_dict(),
        "stock_tokens": {"year": params.stock.base_year, "p5": stock_now[0], "median": stock_now[1],
                         "p95": stock_now[2]},
        "demand_tokens": _by_year(draws.times, draws.demand, range(first_year, int(params.end))),
        "exhaustion_consent_adjusted": None,
        "exhaustion_with_preferences": None,
        "restricted_share": None,
        "gap": _gap(draws, draws.stock, first_year),
        "categories": [],
        "params": params.as_dict(),
        "sample": {"measured": False, "note": "no measurements yet: the unadjusted model only (crawl, backfill or "
                                              "import-archive to add them)"},
        "definitions": {
            "blocked": DEFINITIONS,
            "usable_stock": "effective stock × (1 − restricted token share of the purpose's agents)",
            "gap": "max(0, largest training dataset − usable stock), per year; synthetic share = gap / dataset",
            "projection": f"demand from the {params.demand.projection} projection"
            + ("" if params.demand.projection != "historical" else " (the paper's trend of 80 notable models alone; "
               "its headline 2028 pools a compute-based projection whose series is not public)")
            + (f", × {params.demand.overtraining:g} overtraining" if params.demand.overtraining != 1 else ""),
        },
    }
    if engine is None or registry is None:
        return out
    m = measured_restriction(engine, registry, params)
    if len(m.rows) < 3:
        return out
    rng = np.random.default_rng(params.seed + 1)
    c = params.consent
    fc = forecast_restriction(m.t, m.r, draws.times, bootstrap=c.bootstrap, holdout=c.holdout_months,
                              prior=c.ceiling_prior, seed=params.seed, model=c.model)  # fmt: skip
    r = fc.sample(rng, draws.n)
    usable = draws.stock * (1.0 - r)
    out["exhaustion_consent_adjusted"] = exhaustion(draws, usable).as_dict()
    out["restricted_share"] = _restriction_json(m, fc, first_year, params.end)
    out["gap"] = _gap(draws, usable, first_year)
    first, last = m.rows[0], m.rows[-1]
    out["sample"] = {
        "measured": True, "from": first.period_end, "to": last.period_end, "months": len(m.rows),
        "sites": last.sites, "weighting": m.weighting, "weight_measured_share": last.weight_measured_share,
        "sites_sample": last.sample, "purpose": c.purpose, "group_by": c.group_by, "group": c.group or c.purpose,
        "agents": m.agents,
        "restricted": "a site restricts when robots.txt does not let any of the purpose's agents fetch '/' (named, "
                      "or inherited from '*'); unreachable sites are counted apart",
    }  # fmt: skip
    if len(m.rows) >= 12:
        cut = decimal_year(date.fromisoformat(m.rows[-7].period_end))
        bt = backtest(m.t, m.r, cut, prior=c.ceiling_prior)
        out["restricted_share"]["backtest"] = {"cutoff_period": m.rows[-7].period, "months": bt.months,
                                               "model": bt.model, "mae": bt.mae}  # fmt: skip
    uplift = _preferences_uplift(engine, registry, m.agents, c.preferences_sample)
    if uplift is not None:
        u = uplift["share"]
        out["exhaustion_with_preferences"] = {
            **exhaustion(draws, draws.stock * (1.0 - r) * (1.0 - u)).as_dict(), "scenario": (
                "robots.txt restriction plus use preferences (Content-Signal, aipref, TDMRep, noai, ai.txt, RSL, "
                "terms) of the sites robots.txt leaves open, from today's snapshot held constant"), **uplift,
        }  # fmt: skip
    out["categories"] = _categories(engine, registry, params, draws, r, rng)
    return out


def _categories(
    engine: Engine,
    registry: AgentRegistry,
    params: ForecastParams,
    draws: Draws,
    overall: np.ndarray,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """Per category: its token share, its own restriction curve (or the overall one), run-out and gap."""
    from tracker.store import queries

    sites = queries.sites_for_weights(engine)
    weights = _weights(engine, params.consent.weighting)
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for s in sites:
        cat = s.category or "unknown"
        totals[cat] += weights.values.get(s.id, 0.0) if weights else 1.0
        counts[cat] += 1
    whole = sum(totals.values())
    if whole <= 0 or set(totals) == {"unknown"}:
        return []
    out = []
    for cat in sorted(totals, key=lambda k: -totals[k]):
        share = totals[cat] / whole
        r = overall
        own = False
        if counts[cat] >= params.consent.min_category_sites and cat != "unknown":
            m = measured_restriction(engine, registry, params, category=cat)
            if len(m.rows) >= 3:
                fc = forecast_restriction(m.t, m.r, draws.times, bootstrap=min(50, params.consent.bootstrap),
                                          prior=params.consent.ceiling_prior, seed=params.seed,
                                          model=params.consent.model)  # fmt: skip
                r, own = fc.sample(rng, draws.n), True
        usable = draws.stock * (1.0 - r)
        gap = _gap(Draws(draws.times, draws.stock * share, draws.demand * share), usable * share, int(params.start))
        out.append({"category": cat, "sites": counts[cat], "token_share": share,
                    "restriction": "own curve" if own else "overall curve (too few sites)",
                    "exhaustion": exhaustion(draws, usable).as_dict(), "gap": gap})  # fmt: skip
    return out
