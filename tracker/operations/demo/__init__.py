"""The offline demo (`consent-tracker up --demo`): a simulated web, archive and Tranco list on loopback.

Everything here is made up (deterministically), and every page and report built from it says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.config.settings import SettingValue
from tracker.operations.demo.archive import HOST as ARCHIVE_HOST
from tracker.operations.demo.archive import FakeArchive
from tracker.operations.demo.web import DemoWeb, archive_of
from tracker.operations.demo.world import World, build_world

__all__ = ["Demo", "start_demo"]


@dataclass
class Demo:
    """The running simulation: its world, web and archive, and the settings that point the tool at them."""

    world: World
    web: DemoWeb
    archive: FakeArchive

    @property
    def connect_to(self) -> list[str]:
        """``--connect-to`` mappings to the simulated hosts."""
        return self.web.connect_to(self.archive)

    @property
    def settings(self) -> dict[str, SettingValue]:
        """Setting overrides for the demo (Tranco, the archive at full speed, loopback allowed)."""
        return {
            "tranco-url": self.web.tranco_url,
            "archive-url": f"http://{ARCHIVE_HOST}",
            "archive-rate": 0.0,
            "allow-private": True,
            "delay": 0.0,
            "timeout": 3.0,
            "total-timeout": 6.0,
            "retries": 0,
        }

    def label_categories(self, engine: Any) -> int:
        """Give the tracked simulated sites their categories (as a site list's own labels would); return how many."""
        from tracker.analysis.categories import assign
        from tracker.store import catalog, queries

        labels: dict[int, tuple[str, str | None]] = {}
        for domain, _rank, _category in catalog.tracked_sites(engine):
            site = self.world.sites.get(domain)
            info = queries.find_site(engine, domain)
            if site is not None and info is not None:
                labels[info.id] = (site.category, "simulated")
        catalog.set_labels(engine, "user", labels)
        assign(engine)
        return len(labels)

    def stop(self) -> None:
        """Stop both servers."""
        self.web.stop()
        self.archive.stop()


def start_demo(sites: int = 200, *, seed: int = 2023) -> Demo:
    """Build the simulated world and serve it on loopback."""
    world = build_world(sites, seed=seed)
    return Demo(world, DemoWeb(world).start(), archive_of(world).start())
