"""The tracked sites: named lists kept in the store, each a fixed **panel** or a moving **top-N**.

A panel is the set of sites followed from the start; it never changes by itself, so a trend over a panel shows
changes in behaviour only. A top-N is a ranking's current head (the Tranco top 1,000 today): adding a newer ranking
replaces its members, so its trends mix behaviour with changes of sample — every trend says which it is.
``crawl`` and ``backfill`` without ``--sites`` use every tracked site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import httpx
from sqlalchemy import Engine

from tracker.errors import DownloadError, SiteListError
from tracker.fetch.http import TIMEOUT, user_agent_header
from tracker.rules.sitelist import TRANCO_URL, SiteEntry, SiteList, parse_site_list
from tracker.store import catalog
from tracker.store.writer import SiteRow, Writer

__all__ = [
    "AddReport",
    "ListKind",
    "add_sites",
    "download_tranco",
    "remove_sites",
    "tracked_entries",
]

ListKind = str  # "panel" or "top"
KINDS = ("panel", "top")


@dataclass(slots=True)
class AddReport:
    """What adding sites to a list did."""

    list_name: str
    kind: str
    added: int
    removed: int
    total: int
    problems: list[str] = field(default_factory=list)
    list_id: str | None = None
    list_date: str | None = None
    #: how many sites got a category from the list (``user`` labels): the caller re-assigns categories then
    labelled: int = 0


def add_sites(
    engine: Engine,
    entries: Sequence[SiteEntry],
    *,
    list_name: str,
    kind: ListKind = "panel",
    source: str | None = None,
    list_id: str | None = None,
    list_date: str | None = None,
) -> AddReport:
    """Track sites in a list. A panel only grows (sites are never dropped by adding); a top-N is replaced by the
    entries given. Ranks and categories from the file are kept (a category given here is a ``user`` label; the
    service then re-assigns categories, :func:`tracker.analysis.categories.assign`)."""
    if kind not in KINDS:
        raise SiteListError(f"a list is a panel or a top, not {kind!r}")
    if not entries:
        raise SiteListError("no valid domains to add")
    writer = Writer(engine)
    ids = writer.ensure_sites([SiteRow(e.domain, rank=e.rank, list_source=source) for e in entries])
    lid = catalog.upsert_list(engine, list_name, kind, source=source, list_id=list_id, list_date=list_date)
    added, removed = catalog.set_members(engine, lid, {ids[e.domain]: e.rank for e in entries}, replace=kind == "top")
    user = {ids[e.domain]: (e.category, "site list") for e in entries if e.category}
    if user:
        catalog.set_labels(engine, "user", user)
    total = len(catalog.list_site_ids(engine, lid))
    return AddReport(list_name, kind, added, removed, total, list_id=list_id, list_date=list_date, labelled=len(user))


def remove_sites(engine: Engine, list_name: str, domains: Sequence[str] | None = None) -> int:
    """Take sites out of a list, or (without domains) drop the list; their history stays. Returns how many."""
    found = {info.name: info for info in catalog.lists(engine)}
    info = found.get(list_name)
    if info is None:
        raise SiteListError(f"no list named {list_name!r} (lists: {', '.join(found) or 'none'})")
    if not domains:
        catalog.delete_list(engine, info.id)
        return info.sites
    return catalog.remove_members(engine, info.id, list(domains))


def tracked_entries(engine: Engine, list_names: Sequence[str] | None = None) -> list[SiteEntry]:
    """The sites of the given lists (all tracked sites when None), best rank first."""
    ids = None
    if list_names:
        found = {info.name: info.id for info in catalog.lists(engine)}
        missing = [n for n in list_names if n not in found]
        if missing:
            raise SiteListError(f"no list named {', '.join(missing)} (lists: {', '.join(found) or 'none'})")
        ids = [found[n] for n in list_names]
    return [
        SiteEntry(domain, rank, category, i)
        for i, (domain, rank, category) in enumerate(catalog.tracked_sites(engine, ids), 1)
    ]


def download_tranco(
    top: int,
    *,
    on: date | None = None,
    base_url: str = TRANCO_URL,
    user_agent: str | None = None,
    timeout: float = TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> tuple[SiteList, str, str]:
    """The Tranco list of a day (the latest when ``on`` is None), its first ``top`` sites: (sites, list id, date)."""
    when = on.isoformat() if on else "latest"
    headers = {"User-Agent": user_agent or user_agent_header()}
    try:
        with httpx.Client(headers=headers, timeout=timeout, follow_redirects=True, transport=transport) as client:
            meta = client.get(f"{base_url.rstrip('/')}/api/lists/date/{when}")
            if meta.status_code == 404:
                raise DownloadError(f"Tranco has no list for {when}")
            meta.raise_for_status()
            info = meta.json()
            list_id = str(info.get("list_id") or "")
            if not list_id or info.get("available") is False:
                raise DownloadError(f"Tranco has no list for {when}")
            data = client.get(f"{base_url.rstrip('/')}/download/{list_id}/{top}")
            data.raise_for_status()
    except httpx.HTTPError as e:
        raise DownloadError(
            f"cannot download the Tranco list ({type(e).__name__}: {e}). Offline? Download a Tranco CSV elsewhere and "
            "use `sites add FILE`."
        ) from None
    except ValueError as e:
        raise DownloadError(f"Tranco answered something that is not a list: {e}") from None
    parsed = parse_site_list(data.text)
    # Tranco ranks hosts; several can fold into one registrable domain: keep the best rank, in list order.
    parsed.sites = parsed.top(top)
    day = str(info.get("created_on") or info.get("date") or (on.isoformat() if on else ""))[:10]
    return parsed, list_id, day
