"""The single writer: every change to the history goes through :class:`Writer`.

A fetch equal to the version in effect at its date only moves that version's ``last_seen``; a different one
opens a new version (and closes the previous one's ``valid_to``). Observations may arrive in any order — a
backfill from an archive inserts versions before the ones a live crawl recorded — and recording the same
observation twice changes nothing, which is what makes imports idempotent and crawls resumable.

Bodies are content-addressed: stored once per sha256, zlib-compressed, capped. robots.txt bodies also get a
ruleset id (the hash of their normalised rules) so evaluations are shared by every body with the same rules.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from tracker.robots import ROBOTS_MAX_BYTES, RobotsRules, parse_robots
from tracker.store.models import Body, CrawlRun, RuleSet, Site, Version

__all__ = ["BODY_CAP", "Observation", "RecordResult", "Writer", "ruleset_digest"]

#: Bytes of a body kept in the store (robots.txt is parsed up to 512,000 bytes; keep what was parsed).
BODY_CAP = ROBOTS_MAX_BYTES
#: Kinds whose bodies are kept whole (capped); homepages and terms pages keep only their extracted signals.
BODY_KINDS = frozenset({"robots", "tdmrep", "ai_txt", "llms_txt"})

_sites = Site.__table__  # type: ignore[attr-defined]
_bodies = Body.__table__  # type: ignore[attr-defined]
_rulesets = RuleSet.__table__  # type: ignore[attr-defined]
_versions = Version.__table__  # type: ignore[attr-defined]
_runs = CrawlRun.__table__  # type: ignore[attr-defined]


@dataclass(slots=True)
class Observation:
    """What one fetch of one resource of one site found, at one time."""

    kind: str
    seen_at: datetime
    status: str
    http_status: int | None = None
    body: bytes | None = None
    truncated: bool = False
    signals: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    final_url: str | None = None
    error: str | None = None
    source: str = "live"


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


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def ruleset_digest(rules: RobotsRules) -> str:
    """Hash of what evaluations depend on: each group's agent tokens and its rules, in order."""
    h = hashlib.sha256()
    h.update(b"v1|blank" if rules.blank else b"v1|")
    for g in rules.groups:
        h.update(b"\x1eG")
        for a in g.agents:
            tok = "*" if a.is_global else a.token.lower()
            h.update(f"\x1fA{tok}\x1d{a.lenient_token.lower()}".encode("utf-8", "surrogatepass"))
        for r in g.rules:
            h.update(f"\x1f{'+' if r.allow else '-'}{r.pattern}".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class Writer:
    """The one place that writes history. Use as a context manager, or call :meth:`close`."""

    def __init__(self, engine: Engine, *, run_id: int | None = None, cache_size: int = 50_000) -> None:
        self.engine = engine
        self.run_id = run_id
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

    # -- runs --------------------------------------------------------------------------------------------------
    def start_run(self, kind: str, source: str | None, params: dict[str, Any] | None = None) -> int:
        """Open a crawl-run record and make it this writer's run."""
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(_runs).values(
                    kind=kind,
                    source=source,
                    status="running",
                    started_at=datetime.now(UTC),
                    params=json.dumps(params or {}, sort_keys=True, default=str),
                    sites=0,
                    observations=0,
                    new_versions=0,
                    unchanged=0,
                    errors=0,
                )
            )
            self.run_id = int(res.inserted_primary_key[0])  # type: ignore[index]
        return self.run_id

    def finish_run(self, status: str = "done", **counts: int) -> None:
        """Close the current run with its status and counts."""
        if self.run_id is None:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(_runs)
                .where(_runs.c.id == self.run_id)
                .values(status=status, finished_at=datetime.now(UTC), **counts)
            )

    # -- sites -------------------------------------------------------------------------------------------------
    def ensure_sites(self, sites: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Create missing sites (dicts with 'domain' and optional rank, list_source, category, tokens)."""
        wanted = [s for s in sites if s["domain"] not in self._site_ids]
        if not wanted:
            return self._site_ids
        with self.engine.begin() as conn:
            self._load_site_ids(conn, [s["domain"] for s in wanted])
            missing = [s for s in wanted if s["domain"] not in self._site_ids]
            if missing:
                now = datetime.now(UTC)
                conn.execute(
                    insert(_sites),
                    [
                        {
                            "domain": s["domain"],
                            "rank": s.get("rank"),
                            "list_source": s.get("list_source"),
                            "category": s.get("category"),
                            "tokens": s.get("tokens"),
                            "added_at": now,
                        }
                        for s in missing
                    ],
                )
                self._load_site_ids(conn, [s["domain"] for s in missing])
            updates = [s for s in wanted if any(s.get(k) is not None for k in ("rank", "category", "tokens"))]
            for s in updates:
                vals = {k: s[k] for k in ("rank", "list_source", "category", "tokens") if s.get(k) is not None}
                conn.execute(update(_sites).where(_sites.c.domain == s["domain"]).values(**vals))
        return self._site_ids

    def _load_site_ids(self, conn: Connection, domains: list[str]) -> None:
        for i in range(0, len(domains), 500):
            chunk = domains[i : i + 500]
            for sid, dom in conn.execute(select(_sites.c.id, _sites.c.domain).where(_sites.c.domain.in_(chunk))):
                self._site_ids[dom] = sid

    def site_id(self, domain: str) -> int:
        """The id of a site, created if new."""
        sid = self._site_ids.get(domain)
        if sid is None:
            self.ensure_sites([{"domain": domain}])
            sid = self._site_ids[domain]
        return sid

    # -- bodies ------------------------------------------------------------------------------------------------
    def _body(self, conn: Connection, kind: str, data: bytes, truncated: bool) -> tuple[int, int | None, bool]:
        """(body id, ruleset id, new?) for a body, storing it if unseen."""
        sha = hashlib.sha256(data).hexdigest()
        hit = self._body_ids.get(sha)
        if hit is not None:
            self._body_ids.move_to_end(sha)
            return hit[0], hit[1], False
        row = conn.execute(select(_bodies.c.id, _bodies.c.ruleset_id).where(_bodies.c.sha256 == sha)).first()
        if row is not None:
            ruleset_id = row[1]
            if ruleset_id is None and kind == "robots":
                ruleset_id = self._ruleset(conn, data)
                conn.execute(update(_bodies).where(_bodies.c.id == row[0]).values(ruleset_id=ruleset_id))
            self._remember(sha, row[0], ruleset_id)
            return row[0], ruleset_id, False
        kept = data[:BODY_CAP]
        ruleset_id = self._ruleset(conn, kept) if kind == "robots" else None
        res = conn.execute(
            insert(_bodies).values(
                sha256=sha,
                size=len(data),
                stored_size=len(kept),
                truncated=truncated or len(data) > BODY_CAP,
                compression="zlib",
                content=zlib.compress(kept, 6),
                ruleset_id=ruleset_id,
            )
        )
        body_id = int(res.inserted_primary_key[0])  # type: ignore[index]
        self._remember(sha, body_id, ruleset_id)
        return body_id, ruleset_id, True

    def _remember(self, sha: str, body_id: int, ruleset_id: int | None) -> None:
        self._body_ids[sha] = (body_id, ruleset_id)
        if len(self._body_ids) > self._cache_size:
            self._body_ids.popitem(last=False)

    def _ruleset(self, conn: Connection, data: bytes) -> int:
        rules = parse_robots(data)
        digest = ruleset_digest(rules)
        rid = self._ruleset_ids.get(digest)
        if rid is not None:
            return rid
        row = conn.execute(select(_rulesets.c.id).where(_rulesets.c.sha256 == digest)).first()
        if row is None:
            res = conn.execute(
                insert(_rulesets).values(sha256=digest, groups=len(rules.groups), rules=rules.rule_count)
            )
            rid = int(res.inserted_primary_key[0])  # type: ignore[index]
        else:
            rid = int(row[0])
        if len(self._ruleset_ids) < 1_000_000:
            self._ruleset_ids[digest] = rid
        return rid

    # -- versions ----------------------------------------------------------------------------------------------
    def record(self, domain: str, observations: Iterable[Observation], *, continuous: bool = False) -> RecordResult:
        """Record one site's observations (any kinds, any order) in one transaction.

        ``continuous=True`` (archive imports) means the observations are the site's complete change history:
        a version is taken to have stayed in place until the next one appeared, so its ``last_seen`` is moved
        up to the next version's first day.
        """
        result = RecordResult()
        by_kind: dict[str, list[Observation]] = {}
        for o in observations:
            by_kind.setdefault(o.kind, []).append(o)
        if not by_kind:
            return result
        sid = self.site_id(domain)
        with self.engine.begin() as conn:
            for kind, obs in by_kind.items():
                result.add(self._record_kind(conn, sid, kind, sorted(obs, key=lambda o: o.seen_at), continuous))
        return result

    def _record_kind(
        self, conn: Connection, sid: int, kind: str, obs: list[Observation], continuous: bool
    ) -> RecordResult:
        result = RecordResult()
        c = _versions.c
        rows = conn.execute(
            select(
                c.id, c.status, c.http_status, c.body_id, c.signals, c.first_seen, c.last_seen, c.valid_to,
                c.observations,
            )
            .where(c.site_id == sid, c.kind == kind)
            .order_by(c.first_seen)
        ).all()  # fmt: skip
        versions = [
            _V(r.id, (r.status, r.http_status, r.body_id, r.signals), _aware(r.first_seen), _aware(r.last_seen),
               _aware(r.valid_to) if r.valid_to else None, r.observations)
            for r in rows
        ]  # fmt: skip
        for o in obs:
            at = _aware(o.seen_at)
            body_id = ruleset_id = None
            if o.body is not None and kind in BODY_KINDS:
                body_id, ruleset_id, new_body = self._body(conn, kind, o.body, o.truncated)
                result.new_bodies += new_body
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
                None, key, at, at, nxt.first_seen if nxt is not None else None, 1,
                row={
                    "site_id": sid, "kind": kind, "status": o.status, "http_status": o.http_status,
                    "error": (o.error or None) and o.error[:1000], "body_id": body_id, "ruleset_id": ruleset_id,
                    "signals": signals,
                    "headers": json.dumps(o.headers, sort_keys=True) if o.headers else None,
                    "final_url": o.final_url, "source": o.source, "run_id": self.run_id,
                },
                dirty=True,
            )  # fmt: skip
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
        self._flush(conn, versions)
        return result

    def _flush(self, conn: Connection, versions: list[_V]) -> None:
        new = [v for v in versions if v.id is None]
        changed = [v for v in versions if v.id is not None and v.dirty]
        if new:
            conn.execute(
                insert(_versions),
                [
                    {**v.row, "first_seen": v.first_seen, "last_seen": v.last_seen, "valid_to": v.valid_to,
                     "observations": v.observations}
                    for v in new
                ],
            )  # fmt: skip
        for v in changed:
            conn.execute(
                update(_versions)
                .where(_versions.c.id == v.id)
                .values(
                    first_seen=v.first_seen, last_seen=v.last_seen, valid_to=v.valid_to, observations=v.observations
                )
            )


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
