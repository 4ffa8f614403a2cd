"""Restriction time series from the version history.

Each row is the state **as of the end of the period** (or of the last observation, for the last period) over
the sites observed by then: a site counts from its first robots.txt observation on, with the version in effect
at that moment, and drops out when its newest observation is older than ``max_age`` days (it is no longer being
watched). Periods after the last observation are not produced.

Definitions (they are printed with every export):
- ``blocked``: the agent may not fetch "/" under the site's robots.txt (RFC 9309 / Google semantics).
- ``blocked_named``: of those, blocked by a group that names the agent (not inherited from ``User-agent: *``).
- ``full_block`` / ``near_full_block`` / ``partial_block``: the stance (see tracker.robots), counted apart.
- ``no_robots``: no robots.txt (4xx, empty, an HTML page, redirect loop): nothing is restricted.
- ``unreachable``: 429/5xx/network errors. Never counted as allowed, nor as blocked.
- shares are over ``sites`` (every site observed, unreachable included); ``blocked_share_reachable`` is over the
  sites whose robots.txt could be read or was absent.

Grouping by company or purpose merges agents: a site is blocked for the group if it blocks any of its agents.
Weighting by tokens (a ``url,<column>`` CSV such as the Consent in Crisis token counts) or by rank (1/rank)
replaces counts by sums of weights in the share columns; raw counts stay in ``sites`` and ``blocked``.
"""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from tracker.agents import AgentRegistry
from tracker.errors import TrendError
from tracker.evaluate import load_evaluations
from tracker.robots import PARSER_VERSION
from tracker.signals.preferences import ADOPTION, ADOPTION_VERSION, adopts
from tracker.store import catalog, queries
from tracker.vocabulary import NO_RULES, SIGNAL_NAMES, UNREACHABLE, Freq, GroupBy, SignalName, Weighting
from tracker.weights import Weights, site_weight

__all__ = [
    "DEFINITIONS",
    "SignalRow",
    "TrendError",
    "TrendRow",
    "period_end",
    "period_label",
    "restriction_series",
    "signal_series",
]


DEFINITIONS = (
    "blocked = the agent may not fetch '/' under RFC 9309 rules; blocked_named = blocked by a group naming the agent "
    "(not inherited from '*'); unreachable (429/5xx/network error) is counted apart, never as allowed or blocked; "
    "shares are over all sites observed by the end of each period."
)
_SEVERITY = {"full_block": 3, "near_full_block": 2, "partial_block": 1, "allowed": 0, "explicit_allow": 0}




@dataclass(slots=True)
class TrendRow:
    """One period's state for one agent (or group of agents)."""

    period: str
    period_end: str
    agent: str
    sites: int
    blocked: int
    blocked_named: int
    blocked_share: float
    blocked_named_share: float
    full_block: int
    near_full_block: int
    partial_block: int
    no_robots: int
    unreachable: int
    blocked_share_reachable: float
    weighting: str
    sites_weight: float
    blocked_weight: float
    weight_measured_share: float  # of sites_weight, the part measured (the rest filled in; 1.0 unweighted)
    sample: str  # which sites: "all sites", or a tracked list ("panel 'panel'", "top 'tranco-top' (Tranco …)")

    def as_dict(self) -> dict[str, object]:
        """A plain dict (for CSV/JSON)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Sample:
    """Which sites a series counts, and what each weighs."""

    label: str
    sites: frozenset[int] | None  # None: every site
    weights: dict[int, float]
    measured: frozenset[int]


def _sample(
    engine: Engine, lists: Sequence[str] | None, weight: Weighting, weights: dict[str, float] | Weights | None
) -> _Sample:
    label, members = "all sites", None
    if lists:
        infos = {i.name: i for i in catalog.lists(engine)}
        missing = [n for n in lists if n not in infos]
        if missing:
            raise TrendError(f"no list named {', '.join(missing)} (lists: {', '.join(infos) or 'none'})")
        ids: set[int] = set()
        parts = []
        for n in lists:
            i = infos[n]
            ids |= catalog.list_site_ids(engine, i.id)
            ranking = f" ({i.source or 'ranking'} of {i.list_date})" if i.kind == "top" and i.list_date else ""
            parts.append(f"{i.kind} '{n}'{ranking}")
        label, members = " + ".join(parts), frozenset(ids)
    values: dict[int, float] = {}
    measured: frozenset[int] = frozenset()
    if weight is Weighting.rank:
        sites = queries.sites_for_weights(engine)
        values = {s.id: 1.0 / s.rank for s in sites if s.rank}
        measured = frozenset(values)
    elif weight is Weighting.tokens:
        if isinstance(weights, Weights):
            values, measured = weights.values, weights.measured
        else:
            table = weights or {}
            for site in queries.sites_for_weights(engine):
                w = site_weight(site.domain, table)
                if w is not None:
                    values[site.id] = w
            measured = frozenset(values)
    return _Sample(label, members, values, measured)


def period_label(d: date, freq: Freq) -> str:
    """'2023-09' (month), '2023-W37' (ISO week) or '2023-09-14' (day)."""
    if freq == "month":
        return f"{d.year:04d}-{d.month:02d}"
    if freq == "week":
        y, w, _ = d.isocalendar()
        return f"{y:04d}-W{w:02d}"
    return d.isoformat()


def period_end(d: date, freq: Freq) -> date:
    """The last day of the period containing ``d``."""
    if freq == "month":
        return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
    if freq == "week":
        return d + timedelta(days=6 - d.weekday())
    return d


def _periods(start: date, stop: date, freq: Freq) -> list[tuple[str, date]]:
    out = []
    d = start
    while d <= stop:
        end = period_end(d, freq)
        out.append((period_label(d, freq), min(end, stop)))
        d = end + timedelta(days=1)
    return out


State = tuple[str, bool, bool]  # (stance or no_robots/unreachable, blocked, named)
Event = tuple[date, int, State, int, float, float]  # (day, +1/-1, state, count, weight, measured weight)


class _Classifier:
    """The state of a (status, ruleset) for a group of agents: blocked if any agent of the group is blocked."""

    def __init__(self, members: list[str], evals: dict[str, dict[int, tuple[bool, bool, str]]]) -> None:
        self.tables = [evals.get(m.lower(), {}) for m in members]
        self._cache: dict[int, State] = {}

    def ruleset_state(self, rid: int) -> State:
        s = self._cache.get(rid)
        if s is None:
            blocked = named = False
            worst = "allowed"
            for table in self.tables:
                ev = table.get(rid)
                if ev is None:
                    continue
                root_allowed, is_named, stance = ev
                if not root_allowed:
                    blocked = True
                    named = named or is_named
                if _SEVERITY.get(stance, 0) > _SEVERITY.get(worst, 0):
                    worst = stance
            s = self._cache[rid] = (worst, blocked, named)
        return s

    def state(self, status: str, rid: int | None) -> State:
        if status in UNREACHABLE:
            return ("unreachable", False, False)
        if status in NO_RULES or not rid:
            return ("no_robots", False, False)
        return self.ruleset_state(rid)

    def rulesets(self) -> set[int]:
        out: set[int] = set()
        for t in self.tables:
            out.update(t)
        return out


def _window(
    engine: Engine, freq: Freq, start: date | None, stop: date | None
) -> tuple[date, list[tuple[str, date]]] | None:
    """The last observation and the periods to report: from the first observation (or ``start``) to the last one
    (or ``stop``), never beyond what was observed. None when there is nothing to report."""
    bounds = queries.observation_bounds(engine)
    if bounds is None:
        return None
    first, horizon = bounds
    lo = max(start, first) if start else first
    hi = min(stop, horizon) if stop else horizon
    if lo > hi:
        return None
    return horizon, _periods(lo, hi, freq)


def _events_from_table(
    engine: Engine, classify: _Classifier, category: str | None, horizon: date, max_age: int
) -> list[Event]:
    """Start/end events from version_events, each ruleset mapped in the database to its state for the group;
    current versions not seen for ``max_age`` days stop counting ``max_age`` days after they were last seen."""
    codes: dict[State, int] = {}
    by_code: dict[int, State] = {}
    ruleset_codes: dict[int, int] = {}
    for rid in classify.rulesets():
        st = classify.ruleset_state(rid)
        code = codes.setdefault(st, len(codes))
        by_code[code] = st
        ruleset_codes[rid] = code
    out: list[Event] = []
    for day, status, code, starts, ends in queries.robots_event_counts(engine, ruleset_codes, category=category):
        if status in UNREACHABLE or status in NO_RULES or code == -1:
            st = classify.state(status, None)
        else:
            st = by_code[code]
        if starts:
            out.append((day, 1, st, starts, 0.0, 0.0))
        if ends and day <= horizon:
            out.append((day, -1, st, ends, 0.0, 0.0))
    before = horizon - timedelta(days=max_age) + timedelta(days=1)
    for status, ruleset, last_day, n in queries.stale_current_counts(engine, before, category=category):
        end = last_day + timedelta(days=max_age)
        if end <= horizon:
            out.append((end, -1, classify.state(status, ruleset), n, 0.0, 0.0))
    return out


def _events_from_versions(
    engine: Engine,
    classify: _Classifier,
    category: str | None,
    sample: _Sample,
    horizon: date,
    max_age: int,
) -> list[Event]:
    """Start/end events per site (needed when each site carries its own weight, or the sample is a list)."""
    out: list[Event] = []
    for status, rid, sid, first, end in queries.robots_version_spans(engine, category=category, max_age_days=max_age):
        if sample.sites is not None and sid not in sample.sites:
            continue
        st = classify.state(status, rid)
        w = sample.weights.get(sid, 0.0)
        mw = w if sid in sample.measured else 0.0
        out.append((first, 1, st, 1, w, mw))
        # A superseded version ends when the next began; a current one max_age days after it was last seen.
        if end <= horizon:
            out.append((end, -1, st, 1, w, mw))
    return out


def restriction_series(
    engine: Engine,
    registry: AgentRegistry,
    agents: Sequence[str] = ("GPTBot",),
    *,
    freq: Freq = Freq.month,
    since: date | None = None,
    until: date | None = None,
    by: GroupBy = GroupBy.agent,
    category: str | None = None,
    weight: Weighting = Weighting.none,
    weights: dict[str, float] | Weights | None = None,
    weight_label: str = "",
    max_age_days: int = 90,
    lists: Sequence[str] | None = None,
) -> list[TrendRow]:
    """Compute the restriction series for each agent (or company/purpose group) and period.

    ``lists`` restricts the sample to tracked lists (a fixed panel, or a top-N); every row says its sample.
    ``weights`` for ``Weighting.tokens``: a host → tokens table read from a file, or the stored weights
    (:func:`tracker.weights.stored_weights`), whose filled-in values count apart in ``weight_measured_share``."""
    freq, by, weight = Freq(freq), GroupBy(by), Weighting(weight)
    groups = _groups(registry, agents, by)
    evals = load_evaluations(engine, sorted({t.lower() for members in groups.values() for t in members}))
    window = _window(engine, freq, since, until)
    if window is None:
        return []
    horizon, periods = window
    sample = _sample(engine, lists, weight, weights)
    label = weight_label or (weights.label if isinstance(weights, Weights) else weight.value)
    per_site = weight is not Weighting.none or sample.sites is not None
    rows: list[TrendRow] = []
    for name, members in groups.items():
        classify = _Classifier(members, evals)
        if per_site:
            events = _events_from_versions(engine, classify, category, sample, horizon, max_age_days)
        else:
            events = _events_from_table(engine, classify, category, horizon, max_age_days)
        events.sort(key=lambda e: e[0])
        rows += _accumulate(name, events, periods, weight is not Weighting.none, label, sample.label)
    order = list(groups)
    rows.sort(key=lambda r: (r.period_end, order.index(r.agent)))
    return rows


def _accumulate(
    name: str, events: list[Event], periods: list[tuple[str, date]], weighted: bool, label: str, sample: str
) -> list[TrendRow]:
    counts: dict[str, int] = defaultdict(int)
    wsum: dict[str, float] = defaultdict(float)
    out: list[TrendRow] = []
    ei = 0
    for plabel, pend in periods:
        while ei < len(events) and events[ei][0] <= pend:
            _d, sign, (stance, blocked, named), n, w, mw = events[ei]
            counts["sites"] += sign * n
            counts[stance] += sign * n
            wsum["sites"] += sign * w
            wsum["measured"] += sign * mw
            if blocked:
                counts["blocked"] += sign * n
                wsum["blocked"] += sign * w
            if named:
                counts["blocked_named"] += sign * n
                wsum["blocked_named"] += sign * w
            if stance == "unreachable":
                wsum["unreachable"] += sign * w
            ei += 1
        sites = counts["sites"]
        if sites <= 0:
            continue
        blocked_n, named_n, unreachable = counts["blocked"], counts["blocked_named"], counts["unreachable"]
        if weighted:
            denom = wsum["sites"]
            share = wsum["blocked"] / denom if denom > 0 else 0.0
            named_share = wsum["blocked_named"] / denom if denom > 0 else 0.0
            reachable_w = denom - wsum["unreachable"]
            share_reachable = wsum["blocked"] / reachable_w if reachable_w > 0 else 0.0
        else:
            share, named_share = blocked_n / sites, named_n / sites
            share_reachable = blocked_n / (sites - unreachable) if sites > unreachable else 0.0
        out.append(
            TrendRow(
                period=plabel,
                period_end=pend.isoformat(),
                agent=name,
                sites=sites,
                blocked=blocked_n,
                blocked_named=named_n,
                blocked_share=round(share, 6),
                blocked_named_share=round(named_share, 6),
                full_block=counts["full_block"],
                near_full_block=counts["near_full_block"],
                partial_block=counts["partial_block"],
                no_robots=counts["no_robots"],
                unreachable=unreachable,
                blocked_share_reachable=round(share_reachable, 6),
                weighting=label if weighted else "sites",
                sites_weight=round(wsum["sites"], 3) if weighted else float(sites),
                blocked_weight=round(wsum["blocked"], 3) if weighted else float(blocked_n),
                weight_measured_share=round(wsum["measured"] / wsum["sites"], 6) if weighted and wsum["sites"] > 0
                else 1.0,
                sample=sample,
            )
        )
    return out


def _groups(registry: AgentRegistry, agents: Sequence[str], by: GroupBy) -> dict[str, list[str]]:
    if by is GroupBy.agent:
        out: dict[str, list[str]] = {}
        for a in agents:
            known = registry.get(a)
            name = known.token if known else a
            out[name] = [name]
        if not out:
            raise TrendError("no agent given")
        return out
    pool = [registry.get(a) for a in agents] if agents else [a for a in registry if a.ai]
    missing = [a for a, ag in zip(agents, pool, strict=False) if ag is None] if agents else []
    if missing:
        raise TrendError(f"unknown agent(s) for --by {by}: {', '.join(missing)} (see `consent-tracker agents list`)")
    grouped: dict[str, list[str]] = {}
    for ag in pool:
        assert ag is not None
        key = ag.company if by is GroupBy.company else ag.purpose
        grouped.setdefault(key, []).append(ag.token)
    return grouped


# -- adoption of signals over time ----------------------------------------------------------------------------
@dataclass(slots=True)
class SignalRow:
    """One period's adoption of one signal."""

    period: str
    period_end: str
    signal: str
    sites: int  # sites whose resource was observed (a site not crawled for it is not in the sample)
    adopting: int
    share: float
    definition: str

    def as_dict(self) -> dict[str, object]:
        """A plain dict (for CSV/JSON)."""
        return asdict(self)


def _body_adoptions(engine: Engine, signal: SignalName, version: str, body_ids: set[int]) -> dict[int, bool]:
    """Whether each body adopts the signal: from the store's cache, computing (and storing) what is missing."""
    known = queries.adoptions(engine, signal, version)
    missing = [b for b in body_ids if b not in known]
    if missing:
        kind = ADOPTION[signal].kind
        computed = {bid: adopts(signal, queries.StoredResource(kind, "ok", body=body, truncated=truncated))
                    for bid, body, truncated in queries.bodies_by_id(engine, missing)}  # fmt: skip
        queries.store_adoptions(engine, signal, version, computed)
        known.update(computed)
    return known


def signal_series(
    engine: Engine,
    names: Sequence[SignalName | str],
    *,
    freq: Freq = Freq.month,
    since: date | None = None,
    until: date | None = None,
    category: str | None = None,
    max_age_days: int = 90,
) -> list[SignalRow]:
    """Adoption over time of each signal, as of the end of each period, over the sites observed for it."""
    unknown = [n for n in names if n not in ADOPTION]
    if unknown:
        raise TrendError(f"unknown signal(s): {', '.join(unknown)}; known: {', '.join(SIGNAL_NAMES)}")
    window = _window(engine, Freq(freq), since, until)
    if window is None:
        return []
    horizon, periods = window
    rows: list[SignalRow] = []
    version = f"{ADOPTION_VERSION}.{PARSER_VERSION}"
    spans_of: dict[str, list[Any]] = {}  # one read of the versions per resource kind, however many signals
    for name in names:
        signal: SignalName = name  # type: ignore[assignment]
        adoption = ADOPTION[signal]
        if adoption.kind not in spans_of:
            spans_of[adoption.kind] = list(queries.resource_spans(engine, adoption.kind, category=category))
        spans = spans_of[adoption.kind]
        by_body = _body_adoptions(engine, signal, version, {bid for st_, bid, *_ in spans if st_ == "ok" and bid})
        cache: dict[tuple[str, str | None], bool] = {}
        events: list[Event] = []
        for status, body_id, signals, first, valid_to, last in spans:
            if status == "ok" and body_id:
                hit = by_body.get(body_id, False)
            else:  # no body to read (homepage and terms keep their signals; other statuses adopt nothing)
                key = (status, signals)
                cached = cache.get(key)
                if cached is None:
                    evidence = queries.StoredResource(adoption.kind, status,
                                                      signals=json.loads(signals) if signals else None)  # fmt: skip
                    cached = cache[key] = adopts(signal, evidence)
                hit = cached
            state: State = ("adopting" if hit else "not", hit, False)
            events.append((first.date(), 1, state, 1, 0.0, 0.0))
            end = valid_to.date() if valid_to is not None else last.date() + timedelta(days=max_age_days)
            if end <= horizon:
                events.append((end, -1, state, 1, 0.0, 0.0))
        events.sort(key=lambda e: e[0])
        for r in _accumulate(name, events, periods, False, "sites", "all sites"):
            rows.append(SignalRow(r.period, r.period_end, name, r.sites, r.blocked,
                                  round(r.blocked / r.sites, 6) if r.sites else 0.0, adoption.definition))  # fmt: skip
    rows.sort(key=lambda r: (r.period_end, list(names).index(r.signal)))
    return rows
