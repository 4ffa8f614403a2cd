"""What the dashboard and the reports show, computed once here so both say the same thing: the headline figures,
the milestones to mark on charts.

Numbers come from tracker.analysis.trends and tracker.analysis.latest; every figure carries its sample, dates,
weighting and the
definition of "blocked".
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine

from tracker.analysis.trends import Definition, TrendRow, define, restriction_series
from tracker.analysis.weights import Weights, stored_weights
from tracker.errors import TrendError
from tracker.records.json import Json
from tracker.records.vocabulary import GroupBy, Rule, Weighting
from tracker.rules.agents import AgentRegistry

__all__ = ["MILESTONES_FILE", "Headline", "Milestone", "headline", "load_milestones"]

#: Dated public-record milestones (a crawler announced, a licensing deal, a standard published).
MILESTONES_FILE = Path(str(resources.files("tracker") / "data" / "events.csv"))


@dataclass(frozen=True, slots=True)
class Milestone:
    """A dated public-record milestone that moved consent, with its public source: marked on charts. (Not a change
    event of a site: that is tracker.records.Event.)"""

    day: date
    label: str
    kind: str
    source: str
    #: the few words written beside the dashed line on a chart (the label when the file gives none)
    short: str = ""

    @property
    def mark(self) -> str:
        return self.short or self.label


def load_milestones(path: Path = MILESTONES_FILE) -> list[Milestone]:
    """The milestones of ``tracker/data/events.csv``, in date order."""
    with path.open(encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return sorted(
            (
                Milestone(date.fromisoformat(r["date"]), r["label"], r["kind"], r["source"], r.get("short") or "")
                for r in rows
            ),
            key=lambda e: e.day,
        )


@dataclass(frozen=True, slots=True)
class Headline:
    """The overview's figures: the share of sites restricting the training agents (any of them; and all of them,
    beside it) now and a year before, by site and (when token weights are stored) by tokens, with the definition
    of each computed beside it."""

    by_sites: TrendRow | None
    by_sites_year_ago: TrendRow | None
    by_tokens: TrendRow | None
    by_tokens_year_ago: TrendRow | None
    series: list[TrendRow]  # the by-site monthly series of the training agents (any)
    definition: Definition  # of by_sites and series
    all_agents: TrendRow | None = None  # the same sample, counting a site only when every agent is blocked
    all_agents_definition: Definition | None = None
    tokens_definition: Definition | None = None

    @property
    def empty(self) -> bool:
        """No observation at all."""
        return self.by_sites is None

    def as_dict(self) -> dict[str, Json]:
        """JSON-ready."""
        rows = {
            "by_sites": self.by_sites,
            "by_sites_year_ago": self.by_sites_year_ago,
            "by_tokens": self.by_tokens,
            "by_tokens_year_ago": self.by_tokens_year_ago,
            "all_agents": self.all_agents,
        }
        defs = {
            "definition": self.definition,
            "all_agents_definition": self.all_agents_definition,
            "tokens_definition": self.tokens_definition,
        }
        out: dict[str, Json] = {k: v.as_dict() if v is not None else None for k, v in rows.items()}
        return out | {k: v.as_dict() if v is not None else None for k, v in defs.items()}


def _year_ago(rows: list[TrendRow]) -> TrendRow | None:
    """The row of the same period a year before (monthly: the same month), else the last one a year back."""
    if not rows:
        return None
    label = rows[-1].period
    if len(label) == 7 and label[4] == "-":
        same = f"{int(label[:4]) - 1}{label[4:]}"
        match = [r for r in rows if r.period == same]
        if match:
            return match[-1]
    last = date.fromisoformat(rows[-1].period_end)
    target = date(last.year - 1, last.month, min(last.day, 28))
    earlier = [r for r in rows if date.fromisoformat(r.period_end) <= target]
    return earlier[-1] if earlier else None


def headline(
    engine: Engine,
    registry: AgentRegistry,
    *,
    purpose: str = "training",
    lists: list[str] | None = None,
    category: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Headline:
    """The share of sites (and of tokens) whose robots.txt restricts the agents of a use (training: the training
    crawlers and the control tokens), now and a year before; the share restricting all of them beside it."""
    agents = [a.token for a in registry.for_use(purpose)]

    def series(rule: Rule = Rule.any, weights: Weights | None = None) -> list[TrendRow]:
        weight = Weighting.tokens if weights is not None else Weighting.none
        found = restriction_series(
            engine,
            registry,
            agents,
            by=GroupBy.purpose,
            lists=lists,
            category=category,
            since=since,
            until=until,
            rule=rule,
            weight=weight,
            weights=weights,
        )
        return [r for r in found if r.agent == purpose]

    rows = series()
    every = series(Rule.all)
    tokens: list[TrendRow] = []
    try:
        weights = stored_weights(engine)
    except TrendError:
        weights = None
    if weights is not None and rows:
        tokens = series(weights=weights)

    def definition(series: list[TrendRow]) -> Definition:
        return define(registry, series, group=purpose, agents=agents, by=GroupBy.purpose)

    return Headline(
        rows[-1] if rows else None,
        _year_ago(rows),
        tokens[-1] if tokens else None,
        _year_ago(tokens),
        rows,
        definition(rows),
        every[-1] if every else None,
        definition(every) if every else None,
        definition(tokens) if tokens else None,
    )
