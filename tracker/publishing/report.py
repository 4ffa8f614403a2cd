"""A trend report a policy analyst can cite: key figures, charts, methodology and the data behind each chart.

``write_report(engine, registry, out_dir, fmt)`` writes ``report.md`` or ``report.html`` (with its charts as SVG or
PNG beside it), ``report.pdf`` (the HTML printed by headless Chromium), or only the CSVs — always with one CSV per
chart. Fetched content never enters the report; numbers come from tracker.analysis.headlines, tracker.analysis.trends
and tracker.analysis.forecast, so the report and the dashboard say the same.

Its first lines are its provenance (a :class:`Provenance`, computed once beside the figures, held by figures.json and
rendered by every format): when it was made, the data's last day, the sample and its size, the dates, the weighting,
where the data came from (the store's runs and the sample's tracked lists), the tool's version, and whether the data
is simulated. Deterministic for the same database and the same ``made_at``: no clock in the text but that one field
and the data's own dates, a seeded forecast.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from tracker import __version__
from tracker.errors import ReportError
from tracker.records.csv_safety import csv_safe
from tracker.records.forecast import Definitions, Forecast, HeldRunout, Runout
from tracker.records.json import Json, JsonObject
from tracker.records.trends import Definition, TrendRow
from tracker.records.vocabulary import RUN_KIND_NAMES, GroupBy, ReportFormat, Weighting
from tracker.rules.agents import AgentRegistry
from tracker.store import catalog, queries

if TYPE_CHECKING:
    from tracker.analysis.claims import Comparison
    from tracker.analysis.headlines import Headline

__all__ = [
    "SIMULATED_NOTE",
    "FigureRow",
    "Provenance",
    "ReportError",
    "ReportFigures",
    "ReportFormat",
    "ReportList",
    "ReportSample",
    "ReportSource",
    "write_report",
]

#: Said first in every report (and on every dashboard page) built from the demo's database.
SIMULATED_NOTE = (
    "SIMULATED DATA: this database was filled by `consent-tracker up --demo` from a made-up web on "
    "this machine; no figure here describes real sites."
)

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
MAIN_AGENTS = ("GPTBot", "ClaudeBot", "Google-Extended", "CCBot", "Bytespider", "PerplexityBot")


@dataclass(frozen=True, slots=True)
class _Figure:
    name: str
    title: str
    chart: Any  # None: a table, not a chart
    rows: Sequence[JsonObject]
    notes: tuple[str, ...] = ()  # said under the chart (the events its dashed lines mark)


def _write_csv(path: Path, rows: Sequence[JsonObject]) -> None:
    """Write rows under one header, every key any row has (first seen, first), each row with exactly the header's
    fields: a key a row lacks is an empty cell (never observed, not zero), never a shifted column."""
    header = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if rows:
            w.writerow(header)
            for r in rows:
                w.writerow([csv_safe(r.get(k)) for k in header])


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the report's text and figures.json are written from, computed once."""

    headline: Headline
    now: TrendRow  # the headline's last row (the headline is never empty in a report)
    forecast: Forecast
    by_agent: tuple[TrendRow, ...]
    claims: tuple[Comparison, ...]


def _figures(
    engine: Engine,
    registry: AgentRegistry,
    since: date | None,
    category: str | None,
    *,
    until: date | None = None,
    lists: list[str] | None = None,
    weight: Weighting = Weighting.none,
) -> tuple[list[_Figure], _Facts]:
    from tracker.analysis.forecast import forecast, load_params
    from tracker.analysis.forecast.model import RUNOUT_SCENARIOS
    from tracker.analysis.headlines import headline, load_milestones
    from tracker.analysis.trends import restriction_series
    from tracker.publishing.charts import fan_chart, gap_chart, restriction_chart, trend_chart

    h = headline(engine, registry, category=category, since=since, until=until, lists=lists)
    if h.by_sites is None:
        chosen = [*(f"list '{n}'" for n in lists or ()), *([f"category '{category}'"] if category else [])]
        if chosen:  # the database has observations, but none of the sample: say which sample, and how to fill it
            raise ReportError(
                f"no site of the sample ({', '.join(chosen)}) was observed in this range"
                + (": label sites first (categories import FILE, or categories assign)" if category else "")
            )
        raise ReportError("no observations in the database for this range: crawl, backfill or import-archive first")
    events = load_milestones()
    agents = [a for a in MAIN_AGENTS if registry.get(a)]
    sample = {"category": category, "since": since, "until": until, "lists": lists, "weight": weight}
    by_agent = restriction_series(engine, registry, agents, **sample)  # type: ignore[arg-type]
    by_purpose = restriction_series(engine, registry, [], by=GroupBy.purpose, **sample)  # type: ignore[arg-type]
    # The default parameters, as the `forecast` command and the dashboard use them: one answer everywhere.
    result = forecast(engine, registry, load_params())
    first, last = h.series[0].period_end, h.series[-1].period_end
    marked = tuple(
        f"Dashed line “{e.mark}”, {e.day.isoformat()}: {e.label} ({e.source})"
        for e in events
        if first <= e.day.isoformat() <= last
    )
    figures = [
        _Figure(
            "training",
            "Sites restricting training agents",
            trend_chart(h.series, title="Sites restricting training agents", events=events),
            [r.as_dict() for r in h.series],
            marked,
        ),
        _Figure(
            "agents",
            "Restriction by agent",
            trend_chart(by_agent, title="Restriction by agent", events=events),
            [r.as_dict() for r in by_agent],
            marked,
        ),
        _Figure(
            "purposes",
            "Restriction by purpose",
            trend_chart(by_purpose, title="Restriction by purpose"),
            [r.as_dict() for r in by_purpose],
        ),
    ]
    rs = result.restricted_share
    if rs is not None:
        rows = [
            {"date": o.period_end, "kind": "measured", "p10": None, "median": o.share, "p90": None} for o in rs.observed
        ] + [
            {"date": f"{p.month}-15", "kind": "forecast", "p10": p.p10, "median": p.median, "p90": p.p90}
            for p in rs.path
        ]
        figures.append(
            _Figure("restriction", "The restricted share r(t), measured and forecast", restriction_chart(result), rows)
        )
    figures += [
        _Figure(
            "runout",
            "When the real data runs out",
            fan_chart(result),
            [
                {"scenario": RUNOUT_SCENARIOS[key], **Runout.as_dict(e)}  # the run-out alone, not its scenario
                for key, e in result.runouts().items()
            ],
        ),
        _Figure(
            "gap",
            "Synthetic share of the training mix",
            gap_chart(result),
            [
                {
                    "year": g.year,
                    **{
                        f"{part}_{k}": v
                        for part, q in (
                            ("demand_tokens", g.demand_tokens),
                            ("usable_tokens", g.usable_tokens),
                            ("synthetic_tokens", g.synthetic_tokens),
                            ("synthetic_share", g.synthetic_share),
                        )
                        for k, v in q.as_dict().items()
                    },
                }
                for g in result.gap
            ],
        ),
    ]
    from tracker.analysis.claims import compare

    claims = compare(engine, registry)
    figures.append(_Figure("claims", "Published figures, side by side", None, [c.as_row().as_dict() for c in claims]))
    return figures, _Facts(h, h.by_sites, result, tuple(by_agent), tuple(claims))


def _forecast_terms(d: Definitions) -> tuple[tuple[str, str], ...]:
    """The forecast's definitions, in the order the methodology lists them."""
    return (
        ("Demand", d.demand),
        ("Projection", d.projection),
        ("Usable stock", d.usable_stock),
        ("Run-out", d.run_out),
        ("Gap", d.gap),
        ("Monte Carlo", d.monte_carlo),
    )


def _unhonoured(
    *, since: date | None, until: date | None, lists: list[str] | None, category: str | None, weight: Weighting
) -> list[str]:
    """What the report's figures do with the filters asked for, where one cannot honour them: said, never silently
    ignored."""
    said: list[str] = []
    chosen = [
        *([f"since {since}"] if since else []),
        *([f"until {until}"] if until else []),
        *([f"list {', '.join(lists)}"] if lists else []),
        *([f"category {category}"] if category else []),
    ]
    if chosen:
        said.append(
            f"Filters asked for ({'; '.join(chosen)}): applied to every restriction figure and its CSV; the forecast "
            "and the claims comparison cannot take them and rest on every site of the database."
        )
    if weight is not Weighting.none:
        said.append(
            f"Weighting asked for (--weight {weight.value}): applied to the restriction-by-agent and "
            "restriction-by-purpose figures; the headline figure counts sites (its token-weighted share, when "
            "weights are stored, is the key figure beside it), and the forecast keeps its own weighting."
        )
    return said


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _text(facts: _Facts) -> _Text:
    from tracker.analysis.forecast.model import RUNOUT_SCENARIOS, runout_text
    from tracker.analysis.forecast.restriction import backtest_summary

    h = facts.headline
    now, before, every = facts.now, h.by_sites_year_ago, h.all_agents
    f = facts.forecast
    horizon = f.params.end
    rows = facts.by_agent
    last_agents = [r for r in rows if r.period == rows[-1].period] if rows else []
    key = [
        f"{_pct(now.blocked_share)} of the {now.sites:,} sites observed at the end of {now.period} restrict AI "
        f"training in robots.txt — at least one of the {len(h.definition.agents)} training agents and training "
        f"controls is kept from '/' ({_pct(now.blocked_named_share)} by a group naming the agent, the rest through "
        "'User-agent: *')" + (f", against {_pct(before.blocked_share)} in {before.period}." if before else "."),
    ]
    if every is not None:
        key.append(f"{_pct(every.blocked_share)} restrict every one of them (rule: all).")
    key += [
        f"{r.agent}: {_pct(r.blocked_share)} of sites restrict it ({r.blocked_named:,} by name)." for r in last_agents
    ]
    if h.by_tokens is not None:
        t = h.by_tokens
        key.append(
            f"Weighted by their tokens ({t.weighting}; {_pct(t.weight_measured_share)} of the weight measured), "
            f"{_pct(t.blocked_share)} of the text is restricted."
        )
    rs = f.restricted_share
    for k, e in f.runouts().items():
        level = ""
        if isinstance(e, HeldRunout) and rs is not None:
            level = f" ({_pct(e.restricted_share)}, weighted by {rs.definition.weighting})"
        key.append(f"Run-out, {RUNOUT_SCENARIOS[k]}{level}: {runout_text(e, horizon=horizon)}.")
    if f.preferences and not f.preferences.available:
        key.append(f"No use-preference scenario: {f.preferences.reason}.")
    gap = {g.year: g for g in f.gap}
    for year in sorted(gap)[:10]:
        ss = gap[year].synthetic_share
        if ss.p90 > 0:
            key.append(
                f"Synthetic share of the largest dataset in {year}: {ss.median:.0%} (80%: {ss.p10:.0%}–{ss.p90:.0%})."
            )
            break
    method = [
        f"Sample: {now.sample}; {now.sites:,} sites at the end; "
        f"monthly state as of each month's end, {h.series[0].period} → {now.period}.",
        h.definition.text,
        "robots.txt is read exactly as Google's reference parser reads it (RFC 9309): consent-tracker passes all 145 "
        "assertions of google/robotstxt's robots_test.cc and the 400 cases of robotstxt-spec-test.",
        "History comes from live crawls, dated archives and Wayback Machine captures (one per month; a month without a "
        "capture inherits the previous one); unreachable robots.txt files are counted apart, never as allowed or "
        "blocked.",
        *[f"{label}: {text}." for label, text in _forecast_terms(f.definitions)],
        "The forecast's restricted share covers every site of the database (not only the sample or category above).",
    ]
    if rs is not None:
        if rs.definition.text != h.definition.text:  # e.g. token-weighted, where the headline counts sites
            method.append(f"The forecast's restricted share (not the headline's): {rs.definition.text}")
        method.append(f"Restricted share forecast: {rs.description}")
        method += [f"Backtest on this series, {line}." for line in backtest_summary(rs.backtest)]
    elif not f.sample.measured:
        method.append(f"Forecast: {f.sample.note}.")
    return _Text(key, method, now.period)


@dataclass(slots=True)
class _Text:
    """The report's sentences: key figures and methodology."""

    key: list[str]
    method: list[str]
    period: str


_CLAIM_COLUMNS = ("claim", "source", "as of", "theirs", "ours", "on", "sites", "Δ")


def _claims_markdown(claims: Sequence[Comparison]) -> list[str]:
    """The claims as a Markdown table (cells escaped), then what each of ours rests on or lacks."""

    def cell(v: str) -> str:
        return v.replace("|", "\\|").replace("\n", " ")

    lines = [
        "Each figure analysts quote, beside ours under the same definition on our own sample (Δ: ours minus "
        "theirs); where ours cannot be computed, what is missing.",
        "",
        "| " + " | ".join(_CLAIM_COLUMNS) + " |",
        "|" + " --- |" * len(_CLAIM_COLUMNS),
    ]
    for c in claims:
        row = c.cells().by_heading()
        lines.append("| " + " | ".join(cell(row[k]) for k in _CLAIM_COLUMNS) + " |")
    lines += ["", *[f"- {cell(c.claim.id)}: {cell(c.cells().rests_on)}" for c in claims]]
    return lines


def _claims_html(claims: Sequence[Comparison]) -> str:
    """The claims as an HTML table (every cell escaped), then what each of ours rests on or lacks."""
    head = "".join(f"<th>{html.escape(k)}</th>" for k in _CLAIM_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c.cells().by_heading()[k])}</td>" for k in _CLAIM_COLUMNS) + "</tr>"
        for c in claims
    )
    notes = "".join(f"<li>{html.escape(c.claim.id)}: {html.escape(c.cells().rests_on)}</li>" for c in claims)
    return (
        "<p class=lead>Each figure analysts quote, beside ours under the same definition on our own sample (Δ: ours "
        f"minus theirs); where ours cannot be computed, what is missing.</p><table>{head and '<tr>' + head + '</tr>'}"
        f"{rows}</table><ul class=notes>{notes}</ul>"
    )


def _provenance(
    engine: Engine,
    facts: _Facts,
    made_at: datetime,
    *,
    since: date | None,
    until: date | None,
    lists: list[str] | None,
    category: str | None,
    weight: Weighting,
) -> Provenance:
    """The report's provenance: computed once, from the figures' own rows and what the store records."""
    h, now = facts.headline, facts.now
    return Provenance(
        made_on=made_at.astimezone(UTC).replace(microsecond=0),
        data_through=now.period_end,
        sample=ReportSample(
            name=now.sample,
            lists=tuple(lists) if lists else None,
            category=category,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            weight=weight.value,
            sites=now.sites,
            date_from=h.series[0].period_end,
            date_to=now.period_end,
        ),
        sources=tuple(ReportSource.of(s) for s in queries.robots_sources(engine)),
        lists=tuple(ReportList.of(i) for i in catalog.lists(engine) if lists and i.name in lists),
        tracker_version=__version__,
        simulated=catalog.is_simulated(engine),
    )


def _figures_json(facts: _Facts, provenance: Provenance) -> ReportFigures:
    """Every figure the report prints, with what it rests on: written as figures.json beside the report."""
    h = facts.headline
    now = facts.now
    f = facts.forecast
    last = facts.by_agent[-1].period if facts.by_agent else None
    return ReportFigures(
        provenance=provenance,
        weighting_headline=now.weighting,
        weighting_tokens=h.by_tokens.weighting if h.by_tokens else None,
        tokens_measured_share=h.by_tokens.weight_measured_share if h.by_tokens else None,
        restricts_training_definition=h.definition,
        restricts_training_all_definition=h.all_agents_definition,
        restricts_training_tokens_definition=h.tokens_definition,
        restricts_training=FigureRow.of(now),
        restricts_training_year_ago=FigureRow.of(h.by_sites_year_ago),
        restricts_training_all=FigureRow.of(h.all_agents),
        restricts_training_tokens=FigureRow.of(h.by_tokens),
        restricts_training_tokens_year_ago=FigureRow.of(h.by_tokens_year_ago),
        by_agent=tuple(FigureRow.of(r, agent=True) for r in facts.by_agent if r.period == last),  # type: ignore[misc]
        forecast=f,
        claims=facts.claims,
    )


@dataclass(frozen=True, slots=True)
class FigureRow:
    """One restriction figure of the report: a period's share, its counts and weighting (``agent``: in the by-agent
    figure only)."""

    period: str
    period_end: str
    share: float
    named_share: float
    sites: int
    blocked: int
    unreachable: int
    weighting: str
    weight_measured_share: float
    agent: str | None = None

    @classmethod
    def of(cls, r: TrendRow | None, *, agent: bool = False) -> FigureRow | None:
        """The figure of one trend row (None stays None)."""
        if r is None:
            return None
        return cls(
            r.period,
            r.period_end,
            r.blocked_share,
            r.blocked_named_share,
            r.sites,
            r.blocked,
            r.unreachable,
            r.weighting,
            r.weight_measured_share,
            r.agent if agent else None,
        )

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready (``agent`` last, when set)."""
        out: dict[str, Json] = {
            "period": self.period,
            "period_end": self.period_end,
            "share": self.share,
            "named_share": self.named_share,
            "sites": self.sites,
            "blocked": self.blocked,
            "unreachable": self.unreachable,
            "weighting": self.weighting,
            "weight_measured_share": self.weight_measured_share,
        }
        return out | ({"agent": self.agent} if self.agent is not None else {})


def _day(at: datetime | None) -> str | None:
    return at.date().isoformat() if at is not None else None


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class ReportSample:
    """Which sites and dates the report's restriction figures rest on, and what a site counts for."""

    name: str  # the trend rows' own label: "all sites", "top 'tranco-2024'", "sites in category 'news'" …
    lists: tuple[str, ...] | None  # None: no list chosen
    category: str | None
    since: str | None  # as asked (None: not asked)
    until: str | None
    weight: str  # --weight: none, tokens or rank
    sites: int  # observed at the end
    date_from: str
    date_to: str

    @property
    def text(self) -> str:
        """The sample and its size."""
        chosen = self.lists is not None or self.category is not None
        every = "" if chosen else " (every site of the database: no list or category chosen)"
        return f"{self.name}{every}: {_plural(self.sites, 'site')} observed by {self.date_to}"

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready."""
        return {
            "name": self.name,
            "lists": list(self.lists) if self.lists is not None else None,
            "category": self.category,
            "since": self.since,
            "until": self.until,
            "weight": self.weight,
            "sites": self.sites,
            "from": self.date_from,
            "to": self.date_to,
        }


def _where(kind: str, source: str) -> str:
    """A run's source as a reader reads it: a Wayback backfill's is "archive|since|until|freq" (its identity, see
    tracker.pipeline.backfill.BackfillConfig.source)."""
    parts = source.split("|")
    if kind == "wayback" and len(parts) == 4:
        return f"{parts[0]}, captures {parts[1]} → {parts[2]}, one a {parts[3]}"
    return source


@dataclass(frozen=True, slots=True)
class ReportSource:
    """Where part of the store's robots.txt history came from: the runs of one kind and source, or versions written
    outside any run (``runs`` 0)."""

    kind: str  # live / archive / wayback
    source: str | None  # the archive path, the site list or schedule a crawl ran from, the Wayback range
    runs: int
    sites: int  # the sites the runs recorded (outside any run: the sites with versions)
    versions: int  # the robots.txt versions recorded (a crawl that found nothing new records none)
    observed_from: str | None  # None: no version recorded
    observed_to: str | None
    run_from: str | None  # the day the first run started (None: no run)
    run_to: str | None

    @classmethod
    def of(cls, s: queries.RobotsSource) -> ReportSource:
        """The source as cited (days, not instants)."""
        return cls(
            s.kind,
            s.source,
            s.runs,
            s.sites,
            s.versions,
            _day(s.observed_from),
            _day(s.observed_to),
            _day(s.run_from),
            _day(s.run_to),
        )

    @property
    def text(self) -> str:
        """One line: what, from where, how much, observed when."""
        name = RUN_KIND_NAMES.get(self.kind, self.kind)
        span = (
            self.observed_from
            if self.observed_from == self.observed_to
            else f"{self.observed_from} → {self.observed_to}"
        )
        observed = f", observed {span}" if self.versions else ""
        if not self.runs:
            return (
                f"{name} observations written without a run: {_plural(self.versions, 'robots.txt version')} of "
                f"{_plural(self.sites, 'site')}{observed}"
            )
        when = self.run_from if self.run_from == self.run_to else f"{self.run_from} → {self.run_to}"
        where = f"{_where(self.kind, self.source)}; " if self.source else ""
        return (
            f"{name} ({where}{_plural(self.runs, 'run')}, {when}): {_plural(self.sites, 'site')}, "
            f"{_plural(self.versions, 'new robots.txt version')}{observed}"
        )

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready, with the rendered ``text``."""
        return {
            "kind": self.kind,
            "source": self.source,
            "runs": self.runs,
            "sites": self.sites,
            "versions": self.versions,
            "observed_from": self.observed_from,
            "observed_to": self.observed_to,
            "run_from": self.run_from,
            "run_to": self.run_to,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class ReportList:
    """A tracked list the sample is drawn from, as the store records it."""

    name: str
    kind: str  # panel / top
    source: str | None  # the file it was read from, or "tranco"
    list_date: str | None  # the ranking's day (None: not recorded)
    sites: int  # its members

    @classmethod
    def of(cls, i: catalog.ListInfo) -> ReportList:
        """The list as cited."""
        return cls(i.name, i.kind, i.source, i.list_date, i.sites)

    @property
    def text(self) -> str:
        """One line: the list, where it came from and its size."""
        ranking = f", ranking of {self.list_date}" if self.list_date else ""
        origin = f", from {self.source}" if self.source else ""
        return f"tracked list '{self.name}' ({self.kind}{ranking}{origin}): {_plural(self.sites, 'site')}"

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready, with the rendered ``text``."""
        return {
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "list_date": self.list_date,
            "sites": self.sites,
            "text": self.text,
        }


_WEIGHTS = {
    "none": "each site counts once in every restriction figure",
    "tokens": "the by-agent and by-purpose figures weight each site by its tokens; the headline counts sites",
    "rank": "the by-agent and by-purpose figures weight each site by 1/rank; the headline counts sites",
}


@dataclass(frozen=True, slots=True)
class Provenance:
    """What a reader cites the report by, said on its first page: when it was made, the data's last day, the sample
    and its size, its dates and weighting, where the data came from, the tool's version, and whether the data is
    simulated — one value, held by figures.json and rendered by every format (``lines``)."""

    made_on: datetime  # UTC, to the second: the one clock in the report
    data_through: str  # the last day of the sample's last period
    sample: ReportSample
    sources: tuple[ReportSource, ...]  # the store's runs (and versions written outside any run)
    lists: tuple[ReportList, ...]  # the tracked lists the sample is drawn from
    tracker_version: str
    simulated: bool

    def lines(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Each label with its value(s), in the order the first page shows them."""
        s = self.sample
        asked = [f"since {s.since}" if s.since else "", f"until {s.until}" if s.until else ""]
        dates = f"{s.date_from} → {s.date_to}, each month's state as of its last day"
        out: list[tuple[str, tuple[str, ...]]] = []
        if self.simulated:
            out.append(("Simulated", (SIMULATED_NOTE,)))
        out += [
            ("Made on", (f"{self.made_on:%Y-%m-%d %H:%M:%S} UTC",)),
            ("Data through", (self.data_through,)),
            ("Sample", (s.text,)),
            ("Dates", (dates + (f" (asked: {', '.join(a for a in asked if a)})" if any(asked) else ""),)),
            ("Weighting", (_WEIGHTS.get(s.weight, s.weight),)),
            ("Sources", (*(x.text for x in self.sources), *(x.text for x in self.lists))),
            ("Made with", (f"consent-tracker {self.tracker_version}",)),
        ]
        return tuple(out)

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready."""
        return {
            "made_on": self.made_on.isoformat(),
            "data_through": self.data_through,
            "sample": self.sample.as_dict(),
            "sources": [x.as_dict() for x in self.sources],
            "lists": [x.as_dict() for x in self.lists],
            "tracker_version": self.tracker_version,
            "simulated": self.simulated,
        }


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """Every figure the report prints, with its definitions and parameters — built once, written as figures.json
    (``as_dict``)."""

    provenance: Provenance
    weighting_headline: str
    weighting_tokens: str | None  # None: no token weights stored
    tokens_measured_share: float | None
    restricts_training_definition: Definition
    restricts_training_all_definition: Definition | None
    restricts_training_tokens_definition: Definition | None
    restricts_training: FigureRow | None
    restricts_training_year_ago: FigureRow | None
    restricts_training_all: FigureRow | None
    restricts_training_tokens: FigureRow | None
    restricts_training_tokens_year_ago: FigureRow | None
    by_agent: tuple[FigureRow, ...]
    forecast: Forecast
    claims: tuple[Comparison, ...]

    def as_dict(self) -> dict[str, Json]:
        """The JSON of figures.json."""

        def opt(r: FigureRow | Definition | None) -> dict[str, Json] | None:
            return r.as_dict() if r is not None else None

        forecast = self.forecast.as_dict()
        return {
            "provenance": self.provenance.as_dict(),
            "weighting": {
                "headline": self.weighting_headline,
                "tokens": self.weighting_tokens,
                "tokens_measured_share": self.tokens_measured_share,
            },
            "definitions": {
                "restricts_training": self.restricts_training_definition.as_dict(),
                "restricts_training_all": opt(self.restricts_training_all_definition),
                "restricts_training_tokens": opt(self.restricts_training_tokens_definition),
                "forecast": self.forecast.definitions.as_dict(),
            },
            "parameters": self.forecast.params.as_dict(),
            "figures": {
                "restricts_training": opt(self.restricts_training),
                "restricts_training_year_ago": opt(self.restricts_training_year_ago),
                "restricts_training_all": opt(self.restricts_training_all),
                "restricts_training_tokens": opt(self.restricts_training_tokens),
                "restricts_training_tokens_year_ago": opt(self.restricts_training_tokens_year_ago),
                "by_agent": [r.as_dict() for r in self.by_agent],
                "forecast": forecast,
                "claims": [c.as_dict() for c in self.claims],
            },
        }


def write_report(
    engine: Engine,
    registry: AgentRegistry,
    out_dir: str | Path,
    fmt: ReportFormat | str = ReportFormat.html,
    *,
    since: date | None = None,
    until: date | None = None,
    lists: list[str] | None = None,
    category: str | None = None,
    weight: Weighting | str = Weighting.none,
    chromium: str | None = None,
    made_at: datetime | None = None,
) -> list[Path]:
    """Write the report; return the files written. The sample (``since/until/lists/category``) applies to every
    restriction figure, ``weight`` to the by-agent and by-purpose figures; what a figure cannot honour (the forecast
    rests on every site; the headline counts sites) is said in the methodology. ``made_at``: when the report says it
    was made (default: now; a fixed value makes the same database give the same bytes)."""
    from tracker.records.vocabulary import CATEGORIES

    if category is not None and category not in CATEGORIES:
        raise ReportError(f"unknown category {category!r} (known: {', '.join(CATEGORIES)})")
    fmt = ReportFormat(fmt)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ReportError(f"cannot create {out}: {e.strerror or e}") from None
    weight = Weighting(weight)
    if since is not None and until is not None and since > until:
        raise ReportError(f"since ({since}) is after until ({until})")
    figures, facts = _figures(engine, registry, since, category, until=until, lists=lists, weight=weight)
    text = _text(facts)
    text.method += _unhonoured(since=since, until=until, lists=lists, category=category, weight=weight)
    provenance = _provenance(
        engine,
        facts,
        made_at or datetime.now(UTC),
        since=since,
        until=until,
        lists=lists,
        category=category,
        weight=weight,
    )
    numbers = _figures_json(facts, provenance)
    (out / "figures.json").write_text(
        json.dumps(numbers.as_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if provenance.simulated:
        (out / "SIMULATED.txt").write_text(SIMULATED_NOTE + "\n", encoding="utf-8")
    written: list[Path] = [out / "figures.json"]
    for fig in figures:
        path = out / f"{fig.name}.csv"
        _write_csv(path, fig.rows)
        written.append(path)
    if fmt is ReportFormat.csv:
        return written
    image = "png" if fmt is ReportFormat.md else "svg"
    for fig in figures:
        if fig.chart is None:
            continue
        path = out / f"{fig.name}.{image}"
        # Text is measured when the chart is drawn (vl-convert) and shown by whatever reads the file: name the font
        # both use (Debian's fonts-dejavu-core, which Chromium picks for sans-serif), or wide labels are clipped.
        chart = fig.chart.configure(font="DejaVu Sans")
        chart.save(str(path), format=image, **({"scale_factor": 1.5} if image == "png" else {}))
        written.append(path)
    title = ("[SIMULATED DATA] " if provenance.simulated else "") + (
        f"AI crawling consent: restriction trends to {text.period}"
    )
    if fmt is ReportFormat.md:
        path = out / "report.md"
        path.write_text(_markdown(title, provenance, text, figures, facts), encoding="utf-8")
        return [path, *written]
    path = out / "report.html"
    path.write_text(_html(title, provenance, text, figures, facts, out), encoding="utf-8")
    written.insert(0, path)
    if fmt is ReportFormat.pdf:
        pdf = out / "report.pdf"
        _print_pdf(path, pdf, chromium)
        written.insert(0, pdf)
    return written


def _markdown(title: str, provenance: Provenance, text: _Text, figures: Sequence[_Figure], facts: _Facts) -> str:
    """The report as Markdown: the provenance under the title, then key figures, each figure, the methodology."""
    md = [f"# {title}", ""]
    for label, values in provenance.lines():
        if len(values) == 1:
            md.append(f"- **{label}:** {values[0]}")
        else:
            md += [f"- **{label}:**", *[f"  - {v}" for v in values]]
    md += ["", "## Key figures", ""]
    md += [f"- {line}" for line in text.key]
    for fig in figures:
        if fig.chart is None:
            md += [
                "",
                f"## {fig.title}",
                "",
                *_claims_markdown(facts.claims),
                "",
                f"Data: [{fig.name}.csv]({fig.name}.csv)",
            ]
            continue
        md += [
            "",
            f"## {fig.title}",
            "",
            f"![{fig.title}]({fig.name}.png)",
            "",
            *[f"- {n}" for n in fig.notes],
            *([""] if fig.notes else []),
            f"Data: [{fig.name}.csv]({fig.name}.csv)",
        ]
    md += ["", "## Methodology", ""] + [f"- {line}" for line in text.method]
    return "\n".join(md) + "\n"


#: Print rules: a heading never ends a page — it is kept with what follows it (a chart's heading and the chart are
#: one unbreakable block; a list's or table's heading keeps to its first item), no item or row is cut in two, and a
#: chart's "Data:" link stays on the page of the chart's last note.
_PRINT_CSS = (
    "h1,h2{break-after:avoid;page-break-after:avoid}"
    ".keep,figure,li,tr,dl{break-inside:avoid;page-break-inside:avoid}"
    ".lead{break-after:avoid;page-break-after:avoid}"
    ".data{break-before:avoid;page-break-before:avoid}"
)


_DAY = re.compile(r"\b\d{4}-\d{2}(?:-\d{2})?\b")


def _html(title: str, provenance: Provenance, text: _Text, figures: Sequence[_Figure], facts: _Facts, out: Path) -> str:
    """The report as one HTML page (charts inline as SVG, every text escaped): the provenance under the title."""

    def esc(v: str) -> str:
        return html.escape(v)

    def days(v: str) -> str:  # a day is never broken at its hyphens ("2019-01-" / "31")
        return _DAY.sub(r"<span class=day>\g<0></span>", esc(v))

    facts_list = "".join(
        f"<dt>{esc(label)}</dt><dd>{''.join(f'<div>{days(v)}</div>' for v in values)}</dd>"
        for label, values in provenance.lines()
    )
    items = "".join(f"<li>{esc(line)}</li>" for line in text.key)
    body = [
        f"<h1>{esc(title)}</h1>",
        f"<dl class=provenance>{facts_list}</dl>",
        "<h2>Key figures</h2>",
        f"<ul>{items}</ul>",
    ]
    for fig in figures:
        if fig.chart is None:
            body += [
                f"<section><h2>{esc(fig.title)}</h2>",
                _claims_html(facts.claims),
                f'<p class=data>Data: <a href="{fig.name}.csv">{fig.name}.csv</a></p></section>',
            ]
            continue
        svg = (out / f"{fig.name}.svg").read_text(encoding="utf-8")
        notes = "".join(f"<li>{esc(n)}</li>" for n in fig.notes)
        body += [
            f"<section><div class=keep><h2>{esc(fig.title)}</h2>",
            f"<figure>{svg}</figure></div>",
            *([f"<ul class=notes>{notes}</ul>"] if notes else []),
            f'<p class=data>Data: <a href="{fig.name}.csv">{fig.name}.csv</a></p></section>',
        ]
    body += ["<h2>Methodology</h2>", "<ul>" + "".join(f"<li>{esc(m)}</li>" for m in text.method) + "</ul>"]
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>" + esc(title) + "</title><style>"
        "body{font:15px/1.5 system-ui,sans-serif;max-width:760px;margin:2em auto;color:#222}h1{font-size:1.6em}"
        "figure{margin:0}svg{max-width:100%;height:auto}.meta,.data,.notes{color:#666;font-size:.9em}"
        "table{border-collapse:collapse;font-size:.85em}td,th{border-bottom:1px solid #ddd;padding:3px 6px;"
        "text-align:left;vertical-align:top}"
        ".provenance{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0 0 1.5em;"
        "padding:8px 12px;border:1px solid #ccc;border-radius:4px;background:#fafafa;font-size:.9em}"
        ".provenance dt{font-weight:600}.provenance dd{margin:0;overflow-wrap:break-word}.day{white-space:nowrap}"
        + _PRINT_CSS
        + "</style></head><body>"
        + "\n".join(body)
        + "</body></html>"
    )


def _print_pdf(html_path: Path, pdf: Path, chromium: str | None) -> None:
    exe = chromium or next((p for p in CHROMIUM_PATHS if Path(p).exists()), None) or shutil.which("chromium")
    if not exe:
        raise ReportError(
            "a PDF is printed by headless Chromium, and none is installed (apt-get install chromium); "
            "--format html gives the same report"
        )
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html_path.resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not pdf.exists():
        raise ReportError(f"Chromium could not print the PDF: {proc.stderr.strip()[-300:]}")
