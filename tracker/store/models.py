"""Every table of the history database, in one module.

The database is plain and documented (docs in the README's "Database" section), so it opens in Datasette or any
SQLite tool. Nothing here is SQLite-only: the same models run on PostgreSQL for the scale-out path.

- ``sites``: one row per tracked registrable domain (rank, list source, category, token weight).
- ``bodies``: fetched bodies, content-addressed by sha256 and stored once, zlib-compressed and capped.
- ``rulesets``: the normalised robots.txt rules of a body (groups and Allow/Disallow only), hashed, so bodies that
  differ only in comments or Sitemap lines share one ruleset — and one evaluation per agent.
- ``versions``: the history. One row per (site, kind) for as long as what was fetched stays the same:
  ``first_seen`` when it appeared, ``last_seen`` when it was last confirmed, ``valid_to`` when the next version
  replaced it (NULL for the current one).
- ``evaluations``: per (ruleset, agent, parser version) the verdict for "/" and the stance, computed once.
- ``version_events``: per (kind, day, status, ruleset, category) how many versions began and ended that day.
  Maintained by the writer with the versions, it is what trend series read: a few hundred thousand rows for
  millions of versions, so a series over a million sites takes a second, not a scan of every version.
- ``site_lists`` / ``site_list_members``: the tracked lists — a fixed **panel** (the sites followed from the start)
  apart from a moving **top-N** (a ranking's current head) — and their sites with their rank in that list.
- ``site_labels``: a site's category from each source (user, curated, annotation, homepage, tld), with the detail
  that decided it; ``sites.category`` holds the one that wins (tracker.analysis.categories).
- ``site_weights``: tokens per site per corpus column (e.g. ``c4_tokens``), measured or filled in, and from where.
- ``captures``: web-archive captures already fetched (source, site, timestamp, digest → body), so a backfill never
  fetches a capture twice and a second run fetches nothing new.
- ``adoptions``: per (body, signal, rules version) whether that body adopts the signal — computed once, so an
  adoption series over a million versions reads no body twice.
- ``change_events``: what a site's new version changed for one agent or signal, before → after
(tracker.pipeline.changes),
  with whether it restricts, lifts (a reversal) or only modifies, and when a webhook was told.
- ``store_meta``: facts about the database itself (e.g. ``simulated``: written by ``up --demo``).
- ``agents``: the agents whose evaluations the store keeps, spelled as the registry spells them (``evaluations``
  keys them in lower case), with company and purpose; the SQL views (tracker.store.views) read them.
- ``crawl_runs``: each crawl or import, with its counts; ``crawl_run_sites`` the sites a run has recorded,
  written in the same transaction as their versions, so a resumed run skips exactly those.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "Adoption",
    "AgentRow",
    "Body",
    "Capture",
    "ChangeEvent",
    "CrawlRun",
    "CrawlRunSite",
    "Evaluation",
    "RuleSet",
    "Site",
    "SiteLabel",
    "SiteList",
    "SiteListMember",
    "SiteWeight",
    "StoreMeta",
    "Version",
    "VersionEvent",
]

# The values of kind, status and source columns are tracker.records.vocabulary's RESOURCE_KINDS, FETCH_STATUSES and
# VERSION_SOURCES.


class Site(SQLModel, table=True):
    """A tracked site (registrable domain)."""

    __tablename__ = "sites"

    id: int | None = Field(default=None, primary_key=True)
    domain: str = Field(index=True, unique=True, max_length=253)
    rank: int | None = Field(default=None, index=True)
    list_source: str | None = None
    category: str | None = Field(default=None, index=True)
    tokens: float | None = None  # token weight (e.g. C4 tokens), when known
    added_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Body(SQLModel, table=True):
    """A fetched body, stored once however many sites or dates share it."""

    __tablename__ = "bodies"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(index=True, unique=True, min_length=64, max_length=64)
    size: int  # bytes of the original body (before the cap)
    stored_size: int  # bytes kept (after the cap, before compression)
    truncated: bool = False
    compression: str = "zlib"
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    ruleset_id: int | None = Field(default=None, foreign_key="rulesets.id", index=True)


class RuleSet(SQLModel, table=True):
    """The normalised rules of a robots.txt (what evaluations depend on), hashed."""

    __tablename__ = "rulesets"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(index=True, unique=True, min_length=64, max_length=64)
    groups: int = 0
    rules: int = 0


class Version(SQLModel, table=True):
    """One unchanged stretch of a site's resource: from first_seen until valid_to (or now)."""

    __tablename__ = "versions"
    __table_args__ = (
        Index("ix_versions_site_kind_first", "site_id", "kind", "first_seen"),
        Index("ix_versions_kind_first", "kind", "first_seen", "ruleset_id", "status"),
        Index("ix_versions_kind_valid_to", "kind", "valid_to", "last_seen"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="sites.id")
    kind: str = Field(max_length=16)
    status: str = Field(max_length=24)  # fetch status class: ok / no_robots / unreachable / soft404_html / ...
    http_status: int | None = None
    error: str | None = None
    body_id: int | None = Field(default=None, foreign_key="bodies.id", index=True)
    ruleset_id: int | None = Field(default=None, foreign_key="rulesets.id")  # robots only (denormalised)
    signals: str | None = None  # JSON: the normalised signals of a homepage or terms page
    headers: str | None = None  # JSON: response headers worth keeping
    final_url: str | None = None
    first_seen: datetime
    last_seen: datetime
    valid_to: datetime | None = None
    observations: int = 1
    source: str = Field(default="live", max_length=16)
    run_id: int | None = Field(default=None, foreign_key="crawl_runs.id")


class Evaluation(SQLModel, table=True):
    """An agent's verdict for '/' and stance under one ruleset, for one parser version."""

    __tablename__ = "evaluations"

    ruleset_id: int = Field(foreign_key="rulesets.id", primary_key=True)
    agent: str = Field(primary_key=True, max_length=64)  # the token, lower case
    parser_version: str = Field(primary_key=True, max_length=16)
    root_allowed: bool
    named: bool
    lenient_named: bool = False
    source: str = Field(max_length=16)  # specific / wildcard / none
    stance: str = Field(max_length=24)


class CrawlRun(SQLModel, table=True):
    """A crawl or an import, with what it did."""

    __tablename__ = "crawl_runs"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # live / archive / wayback
    source: str | None = None  # the site list or archive path
    status: str = Field(default="running", max_length=16)  # running / done / failed / interrupted
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    sites: int = 0
    observations: int = 0
    new_versions: int = 0
    unchanged: int = 0
    errors: int = 0
    params: str | None = None  # JSON


class VersionEvent(SQLModel, table=True):
    """How many versions began (``starts``) and ended (``ends``) on a day, per status, ruleset and category.

    ``ruleset_id`` 0 stands for "no ruleset" and ``category`` '' for "no category" (NULLs would defeat the
    unique key the writer upserts on).
    """

    __tablename__ = "version_events"
    __table_args__ = (UniqueConstraint("kind", "day", "status", "ruleset_id", "category", name="uq_version_events"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    day: str = Field(max_length=10)  # YYYY-MM-DD (UTC)
    status: str = Field(max_length=24)
    ruleset_id: int = 0
    category: str = Field(default="", max_length=100)
    starts: int = 0
    ends: int = 0


class CrawlRunSite(SQLModel, table=True):
    """A site whose observations a crawl run has recorded (committed with them)."""

    __tablename__ = "crawl_run_sites"

    run_id: int = Field(foreign_key="crawl_runs.id", primary_key=True)
    site_id: int = Field(foreign_key="sites.id", primary_key=True)


class SiteList(SQLModel, table=True):
    """A tracked list of sites: a fixed panel, or a moving top-N of a ranking."""

    __tablename__ = "site_lists"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    kind: str = Field(max_length=16)  # panel / top
    source: str | None = None  # file path, or "tranco"
    list_id: str | None = None  # e.g. the Tranco list id
    list_date: str | None = Field(default=None, max_length=10)  # YYYY-MM-DD of the ranking
    added_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class SiteListMember(SQLModel, table=True):
    """A site in a tracked list, with its rank there."""

    __tablename__ = "site_list_members"

    list_id: int = Field(foreign_key="site_lists.id", primary_key=True)
    site_id: int = Field(foreign_key="sites.id", primary_key=True, index=True)
    rank: int | None = None
    added_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class SiteLabel(SQLModel, table=True):
    """A site's category according to one source."""

    __tablename__ = "site_labels"

    site_id: int = Field(foreign_key="sites.id", primary_key=True)
    source: str = Field(primary_key=True, max_length=16)  # user / curated / annotation / homepage / tld
    category: str = Field(max_length=32)
    detail: str | None = None  # what decided it (a schema.org type, an og:type, a TLD, the annotation's class)


class SiteWeight(SQLModel, table=True):
    """Tokens of a site in one corpus column, measured (from a file) or filled in (a documented fallback)."""

    __tablename__ = "site_weights"

    site_id: int = Field(foreign_key="sites.id", primary_key=True)
    name: str = Field(primary_key=True, max_length=32)  # the column, e.g. c4_tokens
    value: float
    measured: bool = True
    source: str | None = None  # the file the value came from, or the fallback's name


class Capture(SQLModel, table=True):
    """A web-archive capture of a site's robots.txt, once fetched (or classified without fetching)."""

    __tablename__ = "captures"
    __table_args__ = (Index("ix_captures_source_digest", "source", "digest"),)

    site_id: int = Field(foreign_key="sites.id", primary_key=True)
    source: str = Field(primary_key=True, max_length=16)  # wayback
    timestamp: str = Field(primary_key=True, max_length=14)  # yyyyMMddhhmmss
    original: str
    statuscode: str = Field(max_length=8)
    digest: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=24)  # what it was classified as (a fetch status, or redirect / archive_error)
    body_id: int | None = Field(default=None, foreign_key="bodies.id")


class Adoption(SQLModel, table=True):
    """Whether a stored body adopts a use-preference signal, under one version of the rules (computed once)."""

    __tablename__ = "adoptions"

    body_id: int = Field(foreign_key="bodies.id", primary_key=True)
    signal: str = Field(primary_key=True, max_length=32)
    version: str = Field(primary_key=True, max_length=16)
    adopts: bool


class ChangeEvent(SQLModel, table=True):
    """A change of one reading of a site — an agent's robots.txt stance, or one signal's adoption — at a version."""

    __tablename__ = "change_events"
    __table_args__ = (
        UniqueConstraint("site_id", "signal", "agent", "at", name="uq_change_events"),
        Index("ix_change_events_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="sites.id", index=True)
    kind: str = Field(max_length=16)  # the resource kind whose version changed
    signal: str = Field(max_length=32)  # 'robots' (an agent's stance) or a signal name
    agent: str = Field(default="", max_length=64)  # the agent token; '' when the signal applies to every agent
    before: str = Field(max_length=48)
    after: str = Field(max_length=48)
    change: str = Field(max_length=16)  # restriction / reversal / modification (tracker.records.vocabulary.ChangeType)
    at: datetime  # first seen in the new state
    previous_seen: datetime | None = None  # last seen in the old state (the change happened in between)
    version_id: int = Field(foreign_key="versions.id")
    previous_version_id: int = Field(foreign_key="versions.id")
    source: str = Field(max_length=16)  # where the new version came from: live / archive / wayback
    detected_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    notified_at: datetime | None = None  # when the webhook accepted it (live events only)


class StoreMeta(SQLModel, table=True):
    """A fact about the database itself."""

    __tablename__ = "store_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str


class AgentRow(SQLModel, table=True):
    """An agent the store evaluates, as the registry spells it (``key``: the lower-case token ``evaluations`` use)."""

    __tablename__ = "agents"

    key: str = Field(primary_key=True, max_length=64)
    token: str = Field(max_length=64, unique=True)
    company: str = Field(max_length=100)
    purpose: str = Field(max_length=16)
    ai: bool
