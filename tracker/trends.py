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
import csv
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, func, select

from tracker.agents import AgentRegistry
from tracker.crawl import NO_RULES, UNREACHABLE
from tracker.evaluate import load_evaluations
from tracker.store.models import Site, Version

__all__ = ["DEFINITIONS", "TrendError", "TrendRow", "load_weights", "period_end", "period_label", "restriction_series"]

Freq = Literal["day", "week", "month"]
GroupBy = Literal["agent", "company", "purpose"]
Weight = Literal["none", "tokens", "rank"]

_versions = Version.__table__  # type: ignore[attr-defined]
_sites = Site.__table__  # type: ignore[attr-defined]

DEFINITIONS = (
    "blocked = the agent may not fetch '/' under RFC 9309 rules; blocked_named = blocked by a group naming the agent "
    "(not inherited from '*'); unreachable (429/5xx/network error) is counted apart, never as allowed or blocked; "
    "shares are over all sites observed by the end of each period."
)
_SEVERITY = {"full_block": 3, "near_full_block": 2, "partial_block": 1, "allowed": 0, "explicit_allow": 0}


class TrendError(ValueError):
    """The series cannot be computed as asked (unknown agent, bad dates, unreadable weights)."""


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

    def as_dict(self) -> dict[str, object]:
        """A plain dict (for CSV/JSON)."""
        return asdict(self)


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


def load_weights(path: str | Path, column: str | None = None) -> dict[str, float]:
    """Read a ``url,<weight>…`` CSV into host → weight (the first numeric column unless ``column`` is given)."""
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames or []
            key = next((f for f in fields if f.lower() in ("url", "domain", "host", "site")), None)
            if key is None:
                raise TrendError(f"{p}: needs a 'url' or 'domain' column (has {fields})")
            col = column or next((f for f in fields if f != key and f.endswith("tokens")), None)
            if col is None or col not in fields:
                raise TrendError(f"{p}: no weight column {column or '*_tokens'} (has {fields})")
            out: dict[str, float] = {}
            for row in reader:
                host = (row.get(key) or "").strip().lower().removeprefix("http://").removeprefix("https://")
                host = host.split("/", 1)[0]
                try:
                    w = float(row.get(col) or "")
                except ValueError:
                    continue
                if host and w >= 0:
                    out[host] = out.get(host, 0.0) + w
            return out
    except OSError as e:
        raise TrendError(f"cannot read weights {p}: {e.strerror or e}") from None


def _site_weight(domain: str, weights: dict[str, float]) -> float:
    for cand in (domain, domain.removeprefix("www."), "www." + domain):
        if cand in weights:
            return weights[cand]
    return 0.0


def _day(v: object) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def restriction_series(
    engine: Engine,
    registry: AgentRegistry,
    agents: Sequence[str] = ("GPTBot",),
    *,
    freq: Freq = "month",
    start: date | None = None,
    stop: date | None = None,
    by: GroupBy = "agent",
    category: str | None = None,
    weight: Weight = "none",
    weights: dict[str, float] | None = None,
    weight_label: str = "",
    max_age_days: int = 90,
) -> list[TrendRow]:
    """Compute the restriction series for each agent (or company/purpose group) and period."""
    groups = _groups(registry, agents, by)
    all_tokens = sorted({t.lower() for members in groups.values() for t in members})
    evals = load_evaluations(engine, all_tokens)

    c = _versions.c
    site_filter = []
    if category is not None:
        site_filter.append(_sites.c.category == category)
    with engine.connect() as conn:
        horizon_raw = conn.execute(select(func.max(c.last_seen)).where(c.kind == "robots")).scalar()
        if horizon_raw is None:
            return []
        horizon = _day(horizon_raw)
        first_raw = conn.execute(select(func.min(c.first_seen)).where(c.kind == "robots")).scalar()
        first = _day(first_raw)
        site_w: dict[int, float] | None = None
        if weight != "none":
            site_w = {}
            for sid, domain, rank in conn.execute(select(_sites.c.id, _sites.c.domain, _sites.c.rank)):
                if weight == "rank":
                    site_w[sid] = 1.0 / rank if rank else 0.0
                else:
                    site_w[sid] = _site_weight(domain, weights or {})
        # Every version contributes +1 from first_seen and -1 from its end: the next version, or (for the current
        # one) max_age days after it was last seen. Aggregated per (day, status, ruleset) in the database.
        cols = [c.status, c.ruleset_id]
        per_site = site_w is not None
        if per_site:
            cols.append(c.site_id)
        base = select(*cols).select_from(_versions.join(_sites, _sites.c.id == c.site_id)).where(c.kind == "robots")
        for f in site_filter:
            base = base.where(f)
        day_start = func.date(c.first_seen)
        q_start = base.add_columns(day_start, func.count()).group_by(*cols, day_start)
        day_end = func.date(c.valid_to)
        q_end = base.where(c.valid_to.is_not(None)).add_columns(day_end, func.count()).group_by(*cols, day_end)
        day_last = func.date(c.last_seen)
        q_stale = base.where(c.valid_to.is_(None)).add_columns(day_last, func.count()).group_by(*cols, day_last)
        events: list[tuple[date, int, str, int | None, float, int]] = []
        for sign, q, shift in ((1, q_start, 0), (-1, q_end, 0), (-1, q_stale, max_age_days)):
            for row in conn.execute(q):
                status, rid = row[0], row[1]
                w = site_w.get(row[2], 0.0) if per_site and site_w is not None else 0.0
                d = _day(row[-2]) + timedelta(days=shift)
                if sign < 0 and d > horizon:
                    continue  # ends after the last observation are not known yet
                events.append((d, sign, status, rid, w * row[-1] if per_site else 0.0, row[-1]))

    lo = max(start, first) if start else first
    hi = min(stop, horizon) if stop else horizon
    if lo > hi:
        return []
    periods = _periods(lo, hi, freq)
    events.sort(key=lambda e: e[0])

    # State of each (status, ruleset) for each group, computed once.
    label = weight_label or weight
    rows: list[TrendRow] = []
    for name, members in groups.items():
        state_cache: dict[tuple[str, int | None], tuple[str, bool, bool, str]] = {}

        def state(
            status: str,
            rid: int | None,
            members: list[str] = members,
            state_cache: dict[tuple[str, int | None], tuple[str, bool, bool, str]] = state_cache,
        ) -> tuple[str, bool, bool, str]:
            key = (status, rid)
            s = state_cache.get(key)
            if s is None:
                if status in UNREACHABLE:
                    s = ("unreachable", False, False, "unreachable")
                elif status in NO_RULES or rid is None:
                    s = ("no_robots", False, False, "no_robots")
                else:
                    blocked = named = False
                    worst = "allowed"
                    for m in members:
                        ev = evals.get(m.lower(), {}).get(rid)
                        if ev is None:
                            continue
                        root_allowed, is_named, stance = ev
                        if not root_allowed:
                            blocked = True
                            named = named or is_named
                        if _SEVERITY.get(stance, 0) > _SEVERITY.get(worst, 0):
                            worst = stance
                    s = ("ok", blocked, named, worst)
                state_cache[key] = s
            return s

        counts: dict[str, float] = defaultdict(float)
        wsum: dict[str, float] = defaultdict(float)
        ei = 0
        for plabel, pend in periods:
            while ei < len(events) and events[ei][0] <= pend:
                d, sign, status, rid, w, n = events[ei]
                _kind, blocked, named, stance = state(status, rid)
                counts["sites"] += sign * n
                counts[stance] += sign * n
                if blocked:
                    counts["blocked"] += sign * n
                if named:
                    counts["blocked_named"] += sign * n
                wsum["sites"] += sign * w
                if blocked:
                    wsum["blocked"] += sign * w
                if named:
                    wsum["blocked_named"] += sign * w
                ei += 1
            if pend < lo:
                continue
            sites = round(counts["sites"])
            if sites <= 0:
                continue
            blocked_n = round(counts["blocked"])
            named_n = round(counts["blocked_named"])
            unreachable = round(counts["unreachable"])
            if weight != "none":
                denom = wsum["sites"]
                share = wsum["blocked"] / denom if denom > 0 else 0.0
                named_share = wsum["blocked_named"] / denom if denom > 0 else 0.0
            else:
                share = blocked_n / sites
                named_share = named_n / sites
            reachable = sites - unreachable
            rows.append(
                TrendRow(
                    period=plabel,
                    period_end=pend.isoformat(),
                    agent=name,
                    sites=sites,
                    blocked=blocked_n,
                    blocked_named=named_n,
                    blocked_share=round(share, 6),
                    blocked_named_share=round(named_share, 6),
                    full_block=round(counts["full_block"]),
                    near_full_block=round(counts["near_full_block"]),
                    partial_block=round(counts["partial_block"]),
                    no_robots=round(counts["no_robots"]),
                    unreachable=unreachable,
                    blocked_share_reachable=round(blocked_n / reachable, 6) if reachable > 0 else 0.0,
                    weighting=label if weight != "none" else "sites",
                    sites_weight=round(wsum["sites"], 3) if weight != "none" else float(sites),
                    blocked_weight=round(wsum["blocked"], 3) if weight != "none" else float(blocked_n),
                )
            )
    rows.sort(key=lambda r: (r.period_end, list(groups).index(r.agent)))
    return rows


def _groups(registry: AgentRegistry, agents: Sequence[str], by: GroupBy) -> dict[str, list[str]]:
    if by == "agent":
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
        key = ag.company if by == "company" else ag.purpose
        grouped.setdefault(key, []).append(ag.token)
    return grouped


def to_utc(d: date) -> datetime:
    """Midnight UTC of a date."""
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def iter_csv_rows(rows: Iterable[TrendRow]) -> Iterable[list[object]]:
    """Header then values, for CSV writers."""
    first = True
    for r in rows:
        d = r.as_dict()
        if first:
            yield list(d)
            first = False
        yield list(d.values())
