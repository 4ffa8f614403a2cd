"""``up``: the whole pipeline in one go — a site list, its history, a first crawl — each step skipped when done.

The faces (``consent-tracker up``) then start the scheduler and the dashboard. Each step is idempotent and says
what it did; a step that cannot run says why and how to go on (``StepResult.hint``), so an offline machine gets a
way forward instead of a page of DNS errors.

- ``sites``: skipped when any site is tracked; else the Tranco top N becomes the ``tranco-top`` list.
- ``backfill``: skipped once a Wayback backfill has finished (later months are the scheduler's monthly top-up);
  a backfill cut short resumes where it stopped.
- ``crawl``: skipped when a live crawl finished in the last 20 hours (the scheduler crawls daily).
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
from tracker.errors import TrackerError
from tracker.pipeline.backfill import BackfillConfig, BackfillProgress
from tracker.pipeline.crawl import CrawlConfig, CrawlProgress

__all__ = ["StepResult", "backfill_step", "crawl_step", "sites_step"]
#: How recent a finished live crawl makes ``up`` skip its crawl.
RECENT_CRAWL = timedelta(hours=20)
CRAWL_SOURCE = "up"


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


def backfill_step(
    engine: Engine, config: BackfillConfig, *, progress: Callable[[BackfillProgress, str], None] | None = None
) -> StepResult:
    """Backfill the tracked sites' robots.txt history, unless a backfill has finished before."""
    t = time.monotonic()
    if service.finished_runs_since(engine, "wayback", None):
        return StepResult("backfill", "skipped", time.monotonic() - t, "history backfilled already")
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
    reached = (report.requests or 0) > 0 and (report.classified or {}).get("ok", 0) + report.new_versions > 0
    if not reached:
        return StepResult(
            "backfill",
            "failed",
            time.monotonic() - t,
            f"the archive at {config.archive_url} gave no history ({report.requests} requests)",
            "offline? run `consent-tracker up` again when online, or `consent-tracker import-archive "
            "DIR`; the crawl and the dashboard work without history",
        )
    return StepResult(
        "backfill",
        "done",
        time.monotonic() - t,
        f"{report.done} sites since {config.since:%Y-%m}: {report.new_versions} versions, "
        f"{report.captures_fetched} captures fetched, {report.changes} changes",
    )


def crawl_step(
    engine: Engine, config: CrawlConfig, *, progress: Callable[[CrawlProgress], None] | None = None
) -> StepResult:
    """Crawl every tracked site, unless a live crawl finished recently."""
    t = time.monotonic()
    if service.finished_runs_since(engine, "live", datetime.now(UTC) - RECENT_CRAWL):
        return StepResult("crawl", "skipped", time.monotonic() - t, "crawled in the last 20 hours")
    sites = service.tracked(engine)
    summary = asyncio.run(service.crawl(engine, sites, config, source=CRAWL_SOURCE, resume=True, progress=progress))
    statuses = summary.robots_status or {}
    reached = sum(n for s, n in statuses.items() if s not in ("unreachable", "network_error"))
    detail = (
        f"{summary.done} sites in {summary.seconds:.0f} s: {summary.new_versions} new versions, "
        f"{summary.changes} changes; robots.txt " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    )
    if summary.done and not reached:
        return StepResult(
            "crawl",
            "failed",
            time.monotonic() - t,
            detail + " — no site could be reached",
            "offline? the dashboard shows what is stored; `consent-tracker crawl` when online, "
            "or `consent-tracker up --demo` for the simulated web",
        )
    return StepResult("crawl", "done", time.monotonic() - t, detail)
