"""The operating use cases: ``up``'s guard between the demo's simulated data and real data, and what follows each
scheduled run (the Atom feeds, the webhook). The scheduler's options are built from the resolved settings by
:meth:`tracker.operations.schedule.ScheduleOptions.from_settings` (operations sit above the service)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tracker.errors import StoreError

__all__ = ["deliver_webhook", "prepare_up_store", "write_feeds"]


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
