"""The consent-adjusted forecast: our measured restriction applied to Epoch AI's data stock (forecast.md §3).

- consent-adjusted stock(t) = stock(t) × (1 − r(t)), r(t) the restricted share of the sites we measure for the
  agents of one use (training by default: the training crawlers and the control tokens), forecast forward with its
  uncertainty (tracker.analysis.forecast.restriction) — the r(t) path and its band are part of the output;
- the run-out date it implies, beside the unadjusted one and beside restriction held at its last measured level
  (the sensitivity: how much of the adjustment is the forecast, how much today's level);
- gap(t) = max(0, demand(t) − usable stock(t)): synthetic tokens a year needed, and the synthetic share of the
  training mix it implies, each with its 80% interval; by category, with each category's own restriction;
- a separate, labelled scenario adding what use preferences (Content-Signal, aipref, TDMRep, noai, ai.txt, RSL,
  terms of service) restrict beyond robots.txt, from a current snapshot held constant — absent, with the reason,
  until preferences were read on enough sites.

One call, one answer: the CLI, the report and the dashboard all call :func:`forecast` with the same default
parameters (the same draws and seed), and every figure carries its definition (``definitions``) and what it rests on
(``sample``, ``params``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
from sqlalchemy import Engine

from tracker.analysis.forecast.params import ForecastParams
from tracker.analysis.forecast.restriction import RestrictionForecast, forecast_restriction
from tracker.analysis.forecast.stock import Draws, draw, exhaustion, quantiles
from tracker.analysis.trends import Definition, TrendRow, define, restriction_series
from tracker.analysis.weights import Weights, stored_weights
from tracker.errors import TrendError
from tracker.records.forecast import (
    RUNOUT_SCENARIOS,
    RUNOUT_SHORT,
    CategoryForecast,
    Definitions,
    Forecast,
    GapYear,
    HeldRunout,
    ObservedShare,
    PathPoint,
    Preferences,
    PreferencesRunout,
    Quantiles,
    RestrictedShare,
    Runout,
    Sample,
    StockTokens,
    YearQuantiles,
    year_month,
)
from tracker.records.vocabulary import GroupBy, Rule, Weighting
from tracker.rules.agents import AgentRegistry

__all__ = [
    "MIN_MONTHS",
    "RUNOUT_SCENARIOS",
    "RUNOUT_SHORT",
    "Measured",
    "decimal_year",
    "forecast",
    "measured_restriction",
    "month_label",
    "runout_text",
]

#: The restriction forecast needs this many monthly observations (fewer: the unadjusted model, saying why).
MIN_MONTHS = 12

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def decimal_year(d: date) -> float:
    """A date as a decimal year (the middle of its day)."""
    start = date(d.year, 1, 1)
    days = (date(d.year + 1, 1, 1) - start).days
    return d.year + ((d - start).days + 0.5) / days


def month_label(month: str | None, *, horizon: float | None = None) -> str:
    """ "YYYY-MM" as "Oct 2027"; None as "after <horizon>" (or "not reached")."""
    if month is None:
        return f"after {horizon:g}" if horizon is not None else "not reached"
    year, m = month.split("-")
    return f"{_MONTHS[int(m) - 1]} {year}"


def runout_text(e: Runout | None, *, horizon: float | None = None) -> str:
    """A run-out as every face shows it: "Oct 2027 (80%: Jul 2026 – Mar 2029)"."""
    if e is None:
        return "—"
    median = month_label(e.median_month, horizon=horizon)
    lo = month_label(e.p10_month, horizon=horizon)
    hi = month_label(e.p90_month, horizon=horizon)
    return f"{median} (80%: {lo} – {hi})"


@dataclass(frozen=True, slots=True)
class Measured:
    """The measured restricted share of one group's agents, per month, with its definition."""

    rows: list[TrendRow]
    weighting: str
    agents: list[str]
    definition: Definition

    @property
    def t(self) -> list[float]:
        """Decimal years of the months' ends (the last: the last observation)."""
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
    """Monthly restricted share for one use's (or company's, or one agent's) agents, token-weighted when weights
    are stored — the same computation, and definition, as ``trends`` and the overview's headline."""
    c = params.consent
    by = GroupBy(c.group_by)
    name = c.group or c.purpose
    if by is GroupBy.purpose:
        agents = [a.token for a in registry.for_use(name)]
    elif by is GroupBy.company:
        agents = [a.token for a in registry.select(company=name)]
    else:
        found = registry.get(name)
        agents, by = ([found.token] if found else []), GroupBy.agent
    if not agents:
        raise TrendError(f"no agent of {c.group_by} {name!r} in the registry (see `consent-tracker agents list`)")
    weights = _weights(engine, c.weighting)
    rows = restriction_series(
        engine,
        registry,
        agents,
        by=by,
        category=category,
        lists=lists,
        rule=Rule(c.rule),
        weight=Weighting.tokens if weights is not None else Weighting.none,
        weights=weights,
    )
    key = agents[0] if by is GroupBy.agent else (registry.get(agents[0]).company if by is GroupBy.company else name)  # type: ignore[union-attr]
    rows = [r for r in rows if r.agent == key]
    definition = define(registry, rows, group=key, agents=agents, by=by)
    return Measured(rows, rows[-1].weighting if rows else ("tokens" if weights else "sites"), agents, definition)


# -- summaries of draws ---------------------------------------------------------------------------------------
def _year_columns(times: np.ndarray, years: range) -> list[tuple[int, int]]:
    """(year, grid index of its middle) for the years the grid covers."""
    out = []
    for y in years:
        i = int(np.searchsorted(times, y + 0.5))
        if i >= len(times):
            break
        out.append((y, i))
    return out


def _quantile_values(values: np.ndarray) -> tuple[float, float, float]:
    p10, p50, p90 = np.quantile(values, (0.1, 0.5, 0.9))
    return float(p10), float(p50), float(p90)


def _interval(values: np.ndarray) -> Quantiles:
    return Quantiles(*_quantile_values(values))


def _gap(draws: Draws, restricted: np.ndarray | None, first_year: int, scale: float = 1.0) -> tuple[GapYear, ...]:
    """Per year: the largest dataset, the usable stock, the synthetic tokens (gap) and the synthetic share of the
    mix, each as its median and 80% interval over the draws (``scale``: a category's part of stock and demand)."""
    out = []
    for year, i in _year_columns(draws.times, range(first_year, int(draws.times[-1]))):
        demand = np.exp(draws.log_demand[:, i]) * scale
        usable = np.exp(draws.log_stock[:, i]) * scale
        if restricted is not None:
            usable = usable * (1.0 - restricted[:, i] if restricted.shape[0] > 1 else 1.0 - restricted[0, i])
        gap = np.maximum(demand - usable, 0.0)
        out.append(GapYear(year, _interval(demand), _interval(usable), _interval(gap), _interval(gap / demand)))
    return tuple(out)


def _restricted_share(m: Measured, fc: RestrictionForecast, first_year: int) -> RestrictedShare:
    observed = tuple(
        ObservedShare(
            period=r.period,
            period_end=r.period_end,
            share=r.blocked_share,
            named=r.blocked_named_share,
            inherited=round(r.blocked_share - r.blocked_named_share, 6),
            sites=r.sites,
            weight_measured_share=r.weight_measured_share,
        )
        for r in m.rows
    )
    bands = fc.bands((0.1, 0.5, 0.9))
    yearly = tuple(
        YearQuantiles(y, float(bands[0, i]), float(bands[1, i]), float(bands[2, i]))
        for y, i in _year_columns(fc.times, range(first_year, int(fc.times[-1]) + 1))
    )
    last_t, last_r = m.t[-1], m.r[-1]
    # The path starts at the last observation (where the forecast starts from), then follows the grid.
    path = [PathPoint(round(last_t, 4), year_month(last_t), last_r, last_r, last_r)]
    path += [
        PathPoint(round(float(t), 4), year_month(float(t)), float(bands[0, i]), float(bands[1, i]), float(bands[2, i]))
        for i, t in enumerate(fc.times)
        if t > last_t
    ]
    return RestrictedShare(observed, fc.method, fc.description, fc.backtest, yearly, tuple(path), m.definition)


# -- the use-preference scenario ------------------------------------------------------------------------------
def _preferences(engine: Engine, registry: AgentRegistry, tokens: list[str], params: ForecastParams) -> Preferences:
    """Of the sites robots.txt leaves open to these agents, the share whose use preferences opt out of training (a
    current snapshot over at most ``preferences_sample`` sites) — available only when preferences were observed on
    enough of them; a site whose preferences were never read is unknown, never "not opted out"."""
    from tracker.analysis.latest import latest_records
    from tracker.store import queries

    c = params.consent
    if c.preferences_sample <= 0:
        return Preferences(False, "switched off (consent.preferences_sample = 0)")
    if queries.sites_observed(engine, "homepage") == 0:
        return Preferences(
            False,
            "no site's homepage was ever fetched in this database (an archive "
            "import or a robots.txt-only crawl): use preferences were never observed",
        )
    sub = AgentRegistry([a for a in (registry.get(t) for t in tokens) if a is not None])
    read = open_sites = observed = optout = 0
    for rec in latest_records(engine, sub):
        read += 1
        if read > c.preferences_sample:
            read -= 1
            break
        agents = [rec.agents[t] for t in tokens if t in rec.agents]
        if not agents or rec.robots_status in ("unreachable", "network_error"):
            continue
        if not all(a.allowed_root for a in agents):
            continue
        open_sites += 1
        says = [a.training_optout for a in agents if a.training_optout is not None]
        if says:
            observed += 1
            optout += any(says)
    need = max(20, int(np.ceil(c.preferences_min_share * open_sites)))
    if observed < need:
        return Preferences(
            False,
            f"use preferences were observed on {observed:,} of the {open_sites:,} sites robots.txt leaves open; "
            f"the scenario needs at least {need:,} "
            f"(consent.preferences_min_share = {c.preferences_min_share:g}, and 20)",
            read,
            open_sites,
            observed,
            optout,
        )
    return Preferences(True, None, read, open_sites, observed, optout, optout / observed)


# -- the forecast ---------------------------------------------------------------------------------------------
def _t(tokens: float) -> str:
    return f"{tokens / 1e12:,.4g}T"


def _definitions(params: ForecastParams) -> Definitions:
    d = params.demand
    demand = (
        f"the largest training dataset: {_t(d.largest_dataset.low)}–{_t(d.largest_dataset.high)} tokens in "
        f"{d.base_year:g} ({d.largest_dataset.c:g}% interval)"
    )
    if d.projection in ("historical", "pooled"):
        demand += (
            f", growing {d.oom_per_year_low:g}–{d.oom_per_year_high:g} orders of magnitude a year (95%) on the "
            "historical trend of 80 notable models"
        )
    if d.projection in ("compute", "pooled"):
        demand += (
            f"{' or' if d.projection == 'pooled' else ','} Chinchilla-optimal for frontier compute of "
            f"{d.compute_flop.low:.1e}–{d.compute_flop.high:.1e} FLOP growing {d.compute_growth.low:g}–"
            f"{d.compute_growth.high:g}× a year"
        )
    if d.overtraining != 1:
        demand += f", × {d.overtraining:g} overtraining"
    return Definitions(
        restricted=None,
        usable_stock="effective stock × (1 − r(t)), r(t) the restricted share defined in `restricted`, measured "
        "then forecast (`restricted_share.description`). This applies the share measured on the "
        "sample's sites to the whole stock of public text. A sample of top sites restricts more than "
        "the web at large (Consent in Crisis: about 28% of the tokens of C4's head domains against "
        "about 5% of all C4 tokens), so the adjusted run-out is the case where all public text is "
        "restricted as these sites are: an early bound, not a central estimate for the whole web",
        run_out="the date the largest training dataset reaches the (usable) stock: the median is where half the "
        "draws have run out, the 80% interval where 10% and 90% have",
        gap="max(0, largest training dataset − usable stock) in the middle of each year; synthetic share = gap / "
        "dataset; each with its median and 80% interval over the draws",
        demand=demand,
        projection=f"demand from the {d.projection} projection"
        + (
            ""
            if d.projection != "historical"
            else " (the paper's trend of 80 notable models alone; its headline "
            "2028 pools a compute-based projection whose series is not public)"
        )
        + (f", × {d.overtraining:g} overtraining" if d.overtraining != 1 else ""),
        monte_carlo=f"{params.draws:,} draws, seed {params.seed}; the same parameters give the same figures",
    )


def forecast(engine: Engine | None, registry: AgentRegistry | None, params: ForecastParams) -> Forecast:
    """The whole forecast as a record (``as_dict()``: the ``forecast`` command's JSON): the report's figures and the
    dashboard's, all from this one call."""
    draws = draw(params)
    first_year = int(params.start)
    stock_now = quantiles(draws.stock[:, 0])
    definitions = _definitions(params)
    unadjusted = Forecast(
        data_through=None,
        exhaustion=exhaustion(draws).runout(),
        stock_tokens=StockTokens(params.stock.base_year, stock_now[0], stock_now[1], stock_now[2]),
        demand_tokens=tuple(
            YearQuantiles(y, *_quantile_values(np.exp(draws.log_demand[:, i])))
            for y, i in _year_columns(draws.times, range(first_year, int(params.end)))
        ),
        exhaustion_consent_adjusted=None,
        exhaustion_restriction_held=None,
        exhaustion_with_preferences=None,
        preferences=None,
        restricted_share=None,
        gap=_gap(draws, None, first_year),
        categories=(),
        params=params,
        sample=Sample(
            measured=False,
            note="no measurements yet: the unadjusted model only (crawl, backfill or import-archive to add them)",
        ),
        definitions=definitions,
    )
    if engine is None or registry is None:
        return unadjusted
    m = measured_restriction(engine, registry, params)
    if not m.rows:
        return unadjusted
    definitions = replace(definitions, restricted=m.definition)
    if len(m.rows) < MIN_MONTHS:
        note = (
            f"only {len(m.rows)} month(s) measured ({m.rows[0].period} → {m.rows[-1].period}): "
            f"the restriction forecast needs at least {MIN_MONTHS}, so the unadjusted model only"
        )
        return replace(
            unadjusted,
            data_through=m.rows[-1].period_end,
            sample=Sample(measured=False, note=note),
            definitions=definitions,
        )
    c = params.consent
    fc = forecast_restriction(m.t, m.r, draws.times, seed=params.seed, paths=c.paths)
    rng = np.random.default_rng(params.seed + 1)
    r = fc.curves[rng.integers(0, len(fc.curves), draws.n)]
    now = m.r[-1]
    held = exhaustion(draws, restricted=np.full((1, len(draws.times)), now))
    first, last = m.rows[0], m.rows[-1]
    prefs = _preferences(engine, registry, m.agents, params)
    with_preferences = None
    if prefs.available and prefs.share is not None:
        u = prefs.share
        with np.errstate(divide="ignore"):
            combined = 1.0 - (1.0 - r) * (1.0 - u)
        e = exhaustion(draws, restricted=combined)
        with_preferences = PreferencesRunout(
            e.median,
            e.p10,
            e.p90,
            scenario=(
                "robots.txt restriction plus use preferences (Content-Signal, aipref, TDMRep, noai, ai.txt, RSL, "
                f"terms) of the sites robots.txt leaves open: {u:.1%} of the {prefs.observed_sites:,} whose "
                "preferences were observed, today's snapshot held constant"
            ),
            share=u,
        )
    return replace(
        unadjusted,
        data_through=last.period_end,
        exhaustion_consent_adjusted=exhaustion(draws, restricted=r).runout(),
        exhaustion_restriction_held=HeldRunout(
            held.median,
            held.p10,
            held.p90,
            restricted_share=now,
            scenario=f"restriction held at its last measured level ({now:.1%}, {last.period}) for ever",
        ),
        exhaustion_with_preferences=with_preferences,
        preferences=prefs,
        restricted_share=_restricted_share(m, fc, first_year),
        gap=_gap(draws, r, first_year),
        categories=_categories(engine, registry, params, draws, r, rng),
        sample=Sample(
            measured=True,
            date_from=first.period_end,
            date_to=last.period_end,
            months=len(m.rows),
            sites=last.sites,
            weighting=m.weighting,
            weight_measured_share=last.weight_measured_share,
            sites_sample=last.sample,
            purpose=c.purpose,
            group_by=c.group_by,
            group=c.group or c.purpose,
            rule=c.rule,
            agents=tuple(m.agents),
            restricted=m.definition.text,
        ),
        definitions=definitions,
    )


def _categories(
    engine: Engine,
    registry: AgentRegistry,
    params: ForecastParams,
    draws: Draws,
    overall: np.ndarray,
    rng: np.random.Generator,
) -> tuple[CategoryForecast, ...]:
    """Per category: its share of the sample (of tokens when weighted, else of sites), its own restriction forecast
    (or the overall one, with too few sites), run-out and gap."""
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
        return ()
    share_of = f"tokens ({weights.label})" if weights else "sites"
    out = []
    for cat in sorted(totals, key=lambda k: -totals[k]):
        share = totals[cat] / whole
        r, own, now = overall, "overall curve", None
        if cat == "unknown":
            own = "overall curve (no category)"
        elif counts[cat] < params.consent.min_category_sites:
            own = f"overall curve (fewer than {params.consent.min_category_sites} sites)"
        else:
            m = measured_restriction(engine, registry, params, category=cat)
            if len(m.rows) >= MIN_MONTHS:
                fc = forecast_restriction(m.t, m.r, draws.times, seed=params.seed, paths=params.consent.paths)
                r, own, now = fc.curves[rng.integers(0, len(fc.curves), draws.n)], "own curve", m.r[-1]
            else:
                own = f"overall curve (fewer than {MIN_MONTHS} months measured)"
        out.append(
            CategoryForecast(
                category=cat,
                sites=counts[cat],
                share=share,
                share_of=share_of,
                restricted_now=now,
                restriction=own,
                exhaustion=exhaustion(draws, restricted=r).runout(),
                gap=_gap(draws, r, int(params.start), share),
            )
        )
    return tuple(out)
