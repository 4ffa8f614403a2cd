"""A change event as users see it: the CLI's ``changes``, the Atom feeds, the webhook and the dashboard.

One concept, one type. (Dated public-record events marked on charts are :class:`tracker.analysis.headlines.Milestone`;
the store's row is tracker.store.changelog.StoredChange; the detector's is tracker.pipeline.changes.Change.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlencode

from tracker.records.json import Json, JsonObject, iso, parse_iso

__all__ = ["Event", "site_link"]

#: The ``signal`` of an agent's robots.txt stance.
_ROBOTS = "robots"


@dataclass(frozen=True, slots=True)
class Event:
    """A change event: a site's reading of an agent's stance or of a signal, before → after, and its type
    (restriction, reversal or modification), with the robots.txt diff and the dashboard link when asked for."""

    #: A stable id: the same site, signal, agent and time give the same id (feeds, webhook receivers).
    id: str
    site: str
    category: str | None
    resource: str
    signal: str
    agent: str | None
    before: str
    after: str
    change: str
    at: datetime
    previous_seen: datetime | None
    source: str
    version_id: int
    previous_version_id: int
    robots_diff: str | None = None
    link: str | None = None

    @property
    def subject(self) -> str:
        """The agent (robots events) or the signal the event is about."""
        return (self.agent or "") if self.signal == _ROBOTS else self.signal

    @property
    def title(self) -> str:
        """One line: site, agent or signal, before → after, and the type of change."""
        return f"{self.site}: {self.subject} {self.before} → {self.after} ({self.change})"

    @property
    def when(self) -> str:
        """When it happened, as precisely as the observations say."""
        if self.previous_seen and self.previous_seen.date() < self.at.date():
            return f"changed between {self.previous_seen:%Y-%m-%d} and {self.at:%Y-%m-%d}"
        return f"first seen {self.at:%Y-%m-%d}"

    def as_dict(self) -> dict[str, Json]:
        """The event as JSON (the CLI's JSON and CSV, and what the webhook posts)."""
        return {
            "id": self.id,
            "site": self.site,
            "category": self.category,
            "resource": self.resource,
            "signal": self.signal,
            "agent": self.agent,
            "before": self.before,
            "after": self.after,
            "change": self.change,
            "at": iso(self.at),
            "previous_seen": iso(self.previous_seen),
            "source": self.source,
            "version_id": self.version_id,
            "previous_version_id": self.previous_version_id,
            "robots_diff": self.robots_diff,
            "link": self.link,
        }

    @classmethod
    def from_dict(cls, d: JsonObject) -> Event:
        """Read back :meth:`as_dict` (a webhook receiver's or a script's copy)."""
        at = parse_iso(d["at"])
        if at is None:
            raise ValueError("an event needs its time ('at')")

        def text(key: str) -> str | None:
            v = d.get(key)
            return v if isinstance(v, str) else None

        def number(key: str) -> int:
            v = d[key]
            if not isinstance(v, int):
                raise ValueError(f"an event's {key!r} is a number")
            return v

        return cls(
            id=str(d["id"]),
            site=str(d["site"]),
            category=text("category"),
            resource=str(d["resource"]),
            signal=str(d["signal"]),
            agent=text("agent"),
            before=str(d["before"]),
            after=str(d["after"]),
            change=str(d["change"]),
            at=at,
            previous_seen=parse_iso(d.get("previous_seen")),
            source=str(d["source"]),
            version_id=number("version_id"),
            previous_version_id=number("previous_version_id"),
            robots_diff=text("robots_diff"),
            link=text("link"),
        )


class _VersionPair(Protocol):
    """What a link to a diff needs: the two versions an event compares."""

    @property
    def previous_version_id(self) -> int: ...
    @property
    def version_id(self) -> int: ...


def site_link(base_url: str, domain: str, event: _VersionPair | None = None) -> str:
    """The dashboard's Sites page for a site (with an event: the diff of its two versions)."""
    params = {"site": domain}
    if event is not None:
        params |= {"from": str(event.previous_version_id), "to": str(event.version_id)}
    return f"{base_url.rstrip('/')}/sites?{urlencode(params)}"
