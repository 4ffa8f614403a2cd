"""The single writer: every change to the history goes through :class:`Writer`.

A fetch equal to the version in effect at its date only moves that version's ``last_seen``; a different one
opens a new version (and closes the previous one's ``valid_to``). Observations may arrive in any order — a
backfill from an archive inserts versions before the ones a live crawl recorded — and recording the same
observation twice changes nothing, which is what makes imports idempotent and crawls resumable.

Bodies are content-addressed: stored once per sha256, zlib-compressed, capped. robots.txt bodies also get a
ruleset id (the hash of their normalised rules) so evaluations are shared by every body with the same rules.

Derived data is made here, when its inputs are written, so that reads only read: a new ruleset is evaluated for
the agents the store evaluates (:func:`evaluated_agents`) in the transaction that stores it, a new body's adoption
readings likewise (for the signals its kind carries), and
:func:`refresh_derived` (run by ``db migrate``) recomputes evaluations and adoption readings made by another
parser or rules version.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypedDict

from sqlalchemy import Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from tracker.errors import StoreError
from tracker.records.json import JsonObject
from tracker.records.vocabulary import BODY_KINDS, FetchStatus, ResourceKind, VersionSource
from tracker.rules.agents import CORE_PANEL, load_registry
from tracker.rules.robots import PARSER_VERSION, ROBOTS_MAX_BYTES, RobotsRules, parse_robots
from tracker.rules.signals.preferences import ADOPTION
from tracker.store import queries, views
from tracker.store.engine import as_utc, dialect_insert
from tracker.store.models import Adoption, Body, CrawlRunSite, Evaluation, RuleSet, Site, Version, VersionEvent

__all__ = [
    "BODY_CAP",
    "DerivedRefresh",
    "Observation",
    "RecordResult",
    "SiteRow",
    "Writer",
    "evaluate_rulesets",
    "evaluated_agents",
    "rebuild_events",
    "refresh_derived",
    "ruleset_digest",
]

#: Bytes of a body kept in the store (robots.txt is parsed up to 512,000 bytes; keep what was parsed).
BODY_CAP = ROBOTS_MAX_BYTES

_sites = Site.__table__  # type: ignore[attr-defined]
_bodies = Body.__table__  # type: ignore[attr-defined]
_rulesets = RuleSet.__table__  # type: ignore[attr-defined]
_versions = Version.__table__  # type: ignore[attr-defined]
_events = VersionEvent.__table__  # type: ignore[attr-defined]
_run_sites = CrawlRunSite.__table__  # type: ignore[attr-defined]
_evals = Evaluation.__table__  # type: ignore[attr-defined]
_adoptions = Adoption.__table__  # type: ignore[attr-defined]


@cache
def evaluated_agents() -> tuple[str, ...]:
    """The agents (lower case) whose evaluations the store keeps: the built-in registry's tokens and the core panel
    (the agents of the stored change events). Reads ask for these by default; any other agent is evaluated in
    memory by the read (:func:`tracker.store.queries.evaluations`)."""
    tokens = {a.token.lower() for a in load_registry(None)} | {t.lower() for t in CORE_PANEL if t != "*"}
    return tuple(sorted(tokens))


class _EvaluationInsert(TypedDict):
    """A row of the evaluations table, as inserted."""

    ruleset_id: int
    agent: str
    parser_version: str
    root_allowed: bool
    named: bool
    lenient_named: bool
    source: str
    stance: str


class _AdoptionInsert(TypedDict):
    """A row of the adoptions table, as inserted."""

    body_id: int
    signal: str
    version: str
    adopts: bool


def _evaluation_rows(ruleset_id: int, rules: RobotsRules, agents: Iterable[str]) -> list[_EvaluationInsert]:
    rows: list[_EvaluationInsert] = []
    for agent in agents:
        st = rules.stance(agent)
        rows.append(
            {
                "ruleset_id": ruleset_id,
                "agent": agent,
                "parser_version": PARSER_VERSION,
                "root_allowed": st.root_allowed,
                "named": st.named,
                "lenient_named": st.lenient_named,
                "source": st.source,
                "stance": st.stance,
            }
        )
    return rows


def _adoption_rows(body_id: int, kind: str, body: bytes, truncated: bool) -> list[_AdoptionInsert]:
    """The adoption readings of a body of this kind, for every signal it carries (most bodies say no to a cheap
    byte test before any parsing)."""
    version = queries.ADOPTIONS_VERSION
    evidence = queries.StoredResource(kind, "ok", body=body, truncated=truncated)
    return [
        {"body_id": body_id, "signal": signal, "version": version, "adopts": bool(adoption.part(kind, evidence))}
        for signal, adoption in ADOPTION.items()
        if adoption.body_kind == kind
    ]


def _insert_adoptions(conn: Connection, rows: list[_AdoptionInsert]) -> None:
    if rows:
        rows.sort(key=lambda r: (r["body_id"], r["signal"]))
        conn.execute(dialect_insert(conn, _adoptions).on_conflict_do_nothing(), rows)


def _insert_evaluations(conn: Connection, rows: list[_EvaluationInsert]) -> None:
    if rows:
        # Two processes may store the same evaluation at once (workers of one crawl): the first one wins.
        rows.sort(key=lambda r: (r["ruleset_id"], r["agent"]))
        conn.execute(dialect_insert(conn, _evals).on_conflict_do_nothing(), rows)


@dataclass(frozen=True, slots=True)
class SiteRow:
    """A site to create, with the attributes to set on it (None: leave as stored)."""

    domain: str
    rank: int | None = None
    list_source: str | None = None
    category: str | None = None
    tokens: float | None = None  # token weight (e.g. C4 tokens)

    def attrs(self) -> dict[str, int | str | float]:
        """The attributes given (not None), by column."""
        values = {"rank": self.rank, "list_source": self.list_source, "category": self.category, "tokens": self.tokens}
        return {k: v for k, v in values.items() if v is not None}


@dataclass(slots=True)
class Observation:
    """What one fetch of one resource of one site found, at one time."""

    kind: ResourceKind
    seen_at: datetime
    status: FetchStatus
    http_status: int | None = None
    body: bytes | None = None
    truncated: bool = False
    signals: JsonObject | None = None
    headers: dict[str, str] | None = None
    final_url: str | None = None
    error: str | None = None
    source: VersionSource = "live"
    rules: RobotsRules | None = None  # the body already parsed (robots), so the writer need not parse it again


@dataclass(slots=True)
class RecordResult:
    """What recording a batch of observations did."""

    new_versions: int = 0
    unchanged: int = 0
    duplicates: int = 0  # observations already covered by a version (a re-import)
    new_bodies: int = 0

    def add(self, other: RecordResult) -> None:
        """Accumulate another result into this one."""
        self.new_versions += other.new_versions
        self.unchanged += other.unchanged
        self.duplicates += other.duplicates
        self.new_bodies += other.new_bodies


@dataclass(slots=True)
class _V:
    """A version in memory while a site's observations are applied."""

    id: int | None
    key: tuple[Any, ...]
    first_seen: datetime
    last_seen: datetime
    valid_to: datetime | None
    observations: int
    row: dict[str, Any] = field(default_factory=dict)
    dirty: bool = False
    ruleset_id: int | None = None
    site_id: int = 0
    kind: str = ""
    # (first_seen, valid_to) as stored, to move the version_events counts when either changes; None when new.
    stored: tuple[datetime, datetime | None] | None = None


def _ruleset_digest_and_counts(
    body: bytes, rules: RobotsRules | None = None, *, truncated: bool = False
) -> tuple[str, int, int, RobotsRules]:
    """(digest, groups, rules, the parsed rules) of a robots.txt body (parsed here unless ``rules`` is given)."""
    if rules is None:
        rules = parse_robots(body, truncated=truncated or len(body) > BODY_CAP)
    return ruleset_digest(rules), len(rules.groups), rules.rule_count, rules


def ruleset_digest(rules: RobotsRules) -> str:
    """Hash of what evaluations depend on: each group's agent tokens and its rules, in order."""
    parts = ["v1|blank" if rules.blank else "v1|"]
    for g in rules.groups:
        parts.append("\x1eG")
        for a in g.agents:
            parts.append(f"\x1fA{'*' if a.is_global else a.token.lower()}\x1d{a.lenient_token.lower()}")
        for r in g.rules:
            parts.append(f"\x1f{'+' if r.allow else '-'}{r.pattern}")
    return hashlib.sha256("".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class Writer:
    """The one place that writes history. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        engine: Engine,
        *,
        run_id: int | None = None,
        cache_size: int = 50_000,
        agents: Sequence[str] | None = None,
    ) -> None:
        self.engine = engine
        self.run_id = run_id
        self._agents = tuple(sorted({a.lower() for a in agents})) if agents is not None else None
        self._site_ids: dict[str, int] = {}
        self._body_ids: OrderedDict[str, tuple[int, int | None]] = OrderedDict()
        self._ruleset_ids: dict[str, int] = {}
        self._cache_size = cache_size

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop caches (the engine stays open: it belongs to the caller)."""
        self._site_ids.clear()
        self._body_ids.clear()

    # -- sites -------------------------------------------------------------------------------------------------
    def ensure_sites(self, sites: Sequence[SiteRow]) -> dict[str, int]:
        """Create missing sites and update the attributes given (rank, list_source, category, tokens); domain →
        site id. A change of category moves the site's counts in version_events."""
        unknown = [s for s in sites if s.domain not in self._site_ids]
        with_attrs = [s for s in sites if s.attrs()]
        if not unknown and not with_attrs:
            return self._site_ids
        with self.engine.begin() as conn:
            self._load_site_ids(conn, [s.domain for s in unknown])
            missing = list({s.domain: s for s in unknown if s.domain not in self._site_ids}.values())
            if missing:
                now = datetime.now(UTC)
                conn.execute(
                    dialect_insert(conn, _sites).on_conflict_do_nothing(index_elements=["domain"]),
                    [
                        {
                            "domain": s.domain,
                            "rank": s.rank,
                            "list_source": s.list_source,
                            "category": s.category,
                            "tokens": s.tokens,
                            "added_at": now,
                        }
                        for s in sorted(missing, key=lambda s: s.domain)
                    ],
                )
                self._load_site_ids(conn, [s.domain for s in missing])
            if with_attrs:
                ids = [self._site_ids[s.domain] for s in with_attrs]
                old = {}
                for i in range(0, len(ids), 500):
                    for sid, cat in conn.execute(
                        select(_sites.c.id, _sites.c.category).where(_sites.c.id.in_(ids[i : i + 500]))
                    ):
                        old[sid] = cat or ""
                moved: dict[int, tuple[str, str]] = {}
                for s in with_attrs:
                    sid = self._site_ids[s.domain]
                    vals = s.attrs()
                    conn.execute(update(_sites).where(_sites.c.id == sid).values(**vals))
                    if s.category is not None and s.category != old.get(sid, ""):
                        moved[sid] = (old.get(sid, ""), s.category)
                if moved:
                    self._move_events(conn, moved)
        return self._site_ids

    def _move_events(self, conn: Connection, moved: dict[int, tuple[str, str]]) -> None:
        """Re-file the version_events counts of sites whose category changed."""
        c = _versions.c
        events: dict[tuple[str, str, str, int, str], list[int]] = {}
        ids = list(moved)
        for i in range(0, len(ids), 500):
            q = select(c.site_id, c.kind, c.status, c.ruleset_id, c.first_seen, c.valid_to).where(
                c.site_id.in_(ids[i : i + 500])
            )
            for sid, kind, status, rid, first, valid in conn.execute(q):
                for category, sign in ((moved[sid][0], -1), (moved[sid][1], 1)):
                    key = (kind, as_utc(first).date().isoformat(), status, rid or 0, category)
                    events.setdefault(key, [0, 0])[0] += sign
                    if valid is not None:
                        key = (kind, as_utc(valid).date().isoformat(), status, rid or 0, category)
                        events.setdefault(key, [0, 0])[1] += sign
        _upsert_events(conn, events)

    def _load_site_ids(self, conn: Connection, domains: list[str]) -> None:
        for i in range(0, len(domains), 500):
            chunk = domains[i : i + 500]
            for sid, dom in conn.execute(select(_sites.c.id, _sites.c.domain).where(_sites.c.domain.in_(chunk))):
                self._site_ids[dom] = sid

    def site_id(self, domain: str) -> int:
        """The id of a site, created if new."""
        sid = self._site_ids.get(domain)
        if sid is None:
            self.ensure_sites([SiteRow(domain)])
            sid = self._site_ids[domain]
        return sid

    # -- bodies ------------------------------------------------------------------------------------------------
    def _bodies(
        self, conn: Connection, items: list[tuple[str, bytes, bool, RobotsRules | None]]
    ) -> tuple[dict[str, tuple[int, int | None]], int]:
        """sha256 → (body id, ruleset id) for (kind, body, truncated) items, storing unseen bodies. Returns also
        how many bodies were new."""
        out: dict[str, tuple[int, int | None]] = {}
        todo: dict[str, tuple[str, bytes, bool, RobotsRules | None]] = {}
        for kind, data, truncated, parsed in items:
            sha = hashlib.sha256(data).hexdigest()
            if sha in out or sha in todo:
                continue
            hit = self._body_ids.get(sha)
            if hit is not None and (hit[1] is not None or kind != "robots"):
                self._body_ids.move_to_end(sha)
                out[sha] = hit
            else:
                todo[sha] = (kind, data, truncated, parsed)
        if not todo:
            return out, 0
        c = _bodies.c
        shas = list(todo)
        found: dict[str, tuple[int, int | None]] = {}
        for i in range(0, len(shas), 500):
            for bid, rid, sha in conn.execute(
                select(c.id, c.ruleset_id, c.sha256).where(c.sha256.in_(shas[i : i + 500]))
            ):
                found[sha] = (bid, rid)
        # Bodies stored before without a ruleset (another kind first) get one now if they are robots.txt.
        fix = [(sha, found[sha][0]) for sha in found if found[sha][1] is None and todo[sha][0] == "robots"]
        new = [sha for sha in shas if sha not in found]
        robots_shas = [sha for sha, _ in fix] + [sha for sha in new if todo[sha][0] == "robots"]
        digests = {
            sha: _ruleset_digest_and_counts(todo[sha][1], todo[sha][3], truncated=todo[sha][2]) for sha in robots_shas
        }
        ruleset_ids = self._rulesets_for(conn, list(digests.values()))
        for sha, bid in fix:
            rid = ruleset_ids[digests[sha][0]]
            conn.execute(update(_bodies).where(c.id == bid).values(ruleset_id=rid))
            found[sha] = (bid, rid)
        if new:
            rows = []
            for sha in new:
                kind, data, truncated, _parsed = todo[sha]
                kept = data[:BODY_CAP]
                rows.append(
                    {
                        "sha256": sha,
                        "size": len(data),
                        "stored_size": len(kept),
                        "truncated": truncated or len(data) > BODY_CAP,
                        "compression": "zlib",
                        "content": zlib.compress(kept, 6),
                        "ruleset_id": ruleset_ids[digests[sha][0]] if sha in digests else None,
                    }
                )
            # ON CONFLICT DO NOTHING: workers of a distributed crawl may store the same body at the same moment.
            # Key order: concurrent transactions inserting overlapping sets in one order cannot deadlock.
            rows.sort(key=lambda r: str(r["sha256"]))
            conn.execute(dialect_insert(conn, _bodies).on_conflict_do_nothing(index_elements=["sha256"]), rows)
            for i in range(0, len(new), 500):
                for bid, rid, sha in conn.execute(
                    select(c.id, c.ruleset_id, c.sha256).where(c.sha256.in_(new[i : i + 500]))
                ):
                    found[sha] = (bid, rid)
            _insert_adoptions(
                conn,
                [
                    row
                    for sha in new
                    for row in _adoption_rows(
                        found[sha][0],
                        todo[sha][0],
                        todo[sha][1][:BODY_CAP],
                        todo[sha][2] or len(todo[sha][1]) > BODY_CAP,
                    )
                ],
            )
        for sha, value in found.items():
            out[sha] = value
            self._body_ids[sha] = value
        while len(self._body_ids) > self._cache_size:
            self._body_ids.popitem(last=False)
        return out, len(new)

    @property
    def agents(self) -> tuple[str, ...]:
        """The agents (lower case) a new ruleset is evaluated for (default: :func:`evaluated_agents`)."""
        return self._agents if self._agents is not None else evaluated_agents()

    def _rulesets_for(self, conn: Connection, digests: list[tuple[str, int, int, RobotsRules]]) -> dict[str, int]:
        """digest → ruleset id, creating missing rulesets (and storing their evaluations)."""
        out: dict[str, int] = {}
        missing: dict[str, tuple[str, int, int, RobotsRules]] = {}
        for d in digests:
            rid = self._ruleset_ids.get(d[0])
            if rid is not None:
                out[d[0]] = rid
            else:
                missing[d[0]] = d
        if not missing:
            return out
        c = _rulesets.c
        keys = list(missing)
        for i in range(0, len(keys), 500):
            for rid, sha in conn.execute(select(c.id, c.sha256).where(c.sha256.in_(keys[i : i + 500]))):
                out[sha] = rid
        new = [missing[k] for k in keys if k not in out]
        if new:
            conn.execute(
                dialect_insert(conn, _rulesets).on_conflict_do_nothing(index_elements=["sha256"]),
                [{"sha256": d, "groups": g, "rules": r} for d, g, r, _ in sorted(new, key=lambda d: d[0])],
            )
            names = [d[0] for d in new]
            for i in range(0, len(names), 500):
                for rid, sha in conn.execute(select(c.id, c.sha256).where(c.sha256.in_(names[i : i + 500]))):
                    out[sha] = rid
            agents = self.agents
            rows: list[_EvaluationInsert] = []
            for d in new:
                rows += _evaluation_rows(out[d[0]], d[3], agents)
                if len(rows) >= 5000:
                    _insert_evaluations(conn, rows)
                    rows = []
            _insert_evaluations(conn, rows)
        for k in keys:
            if len(self._ruleset_ids) < 1_000_000:
                self._ruleset_ids[k] = out[k]
        return out

    # -- versions ----------------------------------------------------------------------------------------------
    def record(self, domain: str, observations: Iterable[Observation], *, continuous: bool = False) -> RecordResult:
        """Record one site's observations (any kinds, any order) in one transaction.

        ``continuous=True`` (archive imports) means the observations are the site's complete change history:
        a version is taken to have stayed in place until the next one appeared, so its ``last_seen`` is moved
        up to the next version's first day.
        """
        return self.record_batch([(domain, list(observations))], continuous=continuous)

    def record_batch(
        self,
        items: Sequence[tuple[str, Sequence[Observation]]],
        *,
        continuous: bool = False,
        mark_done: bool = False,
    ) -> RecordResult:
        """Record several sites' observations in one transaction (all or nothing).

        ``mark_done`` also records, in the same transaction, that this writer's run has done these sites, so a
        resumed run skips exactly the sites whose observations landed.
        """
        result = RecordResult()
        items = [(d, obs) for d, obs in items if obs]
        if not items:
            return result
        _check_dates(items)
        self.ensure_sites([SiteRow(d) for d, _ in items])
        with self.engine.begin() as conn:
            bodies, result.new_bodies = self._bodies(
                conn,
                [
                    (o.kind, o.body, o.truncated, o.rules)
                    for _, obs in items
                    for o in obs
                    if o.body is not None and o.kind in BODY_KINDS
                ],
            )
            sids = sorted({self._site_ids[d] for d, _ in items})
            kinds = sorted({o.kind for _, obs in items for o in obs})
            existing: dict[tuple[int, str], list[_V]] = {}
            c = _versions.c
            for i in range(0, len(sids), 500):
                q = (
                    select(
                        c.id,
                        c.site_id,
                        c.kind,
                        c.status,
                        c.http_status,
                        c.body_id,
                        c.signals,
                        c.first_seen,
                        c.last_seen,
                        c.valid_to,
                        c.observations,
                        c.ruleset_id,
                    )
                    .where(c.site_id.in_(sids[i : i + 500]), c.kind.in_(kinds))
                    .order_by(c.site_id, c.kind, c.first_seen)
                )
                for r in conn.execute(q):
                    first, valid = as_utc(r.first_seen), as_utc(r.valid_to) if r.valid_to else None
                    existing.setdefault((r.site_id, r.kind), []).append(
                        _V(
                            r.id,
                            (r.status, r.http_status, r.body_id, r.signals),
                            first,
                            as_utc(r.last_seen),
                            valid,
                            r.observations,
                            ruleset_id=r.ruleset_id,
                            site_id=r.site_id,
                            kind=r.kind,
                            stored=(first, valid),
                        )
                    )
            categories: dict[int, str] = {}
            for i in range(0, len(sids), 500):
                for sid_, cat in conn.execute(
                    select(_sites.c.id, _sites.c.category).where(_sites.c.id.in_(sids[i : i + 500]))
                ):
                    categories[sid_] = cat or ""
            all_versions: list[_V] = []
            for domain, obs in items:
                sid = self._site_ids[domain]
                by_kind: dict[str, list[Observation]] = {}
                for o in obs:
                    by_kind.setdefault(o.kind, []).append(o)
                for kind, kobs in by_kind.items():
                    versions = existing.setdefault((sid, kind), [])
                    kobs.sort(key=lambda o: o.seen_at)
                    result.add(self._apply(sid, kind, versions, kobs, bodies, continuous))
                    all_versions.extend(versions)
            self._flush(conn, all_versions, categories)
            if mark_done and self.run_id is not None:
                self.mark_done(conn, [self._site_ids[d] for d, _ in items])
        return result

    def mark_done(self, conn: Connection, site_ids: Sequence[int]) -> None:
        """Record, in the caller's transaction, that this writer's run has done these sites."""
        if site_ids and self.run_id is not None:
            conn.execute(
                dialect_insert(conn, _run_sites).on_conflict_do_nothing(),
                [{"run_id": self.run_id, "site_id": sid} for sid in site_ids],
            )

    def _apply(
        self,
        sid: int,
        kind: str,
        versions: list[_V],
        obs: list[Observation],
        bodies: dict[str, tuple[int, int | None]],
        continuous: bool,
    ) -> RecordResult:
        result = RecordResult()
        for o in obs:
            at = as_utc(o.seen_at)
            body_id = ruleset_id = None
            if o.body is not None and kind in BODY_KINDS:
                body_id, ruleset_id = bodies[hashlib.sha256(o.body).hexdigest()]
            signals = json.dumps(o.signals, sort_keys=True, ensure_ascii=False) if o.signals is not None else None
            key = (o.status, o.http_status, body_id, signals)
            # The version in effect at `at` (latest first_seen ≤ at) and the one after it.
            i = _bisect(versions, at)
            prev = versions[i - 1] if i > 0 else None
            nxt = versions[i] if i < len(versions) else None
            if prev is not None and prev.key == key:
                if at <= prev.last_seen:
                    result.duplicates += 1
                    continue
                prev.last_seen = at
                prev.observations += 1
                prev.dirty = True
                result.unchanged += 1
                continue
            if nxt is not None and nxt.key == key:
                # Seen earlier than we knew: the next version starts now.
                nxt.first_seen = at
                nxt.observations += 1
                nxt.dirty = True
                if prev is not None:
                    prev.valid_to = at
                    prev.dirty = True
                result.unchanged += 1
                continue
            v = _V(
                None,
                key,
                at,
                at,
                nxt.first_seen if nxt is not None else None,
                1,
                row={
                    "site_id": sid,
                    "kind": kind,
                    "status": o.status,
                    "http_status": o.http_status,
                    "error": (o.error or None) and o.error[:1000],
                    "body_id": body_id,
                    "ruleset_id": ruleset_id,
                    "signals": signals,
                    "headers": json.dumps(o.headers, sort_keys=True) if o.headers else None,
                    "final_url": o.final_url,
                    "source": o.source,
                    "run_id": self.run_id,
                },
                dirty=True,
                ruleset_id=ruleset_id,
                site_id=sid,
                kind=kind,
            )
            if prev is not None:
                prev.valid_to = at
                prev.dirty = True
            versions.insert(i, v)
            result.new_versions += 1
        if continuous:
            for a, b in itertools.pairwise(versions):
                if a.last_seen < b.first_seen:
                    a.last_seen = b.first_seen
                    a.dirty = True
        return result

    def _flush(self, conn: Connection, versions: list[_V], categories: dict[int, str]) -> None:
        new = [v for v in versions if v.id is None]
        changed = [v for v in versions if v.id is not None and v.dirty]
        events: dict[tuple[str, str, str, int, str], list[int]] = {}

        def bump(v: _V, first: datetime, valid: datetime | None, sign: int) -> None:
            base = (v.kind, v.key[0], v.ruleset_id or 0, categories.get(v.site_id, ""))
            e = events.setdefault((base[0], first.date().isoformat(), base[1], base[2], base[3]), [0, 0])
            e[0] += sign
            if valid is not None:
                e = events.setdefault((base[0], valid.date().isoformat(), base[1], base[2], base[3]), [0, 0])
                e[1] += sign

        for v in new:
            bump(v, v.first_seen, v.valid_to, 1)
        for v in changed:
            assert v.stored is not None
            if v.stored != (v.first_seen, v.valid_to):
                bump(v, v.stored[0], v.stored[1], -1)
                bump(v, v.first_seen, v.valid_to, 1)
        _upsert_events(conn, events)
        if new:
            conn.execute(
                insert(_versions),
                [
                    {
                        **v.row,
                        "first_seen": v.first_seen,
                        "last_seen": v.last_seen,
                        "valid_to": v.valid_to,
                        "observations": v.observations,
                    }
                    for v in new
                ],
            )
        if changed:
            conn.execute(
                update(_versions)
                .where(_versions.c.id == bindparam("b_id"))
                .values(
                    first_seen=bindparam("b_first"),
                    last_seen=bindparam("b_last"),
                    valid_to=bindparam("b_valid"),
                    observations=bindparam("b_obs"),
                ),
                [
                    {
                        "b_id": v.id,
                        "b_first": v.first_seen,
                        "b_last": v.last_seen,
                        "b_valid": v.valid_to,
                        "b_obs": v.observations,
                    }
                    for v in changed
                ],
            )
        for v in versions:
            v.dirty = False
            v.stored = (v.first_seen, v.valid_to)


#: The range an observation date can have: robots.txt dates from 1994, and nothing is seen after tomorrow (UTC).
#: A date outside it is a typo or hostile input, and a year-9999 version overflows every period computed from it.
_FIRST_SEEN = datetime(1994, 1, 1, tzinfo=UTC)


def _check_dates(items: Sequence[tuple[str, Sequence[Observation]]]) -> None:
    """Refuse a batch holding an observation dated before 1994 or after tomorrow, before anything is written."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    last = today + timedelta(days=2)  # the end of tomorrow, UTC
    for domain, obs in items:
        for o in obs:
            at = as_utc(o.seen_at)
            if not _FIRST_SEEN <= at < last:
                raise StoreError(
                    f"{domain}: an observation dated {at.isoformat()} is outside the web's history "
                    f"({_FIRST_SEEN.date()} to tomorrow, UTC); nothing recorded"
                )


def _upsert_events(conn: Connection, events: dict[tuple[str, str, str, int, str], list[int]]) -> None:
    """Add start/end counts to version_events (INSERT … ON CONFLICT DO UPDATE, on SQLite and PostgreSQL)."""
    rows = [
        {"kind": k[0], "day": k[1], "status": k[2], "ruleset_id": k[3], "category": k[4], "starts": s, "ends": e}
        for k, (s, e) in sorted(events.items())  # one order in every process: concurrent batches never deadlock
        if s or e
    ]
    if not rows:
        return
    stmt = dialect_insert(conn, _events)
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "day", "status", "ruleset_id", "category"],
        set_={"starts": _events.c.starts + stmt.excluded.starts, "ends": _events.c.ends + stmt.excluded.ends},
    )
    conn.execute(stmt, rows)


def rebuild_events(engine: Engine) -> int:
    """Recompute version_events from the versions (after sites change category, or to check the counts)."""
    c, s = _versions.c, _sites.c
    cat = func.coalesce(s.category, "")
    rid = func.coalesce(c.ruleset_id, 0)
    events: dict[tuple[str, str, str, int, str], list[int]] = {}
    with engine.begin() as conn:
        conn.execute(delete(_events))
        j = _versions.join(_sites, s.id == c.site_id)
        for col, slot in ((c.first_seen, 0), (c.valid_to, 1)):
            day = func.date(col)
            q = select(c.kind, day, c.status, rid, cat, func.count()).select_from(j).where(col.is_not(None))
            for kind, d, status, r, category, n in conn.execute(q.group_by(c.kind, day, c.status, rid, cat)):
                e = events.setdefault((kind, str(d)[:10], status, int(r), category), [0, 0])
                e[slot] += n
        _upsert_events(conn, events)
    return len(events)


def evaluate_rulesets(engine: Engine, agents: Iterable[str], ruleset_ids: Sequence[int] | None = None) -> int:
    """Store whatever evaluations of this parser version are missing for these agents (of every ruleset, or of the
    given ones); return how many rows were added."""
    wanted = sorted({a.lower() for a in agents})
    if not wanted:
        return 0
    todo = queries.rulesets_missing(engine, wanted, PARSER_VERSION, ruleset_ids)
    added = 0
    rows: list[_EvaluationInsert] = []
    for rid, body, truncated in queries.ruleset_samples(engine, list(todo)):
        rows += _evaluation_rows(rid, parse_robots(body, truncated=truncated), todo[rid])
        if len(rows) >= 5000:
            with engine.begin() as conn:
                _insert_evaluations(conn, rows)
            added += len(rows)
            rows = []
    with engine.begin() as conn:
        _insert_evaluations(conn, rows)
    return added + len(rows)


def _refresh_adoptions(engine: Engine) -> tuple[int, int]:
    """Drop adoption readings of another rules version and store the missing ones of this version: (dropped,
    added)."""
    version = queries.ADOPTIONS_VERSION
    a = _adoptions.c
    with engine.begin() as conn:
        dropped = conn.execute(delete(_adoptions).where(a.version != version)).rowcount or 0
    added = 0
    for signal, adoption in ADOPTION.items():
        kind = adoption.body_kind
        if kind is None:
            continue
        missing = queries.adoptions_missing(engine, signal, kind, version)
        for i in range(0, len(missing), 5000):
            rows: list[_AdoptionInsert] = [
                {"body_id": bid, "signal": signal, "version": version, "adopts": part}
                for bid, part in queries.adoption_parts(engine, signal, missing[i : i + 5000]).items()
            ]
            with engine.begin() as conn:
                _insert_adoptions(conn, rows)
            added += len(rows)
    return dropped, added


@dataclass(frozen=True, slots=True)
class DerivedRefresh:
    """What :func:`refresh_derived` did: rows dropped (made by another parser or rules version) and added."""

    evaluations_dropped: int
    evaluations_added: int
    adoptions_dropped: int
    adoptions_added: int


def refresh_derived(engine: Engine, agents: Iterable[str] | None = None) -> DerivedRefresh:
    """Bring what the store derives from bodies up to this version: evaluations of another parser version are
    dropped and every ruleset evaluated for these agents (default: :func:`evaluated_agents`); body adoption
    readings likewise; the ``agents`` table and the SQL views re-made (tracker.store.views). Run by ``db migrate``;
    idempotent (a second run adds nothing)."""
    with engine.begin() as conn:
        dropped = conn.execute(delete(_evals).where(_evals.c.parser_version != PARSER_VERSION)).rowcount or 0
    added = evaluate_rulesets(engine, evaluated_agents() if agents is None else agents)
    a_dropped, a_added = _refresh_adoptions(engine)
    with engine.begin() as conn:  # the SQL views read this parser version's evaluations, the agents as spelled now
        views.refresh_agents(conn)
        views.create_views(conn)
    return DerivedRefresh(int(dropped), added, int(a_dropped), a_added)


def _bisect(versions: list[_V], at: datetime) -> int:
    """Index of the first version with first_seen > at."""
    lo, hi = 0, len(versions)
    while lo < hi:
        mid = (lo + hi) // 2
        if versions[mid].first_seen <= at:
            lo = mid + 1
        else:
            hi = mid
    return lo
