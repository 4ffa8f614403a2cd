"""Every read of the history: the one place analysis, reports, the CLI and (later) the dashboard get data from.

Functions take an engine and return plain values (dataclasses, tuples), never rows or SQL; nothing outside the
store package writes SQL. "As of date D" is ``first_seen <= D AND (valid_to IS NULL OR valid_to > D)``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Column, Engine, Integer, MetaData, Table, and_, bindparam, exists, func, select, text

from tracker.records.json import JsonObject
from tracker.records.vocabulary import UNREACHABLE, SignalName, StanceName
from tracker.rules.robots import PARSER_VERSION, RobotsRules, parse_robots
from tracker.rules.signals.preferences import ADOPTION, ADOPTION_VERSION
from tracker.store.engine import as_utc, sqlite_file
from tracker.store.models import (
    Adoption,
    Body,
    ChangeEvent,
    CrawlRun,
    CrawlRunSite,
    Evaluation,
    RuleSet,
    Site,
    SiteLabel,
    SiteList,
    SiteListMember,
    SiteWeight,
    Version,
    VersionEvent,
)

__all__ = [
    "ADOPTIONS_VERSION",
    "DataStamp",
    "EvaluationRow",
    "LatestState",
    "ReleaseSite",
    "ResourceSpan",
    "RobotsSource",
    "RobotsText",
    "SiteInfo",
    "StoredResource",
    "adoption_parts",
    "adoptions",
    "adoptions_missing",
    "bodies_by_id",
    "body_bytes",
    "change_event_rows",
    "current_signals",
    "data_stamp",
    "domains_of",
    "evaluations",
    "find_site",
    "latest_states",
    "observation_bounds",
    "release_sites",
    "resource_spans",
    "robots_event_counts",
    "robots_sources",
    "robots_texts",
    "robots_verdict",
    "robots_version_spans",
    "ruleset_samples",
    "rulesets_missing",
    "site_domains",
    "site_versions",
    "sites_for_weights",
    "sites_observed",
    "stale_current_counts",
    "stored_evaluations",
    "verdict_of",
    "version",
    "version_sources",
    "version_statuses",
]

_versions = Version.__table__  # type: ignore[attr-defined]
_sites = Site.__table__  # type: ignore[attr-defined]
_bodies = Body.__table__  # type: ignore[attr-defined]
_rulesets = RuleSet.__table__  # type: ignore[attr-defined]
_evals = Evaluation.__table__  # type: ignore[attr-defined]
_events = VersionEvent.__table__  # type: ignore[attr-defined]
_adoptions = Adoption.__table__  # type: ignore[attr-defined]
_changes = ChangeEvent.__table__  # type: ignore[attr-defined]
_labels = SiteLabel.__table__  # type: ignore[attr-defined]
_lists = SiteList.__table__  # type: ignore[attr-defined]
_members = SiteListMember.__table__  # type: ignore[attr-defined]

#: The rules version of the stored adoption readings (``adoptions``): a signal's reading changes with either.
ADOPTIONS_VERSION = f"{ADOPTION_VERSION}.{PARSER_VERSION}"

#: (root_allowed, named, stance) of an agent under a ruleset.
EvaluationRow = tuple[bool, bool, str]


def body_bytes(content: bytes | None, compression: str | None) -> bytes | None:
    """A stored body's bytes (decompressed)."""
    if content is None:
        return None
    return zlib.decompress(content) if compression == "zlib" else bytes(content)


def _day(v: object) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """A tracked site."""

    id: int
    domain: str
    rank: int | None
    category: str | None
    list_source: str | None
    tokens: float | None


@dataclass(frozen=True, slots=True)
class StoredResource:
    """One version of one resource of a site (it satisfies :class:`tracker.rules.signals.preferences.Evidence`)."""

    kind: str
    status: str
    http_status: int | None = None
    body: bytes | None = None
    truncated: bool = False
    signals: JsonObject | None = None
    headers: dict[str, str] | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    valid_to: datetime | None = None
    observations: int = 1
    source: str = "live"
    error: str | None = None
    final_url: str | None = None
    ruleset_id: int | None = None
    body_id: int | None = None
    version_id: int | None = None


@dataclass(frozen=True, slots=True)
class LatestState:
    """A site now: its robots.txt version and the current version of each other resource kind observed."""

    site: SiteInfo
    resources: dict[str, StoredResource]

    @property
    def robots(self) -> StoredResource:
        """The current robots.txt version."""
        return self.resources["robots"]


_SITE_COLS = (_sites.c.id, _sites.c.domain, _sites.c.rank, _sites.c.category, _sites.c.list_source, _sites.c.tokens)
_V = _versions.c
_B = _bodies.c
_RESOURCE_COLS = (
    _V.kind,
    _V.status,
    _V.http_status,
    _B.content,
    _B.compression,
    _B.truncated,
    _V.signals,
    _V.headers,
    _V.first_seen,
    _V.last_seen,
    _V.valid_to,
    _V.observations,
    _V.source,
    _V.error,
    _V.final_url,
    _V.ruleset_id,
    _V.body_id,
    _V.id,
)


def _resource(row: Sequence[Any], *, with_body: bool = True) -> StoredResource:
    (
        kind,
        status,
        http_status,
        content,
        compression,
        truncated,
        signals,
        headers,
        first,
        last,
        valid,
        obs,
        source,
        error,
        final_url,
        rid,
        bid,
        vid,
    ) = row
    return StoredResource(
        kind=kind,
        status=status,
        http_status=http_status,
        body=body_bytes(content, compression) if with_body else None,
        truncated=bool(truncated),
        signals=json.loads(signals) if signals else None,
        headers=json.loads(headers) if headers else None,
        first_seen=as_utc(first),
        last_seen=as_utc(last),
        valid_to=as_utc(valid),
        observations=obs,
        source=source,
        error=error,
        final_url=final_url,
        ruleset_id=rid,
        body_id=bid,
        version_id=vid,
    )


def find_site(engine: Engine, domain: str) -> SiteInfo | None:
    """The site with this domain, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(*_SITE_COLS).where(_sites.c.domain == domain)).first()
    return SiteInfo(*row) if row else None


def latest_states(engine: Engine, *, domain: str | None = None) -> Iterator[LatestState]:
    """Every site with a robots.txt observation (best rank first), with the current version of each resource."""
    joined = _versions.join(_sites, _sites.c.id == _V.site_id).outerjoin(_bodies, _B.id == _V.body_id)
    q = (
        select(*_SITE_COLS, *_RESOURCE_COLS)
        .select_from(joined)
        .where(_V.kind == "robots", _V.valid_to.is_(None))
        .order_by(_sites.c.rank.is_(None), _sites.c.rank, _sites.c.domain)
    )
    if domain is not None:
        q = q.where(_sites.c.domain == domain)
    others = (
        select(*_RESOURCE_COLS)
        .select_from(_versions.outerjoin(_bodies, _B.id == _V.body_id))
        .where(_V.site_id == bindparam("sid"), _V.kind != "robots", _V.valid_to.is_(None))
    )
    with engine.connect() as conn, engine.connect() as side:
        for row in conn.execute(q):
            site = SiteInfo(*row[:6])
            resources = {"robots": _resource(row[6:])}
            for other in side.execute(others, {"sid": site.id}):
                resources[other[0]] = _resource(other)
            yield LatestState(site, resources)


def current_signals(engine: Engine, kind: str) -> Iterator[tuple[int, JsonObject]]:
    """(site id, signals) of every site's current version of a kind that carries signals (homepage, terms)."""
    q = select(_V.site_id, _V.signals).where(_V.kind == kind, _V.valid_to.is_(None), _V.signals.is_not(None))
    with engine.connect() as conn:
        for sid, raw in conn.execute(q):
            yield sid, json.loads(raw)


def site_versions(
    engine: Engine, site_id: int, *, kind: str | None = None, bodies: bool = False
) -> list[StoredResource]:
    """Every version of a site's resources (or of one kind), by kind then date; bodies only when asked."""
    q = (
        select(*_RESOURCE_COLS)
        .select_from(_versions.outerjoin(_bodies, _B.id == _V.body_id))
        .where(_V.site_id == site_id)
        .order_by(_V.kind, _V.first_seen)
    )
    if kind is not None:
        q = q.where(_V.kind == kind)
    with engine.connect() as conn:
        return [_resource(row, with_body=bodies) for row in conn.execute(q)]


def version(engine: Engine, version_id: int, *, body: bool = True) -> StoredResource | None:
    """One version by id (with its body unless told not to), or None."""
    joined = _versions.outerjoin(_bodies, _B.id == _V.body_id)
    q = select(*_RESOURCE_COLS).select_from(joined).where(_V.id == version_id)
    with engine.connect() as conn:
        row = conn.execute(q).first()
    return _resource(row, with_body=body) if row else None


def domains_of(engine: Engine, site_ids: Sequence[int]) -> list[str]:
    """The domains of these sites."""
    out: list[str] = []
    with engine.connect() as conn:
        for chunk in _id_chunks(list(site_ids)):
            if chunk:
                out += conn.execute(select(_sites.c.domain).where(_sites.c.id.in_(chunk))).scalars()
    return sorted(out)


def site_domains(engine: Engine, prefix: str = "", limit: int = 50) -> list[str]:
    """Domains starting with ``prefix`` (for a site search box), best rank first."""
    q = select(_sites.c.domain).order_by(_sites.c.rank.is_(None), _sites.c.rank, _sites.c.domain).limit(limit)
    if prefix:
        q = q.where(_sites.c.domain.like(prefix.lower().replace("%", "").replace("_", "\\_") + "%", escape="\\"))
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())


class ResourceSpan(NamedTuple):
    """One version of a site's resource, without its body, by UTC day: what an adoption series reads."""

    site_id: int
    kind: str
    status: str
    body_id: int | None
    signals: str | None  # JSON, as stored (equal texts read alike: callers cache by it)
    first_day: date
    until_day: date | None  # the day the next version began (None: the current version)
    last_day: date


def _utc_day(value: datetime) -> date:
    """The UTC day of a datetime read back from the store (naive from SQLite: already UTC)."""
    return value.date() if value.tzinfo is None else value.astimezone(UTC).date()


def resource_spans(
    engine: Engine, kind: str, *, category: str | None = None, site_ids: Sequence[int] | None = None
) -> Iterator[ResourceSpan]:
    """Every version of a kind (of the sites of a category, or of these sites), without bodies."""
    joined = _versions.join(_sites, _sites.c.id == _V.site_id)
    q = select(_V.site_id, _V.status, _V.body_id, _V.signals, _V.first_seen, _V.valid_to, _V.last_seen)
    q = q.select_from(joined).where(_V.kind == kind)
    if category is not None:
        q = q.where(_sites.c.category == category)
    if site_ids is not None:
        q = q.where(_V.site_id.in_(list(site_ids)))
    with engine.connect() as conn:
        for sid, status, bid, signals, first, valid, last in conn.execute(q):
            yield ResourceSpan(
                sid,
                kind,
                status,
                bid,
                signals,
                _utc_day(first),
                _utc_day(valid) if valid is not None else None,
                _utc_day(last),
            )


def version_statuses(engine: Engine, kind: str) -> set[str]:
    """The statuses the versions of a kind have (empty: the kind was never fetched)."""
    with engine.connect() as conn:
        return set(conn.execute(select(_V.status).where(_V.kind == kind).distinct()).scalars())


def bodies_by_id(engine: Engine, ids: Sequence[int]) -> Iterator[tuple[int, bytes, bool]]:
    """(id, body, truncated) of stored bodies, in chunks."""
    ids = sorted(ids)
    with engine.connect() as conn:
        for i in range(0, len(ids), 500):
            q = select(_B.id, _B.content, _B.compression, _B.truncated).where(_B.id.in_(ids[i : i + 500]))
            for bid, content, compression, truncated in conn.execute(q):
                yield bid, body_bytes(content, compression) or b"", bool(truncated)


def adoptions(engine: Engine, signal: str, version: str, body_ids: Sequence[int] | None = None) -> dict[int, bool]:
    """body id → whether it adopts the signal, as computed before under this rules version (of every body, or of
    the given ones)."""
    a = _adoptions.c
    out: dict[int, bool] = {}
    with engine.connect() as conn:
        for chunk in _id_chunks(body_ids):
            q = select(a.body_id, a.adopts).where(a.signal == signal, a.version == version)
            if chunk is not None:
                q = q.where(a.body_id.in_(chunk))
            out.update((bid, bool(v)) for bid, v in conn.execute(q))
    return out


def adoptions_missing(engine: Engine, signal: str, kind: str, version: str) -> list[int]:
    """Ids of the bodies of ok versions of a kind with no stored adoption reading of a signal under this version."""
    a = _adoptions.c
    q = (
        select(_V.body_id)
        .where(_V.kind == kind, _V.status == "ok", _V.body_id.is_not(None))
        .where(~exists().where(and_(a.body_id == _V.body_id, a.signal == signal, a.version == version)))
        .distinct()
    )
    with engine.connect() as conn:
        return sorted(conn.execute(q).scalars())


def adoption_parts(engine: Engine, signal: SignalName | str, body_ids: Sequence[int]) -> dict[int, bool]:
    """body id → whether it adopts the signal, read from the bodies now (in memory; nothing stored)."""
    adoption = ADOPTION[signal]  # type: ignore[index]
    kind = adoption.body_kind
    if kind is None:
        return {}
    return {
        bid: bool(adoption.part(kind, StoredResource(kind, "ok", body=body, truncated=truncated)))
        for bid, body, truncated in bodies_by_id(engine, body_ids)
    }


def observation_bounds(engine: Engine) -> tuple[date, date] | None:
    """The first and the last day a robots.txt was observed, or None for an empty history."""
    with engine.connect() as conn:
        # The newest observation is always a current version's last_seen: (kind, valid_to, last_seen) index.
        last = conn.execute(select(func.max(_V.last_seen)).where(_V.kind == "robots", _V.valid_to.is_(None))).scalar()
        first = conn.execute(select(func.min(_V.first_seen)).where(_V.kind == "robots")).scalar()
    if last is None or first is None:
        return None
    return _day(first), _day(last)


def sites_for_weights(engine: Engine) -> list[SiteInfo]:
    """Every site with its rank and token count (for weighted series)."""
    with engine.connect() as conn:
        return [SiteInfo(*row) for row in conn.execute(select(*_SITE_COLS))]


def robots_event_counts(
    engine: Engine, codes: Mapping[int, int], *, category: str | None = None
) -> list[tuple[date, str, int, int, int]]:
    """(day, status, code, starts, ends) from version_events, with each ruleset mapped to the caller's state code
    (-1 for rulesets not in ``codes``): a series over a million sites is a grouped query over a small table."""
    tmp = Table(
        "tmp_ruleset_state",
        MetaData(),
        Column("ruleset_id", Integer, primary_key=True),
        Column("code", Integer, nullable=False),
        prefixes=["TEMPORARY"],
    )
    e = _events.c
    out: list[tuple[date, str, int, int, int]] = []
    with engine.connect() as conn:
        tmp.drop(conn, checkfirst=True)
        tmp.create(conn)
        try:
            if codes:
                conn.execute(tmp.insert(), [{"ruleset_id": r, "code": c} for r, c in codes.items()])
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
                out.append((_day(d), status, int(cd), int(starts or 0), int(ends or 0)))
        finally:
            tmp.drop(conn, checkfirst=True)
            conn.commit()
    return out


def stale_current_counts(
    engine: Engine, before: date, *, category: str | None = None
) -> list[tuple[str, int | None, date, int]]:
    """(status, ruleset, day last seen, count) of current robots.txt versions last seen before ``before``."""
    cutoff = datetime.combine(before, datetime.min.time(), UTC)
    day = func.date(_V.last_seen)
    q = (
        select(_V.status, _V.ruleset_id, day, func.count())
        .select_from(_versions.join(_sites, _sites.c.id == _V.site_id))
        .where(_V.kind == "robots", _V.valid_to.is_(None), _V.last_seen < cutoff)
        .group_by(_V.status, _V.ruleset_id, day)
    )
    if category is not None:
        q = q.where(_sites.c.category == category)
    with engine.connect() as conn:
        return [(status, rid, _day(d), int(n)) for status, rid, d, n in conn.execute(q)]


def robots_version_spans(
    engine: Engine, *, category: str | None = None, max_age_days: int = 90, site_ids: Sequence[int] | None = None
) -> Iterator[tuple[str, int | None, int, date, date]]:
    """(status, ruleset, site, first day, end day) of every robots.txt version (of these sites); a current version
    ends ``max_age_days`` after it was last seen (for series where each site carries its own weight)."""
    q = (
        select(_V.status, _V.ruleset_id, _V.site_id, _V.first_seen, _V.valid_to, _V.last_seen)
        .select_from(_versions.join(_sites, _sites.c.id == _V.site_id))
        .where(_V.kind == "robots")
    )
    if category is not None:
        q = q.where(_sites.c.category == category)
    if site_ids is not None:
        q = q.where(_V.site_id.in_(list(site_ids)))
    with engine.connect() as conn:
        for status, rid, sid, first, valid, last in conn.execute(q):
            end = _day(valid) if valid is not None else _day(last) + timedelta(days=max_age_days)
            yield status, rid, sid, _day(first), end


# -- evaluations ------------------------------------------------------------------------------------------------
# The writer stores each new ruleset's evaluations for the agents it evaluates (tracker.store.writer) and
# ``db migrate`` recomputes them when PARSER_VERSION changes; these functions only read. What is not stored (an
# agent outside the registry, a store written by an older parser) is evaluated here in memory and not written.
def verdict_of(rules: RobotsRules, agent: str) -> EvaluationRow:
    """(root_allowed, named, stance) of an agent under parsed rules: what an evaluation row holds."""
    st = rules.stance(agent)
    return (st.root_allowed, st.named, st.stance)


def robots_verdict(
    status: str, ruleset_id: int | None, evaluation: EvaluationRow | None
) -> tuple[bool, bool, StanceName | str]:
    """(allowed_root, named, stance) of an agent under a stored robots.txt version (its status and ruleset)."""
    if status == "ok" and ruleset_id:
        return evaluation if evaluation else (True, False, "allowed")
    if status in UNREACHABLE:
        return (False, False, "unreachable")
    return (True, False, "no_robots")


def _id_chunks(ids: Sequence[int] | None, n: int = 5000) -> list[list[int] | None]:
    """``ids`` in chunks small enough for one IN (…); [None] for "every row"."""
    if ids is None:
        return [None]
    ids = sorted(set(ids))
    return [ids[i : i + n] for i in range(0, len(ids), n)]


def rulesets_missing(
    engine: Engine, agents: Sequence[str], parser_version: str, ruleset_ids: Sequence[int] | None = None
) -> dict[int, list[str]]:
    """ruleset id → the agents (lower case) it has no evaluation for under this parser version (of every ruleset,
    or of the given ones)."""
    todo: dict[int, list[str]] = {}
    with engine.connect() as conn:
        for chunk in _id_chunks(ruleset_ids):
            for agent in agents:
                missing = select(_rulesets.c.id).where(
                    ~exists().where(
                        and_(
                            _evals.c.ruleset_id == _rulesets.c.id,
                            _evals.c.agent == agent,
                            _evals.c.parser_version == parser_version,
                        )
                    )
                )
                if chunk is not None:
                    missing = missing.where(_rulesets.c.id.in_(chunk))
                for (rid,) in conn.execute(missing):
                    todo.setdefault(rid, []).append(agent)
    return todo


def ruleset_samples(engine: Engine, ruleset_ids: Sequence[int]) -> Iterator[tuple[int, bytes, bool]]:
    """(ruleset id, body, truncated) of one stored body per ruleset: every body of a ruleset evaluates alike."""
    ids = sorted(ruleset_ids)
    with engine.connect() as conn:
        for i in range(0, len(ids), 500):
            q = (
                select(_B.ruleset_id, _B.content, _B.compression, _B.truncated)
                .where(_B.ruleset_id.in_(ids[i : i + 500]))
                .order_by(_B.ruleset_id, _B.id)
            )
            seen: set[int] = set()
            for rid, content, compression, truncated in conn.execute(q):
                if rid not in seen:
                    seen.add(rid)
                    yield rid, body_bytes(content, compression) or b"", bool(truncated)


def stored_evaluations(
    engine: Engine, agents: Sequence[str], parser_version: str, ruleset_ids: Sequence[int] | None = None
) -> dict[str, dict[int, EvaluationRow]]:
    """agent (lower case) → ruleset id → (root_allowed, named, stance) as stored by this parser version, of every
    ruleset or of the given ones (nothing computed)."""
    out: dict[str, dict[int, EvaluationRow]] = {a: {} for a in agents}
    with engine.connect() as conn:
        for chunk in _id_chunks(ruleset_ids):
            q = select(
                _evals.c.agent, _evals.c.ruleset_id, _evals.c.root_allowed, _evals.c.named, _evals.c.stance
            ).where(_evals.c.agent.in_(list(agents)), _evals.c.parser_version == parser_version)
            if chunk is not None:
                q = q.where(_evals.c.ruleset_id.in_(chunk))
            for agent, rid, root_allowed, named, stance in conn.execute(q):
                out[agent][rid] = (bool(root_allowed), bool(named), stance)
    return out


def evaluations(
    engine: Engine, agents: Iterable[str], ruleset_ids: Sequence[int] | None = None
) -> dict[str, dict[int, EvaluationRow]]:
    """agent (lower case) → ruleset id → (root_allowed, named, stance), of every ruleset or of the given ones: the
    stored evaluations of this parser version, and what is not stored evaluated in memory (never written)."""
    wanted = sorted({a.lower() for a in agents})
    out = stored_evaluations(engine, wanted, PARSER_VERSION, ruleset_ids)
    if not wanted:
        return out
    if ruleset_ids is None:
        with engine.connect() as conn:
            ids = set(conn.execute(select(_rulesets.c.id)).scalars())
    else:
        ids = set(ruleset_ids)
    todo: dict[int, list[str]] = {}
    for agent in wanted:
        for rid in ids.difference(out[agent]):
            todo.setdefault(rid, []).append(agent)
    for rid, body, truncated in ruleset_samples(engine, list(todo)):
        rules = parse_robots(body, truncated=truncated)
        for agent in todo[rid]:
            out[agent][rid] = verdict_of(rules, agent)
    return out


def sites_observed(engine: Engine, kind: str) -> int:
    """How many sites have at least one version of a resource kind (any status): the forecast's use-preference
    scenario needs homepages, and a robots.txt-only history has none."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count(func.distinct(_V.site_id))).where(_V.kind == kind)).scalar() or 0)


class DataStamp(NamedTuple):
    """What identifies the store's data as a reader sees it: changes whenever a run, a version, a change event, a
    label, a weight or a list member is added (and, for an SQLite file, whenever the file is written at all)."""

    schema: str | None
    last_run: tuple[int, str, datetime | None] | None
    last_finished: datetime | None
    last_version: int | None
    data_through: datetime | None
    last_change: int | None
    counts: tuple[int, ...]
    file: tuple[tuple[int, int], ...]


def data_stamp(engine: Engine) -> DataStamp:
    """The store's :class:`DataStamp`: a few indexed maxima and small counts, cheap enough to read every second."""
    runs = CrawlRun.__table__  # type: ignore[attr-defined]
    changes = ChangeEvent.__table__  # type: ignore[attr-defined]
    small = [
        _sites,
        SiteLabel.__table__,  # type: ignore[attr-defined]
        SiteWeight.__table__,  # type: ignore[attr-defined]
        SiteListMember.__table__,  # type: ignore[attr-defined]
    ]
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        run = conn.execute(select(runs.c.id, runs.c.status, runs.c.finished_at).order_by(runs.c.id.desc()).limit(1))
        last = run.first()
        finished = conn.execute(select(func.max(runs.c.finished_at))).scalar()
        version = conn.execute(select(func.max(_V.id))).scalar()
        through = conn.execute(select(func.max(_V.last_seen)).where(_V.kind == "robots", _V.valid_to.is_(None)))
        last_seen = through.scalar()
        change = conn.execute(select(func.max(changes.c.id))).scalar()
        counts = tuple(int(conn.execute(select(func.count()).select_from(t)).scalar() or 0) for t in small)
    stamps: list[tuple[int, int]] = []
    file = sqlite_file(engine.url) if engine.dialect.name == "sqlite" else None
    for path in [file, file.with_name(file.name + "-wal")] if file is not None else []:
        try:
            st = path.stat()
        except OSError:
            continue
        # An empty write-ahead log says nothing: SQLite touches it whenever a connection opens or closes, so its time
        # would make every process see another version of the same data (the dashboard's kept results, ETags).
        stamps.append((st.st_mtime_ns if st.st_size else 0, st.st_size))
    return DataStamp(
        schema,
        (int(last[0]), str(last[1]), as_utc(last[2])) if last is not None else None,
        as_utc(finished),
        version,
        as_utc(last_seen),
        change,
        counts,
        tuple(stamps),
    )


# -- releases (tracker.publishing.release): the whole database, a chunk of sites at a time ---------------------------
@dataclass(frozen=True, slots=True)
class ReleaseSite:
    """A site as a release describes it: its rank (its own, and its best in a tracked list), the tracked lists it is
    in, and each source's category label (source → category)."""

    id: int
    domain: str
    rank: int | None
    list_rank: int | None
    list_source: str | None
    category: str | None
    lists: tuple[str, ...]
    labels: dict[str, str]


def release_sites(
    engine: Engine, *, lists: Sequence[str] | None = None, after: str | None = None, limit: int = 500
) -> list[ReleaseSite]:
    """Up to ``limit`` sites (of these tracked lists, or every site) whose domain sorts after ``after``, by domain:
    a release reads the store in such chunks, so its memory does not grow with the store."""
    q = select(_sites.c.id, _sites.c.domain, _sites.c.rank, _sites.c.list_source, _sites.c.category)
    if after is not None:
        q = q.where(_sites.c.domain > after)
    if lists:
        member = (
            select(_members.c.site_id)
            .select_from(_members.join(_lists, _lists.c.id == _members.c.list_id))
            .where(_members.c.site_id == _sites.c.id, _lists.c.name.in_(list(lists)))
            .exists()
        )
        q = q.where(member)
    q = q.order_by(_sites.c.domain).limit(limit)
    with engine.connect() as conn:
        rows = list(conn.execute(q))
        ids = [r[0] for r in rows]
        in_lists: dict[int, list[tuple[str, int | None]]] = {}
        labels: dict[int, dict[str, str]] = {}
        if ids:
            mq = (
                select(_members.c.site_id, _lists.c.name, _members.c.rank)
                .select_from(_members.join(_lists, _lists.c.id == _members.c.list_id))
                .where(_members.c.site_id.in_(ids))
            )
            for sid, name, rank in conn.execute(mq):
                in_lists.setdefault(sid, []).append((name, rank))
            lq = select(_labels.c.site_id, _labels.c.source, _labels.c.category).where(_labels.c.site_id.in_(ids))
            for sid, source, category in conn.execute(lq):
                labels.setdefault(sid, {})[source] = category
    out = []
    for sid, domain, rank, list_source, category in rows:
        member_of = sorted(in_lists.get(sid, []))
        ranks = [r for _, r in member_of if r is not None]
        out.append(
            ReleaseSite(
                sid,
                domain,
                rank,
                min(ranks) if ranks else None,
                list_source,
                category,
                tuple(name for name, _ in member_of),
                labels.get(sid, {}),
            )
        )
    return out


def change_event_rows(
    engine: Engine, site_ids: Sequence[int], *, since: datetime | None = None, until: datetime | None = None
) -> list[tuple[int, str, str, str, str, str, str, datetime, datetime | None, str]]:
    """(site id, kind, signal, agent, before, after, change, at, previous_seen, source) of these sites' stored change
    events from ``since`` (included) to ``until`` (excluded), by site, time, signal and agent."""
    e = _changes.c
    q = select(e.site_id, e.kind, e.signal, e.agent, e.before, e.after, e.change, e.at, e.previous_seen, e.source)
    q = q.where(e.site_id.in_(list(site_ids))).order_by(e.site_id, e.at, e.signal, e.agent)
    if since is not None:
        q = q.where(e.at >= since)
    if until is not None:
        q = q.where(e.at < until)
    with engine.connect() as conn:
        return [
            (sid, kind, signal, agent, before, after, change, as_utc(at), as_utc(prev), source)
            for sid, kind, signal, agent, before, after, change, at, prev, source in conn.execute(q)
        ]


class RobotsText(NamedTuple):
    """One robots.txt version of a site with its body (decompressed)."""

    site_id: int
    first_seen: datetime
    last_seen: datetime
    valid_to: datetime | None
    status: str
    http_status: int | None
    sha256: str
    truncated: bool
    body: bytes


def robots_texts(engine: Engine, site_ids: Sequence[int]) -> list[RobotsText]:
    """Every robots.txt version of these sites that has a body, by site and date."""
    q = (
        select(
            _V.site_id,
            _V.first_seen,
            _V.last_seen,
            _V.valid_to,
            _V.status,
            _V.http_status,
            _B.sha256,
            _B.truncated,
            _B.content,
            _B.compression,
        )
        .select_from(_versions.join(_bodies, _B.id == _V.body_id))
        .where(_V.kind == "robots", _V.site_id.in_(list(site_ids)))
        .order_by(_V.site_id, _V.first_seen)
    )
    with engine.connect() as conn:
        return [
            RobotsText(
                sid,
                as_utc(first),
                as_utc(last),
                as_utc(valid),
                status,
                http,
                sha,
                bool(truncated),
                body_bytes(content, compression) or b"",
            )
            for sid, first, last, valid, status, http, sha, truncated, content, compression in conn.execute(q)
        ]


class RobotsSource(NamedTuple):
    """Where robots.txt versions came from: the runs of one kind and source (an archive path, a site list, a
    schedule, a Wayback range), or versions recorded outside any run (``runs`` 0, ``source`` None)."""

    kind: str  # live / archive / wayback
    source: str | None
    runs: int
    sites: int  # the sites the runs recorded (outside any run: the sites with versions)
    versions: int  # the robots.txt versions they recorded (a crawl that found nothing new records none)
    observed_from: datetime | None  # None: no version recorded
    observed_to: datetime | None
    run_from: datetime | None  # when the first run started (None: no run)
    run_to: datetime | None  # when the last run finished (or started, if none finished)


def robots_sources(engine: Engine) -> list[RobotsSource]:
    """Every source of the store's robots.txt versions, in the order the runs first happened (versions outside
    any run last): what a report cites as its data's provenance."""
    runs = CrawlRun.__table__  # type: ignore[attr-defined]
    run_sites = CrawlRunSite.__table__  # type: ignore[attr-defined]
    by_run = (
        select(
            runs.c.kind,
            runs.c.source,
            func.count(),
            func.min(runs.c.started_at),
            func.max(func.coalesce(runs.c.finished_at, runs.c.started_at)),
        )
        .group_by(runs.c.kind, runs.c.source)
        .order_by(func.min(runs.c.id))
    )
    sites_by_run = (
        select(runs.c.kind, runs.c.source, func.count(func.distinct(run_sites.c.site_id)))
        .select_from(run_sites.join(runs, runs.c.id == run_sites.c.run_id))
        .group_by(runs.c.kind, runs.c.source)
    )
    # From the versions' side, each looks its run up by primary key: one scan of versions, no index on run_id needed.
    by_version = (
        select(
            runs.c.kind,
            runs.c.source,
            _V.source,
            func.count(),
            func.count(func.distinct(_V.site_id)),
            func.min(_V.first_seen),
            func.max(_V.last_seen),
        )
        .select_from(_versions.outerjoin(runs, runs.c.id == _V.run_id))
        .where(_V.kind == "robots")
        .group_by(runs.c.kind, runs.c.source, _V.source)
    )
    with engine.connect() as conn:
        run_rows = conn.execute(by_run).all()
        recorded = {(kind, source): int(n) for kind, source, n in conn.execute(sites_by_run)}
        version_rows = conn.execute(by_version).all()
    found = {(kind, source): row for kind, source, *row in version_rows if kind is not None}
    out = []
    for kind, source, n, started, finished in run_rows:
        v = found.get((kind, source))
        out.append(
            RobotsSource(
                kind,
                source,
                int(n),
                recorded.get((kind, source), 0),
                int(v[1]) if v else 0,
                as_utc(v[3]) if v else None,
                as_utc(v[4]) if v else None,
                as_utc(started),
                as_utc(finished),
            )
        )
    for kind, _source, vsource, n, sites, first, last in sorted(version_rows, key=lambda r: r[2]):
        if kind is None:
            out.append(RobotsSource(vsource, None, 0, int(sites), int(n), as_utc(first), as_utc(last), None, None))
    return out


def version_sources(engine: Engine) -> dict[str, int]:
    """How many robots.txt versions each source (live, archive, wayback) recorded."""
    q = select(_V.source, func.count()).where(_V.kind == "robots").group_by(_V.source).order_by(_V.source)
    with engine.connect() as conn:
        return {source: int(n) for source, n in conn.execute(q)}
