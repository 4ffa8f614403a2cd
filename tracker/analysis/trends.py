"""Restriction time series from the version history.

Each row is the state **as of the end of the period** (or of the last observation, for the last period) over
the sites observed by then: a site counts from its first robots.txt observation on, with the version in effect
at that moment, and drops out when its newest observation is older than ``max_age`` days (it is no longer being
watched). Periods after the last observation are not produced.

Definitions (they are printed with every export):
- ``blocked``: the agent may not fetch "/" under the site's robots.txt (RFC 9309 / Google semantics).
- ``blocked_named``: of those, blocked by a group that names the agent (not inherited from ``User-agent: *``).
- ``full_block`` / ``near_full_block`` / ``partial_block``: the stance (see tracker.rules.robots), counted apart.
- ``no_robots``: no robots.txt (4xx, empty, an HTML page, redirect loop): nothing is restricted.
- ``unreachable``: 429/5xx/network errors. Never counted as allowed, nor as blocked.
- shares are over ``sites`` (every site observed, unreachable included); ``blocked_share_reachable`` is over the
  sites whose robots.txt could be read or was absent.

Grouping by company or purpose merges agents: a site is blocked for the group if it blocks any of its agents
(``rule=Rule.all``: every one of them). The ``training`` purpose group holds the training crawlers and the control
tokens that opt out of training (Google-Extended, Applebot-Extended …: ``Agent.use``); search-only and
user-triggered agents never count towards it. :func:`define` gives a figure's :class:`Definition` — what it
counts, over which agents, any or all, which sample, dates and weighting — as a value every face renders.
Weighting by tokens (a ``url,<column>`` CSV such as the Consent in Crisis token counts) or by rank (1/rank)
replaces counts by sums of weights in the share columns; raw counts stay in ``sites`` and ``blocked``. A weights
file's hosts fold into the tracked sites as ``weights import`` folds them (:func:`tracker.analysis.weights.fold_hosts`).
"""

from __future__ import annotations

import calendar
import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import Engine

from tracker.analysis.weights import Weights, fold_hosts
from tracker.errors import TrendError
from tracker.records.trends import Definition, SignalCoverage, SignalRow, TrendRow
from tracker.records.vocabulary import NO_RULES, SIGNAL_NAMES, UNREACHABLE, Freq, GroupBy, Rule, SignalName, Weighting
from tracker.rules.agents import AgentRegistry
from tracker.rules.signals.preferences import ADOPTION, Adoption, observed
from tracker.store import catalog, queries

__all__ = [
    "DEFINITIONS",
    "Definition",
    "SignalCoverage",
    "SignalRow",
    "TrendError",
    "TrendRow",
    "define",
    "group_members",
    "period_end",
    "period_label",
    "restriction_series",
    "robots_site_months",
    "signal_coverage",
    "signal_series",
    "signal_site_months",
    "window",
]


DEFINITIONS = (
    "blocked = the agent may not fetch '/' under RFC 9309 rules; blocked_named = blocked by a group naming the agent "
    "(not inherited from '*'); unreachable (429/5xx/network error) is counted apart, never as allowed or blocked; "
    "shares are over all sites observed by the end of each period."
)
_SEVERITY = {"full_block": 3, "near_full_block": 2, "partial_block": 1, "allowed": 0, "explicit_allow": 0}


@dataclass(frozen=True, slots=True)
class _Sample:
    """Which sites a series counts, and what each weighs."""

    label: str
    sites: frozenset[int] | None  # None: every site
    weights: dict[int, float]
    measured: frozenset[int]


def _sample(
    engine: Engine,
    lists: Sequence[str] | None,
    weight: Weighting,
    weights: dict[str, float] | Weights | None,
    category: str | None = None,
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
    if category is not None:  # a category is the sample as much as a list is: the label never says "all sites" then
        label = f"{'sites' if members is None else label} in category '{category}'"
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
            # A file's hosts fold into the tracked sites exactly as `weights import` folds them (one rule).
            sites = queries.sites_for_weights(engine)
            folded = fold_hosts(weights or {}, [s.domain for s in sites]).sites
            values = {s.id: folded[s.domain].weight for s in sites if s.domain in folded}
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
_Step = tuple[date, int, State, int, float, float]  # (day, +1/-1, state, count, weight, measured weight)


class _Classifier:
    """The state of a (status, ruleset) for a group of agents: blocked if any agent of the group is blocked (or,
    with ``Rule.all``, if every one is); named if a blocking group names one of them."""

    def __init__(
        self, members: list[str], evals: dict[str, dict[int, tuple[bool, bool, str]]], rule: Rule = Rule.any
    ) -> None:
        self.tables = [evals.get(m.lower(), {}) for m in members]
        self.rule = rule
        self._cache: dict[int, State] = {}

    def ruleset_state(self, rid: int) -> State:
        s = self._cache.get(rid)
        if s is None:
            blocked_any = named = False
            blocked_all = bool(self.tables)
            stances = []
            for table in self.tables:
                ev = table.get(rid)
                if ev is None:
                    blocked_all = False
                    stances.append("allowed")
                    continue
                root_allowed, is_named, stance = ev
                stances.append(stance)
                if not root_allowed:
                    blocked_any = True
                    named = named or is_named
                else:
                    blocked_all = False
            # The group's stance follows its rule: the most severe of its agents' (any), or the least (all).
            pick = min if self.rule is Rule.all else max
            group_stance = pick(stances, key=lambda st: _SEVERITY.get(st, 0)) if stances else "allowed"
            blocked = blocked_all if self.rule is Rule.all else blocked_any
            s = self._cache[rid] = (group_stance, blocked, named and blocked)
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


def window(
    engine: Engine, freq: Freq = Freq.month, since: date | None = None, until: date | None = None
) -> tuple[date, list[tuple[str, date]]] | None:
    """The last observation and the periods a series reports, (label, last day) each: from the first observation
    (or ``since``) to the last one (or ``until``). None when there is nothing to report."""
    return _window(engine, Freq(freq), since, until)


def _active(ends: list[date], first: date, end: date) -> range:
    """The periods (by their last days, ``ends``) in which a stretch [first, end) counts: those whose last day falls
    in it — as a series counts it (it starts on ``first`` and stops on ``end``)."""
    return range(bisect_left(ends, first), bisect_left(ends, end))


def robots_site_months(
    engine: Engine, site_ids: Sequence[int], periods: Sequence[tuple[str, date]], *, max_age_days: int = 90
) -> Iterator[tuple[int, int, str, int | None]]:
    """(site, period index, robots.txt status, ruleset) of each site in each period it counts in: the robots.txt
    version in effect at the period's end, exactly the ones :func:`restriction_series` counts (a current version stops
    counting ``max_age_days`` after it was last seen)."""
    ends = [end for _, end in periods]
    for status, rid, sid, first, end in queries.robots_version_spans(
        engine, max_age_days=max_age_days, site_ids=site_ids
    ):
        for i in _active(ends, first, end):
            yield sid, i, status, rid


def signal_site_months(
    engine: Engine,
    name: SignalName | str,
    site_ids: Sequence[int],
    periods: Sequence[tuple[str, date]],
    *,
    max_age_days: int = 90,
) -> Iterator[tuple[int, int, bool, tuple[str, ...]]]:
    """(site, period index, adopted, the carriers it rests on) of each site in each period whose reading of a signal
    is known at the period's end — the sites :func:`signal_series` counts. The carriers: those saying yes when it is
    adopted, else those observed."""
    if name not in ADOPTION:
        raise TrendError(f"unknown signal {name}; known: {', '.join(SIGNAL_NAMES)}")
    signal: SignalName = name
    adoption = ADOPTION[signal]
    spans_of: dict[str, list[Any]] = {
        k: list(queries.resource_spans(engine, k, site_ids=site_ids)) for k in adoption.kinds
    }
    parts = _Parts(engine, signal, queries.ADOPTIONS_VERSION, spans_of, these_bodies=True)
    ends = [end for _, end in periods]
    for sid, segments in _site_segments(adoption, spans_of, parts, max_age_days):
        for a, b, hit, key in segments:
            if hit is None:
                continue
            said = tuple(
                k for k, p in zip(adoption.kinds, key, strict=True) if (p is True if hit else p is not _UNSEEN)
            )
            for i in _active(ends, a, b):
                yield sid, i, hit, said


def _events_from_table(
    engine: Engine, classify: _Classifier, category: str | None, horizon: date, max_age: int
) -> list[_Step]:
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
    out: list[_Step] = []
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
) -> list[_Step]:
    """Start/end events per site (needed when each site carries its own weight, or the sample is a list)."""
    out: list[_Step] = []
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
    rule: Rule = Rule.any,
) -> list[TrendRow]:
    """Compute the restriction series for each agent (or company/purpose group) and period.

    ``rule``: a group's site counts as blocked when any of its agents is blocked (the default), or all of them.

    ``lists`` restricts the sample to tracked lists (a fixed panel, or a top-N), ``category`` to one category; every
    row says its sample (the lists and the category).
    ``weights`` for ``Weighting.tokens``: a host → tokens table read from a file, or the stored weights
    (:func:`tracker.analysis.weights.stored_weights`), whose filled-in values count apart in
    ``weight_measured_share``."""
    freq, by, weight, rule = Freq(freq), GroupBy(by), Weighting(weight), Rule(rule)
    groups = _groups(registry, agents, by)
    evals = queries.evaluations(engine, sorted({t.lower() for members in groups.values() for t in members}))
    window = _window(engine, freq, since, until)
    if window is None:
        return []
    horizon, periods = window
    sample = _sample(engine, lists, weight, weights, category)
    label = weight_label or (weights.label if isinstance(weights, Weights) else weight.value)
    per_site = weight is not Weighting.none or sample.sites is not None
    rows: list[TrendRow] = []
    for name, members in groups.items():
        classify = _Classifier(members, evals, rule)
        if per_site:
            events = _events_from_versions(engine, classify, category, sample, horizon, max_age_days)
        else:
            events = _events_from_table(engine, classify, category, horizon, max_age_days)
        events.sort(key=lambda e: e[0])
        rows += _accumulate(name, events, periods, weight is not Weighting.none, label, sample.label, rule)
    order = list(groups)
    rows.sort(key=lambda r: (r.period_end, order.index(r.agent)))
    return rows


def _accumulate(
    name: str,
    events: list[_Step],
    periods: list[tuple[str, date]],
    weighted: bool,
    label: str,
    sample: str,
    rule: Rule = Rule.any,
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
            elif stance == "full_block":
                wsum["full_block"] += sign * w
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
                weight_measured_share=round(wsum["measured"] / wsum["sites"], 6)
                if weighted and wsum["sites"] > 0
                else 1.0,
                full_block_weight=round(wsum["full_block"], 3) if weighted else float(counts["full_block"]),
                sample=sample,
                rule=rule.value,
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
        raise TrendError(
            f"by {by}: unknown agent(s) {', '.join(missing)} (see `consent-tracker agents list`)", parameter="by"
        )
    grouped: dict[str, list[str]] = {}
    for ag in pool:
        assert ag is not None
        key = ag.company if by is GroupBy.company else ag.use
        grouped.setdefault(key, []).append(ag.token)
    return grouped


def group_members(registry: AgentRegistry, agents: Sequence[str], by: GroupBy | str) -> dict[str, list[str]]:
    """The groups a restriction series reports, each with its member tokens (``training``: the training crawlers
    and the control tokens; an empty ``agents`` with ``by`` company/purpose: every AI agent of the registry)."""
    return _groups(registry, agents, GroupBy(by))


def define(
    registry: AgentRegistry,
    rows: Sequence[TrendRow],
    *,
    group: str,
    agents: Sequence[str] = (),
    by: GroupBy | str = GroupBy.agent,
) -> Definition:
    """The definition of one group's series (``rows``, any groups; the group's own rows are picked)."""
    by = GroupBy(by)
    members = group_members(registry, agents or ([group] if by is GroupBy.agent else []), by).get(group, [group])
    own = [r for r in rows if r.agent == group]
    first, last = (own[0], own[-1]) if own else (None, None)
    weighted = last is not None and last.weighting != "sites"
    return Definition(
        figure=group,
        group_by=by.value,
        agents=tuple(members),
        rule=last.rule if last else Rule.any.value,
        sample=last.sample if last else "all sites",
        sites=last.sites if last else 0,
        date_from=first.period_end if first else None,
        date_to=last.period_end if last else None,
        weighting=last.weighting if last else "sites",
        weight_measured_share=last.weight_measured_share if weighted and last else None,
    )


# -- adoption of signals over time ----------------------------------------------------------------------------
#: A carrier's version that says nothing (failed, not fetched, a page that was not a 200).
_UNSEEN = object()


def signal_coverage(engine: Engine, names: Sequence[SignalName | str]) -> list[SignalCoverage]:
    """For each signal, which of the resources that carry it were ever observed here (after an archive import: only
    robots.txt), so the faces say "never observed" or "read from robots.txt alone" instead of implying a zero."""
    seen: dict[str, bool] = {}
    out: list[SignalCoverage] = []
    for name in names:
        adoption = ADOPTION[name]  # type: ignore[index]
        for k in adoption.kinds:
            if k not in seen:
                seen[k] = any(observed(k, queries.StoredResource(k, st)) for st in queries.version_statuses(engine, k))
        out.append(
            SignalCoverage(
                name, tuple(k for k in adoption.kinds if seen[k]), tuple(k for k in adoption.kinds if not seen[k])
            )
        )
    return out


class _Parts:
    """What each version says towards one signal: bodies from the store's cache (read now, not stored, when missing),
    pages by the text of their signals (equal texts are read once); ``_UNSEEN`` for a version that says nothing."""

    def __init__(
        self,
        engine: Engine,
        signal: SignalName,
        version: str,
        spans_of: dict[str, list[Any]],
        *,
        these_bodies: bool = False,
    ) -> None:
        self.adoption = ADOPTION[signal]
        self.body_kind = self.adoption.body_kind
        bodies = {sp.body_id for sp in spans_of.get(self.body_kind or "", []) if sp.status == "ok" and sp.body_id}
        # A few sites' spans (``these_bodies``) read only their bodies' readings, not every body's.
        known = queries.adoptions(engine, signal, version, sorted(bodies) if these_bodies else None)
        missing = [b for b in bodies if b not in known]
        kind = self.body_kind
        if missing and kind is not None:
            # Read now, not stored: reads never write (``db migrate`` stores them, tracker.store.writer).
            known.update(queries.adoption_parts(engine, signal, missing))
        self.by_body = known
        self.cache: dict[tuple[str, str, str | None], Any] = {}

    def __call__(self, sp: queries.ResourceSpan) -> Any:
        if sp.kind == self.body_kind and sp.status == "ok" and sp.body_id:
            return self.by_body.get(sp.body_id, False)
        key = (sp.kind, sp.status, sp.signals)
        if key not in self.cache:
            evidence = queries.StoredResource(
                sp.kind, sp.status, signals=json.loads(sp.signals) if sp.signals else None
            )
            self.cache[key] = self.adoption.part(sp.kind, evidence) if observed(sp.kind, evidence) else _UNSEEN
        return self.cache[key]


Interval = tuple[date, date, Any]  # [start, end) of a version, and its part (or _UNSEEN)


def _segments(per_kind: list[list[Interval]]) -> list[tuple[date, date, tuple[Any, ...]]]:
    """A site's carriers' intervals (one list per kind, in the signal's order) cut where any of them changes:
    [start, end) and each kind's part in it (``_UNSEEN`` where none)."""
    if len(per_kind) == 1:
        return [(s, e, (p,)) for s, e, p in per_kind[0]]
    cuts = sorted({d for ivs in per_kind for s, e, _ in ivs for d in (s, e)})
    out: list[tuple[date, date, tuple[Any, ...]]] = []
    pos = [0] * len(per_kind)
    for a, b in pairwise(cuts):
        key = []
        for n, ivs in enumerate(per_kind):
            i = pos[n]
            while i < len(ivs) and ivs[i][1] <= a:
                i += 1
            pos[n] = i
            key.append(ivs[i][2] if i < len(ivs) and ivs[i][0] <= a else _UNSEEN)
        out.append((a, b, tuple(key)))
    return out


_Segment = tuple[date, date, "bool | None", tuple[Any, ...]]  # [start, end), the reading, each kind's part


def _site_segments(
    adoption: Adoption, spans_of: dict[str, list[Any]], parts: _Parts, max_age_days: int
) -> Iterator[tuple[int, list[_Segment]]]:
    """Each site's stretches, cut where any carrier's version changes, with the reading in each (None: not known)
    and what each carrier said (a current version counts until ``max_age_days`` after it was last seen)."""
    kinds = adoption.kinds
    per_site: dict[int, list[list[Interval]]] = {}
    for n, k in enumerate(kinds):
        for sp in spans_of[k]:
            start = sp.first_day
            end = sp.until_day if sp.until_day is not None else sp.last_day + timedelta(days=max_age_days)
            if start < end:
                lists = per_site.get(sp.site_id)
                if lists is None:
                    lists = per_site[sp.site_id] = [[] for _ in kinds]
                lists[n].append((start, end, parts(sp)))
    readings: dict[tuple[Any, ...], bool | None] = {}  # the parts of each kind → the reading (few distinct ones)
    for sid, lists in per_site.items():
        present = [ivs for ivs in lists if ivs]
        for ivs in present:
            ivs.sort(key=lambda iv: iv[0])
        segments: list[_Segment] = []
        for a, b, key in _segments(lists if len(present) > 1 else present):
            if len(present) == 1:  # one kind: say which, for the reading
                key = tuple(key[0] if ivs else _UNSEEN for ivs in lists)
            hit = readings.get(key, readings)
            if hit is readings:
                hit = readings[key] = adoption.read({k: p for k, p in zip(kinds, key, strict=True) if p is not _UNSEEN})
            segments.append((a, b, hit, key))  # type: ignore[arg-type]
        yield sid, segments


def _adoption_events(
    adoption: Adoption, spans_of: dict[str, list[Any]], parts: _Parts, horizon: date, max_age_days: int
) -> list[_Step]:
    """Start/end events of each site's stretches with one known reading (a current version counts until
    ``max_age_days`` after it was last seen)."""
    events: list[_Step] = []

    def emit(start: date, end: date, hit: bool) -> None:
        state: State = ("adopting" if hit else "not", hit, False)
        events.append((start, 1, state, 1, 0.0, 0.0))
        if end <= horizon:
            events.append((end, -1, state, 1, 0.0, 0.0))

    for _sid, segments in _site_segments(adoption, spans_of, parts, max_age_days):
        run: tuple[date, date, bool] | None = None  # consecutive segments with one reading count once
        for a, b, hit, _key in segments:
            if run is not None and (hit is None or hit != run[2] or a != run[1]):
                emit(*run)
                run = None
            if hit is not None:
                run = (run[0], b, hit) if run is not None else (a, b, hit)
        if run is not None:
            emit(*run)
    events.sort(key=lambda e: e[0])
    return events


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
    """Adoption over time of each signal, as of the end of each period, over the sites whose reading is known.

    The reading is :attr:`tracker.rules.signals.preferences.Adoption.read` — the one the export and the change events
    use — of the versions of every resource that carries the signal in effect at each moment."""
    unknown = [n for n in names if n not in ADOPTION]
    if unknown:
        raise TrendError(f"unknown signal(s): {', '.join(unknown)}; known: {', '.join(SIGNAL_NAMES)}")
    window = _window(engine, Freq(freq), since, until)
    if window is None:
        return []
    horizon, periods = window
    rows: list[SignalRow] = []
    version = queries.ADOPTIONS_VERSION
    spans_of: dict[str, list[Any]] = {}  # one read of the versions per kind, however many signals
    for name in names:
        signal: SignalName = name  # type: ignore[assignment]
        adoption = ADOPTION[signal]
        for k in adoption.kinds:
            if k not in spans_of:
                spans_of[k] = list(queries.resource_spans(engine, k, category=category))
        events = _adoption_events(adoption, spans_of, _Parts(engine, signal, version, spans_of), horizon, max_age_days)
        for r in _accumulate(name, events, periods, False, "sites", "all sites"):
            rows.append(
                SignalRow(
                    r.period,
                    r.period_end,
                    name,
                    r.sites,
                    r.blocked,
                    round(r.blocked / r.sites, 6) if r.sites else 0.0,
                    adoption.definition,
                )
            )
    rows.sort(key=lambda r: (r.period_end, list(names).index(r.signal)))
    return rows
