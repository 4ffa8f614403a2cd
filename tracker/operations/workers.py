"""Distributed crawls: one crawl run split into batches of sites, deferred as procrastinate jobs in PostgreSQL and
run by any number of ``consent-tracker worker`` processes on any number of machines.

- The coordinator (``crawl --distributed``) opens the crawl run, registers its sites and defers one job per batch
  of sites; the crawl's options (network mappings, CA bundle, private addresses, timeouts, politeness) travel
  with each job as JSON, so a worker needs nothing but the database URL.
- A site belongs to exactly one batch, so per-host politeness (one request at a time per host, a delay between
  them) holds across workers as it does in one process.
- A worker records a batch through the same run and writer as a single-process crawl: sites in batches, each
  transaction marking its sites done. A batch retried after its worker died (procrastinate marks the job
  stalled once the worker's heartbeat stops; workers and ``--wait`` requeue stalled jobs) skips the sites that
  landed, and a site fetched twice only moves its version's ``last_seen``: no duplicate versions.
- The batch that records the run's last site closes the run and computes its change events.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from tracker import service
from tracker.errors import NotFoundError, StoreError
from tracker.pipeline.crawl import CrawlConfig
from tracker.records.json import Json, JsonObject
from tracker.rules.sitelist import SiteEntry
from tracker.store.engine import database_url
from tracker.store.runs import RunInfo

__all__ = [
    "QUEUE",
    "TASK",
    "BatchDone",
    "DistributedCrawl",
    "conninfo",
    "defer_crawl",
    "make_app",
    "requeue_stalled",
    "run_batch",
    "run_worker",
    "site_from_json",
    "site_to_json",
    "wait_for_run",
]

QUEUE = "crawl"
TASK = "consent_tracker.crawl_batch"
#: Sites per job: small enough that a lost worker costs little, large enough that a job is worth its overhead.
BATCH = 50


def conninfo(db_url: str) -> str:
    """The libpq connection string of a PostgreSQL store; StoreError for any other database."""
    url = make_url(database_url(db_url))
    if url.get_backend_name() != "postgresql":
        raise StoreError(
            f"a distributed crawl needs PostgreSQL (--db postgresql+psycopg://USER@HOST/DB), "
            f"not {url.get_backend_name()}"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(db_url: str) -> Any:
    """The procrastinate app on the store's PostgreSQL database, with the batch task registered."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(db_url)))

    @app.task(name=TASK, queue=QUEUE, retry=procrastinate.RetryStrategy(max_attempts=5, wait=1, exponential_wait=2))
    async def crawl_batch(run_id: int, sites: list[JsonObject], config: JsonObject) -> None:
        await run_batch(db_url, run_id, sites, config)

    return app


_SCHEMA_LOCK = 7_233_841  # an advisory lock id: one process creates the queue's tables, the others wait


async def _ensure_schema(app: Any, db_url: str) -> None:
    """Create procrastinate's tables in the database the first time (they sit beside the store's), under an
    advisory lock: a coordinator and workers starting together must not both create them."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(conninfo(db_url), autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            row = await (await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).fetchone()
            if not (row and row[0]):
                await app.schema_manager.apply_schema_async()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


@cache
def _engine(db_url: str) -> Engine:
    return service.open_store(db_url, create=True)


def site_to_json(site: SiteEntry) -> dict[str, Json]:
    """A site as a batch job carries it."""
    return {"domain": site.domain, "rank": site.rank, "category": site.category}


def site_from_json(d: JsonObject) -> SiteEntry:
    """A site of a batch job (:func:`site_to_json`) back."""
    rank, category = d.get("rank"), d.get("category")
    return SiteEntry(
        str(d["domain"]),
        rank if isinstance(rank, int) else None,
        category if isinstance(category, str) else None,
    )


@dataclass(frozen=True, slots=True)
class BatchDone:
    """What one batch job did: its run, its sites, those crawled and skipped, and whether it closed the run."""

    run: int
    sites: int
    crawled: int
    skipped: int
    closed: bool


async def run_batch(db_url: str, run_id: int, sites: Sequence[JsonObject], config: JsonObject) -> BatchDone:
    """Crawl one batch of a run's sites into it (what a worker runs); close the run if it was the last. The job's
    JSON is decoded at once: the sites and the crawl's config."""
    entries = [site_from_json(s) for s in sites]
    done = await service.crawl_batch(_engine(db_url), run_id, entries, CrawlConfig.from_json(config))
    return BatchDone(run_id, len(entries), done.crawled, done.skipped, done.closed)


@dataclass(frozen=True, slots=True)
class DistributedCrawl:
    """A deferred crawl: its run and its jobs."""

    run_id: int
    sites: int
    jobs: int
    already_done: int


def defer_crawl(
    engine: Engine,
    db_url: str,
    sites: Sequence[SiteEntry],
    config: CrawlConfig,
    *,
    source: str,
    resume: bool = False,
    batch: int = BATCH,
) -> DistributedCrawl:
    """Open a crawl run and defer its sites as jobs of ``batch`` sites; return the run and job counts."""
    conninfo(db_url)
    run = service.open_crawl_run(engine, sites, config, source=source, resume=resume, batch=batch)
    todo = run.todo
    app = make_app(db_url)
    cfg = config.to_json()

    async def defer() -> int:
        async with app.open_async():
            await _ensure_schema(app, db_url)
            task = app.tasks[TASK]
            n = 0
            for i in range(0, len(todo), batch):
                chunk = [site_to_json(s) for s in todo[i : i + batch]]
                await task.defer_async(run_id=run.run_id, sites=chunk, config=cfg)
                n += 1
            return n

    jobs = asyncio.run(defer())
    if not todo:
        service.close_if_complete(engine, run.run_id)
    return DistributedCrawl(run.run_id, len(sites), jobs, len(sites) - len(todo))


async def requeue_stalled(app: Any, *, stalled_after: float = 30.0) -> int:
    """Put back in the queue the batch jobs of workers that stopped sending heartbeats; return how many."""
    stalled = await app.job_manager.get_stalled_jobs(queue=QUEUE, task_name=TASK, seconds_since_heartbeat=stalled_after)
    n = 0
    for job in stalled:
        await app.job_manager.retry_job(job)
        n += 1
    return n


async def run_worker(
    db_url: str,
    *,
    concurrency: int = 2,
    burst: bool = False,
    heartbeat: float = 10.0,
    stalled_after: float = 30.0,
    name: str | None = None,
) -> None:
    """Run batch jobs until stopped (``burst``: until the queue is empty), requeueing stalled workers' jobs."""
    app = make_app(db_url)
    async with app.open_async():
        await _ensure_schema(app, db_url)

        async def reaper() -> None:
            while True:
                await asyncio.sleep(max(1.0, heartbeat))
                with contextlib.suppress(Exception):  # a passing database hiccup must not stop the worker
                    await requeue_stalled(app, stalled_after=stalled_after)

        reaping = asyncio.create_task(reaper())
        try:
            await requeue_stalled(app, stalled_after=stalled_after)
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=concurrency,
                wait=not burst,
                name=name,
                update_heartbeat_interval=heartbeat,
                stalled_worker_timeout=stalled_after,
            )
        finally:
            reaping.cancel()


def wait_for_run(
    engine: Engine,
    db_url: str,
    run_id: int,
    *,
    poll: float = 1.0,
    stalled_after: float = 30.0,
    progress: Callable[[RunInfo, dict[str, int]], None] | None = None,
) -> RunInfo:
    """Block until a distributed run is closed (requeueing stalled jobs meanwhile); its final state. Raises
    StoreError when every remaining job has failed."""
    app = make_app(db_url)

    async def watch() -> RunInfo:
        async with app.open_async():
            while True:
                try:
                    status = await asyncio.to_thread(service.crawl_status, engine, run_id)
                except NotFoundError:
                    raise StoreError(f"no crawl run #{run_id}") from None
                info, jobs = status.info, status.jobs
                if progress:
                    progress(info, jobs)
                if info.status != "running":
                    return info
                if jobs and not jobs.get("todo") and not jobs.get("doing") and jobs.get("failed"):
                    raise StoreError(
                        f"crawl run #{run_id}: {jobs['failed']} batch jobs failed for good "
                        "(see the workers' logs); `crawl status` shows what landed"
                    )
                await requeue_stalled(app, stalled_after=stalled_after)
                await asyncio.sleep(poll)

    return asyncio.run(watch())
