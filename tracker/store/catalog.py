"""What the store knows about sites besides their history: the tracked lists (panel and top-N), category labels
from each source, token weights, the web-archive captures already fetched, and facts about the database itself
(``store_meta``). Reads and writes, SQL kept here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, func, insert, select, update

from tracker.store.engine import dialect_insert
from tracker.store.models import Body, Capture, Site, SiteLabel, SiteList, SiteListMember, SiteWeight, StoreMeta
from tracker.store.queries import body_bytes

__all__ = [
    "SIMULATED",
    "CaptureRow",
    "ListInfo",
    "NewCapture",
    "bodies_for_digests",
    "captures_of",
    "delete_list",
    "get_meta",
    "is_simulated",
    "label_rows",
    "list_members",
    "list_site_ids",
    "lists",
    "record_captures",
    "remove_members",
    "sample_inputs",
    "set_labels",
    "set_members",
    "set_meta",
    "set_weights",
    "tracked_sites",
    "upsert_list",
    "weight_names",
    "weight_rows",
]

_lists = SiteList.__table__  # type: ignore[attr-defined]
_members = SiteListMember.__table__  # type: ignore[attr-defined]
_sites = Site.__table__  # type: ignore[attr-defined]
_labels = SiteLabel.__table__  # type: ignore[attr-defined]
_weights = SiteWeight.__table__  # type: ignore[attr-defined]
_captures = Capture.__table__  # type: ignore[attr-defined]
_bodies = Body.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ListInfo:
    """A tracked list and how many sites it has."""

    id: int
    name: str
    kind: str
    source: str | None
    list_id: str | None
    list_date: str | None
    sites: int


@dataclass(frozen=True, slots=True)
class CaptureRow:
    """A capture already seen: what it was classified as, and its body if one was fetched."""

    timestamp: str
    statuscode: str
    digest: str | None
    status: str
    body_id: int | None


def _chunks(items: Sequence[object], n: int = 500) -> Iterable[Sequence[object]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


# -- lists --------------------------------------------------------------------------------------------------------
def upsert_list(
    engine: Engine, name: str, kind: str, *, source: str | None, list_id: str | None, list_date: str | None
) -> int:
    """Create a list, or update its source, id and date; return its id."""
    with engine.begin() as conn:
        row = conn.execute(select(_lists.c.id).where(_lists.c.name == name)).scalar()
        values = {"kind": kind, "source": source, "list_id": list_id, "list_date": list_date}
        if row is None:
            res = conn.execute(insert(_lists).values(name=name, added_at=datetime.now(UTC), **values))
            return int(res.inserted_primary_key[0])  # type: ignore[index]
        conn.execute(update(_lists).where(_lists.c.id == row).values(**values))
        return int(row)


def set_members(engine: Engine, list_id: int, ranks: Mapping[int, int | None], *, replace: bool) -> tuple[int, int]:
    """Put sites (site id → rank) in a list; ``replace`` drops members not given (a top-N moves). Returns
    (added, removed)."""
    with engine.begin() as conn:
        q = select(_members.c.site_id, _members.c.rank).where(_members.c.list_id == list_id)
        old: dict[int, int | None] = {sid: rank for sid, rank in conn.execute(q)}
        now = datetime.now(UTC)
        new = [{"list_id": list_id, "site_id": s, "rank": r, "added_at": now} for s, r in ranks.items() if s not in old]
        if new:
            conn.execute(insert(_members), new)
        for s, r in ranks.items():
            if s in old and old[s] != r:
                conn.execute(
                    update(_members).where(_members.c.list_id == list_id, _members.c.site_id == s).values(rank=r)
                )
        removed = [s for s in old if s not in ranks] if replace else []
        for chunk in _chunks(removed):
            conn.execute(delete(_members).where(_members.c.list_id == list_id, _members.c.site_id.in_(chunk)))
    return len(new), len(removed)


def remove_members(engine: Engine, list_id: int, domains: Sequence[str]) -> int:
    """Take sites out of a list (their history stays); return how many were in it."""
    n = 0
    with engine.begin() as conn:
        for chunk in _chunks(list(domains)):
            ids = select(_sites.c.id).where(_sites.c.domain.in_(chunk))
            res = conn.execute(delete(_members).where(_members.c.list_id == list_id, _members.c.site_id.in_(ids)))
            n += res.rowcount
    return n


def delete_list(engine: Engine, list_id: int) -> None:
    """Drop a list and its memberships (the sites and their history stay)."""
    with engine.begin() as conn:
        conn.execute(delete(_members).where(_members.c.list_id == list_id))
        conn.execute(delete(_lists).where(_lists.c.id == list_id))


def lists(engine: Engine) -> list[ListInfo]:
    """Every tracked list with its size."""
    n = func.count(_members.c.site_id)
    q = (
        select(_lists.c.id, _lists.c.name, _lists.c.kind, _lists.c.source, _lists.c.list_id, _lists.c.list_date, n)
        .select_from(_lists.outerjoin(_members, _members.c.list_id == _lists.c.id))
        .group_by(_lists.c.id)
        .order_by(_lists.c.id)
    )
    with engine.connect() as conn:
        return [ListInfo(*row) for row in conn.execute(q)]


def list_members(engine: Engine, list_id: int) -> list[tuple[str, int | None, str | None]]:
    """(domain, rank in the list, category) of a list's sites, best rank first."""
    q = (
        select(_sites.c.domain, _members.c.rank, _sites.c.category)
        .select_from(_members.join(_sites, _sites.c.id == _members.c.site_id))
        .where(_members.c.list_id == list_id)
        .order_by(_members.c.rank.is_(None), _members.c.rank, _sites.c.domain)
    )
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]


def tracked_sites(engine: Engine, list_ids: Sequence[int] | None = None) -> list[tuple[str, int | None, str | None]]:
    """(domain, best rank, category) of the sites in the given lists (all lists when None), best rank first."""
    q = (
        select(_sites.c.domain, func.min(_members.c.rank), _sites.c.category)
        .select_from(_members.join(_sites, _sites.c.id == _members.c.site_id))
        .group_by(_sites.c.id)
        .order_by(func.min(_members.c.rank).is_(None), func.min(_members.c.rank), _sites.c.domain)
    )
    if list_ids is not None:
        q = q.where(_members.c.list_id.in_(list(list_ids)))
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]


def list_site_ids(engine: Engine, list_id: int) -> set[int]:
    """Ids of a list's sites."""
    with engine.connect() as conn:
        return set(conn.execute(select(_members.c.site_id).where(_members.c.list_id == list_id)).scalars())


# -- labels and weights ---------------------------------------------------------------------------------------------
def set_labels(engine: Engine, source: str, labels: Mapping[int, tuple[str, str | None]]) -> int:
    """Store one source's category (and detail) for sites (site id → (category, detail)); return how many."""
    with engine.begin() as conn:
        ids = list(labels)
        for chunk in _chunks(ids):
            conn.execute(delete(_labels).where(_labels.c.source == source, _labels.c.site_id.in_(chunk)))
        rows = [{"site_id": s, "source": source, "category": c, "detail": d} for s, (c, d) in labels.items()]
        if rows:
            conn.execute(insert(_labels), rows)
    return len(labels)


def label_rows(engine: Engine) -> list[tuple[int, str, str, str, str | None]]:
    """(site id, domain, source, category, detail) of every label."""
    q = select(_labels.c.site_id, _sites.c.domain, _labels.c.source, _labels.c.category, _labels.c.detail).select_from(
        _labels.join(_sites, _sites.c.id == _labels.c.site_id)
    )
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]


def set_weights(engine: Engine, name: str, values: Mapping[int, tuple[float, bool, str | None]]) -> int:
    """Store a weight column (site id → (value, measured, source)), replacing the whole column."""
    with engine.begin() as conn:
        conn.execute(delete(_weights).where(_weights.c.name == name))
        rows = [
            {"site_id": s, "name": name, "value": v, "measured": m, "source": src} for s, (v, m, src) in values.items()
        ]
        if rows:
            conn.execute(insert(_weights), rows)
    return len(values)


def weight_names(engine: Engine) -> list[str]:
    """The weight columns stored."""
    with engine.connect() as conn:
        return sorted(conn.execute(select(_weights.c.name).distinct()).scalars())


def sample_inputs(engine: Engine) -> tuple[list[str], int, int]:
    """What weighting and filtering can rest on: the weight columns stored, how many sites have a rank, and how many
    have a category (each an indexed read)."""
    with engine.connect() as conn:
        names = sorted(conn.execute(select(_weights.c.name).distinct()).scalars())
        ranked = conn.execute(select(func.count()).where(_sites.c.rank.is_not(None))).scalar() or 0
        labelled = conn.execute(select(func.count()).where(_sites.c.category.is_not(None))).scalar() or 0
    return names, int(ranked), int(labelled)


def weight_rows(engine: Engine, name: str) -> dict[int, tuple[float, bool]]:
    """site id → (value, measured) of one weight column."""
    q = select(_weights.c.site_id, _weights.c.value, _weights.c.measured).where(_weights.c.name == name)
    with engine.connect() as conn:
        return {sid: (float(v), bool(m)) for sid, v, m in conn.execute(q)}


# -- archive captures -------------------------------------------------------------------------------------------
def captures_of(engine: Engine, source: str, site_id: int) -> dict[str, CaptureRow]:
    """timestamp → capture already seen for a site."""
    c = _captures.c
    q = select(c.timestamp, c.statuscode, c.digest, c.status, c.body_id).where(c.source == source, c.site_id == site_id)
    with engine.connect() as conn:
        return {r[0]: CaptureRow(*r) for r in conn.execute(q)}


def bodies_for_digests(engine: Engine, source: str, digests: Sequence[str]) -> dict[str, tuple[bytes, bool]]:
    """digest → (body, truncated) of captures with these digests that were fetched before (any site)."""
    c, b = _captures.c, _bodies.c
    out: dict[str, tuple[bytes, bool]] = {}
    with engine.connect() as conn:
        for chunk in _chunks(list(digests)):
            q = (
                select(c.digest, b.content, b.compression, b.truncated)
                .select_from(_captures.join(_bodies, b.id == c.body_id))
                .where(c.source == source, c.digest.in_(chunk))
            )
            for digest, content, compression, truncated in conn.execute(q):
                out.setdefault(digest, (body_bytes(content, compression) or b"", bool(truncated)))
    return out


@dataclass(frozen=True, slots=True)
class NewCapture:
    """One archive capture of a site's robots.txt as the store remembers it: the CDX row's fields, what it was
    classified as, and the sha256 of the body stored for it (None when no body was kept)."""

    site_id: int
    timestamp: str
    original: str
    statuscode: str
    digest: str | None
    status: str
    sha256: str | None = None


def record_captures(engine: Engine, source: str, rows: Sequence[NewCapture]) -> None:
    """Remember captures so no later run fetches them again."""
    if not rows:
        return
    with engine.begin() as conn:
        shas = [r.sha256 for r in rows if r.sha256]
        ids: dict[str, int] = {}
        for chunk in _chunks(shas):
            q = select(_bodies.c.sha256, _bodies.c.id).where(_bodies.c.sha256.in_(chunk))
            ids.update({sha: bid for sha, bid in conn.execute(q)})
        stmt = dialect_insert(conn, _captures).on_conflict_do_nothing()
        conn.execute(
            stmt,
            [
                {
                    "site_id": r.site_id,
                    "source": source,
                    "timestamp": r.timestamp,
                    "original": r.original,
                    "statuscode": r.statuscode,
                    "digest": r.digest,
                    "status": r.status,
                    "body_id": ids.get(r.sha256 or ""),
                }
                for r in rows
            ],
        )


_meta = StoreMeta.__table__  # type: ignore[attr-defined]


def get_meta(engine: Engine, key: str) -> str | None:
    """A fact about the database (None if never set)."""
    with engine.connect() as conn:
        return conn.execute(select(_meta.c.value).where(_meta.c.key == key)).scalar()


def set_meta(engine: Engine, key: str, value: str) -> None:
    """Set a fact about the database."""
    with engine.begin() as conn:
        stmt = dialect_insert(conn, _meta).values(key=key, value=value)
        conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


#: The ``store_meta`` key that marks a database filled by ``up --demo`` with simulated data.
SIMULATED = "simulated"


def is_simulated(engine: Engine) -> bool:
    """Whether the database holds the demo's simulated data (every page and report must say so)."""
    return get_meta(engine, SIMULATED) == "true"
