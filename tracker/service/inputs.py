"""What every use case shares: the days and months a face was given, the store and registry the settings name, and
the sites a crawl or backfill works on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.config.settings import Settings
from tracker.errors import NotFoundError, ParameterError
from tracker.rules.agents import AgentRegistry
from tracker.rules.agents import load_registry as _load_registry
from tracker.rules.sitelist import SiteEntry

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = [
    "WAYBACK_START",
    "SitesChosen",
    "database_file",
    "load_registry",
    "open_store",
    "parse_day",
    "parse_month_or_day",
    "sites_to_use",
]

#: The Wayback Machine's first captures date from 1996: nothing older can be backfilled.
WAYBACK_START = date(1996, 1, 1)


def open_store(settings: Settings | str, *, create: bool = False, readonly: bool | None = None) -> Engine:
    """The store the ``db`` setting names (or this path or URL); reads pass ``create=False`` (the default) so a
    typo is an error; ``readonly`` opens it writing nothing at all (no migration: an old schema is an error), as
    a server of its data does (default: what the URL says)."""
    from tracker.store import open_store as open_

    return open_(settings.db if isinstance(settings, Settings) else settings, create=create, readonly=readonly)


def database_file(db: str) -> str | None:
    """The file of an SQLite database named by a path or URL (None for a server database such as PostgreSQL)."""
    from sqlalchemy.engine import make_url

    from tracker.store.engine import database_url

    url = make_url(database_url(db))
    return url.database if url.get_backend_name() == "sqlite" else None


def load_registry(settings: Settings) -> AgentRegistry:
    """The agent registry the ``agents-file`` setting names (the package's own by default)."""
    return _load_registry(settings.agents_file or None)


def parse_day(value: str | None, parameter: str) -> date | None:
    """A YYYY-MM-DD value of a parameter (None stays None)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ParameterError(f"{parameter} must be a date like 2024-01-31, not {value!r}", parameter) from None


def parse_month_or_day(value: str | None, parameter: str, *, end: bool = False) -> date | None:
    """``2016-01`` (the first, or with ``end`` the last, day of the month) or ``2016-01-15``."""
    if value is None:
        return None
    try:
        if len(value) == 7:
            d = date.fromisoformat(value + "-01")
            if end:
                nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
                return date.fromordinal(nxt.toordinal() - 1)
            return d
        return date.fromisoformat(value)
    except ValueError:
        raise ParameterError(
            f"{parameter} must be a month like 2016-01 or a day like 2016-01-31, not {value!r}", parameter
        ) from None


@dataclass(frozen=True, slots=True)
class SitesChosen:
    """The sites a crawl or backfill works on, and the lines of a site list that were skipped (each a message)."""

    entries: tuple[SiteEntry, ...]
    problems: tuple[str, ...] = ()


def sites_to_use(
    engine: Engine, *, sites: Path | None = None, lists: list[str] | None = None, top: int | None = None
) -> SitesChosen:
    """The sites of a site-list file (``sites``), or of tracked lists, or every tracked site; the ``top`` best
    ranked only."""
    from tracker.pipeline.tracking import tracked_entries
    from tracker.rules.sitelist import read_site_list

    if sites is not None:
        entries, parsed = read_site_list(sites, top=top)
        return SitesChosen(tuple(entries), tuple(f"{sites.name} {p}" for p in parsed.problems))
    tracked = tracked_entries(engine, lists)
    if not tracked:
        raise NotFoundError(
            "no tracked sites: add some with `consent-tracker sites add FILE` (or `--tranco 1000`), "
            "or give a site list (sites)"
        )
    return SitesChosen(tuple(tracked[:top] if top else tracked))
