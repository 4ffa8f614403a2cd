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
import json
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Column, Engine, Integer, MetaData, Table, func, select
from sqlalchemy.engine import Connection

from tracker import signals as sig
from tracker.agents import AgentRegistry
from tracker.crawl import NO_RULES, UNREACHABLE
from tracker.evaluate import load_evaluations
from tracker.robots import parse_robots
from tracker.store.models import Body, Site, Version, VersionEvent

__all__ = [
    "DEFINITIONS",
    "SIGNALS",
    "SignalRow",
    "TrendError",
    "TrendRow",
    "load_weights",
    "period_end",
    "period_label",
    "restriction_series",
    "signal_series",
]

Freq = Literal["day", "week", "month"]
GroupBy = Literal["agent", "company", "purpose"]
Weight = Literal["none", "tokens", "rank"]

_versions = Version.__table__  # type: ignore[attr-defined]
_sites = Site.__table__  # type: ignore[attr-defined]
_events = VersionEvent.__table__  # type: ignore[attr-defined]
_bodies = Body.__table__  # type: ignore[attr-defined]

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


State = tuple[str, bool, bool]  # (stance or no_robots/unreachable, blocked, named)
Event = tuple[date, int, State, int, float]  # (day, +1/-1, state, count, weight)


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


def _bounds(engine: Engine) -> tuple[date, date] | None:
    c = _versions.c
    with engine.connect() as conn:
        # The newest observation is always a current version's last_seen: (kind, valid_to, last_seen) index.
        last = conn.execute(select(func.max(c.last_seen)).where(c.kind == "robots", c.valid_to.is_(None))).scalar()
        first = conn.execute(select(func.min(c.first_seen)).where(c.kind == "robots")).scalar()
    if last is None or first is None:
        return None
    return _day(first), _day(last)


def _window(
    engine: Engine, freq: Freq, start: date | None, stop: date | None
) -> tuple[date, list[tuple[str, date]]] | None:
    """The last observation and the periods to report: from the first observation (or ``start``) to the last one
    (or ``stop``), never beyond what was observed. None when there is nothing to report."""
    bounds = _bounds(engine)
    if bounds is None:
        return None
    first, horizon = bounds
    lo = max(start, first) if start else first
    hi = min(stop, horizon) if stop else horizon
    if lo > hi:
        return None
    return horizon, _periods(lo, hi, freq)


def _stale_events(
    conn: Connection, classify: _Classifier, category: str | None, horizon: date, max_age: int
) -> list[Event]:
    """Current versions not seen for max_age days stop counting max_age days after they were last seen."""
    c = _versions.c
    cutoff = datetime.combine(horizon - timedelta(days=max_age) + timedelta(days=1), datetime.min.time(), UTC)
    day = func.date(c.last_seen)
    q = (
        select(c.status, c.ruleset_id, day, func.count())
        .select_from(_versions.join(_sites, _sites.c.id == c.site_id))
        .where(c.kind == "robots", c.valid_to.is_(None), c.last_seen < cutoff)
        .group_by(c.status, c.ruleset_id, day)
    )
    if category is not None:
        q = q.where(_sites.c.category == category)
    out: list[Event] = []
    for status, rid, d, n in conn.execute(q):
        end = _day(d) + timedelta(days=max_age)
        if end <= horizon:
            out.append((end, -1, classify.state(status, rid), n, 0.0))
    return out


def _events_from_table(
    engine: Engine, classify: _Classifier, category: str | None, horizon: date, max_age: int
) -> list[Event]:
    """Start/end events from version_events, joined in the database with each ruleset's state for the group."""
    codes: dict[State, int] = {}
    by_code: dict[int, State] = {}
    rows = []
    for rid in classify.rulesets():
        st = classify.ruleset_state(rid)
        code = codes.setdefault(st, len(codes))
        by_code[code] = st
        rows.append({"ruleset_id": rid, "code": code})
    tmp = Table(
        "tmp_ruleset_state",
        MetaData(),
        Column("ruleset_id", Integer, primary_key=True),
        Column("code", Integer, nullable=False),
        prefixes=["TEMPORARY"],
    )
    e = _events.c
    out: list[Event] = []
    with engine.connect() as conn:
        tmp.drop(conn, checkfirst=True)
        tmp.create(conn)
        try:
            if rows:
                conn.execute(tmp.insert(), rows)
            code_col = func.coalesce(tmp.c.code, -1)
            q = (
                select(e.day, e.status, code_col, func.sum(e.starts), func.sum(e.ends))
                .select_from(_events.outerjoin(tmp, tmp.c.ruleset_id == e.ruleset_id))
                .where(e.kind == "robots")
                .group_by(e.day, e.status, code_col)
            )
            if category is not None:
                q = q.where(e.category == category)
            for d, status, cd, starts, ends in conn.execute(q):
                if status in UNREACHABLE or status in NO_RULES or cd == -1:
                    st = classify.state(status, None)
                else:
                    st = by_code[cd]
                day = _day(d)
                if starts:
                    out.append((day, 1, st, int(starts), 0.0))
                if ends and day <= horizon:
                    out.append((day, -1, st, int(ends), 0.0))
            out += _stale_events(conn, classify, category, horizon, max_age)
        finally:
            tmp.drop(conn, checkfirst=True)
            conn.commit()
    return out


def _events_from_versions(
    engine: Engine,
    classify: _Classifier,
    category: str | None,
    site_w: dict[int, float],
    horizon: date,
    max_age: int,
) -> list[Event]:
    """Start/end events per site (needed when each site carries its own weight)."""
    c = _versions.c
    out: list[Event] = []
    base = (
        select(c.status, c.ruleset_id, c.site_id)
        .select_from(_versions.join(_sites, _sites.c.id == c.site_id))
        .where(c.kind == "robots")
    )
    if category is not None:
        base = base.where(_sites.c.category == category)
    with engine.connect() as conn:
        q = base.add_columns(c.first_seen, c.valid_to, c.last_seen)
        for status, rid, sid, first, valid, last in conn.execute(q):
            st = classify.state(status, rid)
            w = site_w.get(sid, 0.0)
            out.append((_day(first), 1, st, 1, w))
            # A superseded version ends when the next began; a current one max_age days after it was last seen.
            end = _day(valid) if valid is not None else _day(last) + timedelta(days=max_age)
            if end <= horizon:
                out.append((end, -1, st, 1, w))
    return out


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
    evals = load_evaluations(engine, sorted({t.lower() for members in groups.values() for t in members}))
    window = _window(engine, freq, start, stop)
    if window is None:
        return []
    horizon, periods = window
    site_w: dict[int, float] | None = None
    if weight != "none":
        site_w = {}
        with engine.connect() as conn:
            for sid, domain, rank in conn.execute(select(_sites.c.id, _sites.c.domain, _sites.c.rank)):
                site_w[sid] = (1.0 / rank if rank else 0.0) if weight == "rank" else _site_weight(domain, weights or {})
    label = weight_label or weight
    rows: list[TrendRow] = []
    for name, members in groups.items():
        classify = _Classifier(members, evals)
        if site_w is None:
            events = _events_from_table(engine, classify, category, horizon, max_age_days)
        else:
            events = _events_from_versions(engine, classify, category, site_w, horizon, max_age_days)
        events.sort(key=lambda e: e[0])
        rows += _accumulate(name, events, periods, weight != "none", label)
    order = list(groups)
    rows.sort(key=lambda r: (r.period_end, order.index(r.agent)))
    return rows


def _accumulate(
    name: str, events: list[Event], periods: list[tuple[str, date]], weighted: bool, label: str
) -> list[TrendRow]:
    counts: dict[str, int] = defaultdict(int)
    wsum: dict[str, float] = defaultdict(float)
    out: list[TrendRow] = []
    ei = 0
    for plabel, pend in periods:
        while ei < len(events) and events[ei][0] <= pend:
            _d, sign, (stance, blocked, named), n, w = events[ei]
            counts["sites"] += sign * n
            counts[stance] += sign * n
            wsum["sites"] += sign * w
            if blocked:
                counts["blocked"] += sign * n
                wsum["blocked"] += sign * w
            if named:
                counts["blocked_named"] += sign * n
                wsum["blocked_named"] += sign * w
            ei += 1
        sites = counts["sites"]
        if sites <= 0:
            continue
        blocked_n, named_n, unreachable = counts["blocked"], counts["blocked_named"], counts["unreachable"]
        if weighted:
            denom = wsum["sites"]
            share = wsum["blocked"] / denom if denom > 0 else 0.0
            named_share = wsum["blocked_named"] / denom if denom > 0 else 0.0
        else:
            share, named_share = blocked_n / sites, named_n / sites
        reachable = sites - unreachable
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
                blocked_share_reachable=round(blocked_n / reachable, 6) if reachable > 0 else 0.0,
                weighting=label if weighted else "sites",
                sites_weight=round(wsum["sites"], 3) if weighted else float(sites),
                blocked_weight=round(wsum["blocked"], 3) if weighted else float(blocked_n),
            )
        )
    return out


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


# -- adoption of signals over time ----------------------------------------------------------------------------
#: Signal name → (resource kind it is read from, test on a version's (status, body, signals JSON)).
def _robots_test(check: str):  # type: ignore[no-untyped-def]
    def test(status: str, body: bytes | None, _signals: dict[str, Any]) -> bool:
        if status != "ok" or body is None:
            return False
        rules = parse_robots(body)
        if check == "content_signal":
            return sig.content_signals_for(rules, "*")["star"].get("ai-train") == "no"
        if check == "content_usage":
            return sig.content_usage_for(rules, "*").get("train-ai") == "n"
        return bool(rules.records_named("license"))

    return test


def _page_directive(name: str):  # type: ignore[no-untyped-def]
    def test(status: str, _body: bytes | None, signals: dict[str, Any]) -> bool:
        entries = list(signals.get("meta_robots", [])) + list(signals.get("x_robots_tag", []))
        return status == "ok" and sig.ai_directives([e for e in entries if not e.get("ua_scope")])[name]

    return test


SIGNALS: dict[str, tuple[str, Any, str]] = {
    "content_signal": ("robots", _robots_test("content_signal"),
                       "robots.txt '*' group says Content-Signal ai-train=no"),
    "content_usage": ("robots", _robots_test("content_usage"),
                      "robots.txt '*' group says Content-Usage train-ai=n for /"),
    "rsl_license": ("robots", _robots_test("license"), "robots.txt declares an RSL License:"),
    "noai": ("homepage", _page_directive("noai"), "homepage meta robots or X-Robots-Tag has noai"),
    "noimageai": ("homepage", _page_directive("noimageai"), "homepage meta robots or X-Robots-Tag has noimageai"),
    "tdm_meta": ("homepage", lambda st, b, s: st == "ok" and sig._tdm_value((s.get("tdm_meta", {}) | s.get(
        "tdm_header", {})).get("tdm-reservation", ""))[0] == 1, "homepage tdm-reservation meta or header is 1"),
    "tdmrep": ("tdmrep", lambda st, b, s: st == "ok" and (sig.tdm_for_path(sig.tdmrep_file(b)["rules"], "/") or {})
               .get("reservation") == 1, "/.well-known/tdmrep.json reserves TDM rights for /"),
    "ai_txt": ("ai_txt", lambda st, b, s: st == "ok" and sig.ai_txt(b).get("stance") == "full_optout",
               "ai.txt opts everything out"),
    "llms_txt": ("llms_txt", lambda st, b, s: st == "ok" and bool(sig.llms_txt(b).get("present")),
                 "an llms.txt is present (an invitation, not a restriction)"),
    "tos_ai_training": ("terms", lambda st, b, s: st == "ok" and s.get("ai_training") == "prohibited",
                        "terms of service prohibit AI training"),
    "tos_scraping": ("terms", lambda st, b, s: st == "ok" and s.get("scraping") == "prohibited",
                     "terms of service prohibit scraping"),
}  # fmt: skip


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


def signal_series(
    engine: Engine,
    names: Sequence[str],
    *,
    freq: Freq = "month",
    start: date | None = None,
    stop: date | None = None,
    category: str | None = None,
    max_age_days: int = 90,
) -> list[SignalRow]:
    """Adoption over time of each signal, as of the end of each period, over the sites observed for it."""
    unknown = [n for n in names if n not in SIGNALS]
    if unknown:
        raise TrendError(f"unknown signal(s): {', '.join(unknown)}; known: {', '.join(SIGNALS)}")
    window = _window(engine, freq, start, stop)
    if window is None:
        return []
    horizon, periods = window
    c, b = _versions.c, _bodies.c
    rows: list[SignalRow] = []
    with engine.connect() as conn:
        for name in names:
            kind, test, definition = SIGNALS[name]
            joined = _versions.join(_sites, _sites.c.id == c.site_id).outerjoin(_bodies, b.id == c.body_id)
            q = (
                select(c.status, c.signals, c.first_seen, c.valid_to, c.last_seen, c.body_id, b.content, b.compression)
                .select_from(joined)
                .where(c.kind == kind)
            )
            if category is not None:
                q = q.where(_sites.c.category == category)
            cache: dict[tuple[str, int | None, str | None], bool] = {}
            events: list[Event] = []
            for status, sj, first_seen, valid_to, last_seen, body_id, content, comp in conn.execute(q):
                key = (status, body_id, sj)
                hit = cache.get(key)
                if hit is None:
                    body = (zlib.decompress(content) if comp == "zlib" else bytes(content)) if content else None
                    try:
                        hit = bool(test(status, body, json.loads(sj) if sj else {}))
                    except Exception:  # a lenient reader: a value it cannot read counts as not adopting
                        hit = False
                    cache[key] = hit
                state: State = ("adopting" if hit else "not", hit, False)
                events.append((_day(first_seen), 1, state, 1, 0.0))
                end = _day(valid_to) if valid_to is not None else _day(last_seen) + timedelta(days=max_age_days)
                if end <= horizon:
                    events.append((end, -1, state, 1, 0.0))
            events.sort(key=lambda e: e[0])
            for r in _accumulate(name, events, periods, False, "sites"):
                rows.append(SignalRow(r.period, r.period_end, name, r.sites, r.blocked,
                                      round(r.blocked / r.sites, 6) if r.sites else 0.0, definition))  # fmt: skip
    rows.sort(key=lambda r: (r.period_end, list(names).index(r.signal)))
    return rows
