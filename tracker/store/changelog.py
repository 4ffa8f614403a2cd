"""Change events in the store: kept in step with the versions, listed with filters, and handed to a webhook once.

Events are derived from versions (tracker.pipeline.changes computes them), so a site's events are *synchronised*, not
appended: when an archive backfill inserts an older version between two known ones, the site's events are
recomputed and the store keeps the rows that still hold (same id, same ``notified_at``), adds the new ones and
drops those that no longer hold. That is what makes every event stable enough to be notified exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from tracker.store.engine import as_utc
from tracker.store.models import ChangeEvent, Site, Version

__all__ = [
    "EVENT_FIELDS",
    "ChangeRow",
    "StoredChange",
    "event_categories",
    "event_domains",
    "list_changes",
    "mark_notified",
    "pending_notifications",
    "sites_of_run",
    "sites_with_history",
    "sync_changes",
]

_events = ChangeEvent.__table__  # type: ignore[attr-defined]
_sites = Site.__table__  # type: ignore[attr-defined]
_versions = Version.__table__  # type: ignore[attr-defined]
_E = _events.c

#: The fields tracker.pipeline.changes gives for one event (besides the site).
EVENT_FIELDS = (
    "kind",
    "signal",
    "agent",
    "before",
    "after",
    "change",
    "at",
    "previous_seen",
    "version_id",
    "previous_version_id",
    "source",
)


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One change event of a site as the store keeps it (what :mod:`tracker.pipeline.changes` finds)."""

    kind: str
    signal: str
    agent: str
    before: str
    after: str
    change: str
    at: datetime
    previous_seen: datetime | None
    version_id: int
    previous_version_id: int
    source: str

    def key(self) -> tuple[str, str, datetime]:
        """What makes an event the same event again: its signal, agent and time."""
        return (self.signal, self.agent, as_utc(self.at))


assert tuple(ChangeRow.__dataclass_fields__) == EVENT_FIELDS  # one list of the stored fields
_UPDATABLE = ("kind", "before", "after", "change", "previous_seen", "version_id", "previous_version_id", "source")


@dataclass(frozen=True, slots=True)
class StoredChange:
    """A change event as stored, with its site."""

    id: int
    domain: str
    category: str | None
    kind: str
    signal: str
    agent: str
    before: str
    after: str
    change: str
    at: datetime
    previous_seen: datetime | None
    version_id: int
    previous_version_id: int
    source: str
    detected_at: datetime
    notified_at: datetime | None


def sync_changes(engine: Engine, events: Mapping[int, Sequence[ChangeRow]]) -> int:
    """Make each given site's stored events equal these (site id → events); return how many are new."""
    added = 0
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for site_id, wanted in events.items():
            have = {
                (r.signal, r.agent, as_utc(r.at)): r
                for r in conn.execute(select(_E.id, *(_E[f] for f in EVENT_FIELDS)).where(_E.site_id == site_id))
            }
            want = {e.key(): e for e in wanted}
            gone = [have[k].id for k in have.keys() - want.keys()]
            if gone:
                conn.execute(delete(_events).where(_E.id.in_(gone)))
            new = [
                {"site_id": site_id, "detected_at": now, **{f: getattr(want[k], f) for f in EVENT_FIELDS}}
                for k in want.keys() - have.keys()
            ]
            if new:
                conn.execute(insert(_events), new)
                added += len(new)
            for k in want.keys() & have.keys():
                old, cur = have[k], want[k]
                changed = {f: getattr(cur, f) for f in _UPDATABLE if as_utc(getattr(old, f)) != as_utc(getattr(cur, f))}
                if changed:
                    conn.execute(update(_events).where(_E.id == old.id).values(**changed))
    return added


def sites_of_run(engine: Engine, run_id: int) -> list[int]:
    """The sites a run opened a new version for *beside an earlier or later one* of the same kind — the only
    sites whose events it can have changed (a site's first version is a baseline, never an event)."""
    v, w = _versions.alias("v"), _versions.alias("w")
    other = select(w.c.id).where(w.c.site_id == v.c.site_id, w.c.kind == v.c.kind, w.c.id != v.c.id).exists()
    q = select(v.c.site_id).where(v.c.run_id == run_id, other).distinct()
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())


def sites_with_history(engine: Engine) -> list[int]:
    """Every site with two versions of one resource kind: the sites that can have events at all."""
    q = select(_versions.c.site_id).group_by(_versions.c.site_id, _versions.c.kind).having(func.count() > 1)
    with engine.connect() as conn:
        return sorted(set(conn.execute(q).scalars()))


_COLS = (
    _E.id,
    _sites.c.domain,
    _sites.c.category,
    _E.kind,
    _E.signal,
    _E.agent,
    _E.before,
    _E.after,
    _E.change,
    _E.at,
    _E.previous_seen,
    _E.version_id,
    _E.previous_version_id,
    _E.source,
    _E.detected_at,
    _E.notified_at,
)


def _stored(row: Sequence[Any]) -> StoredChange:
    vals = list(row)
    for i in (9, 10, 14, 15):
        vals[i] = as_utc(vals[i])
    return StoredChange(*vals)


def list_changes(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    domain: str | None = None,
    agents: Iterable[str] | None = None,
    category: str | None = None,
    signals: Iterable[str] | None = None,
    changes: Iterable[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[StoredChange]:
    """Change events, newest first, filtered (agents match case-insensitively; signal 'robots' is stances); the
    ``limit`` after the first ``offset`` (the order is total: a page never repeats or skips an event)."""
    q = select(*_COLS).select_from(_events.join(_sites, _sites.c.id == _E.site_id))
    if since is not None:
        q = q.where(_E.at >= since)
    if until is not None:
        q = q.where(_E.at < until)
    if domain is not None:
        q = q.where(_sites.c.domain == domain)
    if agents is not None:
        q = q.where(func.lower(_E.agent).in_([a.lower() for a in agents]))
    if category is not None:
        q = q.where(_sites.c.category == category)
    if signals is not None:
        q = q.where(_E.signal.in_(list(signals)))
    if changes is not None:
        q = q.where(_E.change.in_(list(changes)))
    q = q.order_by(_E.at.desc(), _sites.c.domain, _E.signal, _E.agent)
    if limit is not None:
        q = q.limit(limit)
    if offset:
        q = q.offset(offset)
    with engine.connect() as conn:
        return [_stored(r) for r in conn.execute(q)]


def event_categories(engine: Engine) -> list[str]:
    """The categories of the sites that have events."""
    q = (
        select(_sites.c.category)
        .select_from(_events.join(_sites, _sites.c.id == _E.site_id))
        .where(_sites.c.category.is_not(None))
        .distinct()
        .order_by(_sites.c.category)
    )
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())


def event_domains(engine: Engine) -> list[str]:
    """The sites that have events."""
    q = select(_sites.c.domain).where(_sites.c.id.in_(select(_E.site_id).distinct())).order_by(_sites.c.domain)
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())


def pending_notifications(engine: Engine, *, limit: int = 500) -> list[StoredChange]:
    """Events of live crawls no webhook has accepted yet, oldest first (history from archives is never pushed)."""
    q = (
        select(*_COLS)
        .select_from(_events.join(_sites, _sites.c.id == _E.site_id))
        .where(_E.notified_at.is_(None), _E.source == "live")
        .order_by(_E.at, _E.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [_stored(r) for r in conn.execute(q)]


def mark_notified(engine: Engine, ids: Sequence[int], when: datetime | None = None) -> None:
    """Record that a webhook accepted these events."""
    with engine.begin() as conn:
        for i in range(0, len(ids), 500):
            chunk = list(ids[i : i + 500])
            conn.execute(update(_events).where(_E.id.in_(chunk)).values(notified_at=when or datetime.now(UTC)))
