"""Change events: what each new version of a site changed, per agent and per signal, before → after.

A new version is not a change of consent: a Sitemap line, a comment, a homepage's new layout open versions too.
An event is recorded only where a *reading* changed:

- ``robots``: an agent's stance under the site's robots.txt (README: "What the stance means"), for every agent of
  :data:`CHANGE_AGENTS`, with "via *" when a block comes from the ``User-agent: *`` group rather than a group
  naming it;
- every use-preference signal of :data:`tracker.rules.signals.preferences.ADOPTION` (``noai``, ``content_signal``,
  ``tdmrep`` …): adopted ↔ not adopted, by the one reading the export and ``trends --signal`` use, over every
  resource that carries the signal (Content-Signal in robots.txt and in the homepage's header; TDMRep in the file,
  the header and the meta tag). Versions a crawl opened at one moment are read together, so a site that moves a
  signal from one resource to another has not changed.

A fetch that failed (unreachable, network error), that we did not make (``disallowed``) or a page that was not a
200 says nothing about consent (:func:`tracker.rules.signals.preferences.observed`): it is skipped, and the next
readable
version is compared with the last readable one before it, so an outage and its recovery are never events. The
first version of a resource is its baseline, not an event.

Which agents. The stored events are for :data:`CHANGE_AGENTS`, the core panel (``tracker.rules.agents.CORE_PANEL``, kept
stable across snapshots), whatever wrote the versions — a crawl (with or without ``--agents-file``), a worker, an
archive import or a Wayback backfill — so events stay comparable over time and between runs. A database whose
events were made under another definition (agents, signal readings, parser) has all its events recomputed at the
next run (:data:`EVENTS_VERSION`, kept in ``store_meta``). ``site --agent X`` reads any other agent on the fly.

Each event says whether it is a ``restriction`` (the agent may no longer fetch '/', the same rule as ``blocked``
in trends; or a restricting signal is adopted), a ``reversal`` (the reverse: a site unblocks an agent or drops a
signal, often after a licensing deal) or a ``modification`` (anything else). Events are derived from the
versions, so they are recomputed per site whenever a run adds versions to it (tracker.store.changelog keeps the
rows that still hold, with their ids); a backfill that lands between two known versions corrects them.
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Engine

from tracker.records.changes import Event, site_link
from tracker.records.vocabulary import SIGNAL_NAMES, UNREAD, ChangeType, SignalName
from tracker.rules.agents import CORE_PANEL
from tracker.rules.robots import PARSER_VERSION
from tracker.rules.signals.preferences import ADOPTION, ADOPTION_VERSION, Part, observed
from tracker.store import catalog, changelog, queries
from tracker.store.changelog import StoredChange
from tracker.store.queries import EvaluationRow, StoredResource

__all__ = [
    "CHANGE_AGENTS",
    "EVENTS_VERSION",
    "ROBOTS",
    "UNKNOWN",
    "Change",
    "Event",
    "Reading",
    "detect_changes",
    "event_diff",
    "event_of",
    "list_events",
    "robots_diff",
    "robots_reading",
    "robots_versions",
    "run_changes",
    "signal_changes",
    "site_changes",
]

#: The ``signal`` of an agent's robots.txt stance.
ROBOTS = "robots"
#: Statuses that say nothing about consent (the fetch failed, or we did not make it).
UNKNOWN: frozenset[str] = UNREAD
#: The agents whose stances make the stored change events: the core panel, whoever wrote the versions.
CHANGE_AGENTS: tuple[str, ...] = tuple(t for t in CORE_PANEL if t != "*")
#: What the stored events were made under; a database with another one has them all recomputed at the next run.
EVENTS_VERSION = f"agents={','.join(CHANGE_AGENTS)};adoption={ADOPTION_VERSION};parser={PARSER_VERSION}"
_EVENTS_META = "change-events"
_PARTIAL_OR_MORE = ("partial_block", "near_full_block", "full_block")


@dataclass(frozen=True, slots=True)
class Reading:
    """What one version says about one agent or signal: a state to compare, and whether it restricts."""

    state: str
    restricts: bool


@dataclass(frozen=True, slots=True)
class Change:
    """One event: a reading of a site that differs from the last readable one before it."""

    kind: str
    signal: str
    agent: str
    before: str
    after: str
    change: ChangeType
    at: datetime
    previous_seen: datetime | None
    version_id: int
    previous_version_id: int
    source: str

    def as_row(self) -> changelog.ChangeRow:
        """The event as the store keeps it."""
        return changelog.ChangeRow(**{f: getattr(self, f) for f in changelog.EVENT_FIELDS})


def robots_reading(version: StoredResource, evaluation: EvaluationRow | None) -> Reading | None:
    """An agent's stance under a robots.txt version (None when the fetch failed)."""
    if version.status in UNKNOWN:
        return None
    allowed, named, stance = queries.robots_verdict(version.status, version.ruleset_id, evaluation)
    return Reading(f"{stance} via *" if not named and stance in _PARTIAL_OR_MORE else str(stance), not allowed)


def _change_type(before: Reading, after: Reading) -> ChangeType:
    if after.restricts and not before.restricts:
        return "restriction"
    if before.restricts and not after.restricts:
        return "reversal"
    return "modification"


def _events(kind: str, signal: str, agent: str, versions: Sequence[StoredResource], read: Any) -> Iterable[Change]:
    last: tuple[Reading, StoredResource] | None = None
    for v in versions:
        reading = read(v)
        if reading is None:
            continue
        if last is not None and reading.state != last[0].state:
            prev = last[1]
            yield Change(
                kind=kind,
                signal=signal,
                agent=agent,
                before=last[0].state,
                after=reading.state,
                change=_change_type(last[0], reading),
                at=v.first_seen,  # type: ignore[arg-type]
                previous_seen=prev.last_seen,
                version_id=v.version_id or 0,
                previous_version_id=prev.version_id or 0,
                source=v.source,
            )
        last = (reading, v)


def _steps(versions: Sequence[StoredResource]) -> Iterable[list[StoredResource]]:
    """Versions in time order, those a crawl opened at one moment together (it records a site's resources at once)."""
    step: list[StoredResource] = []
    for v in versions:
        if step and v.first_seen != step[0].first_seen:
            yield step
            step = []
        step.append(v)
    if step:
        yield step


def signal_changes(name: SignalName, by_kind: Mapping[str, Sequence[StoredResource]]) -> Iterable[Change]:
    """The adopted ↔ not adopted events of one signal, from the versions (kind → oldest first) of the resources
    that carry it. An event names the version that changed the reading and the one of its kind before it."""
    adoption = ADOPTION[name]
    order: dict[str, int] = {k: i for i, k in enumerate(adoption.kinds)}
    timeline = sorted(
        (v for k in adoption.kinds for v in by_kind.get(k, ()) if observed(k, v)),
        key=lambda v: (v.first_seen, order[v.kind]),
    )
    current: dict[str, StoredResource] = {}
    parts: dict[str, Part] = {}
    last: Reading | None = None
    for step in _steps(timeline):
        before, before_parts = dict(current), dict(parts)
        for v in step:
            current[v.kind], parts[v.kind] = v, adoption.part(v.kind, v)
        on = adoption.read(parts)
        if on is None:
            continue
        reading = Reading("adopted" if on else "not adopted", on and adoption.restricts)
        # A resource observed for the first time is a baseline (reading it at last is not the site changing).
        if last is not None and reading.state != last.state and all(v.kind in before for v in step):
            cause = next((v for v in step if parts[v.kind] != before_parts[v.kind]), step[-1])
            prev = before[cause.kind]
            yield Change(
                kind=cause.kind,
                signal=name,
                agent="",
                before=last.state,
                after=reading.state,
                change=_change_type(last, reading),
                at=cause.first_seen,  # type: ignore[arg-type]
                previous_seen=prev.last_seen,
                version_id=cause.version_id or 0,
                previous_version_id=prev.version_id or 0,
                source=cause.source,
            )
        last = reading


def run_changes(engine: Engine, run_id: int) -> int:
    """Recompute the change events of the sites a run added versions to (of every site, when the stored events
    were made under another :data:`EVENTS_VERSION`); return how many events are new."""
    if catalog.get_meta(engine, _EVENTS_META) != EVENTS_VERSION:
        added = detect_changes(engine, changelog.sites_with_history(engine))
        catalog.set_meta(engine, _EVENTS_META, EVENTS_VERSION)
        return added
    return detect_changes(engine, changelog.sites_of_run(engine, run_id))


def site_changes(
    versions: Sequence[StoredResource], agents: Sequence[str], evaluations: Mapping[str, Mapping[int, EvaluationRow]]
) -> list[Change]:
    """Every change event of one site, from all its versions (any kind, any order; robots.txt bodies not needed for
    stances, every carrier's bodies needed for signals), oldest first."""
    by_kind: dict[str, list[StoredResource]] = {}
    for v in sorted(versions, key=lambda v: v.first_seen):  # type: ignore[arg-type, return-value]
        by_kind.setdefault(v.kind, []).append(v)
    out: list[Change] = []
    robots = by_kind.get("robots", [])
    for agent in agents:
        ev = evaluations.get(agent.lower(), {})
        out += _events("robots", ROBOTS, agent, robots, lambda v, ev=ev: robots_reading(v, ev.get(v.ruleset_id or 0)))
    for name in SIGNAL_NAMES:
        out += signal_changes(name, by_kind)
    out.sort(key=lambda c: (c.at, c.signal, c.agent))
    return out


def detect_changes(engine: Engine, site_ids: Iterable[int], agents: Sequence[str] | None = None) -> int:
    """Recompute the change events of these sites (after a run added versions to them) for these agents (default:
    :data:`CHANGE_AGENTS`, what every writer uses); return how many events are new."""
    ids = sorted(set(site_ids))
    agents = list(agents) if agents else list(CHANGE_AGENTS)
    added = 0
    for i in range(0, len(ids), 200):
        chunk = ids[i : i + 200]
        versions = {sid: queries.site_versions(engine, sid, bodies=True) for sid in chunk}
        rulesets = sorted({v.ruleset_id for vs in versions.values() for v in vs if v.ruleset_id})
        evals = queries.evaluations(engine, agents, rulesets)
        events = {sid: [c.as_row() for c in site_changes(vs, agents, evals)] for sid, vs in versions.items()}
        added += changelog.sync_changes(engine, events)
    return added


# -- reading the events back ------------------------------------------------------------------------------------
_EVENT_NS = uuid.UUID("6f1d8f0e-3c8a-4f57-9a57-6b1f2f5c2a11")
#: Characters of a robots.txt diff kept with an event.
DIFF_LIMIT = 20_000


def event_of(stored: StoredChange, diff: str | None = None, link: str | None = None) -> Event:
    """A stored change as users see it, with the robots.txt diff and the dashboard link when given."""
    e = stored
    return Event(
        id="urn:uuid:" + str(uuid.uuid5(_EVENT_NS, f"{e.domain}|{e.signal}|{e.agent}|{e.at.isoformat()}")),
        site=e.domain,
        category=e.category,
        resource=e.kind,
        signal=e.signal,
        agent=e.agent or None,
        before=e.before,
        after=e.after,
        change=e.change,
        at=e.at,
        previous_seen=e.previous_seen,
        source=e.source,
        version_id=e.version_id,
        previous_version_id=e.previous_version_id,
        robots_diff=diff,
        link=link,
    )


def event_diff(engine: Engine, event: StoredChange, cache: dict[tuple[int, int], str] | None = None) -> str | None:
    """The robots.txt diff behind a robots event (None for other kinds), capped."""
    if event.kind != "robots":
        return None
    key = (event.previous_version_id, event.version_id)
    if cache is not None and key in cache:
        return cache[key]
    a, b = queries.version(engine, key[0]), queries.version(engine, key[1])
    diff = robots_diff(a, b)[:DIFF_LIMIT] if a and b else ""
    if cache is not None:
        cache[key] = diff
    return diff


def _start(d: date | None) -> datetime | None:
    return datetime.combine(d, time(), tzinfo=UTC) if d else None


def list_events(
    engine: Engine,
    *,
    since: date | None = None,
    until: date | None = None,
    site: str | None = None,
    agents: Sequence[str] | None = None,
    category: str | None = None,
    signals: Sequence[str] | None = None,
    changes: Sequence[ChangeType] | None = None,
    limit: int | None = None,
    diffs: bool = False,
    base_url: str | None = None,
    offset: int = 0,
) -> list[Event]:
    """Change events, newest first: from ``since`` to ``until`` (both days included), of a site, of agents, of a
    category, of signals ('robots' for stances), of some types; with robots.txt diffs and dashboard links if asked."""
    rows = changelog.list_changes(
        engine,
        since=_start(since),
        until=_start(until + (date.resolution) if until else None),
        domain=site.strip().lower() if site else None,
        agents=agents or None,
        category=category,
        signals=signals or None,
        changes=changes or None,
        limit=limit,
        offset=offset,
    )
    cache: dict[tuple[int, int], str] = {}
    return [
        event_of(
            r, event_diff(engine, r, cache) if diffs else None, site_link(base_url, r.domain, r) if base_url else None
        )
        for r in rows
    ]


def robots_versions(engine: Engine, domain: str) -> list[queries.StoredResource]:
    """A site's robots.txt versions, oldest first, with their bodies."""
    site = queries.find_site(engine, domain)
    if site is None:
        return []
    return queries.site_versions(engine, site.id, kind="robots", bodies=True)


def robots_diff(a: queries.StoredResource, b: queries.StoredResource) -> str:
    """A unified diff of two robots.txt versions, as plain text (never rendered as HTML)."""

    def lines(v: queries.StoredResource) -> list[str]:
        if v.body is None:
            return [f"({v.status}: no robots.txt body)"]
        return v.body.decode("utf-8", "replace").splitlines()

    name = "robots.txt"
    return "\n".join(
        difflib.unified_diff(
            lines(a), lines(b), f"{name} {a.first_seen:%Y-%m-%d}", f"{name} {b.first_seen:%Y-%m-%d}", lineterm=""
        )
    )
