"""The operating use cases: the database itself (``db migrate``, ``db copy``), ``up``'s guard between the demo's
simulated data and real data, and what follows each scheduled run (the Atom feeds, the webhook). The scheduler's
options are built from the resolved settings by :meth:`tracker.operations.schedule.ScheduleOptions.from_settings`
(operations sit above the service)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from tracker.errors import StoreError

if TYPE_CHECKING:
    from tracker.store.transfer import TableCheck
    from tracker.store.writer import DerivedRefresh

__all__ = ["Migration", "db_copy", "db_migrate", "deliver_webhook", "prepare_up_store", "write_feeds"]


@dataclass(frozen=True, slots=True)
class Migration:
    """What ``db migrate`` did: the schema before (None: a new database) and now, and the derived rows refreshed to
    this parser's version. ``shown``: the database as it may be printed (never a password)."""

    shown: str
    before: str | None
    after: str
    refreshed: DerivedRefresh


def db_migrate(db: str) -> Migration:
    """Create the database, or upgrade its schema to this version's (an SQLite path or a PostgreSQL URL); then bring
    what it derives from stored bodies (evaluations, adoption readings) up to this parser's version, so that reads
    only read."""
    from tracker.store import open_store
    from tracker.store.engine import SCHEMA_REVISION, current_revision, database_url
    from tracker.store.writer import refresh_derived

    url = database_url(db)
    before = current_revision(open_store(url, upgrade=False))
    engine = open_store(url)
    shown = url.split("@")[-1] if "@" in url else url
    return Migration(shown, before, SCHEMA_REVISION, refresh_derived(engine))


def db_copy(source: str, target: str, *, progress: Callable[[str, int], None] | None = None) -> list[TableCheck]:
    """Copy a whole store into a new, empty one (SQLite → PostgreSQL and back), verified table by table (rows and a
    SHA-256 over its rows in key order); the checks of what was copied."""
    from tracker.store import open_store
    from tracker.store.transfer import copy_store

    src = open_store(source, create=False)
    dst = open_store(target)
    before, _ = copy_store(src, dst, progress=progress)
    return before


def prepare_up_store(engine: Engine, *, demo: bool, name: str) -> None:
    """Keep the demo's simulated data and real data apart: the demo writes only into a store of its own (marked
    simulated here), and real crawls never go into the demo's. StoreError says which way out; ``name`` is how the
    store is named in it."""
    from tracker.store import catalog

    if demo:
        if catalog.get_meta(engine, catalog.SIMULATED) is None and catalog.tracked_sites(engine):
            raise StoreError(
                f"{name} holds real data; the demo writes its simulated data only into a database of its own "
                f"(leave out the db setting, or name a new file)"
            )
        catalog.set_meta(engine, catalog.SIMULATED, "true")
    elif catalog.is_simulated(engine):
        raise StoreError(f"{name} holds the demo's simulated data; use another database for real crawls (db)")


def write_feeds(
    engine: Engine, folder: Path, base_url: str, *, sites: Sequence[str] | None = None, simulated: bool = False
) -> list[Path]:
    """Rewrite the Atom feeds of change events (of these sites' feeds only, when given); the files written."""
    from tracker.publishing.feeds import write_feeds as write

    return write(engine, folder, base_url, sites=sites, simulated=simulated)


def deliver_webhook(engine: Engine, url: str, *, base_url: str, timeout: float, retries: int) -> Any:
    """Post the change events no receiver has accepted yet to the webhook (tracker.publishing.feeds.post_webhook)."""
    from tracker.publishing.feeds import post_webhook

    return post_webhook(engine, url, base_url=base_url, timeout=timeout, retries=retries)
