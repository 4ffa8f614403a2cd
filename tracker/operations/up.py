"""``up``: the whole pipeline in one go — a site list, its history, a first crawl — each step skipped when done.

The faces (``consent-tracker up``) then start the scheduler and the dashboard. Each step is idempotent and says
what it did; a step that cannot run says why and how to go on (``StepResult.hint``), so an offline machine gets a
way forward instead of a page of DNS errors.

- ``sites``: skipped when any site is tracked; else the Tranco top N becomes the ``tranco-top`` list.
- ``backfill``: skipped once a Wayback backfill has finished (later months are the scheduler's monthly top-up);
  a backfill cut short resumes where it stopped.
- ``crawl``: skipped when a live crawl finished in the last 20 hours (the scheduler crawls daily).

Offline, neither backfill nor crawl can do anything but record this machine's outage as every site's. So before
them :func:`network_check` looks up the archive's host and the first tracked sites (a second or two, at most
:data:`~tracker.fetch.network.LOOKUP_TIMEOUT`); when all fail both steps fail at once, saying so, and open no run.
A crawl that gets going anyway and reaches none of its first sites stops as ``failed`` too. A step's status is
always its run's: ``failed`` ↔ ``failed``, ``done`` ↔ ``done``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine

from tracker import service
from tracker.errors import NetworkDown, TrackerError
from tracker.fetch.http import ConnectTo, Guard
from tracker.fetch.network import FIRST_SITES, check_names
from tracker.pipeline.backfill import BackfillConfig, BackfillProgress
from tracker.pipeline.crawl import CrawlConfig, CrawlProgress

__all__ = ["OFFLINE_HINT", "StepResult", "backfill_step", "crawl_step", "network_check", "sites_step"]
#: How recent a finished live crawl makes ``up`` skip its crawl.
RECENT_CRAWL = timedelta(hours=20)
CRAWL_SOURCE = "up"
#: How to go on without a network.
OFFLINE_HINT = (
    "without a network, `consent-tracker up --demo` runs it all on a simulated web on this machine, and "
    "`consent-tracker import-archive DIR` imports a dated robots.txt archive; `consent-tracker up` again once "
    "online goes on from here"
)


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one step of ``up`` did."""

    step: str
    status: Literal["done", "skipped", "failed"]
    seconds: float
    detail: str
    hint: str | None = None  # how to go on, when it failed


def sites_step(engine: Engine, *, top: int, tranco_url: str, user_agent: str, timeout: float) -> StepResult:
    """Track the Tranco top N, unless sites are tracked already."""
    t = time.monotonic()
    have = service.tracked(engine)
    if have:
        return StepResult("sites", "skipped", time.monotonic() - t, f"{len(have)} sites tracked already")
    try:
        report = service.track_tranco(
            engine, top=top, tranco_url=tranco_url, user_agent=user_agent, timeout=timeout, source="tranco"
        ).report
        list_id, day = report.list_id, report.list_date
    except TrackerError as e:
        return StepResult(
            "sites",
            "failed",
            time.monotonic() - t,
            str(e),
            "give it a list: `consent-tracker sites add FILE` (a Tranco CSV or one domain a line), "
            "then `consent-tracker up` again — or the offline demo: `consent-tracker up --demo`",
        )
    return StepResult(
        "sites", "done", time.monotonic() - t, f"the Tranco top {top} (list {list_id} of {day}): {report.added} sites"
    )


def network_check(engine: Engine, config: BackfillConfig, connect_to: list[ConnectTo]) -> str | None:
    """Why the network looks down (DNS lookups of the archive's host and the first tracked sites all failed), or
    None when it does not. Names that ``connect_to`` maps to an address (the demo's) are not looked up."""
    sites = [s.domain for s in service.tracked(engine)[:FIRST_SITES]]
    check = asyncio.run(check_names(sites, archive_url=config.archive_url, guard=Guard(connect_to=connect_to)))
    return check.message() if check.down else None


def backfill_step(
    engine: Engine,
    config: BackfillConfig,
    *,
    progress: Callable[[BackfillProgress, str], None] | None = None,
    offline: str | None = None,
) -> StepResult:
    """Backfill the tracked sites' robots.txt history, unless a backfill has finished before (or ``offline`` says
    why the network looks down)."""
    t = time.monotonic()
    if service.finished_runs_since(engine, "wayback", None):
        return StepResult("backfill", "skipped", time.monotonic() - t, "history backfilled already")
    if offline:
        return StepResult("backfill", "failed", time.monotonic() - t, offline, OFFLINE_HINT)
    sites = service.tracked(engine)
    try:
        report = asyncio.run(service.backfill(engine, sites, config, progress=progress))
    except TrackerError as e:
        return StepResult(
            "backfill",
            "failed",
            time.monotonic() - t,
            str(e),
            "history can come later: run `consent-tracker up` again to resume, or import a dated "
            "archive with `consent-tracker import-archive DIR`",
        )
    detail = (
        f"{report.done} sites since {config.since:%Y-%m}: {report.new_versions} versions, "
        f"{report.captures_fetched} captures fetched, {report.changes} changes"
    )
    if report.requests and not (report.classified or {}).get("ok", 0) + report.new_versions:
        detail += f" — the archive at {config.archive_url} has no robots.txt history of these sites"
    return StepResult("backfill", _status(report.status), time.monotonic() - t, detail)


def crawl_step(
    engine: Engine,
    config: CrawlConfig,
    *,
    progress: Callable[[CrawlProgress], None] | None = None,
    offline: str | None = None,
) -> StepResult:
    """Crawl every tracked site, unless a live crawl finished recently (or ``offline`` says why the network looks
    down); a crawl that reaches none of its first sites stops, its run ``failed``."""
    t = time.monotonic()
    if service.finished_runs_since(engine, "live", datetime.now(UTC) - RECENT_CRAWL):
        return StepResult("crawl", "skipped", time.monotonic() - t, "crawled in the last 20 hours")
    if offline:
        return StepResult("crawl", "failed", time.monotonic() - t, offline + " (no crawl run started)", OFFLINE_HINT)
    sites = service.tracked(engine)
    try:
        summary = asyncio.run(
            service.crawl(
                engine, sites, config, source=CRAWL_SOURCE, resume=True, progress=progress, offline_after=FIRST_SITES
            )
        )
    except NetworkDown as e:
        return StepResult("crawl", "failed", time.monotonic() - t, f"{e}; the crawl stopped", OFFLINE_HINT)
    statuses = summary.robots_status or {}
    detail = (
        f"{summary.done} sites in {summary.seconds:.0f} s: {summary.new_versions} new versions, "
        f"{summary.changes} changes; robots.txt " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    )
    if summary.unrecorded:
        detail += f"; {summary.unrecorded} sites left unrecorded by our own failure, for a resume"
    return StepResult("crawl", _status(summary.status), time.monotonic() - t, detail)


def _status(run_status: str) -> Literal["done", "failed"]:
    """A step's status from its run's: only a ``done`` run is a done step."""
    return "done" if run_status == "done" else "failed"
