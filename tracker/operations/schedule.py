"""Scheduled crawls: robots.txt daily, every signal weekly, a Wayback top-up monthly (APScheduler 3.11).

One scheduler process; its jobs live in the history database itself (APScheduler's SQLAlchemyJobStore, table
``apscheduler_jobs``), so they survive restarts with their next run times. Every job is ``coalesce=True`` (runs
missed while the scheduler was down fold into one), ``max_instances=1`` (a slow run is never overlapped by the
next) and ``misfire_grace_time=None`` (a run missed by any amount still runs once when the scheduler is back):
a restart neither loses nor doubles a run.

A run that was killed mid-way (the process died) is still ``running`` or ``interrupted`` in ``crawl_runs``. When
the scheduler starts it runs that job at once with ``resume``, which takes over the unfinished run and skips the
sites it had recorded — so the killed run is finished, not started again beside itself. Each job is one crawl
run (source ``schedule:<job>``); after it, the change events of the sites it touched are computed (in the
crawl), the Atom feeds are rewritten and the webhook, if any, is told — in a thread of its own, so a slow receiver
never holds the next crawl (``run_job`` alone, as ``schedule --run`` uses it, tells it inline).

One scheduler per store: :meth:`Scheduler.start` takes the store's lock (:mod:`tracker.store.lock`), which dies
with its process, so a second scheduler on the same database is refused (or waits) and a killed one is taken over.

Settings are resolved once by the face that starts the scheduler (CLI ``schedule`` or ``up``) and travel with
the jobs as plain values (:class:`ScheduleOptions`); a job reads nothing from the environment.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tracker.config.settings import Settings, SettingValue, parse_trigger
from tracker.errors import SettingError
from tracker.records.json import Json, JsonObject
from tracker.records.vocabulary import JOBS, JobName
from tracker.store.runs import RunInfo

__all__ = [
    "JOBS",
    "JobInfo",
    "JobName",
    "JobResult",
    "ScheduleOptions",
    "Scheduler",
    "WebhookResult",
    "deliver_events",
    "describe",
    "describe_result",
    "job_source",
    "parse_trigger",
    "run_job",
]

log = logging.getLogger("tracker.operations.schedule")


def job_source(job: JobName) -> str:
    """The ``crawl_runs.source`` of a scheduled job's runs."""
    return f"schedule:{job}"


@dataclass(frozen=True, slots=True)
class ScheduleOptions:
    """Everything a job needs, resolved by the face that starts the scheduler (plain values: they are stored
    with the jobs)."""

    db: str
    settings: Mapping[str, SettingValue]  # Settings.values() at the start
    triggers: Mapping[str, str] = field(default_factory=dict)  # job → spec (the schedule-* settings by default)
    connect_to: tuple[str, ...] = ()
    ca_bundle: str | None = None
    allow_private: bool | None = None
    lists: tuple[str, ...] | None = None  # tracked lists to crawl (None: every tracked site)
    feeds_dir: str | None = None
    webhook_url: str | None = None
    dashboard_url: str = "http://127.0.0.1:8501"
    simulated: bool = False
    wayback_months: int = 2
    #: Each webhook attempt as a whole (not each read), and the attempts after the first.
    webhook_timeout: float = 10.0
    webhook_retries: int = 2
    #: Crawl jobs are deferred to `consent-tracker worker` processes (PostgreSQL) instead of run in this process.
    distributed: bool = False

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        connect_to: Sequence[str] = (),
        ca_bundle: str | None = None,
        lists: Sequence[str] | None = None,
        simulated: bool = False,
        distributed: bool = False,
    ) -> ScheduleOptions:
        """The options from the settings resolved once by the face that starts the scheduler (the triggers are the
        schedule-* settings; the feeds go where the feeds-dir setting says)."""
        values = settings.values()
        return cls(
            db=settings.db,
            settings=values,
            triggers={job: str(values[f"schedule-{job}"]) for job in JOBS},
            connect_to=tuple(connect_to),
            ca_bundle=ca_bundle,
            allow_private=settings.allow_private,
            lists=tuple(lists) if lists else None,
            feeds_dir=str(settings.feeds_path()),
            webhook_url=settings.webhook_url or None,
            dashboard_url=settings.dashboard_url,
            simulated=simulated,
            distributed=distributed,
        )

    def as_kwargs(self) -> dict[str, Json]:
        """As plain JSON values for the job store (:meth:`from_kwargs` reads them back)."""
        d: dict[str, Json] = {f: getattr(self, f) for f in self.__dataclass_fields__}
        d["settings"], d["triggers"] = dict(self.settings), dict(self.triggers)
        d["connect_to"], d["lists"] = list(self.connect_to), list(self.lists) if self.lists is not None else None
        return d

    @classmethod
    def from_kwargs(cls, values: JsonObject) -> ScheduleOptions:
        """The options :meth:`as_kwargs` gave (or a job stored by an older version, with tuples)."""
        d: dict[str, Any] = dict(values)  # decoded here: the sequences back to tuples, the rest as stored
        d["connect_to"] = tuple(d.get("connect_to") or ())
        d["lists"] = tuple(d["lists"]) if d.get("lists") is not None else None
        return cls(**d)


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A scheduled job as ``schedule --show`` shows it."""

    name: str
    trigger: str
    next_run: datetime | None
    last_run: RunInfo | None

    @property
    def what(self) -> str:
        """What the job does (:data:`JOBS`)."""
        return JOBS.get(self.name, "")  # type: ignore[call-overload]

    def as_dict(self) -> dict[str, Json]:
        """As plain values (``schedule --show --format json``)."""
        return {
            "job": self.name,
            "trigger": self.trigger,
            "what": self.what,
            "next_run": self.next_run.isoformat() if self.next_run else None,
            "last_run": self.last_run.as_dict() if self.last_run else None,
        }


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What one call of the webhook did: events delivered, events still pending, and why it stopped."""

    delivered: int
    pending: int
    error: str | None


@dataclass(frozen=True, slots=True)
class JobResult:
    """What a scheduled job did (:func:`run_job`, :func:`deliver_events`); None: not part of this job."""

    job: str
    sites: int | None = None
    status: str | None = None
    changes: int | None = None
    new_versions: int | None = None
    #: A distributed crawl's jobs: how many were deferred (said before the run id), or, for a run still with the
    #: workers, how many are in each state (said after it).
    jobs: Mapping[str, int] | int | None = None
    run_id: int | None = None
    feeds: int | str | None = None  # feeds written, or why none were
    webhook: WebhookResult | None = None


# -- running one job ---------------------------------------------------------------------------------------------
_running: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = {}
_running_lock = threading.Lock()


def _run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine in this (job) thread, cancellable from :meth:`Scheduler.shutdown`."""

    async def main() -> Any:
        task = asyncio.ensure_future(coro)
        with _running_lock:
            _running[threading.get_ident()] = (asyncio.get_running_loop(), task)
        try:
            return await task
        finally:
            with _running_lock:
                _running.pop(threading.get_ident(), None)

    return asyncio.run(main())


def _cancel_running() -> int:
    with _running_lock:
        items = list(_running.values())
    for loop, task in items:
        loop.call_soon_threadsafe(task.cancel)
    return len(items)


def _top_up_since(today: date, months: int) -> date:
    y, m = today.year, today.month - months
    while m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1)


def _resources(job: str) -> tuple[str, ...]:
    """The resources a crawl job fetches: robots.txt alone, or every one."""
    from tracker.records.vocabulary import RESOURCE_KINDS

    return ("robots",) if job == "robots" else RESOURCE_KINDS


def run_job(job: str, options: JsonObject, *, deliver: bool = True) -> JobResult:
    """Run one scheduled job now (what the scheduler calls); return what it did. ``deliver=False`` leaves the
    webhook to :func:`deliver_events` (the scheduler calls it in its own thread, off the crawl's path)."""
    from tracker import service
    from tracker.errors import NotFoundError

    opts = ScheduleOptions.from_kwargs(options)
    settings = Settings.from_values(opts.settings)
    if opts.allow_private is not None:
        settings = replace(settings, allow_private=opts.allow_private)
    engine = service.open_store(opts.db, create=True)
    try:
        sites = service.sites_to_use(engine, lists=list(opts.lists) if opts.lists else None).entries
    except NotFoundError:
        log.warning("job %s: no tracked sites (add some with `consent-tracker sites add`)", job)
        return JobResult(job, sites=0)
    result = JobResult(job, sites=len(sites))
    if job in ("robots", "signals") and opts.distributed:
        from tracker.operations.workers import defer_crawl

        config = service.crawl_config(
            settings, resources=_resources(job), connect_to=opts.connect_to, ca_bundle=opts.ca_bundle
        )
        busy = service.unfinished_runs(engine, job_source(job))  # type: ignore[arg-type]
        jobs = service.crawl_status(engine, busy[0]).jobs if busy else {}
        if jobs.get("todo") or jobs.get("doing"):
            result = replace(result, status="still with the workers", run_id=busy[0], jobs=jobs)
        else:
            d = defer_crawl(engine, opts.db, sites, config, source=job_source(job), resume=True)  # type: ignore[arg-type]
            result = replace(result, status="deferred", jobs=d.jobs, run_id=d.run_id)
    elif job in ("robots", "signals"):
        config = service.crawl_config(
            settings, resources=_resources(job), connect_to=opts.connect_to, ca_bundle=opts.ca_bundle
        )
        summary = _run_async(service.crawl(engine, sites, config, source=job_source(job), resume=True))  # type: ignore[arg-type]
        result = replace(
            result,
            status=summary.status,
            changes=summary.changes,
            new_versions=summary.new_versions,
            run_id=summary.run_id,
        )
    elif job == "wayback":
        today = datetime.now(UTC).date()
        config_b = service.backfill_config(
            settings,
            since=_top_up_since(today, opts.wayback_months),
            until=today,
            connect_to=opts.connect_to,
            ca_bundle=opts.ca_bundle,
        )
        report = _run_async(service.backfill(engine, sites, config_b))
        result = replace(
            result, status=report.status, changes=report.changes, new_versions=report.new_versions, run_id=report.run_id
        )
    else:
        raise SettingError(f"no such job: {job!r} (jobs: {', '.join(JOBS)})")
    run_id = result.run_id
    feeds = Path(opts.feeds_dir) if opts.feeds_dir else None
    if feeds is not None:
        # Distributed: the workers are still crawling; the feeds catch up with every run closed so far.
        touched = None if opts.distributed else service.sites_of_run(engine, run_id)
        try:
            written = service.write_feeds(engine, feeds, opts.dashboard_url, sites=touched, simulated=opts.simulated)
            result = replace(result, feeds=len(written))
        except OSError as e:  # the crawl is saved; the feeds catch up at the next run that can write them
            result = replace(result, feeds=f"not written ({e.strerror or e}: {e.filename or feeds})")
            log.warning(
                "feeds-dir %s: cannot write the feeds (%s); they are rewritten at the next run", feeds, e.strerror or e
            )
    if opts.webhook_url and deliver:
        result = replace(result, webhook=_deliver(engine, opts))
    log.info("job %s: %s", job, describe_result(result))
    return result


def deliver_events(options: JsonObject) -> JobResult:
    """Post the events no receiver has accepted yet to the webhook (what the scheduler runs after each job)."""
    from tracker import service

    opts = ScheduleOptions.from_kwargs(options)
    if not opts.webhook_url:
        return JobResult("webhook")
    return JobResult("webhook", webhook=_deliver(service.open_store(opts.db, create=True), opts))


def _deliver(engine: Engine, opts: ScheduleOptions) -> WebhookResult:
    from tracker import service

    assert opts.webhook_url
    hook = service.deliver_webhook(
        engine,
        opts.webhook_url,
        base_url=opts.dashboard_url,
        timeout=opts.webhook_timeout,
        retries=opts.webhook_retries,
    )
    if hook.error:
        log.warning("webhook %s: %s; %d events left for the next run", opts.webhook_url, hook.error, hook.pending)
    return WebhookResult(hook.delivered, hook.pending, hook.error)


# -- the scheduler -----------------------------------------------------------------------------------------------
class Scheduler:
    """The job scheduler over a database: reconciles the stored jobs with the settings, resumes killed runs.

    ``start()`` returns at once (jobs run in a background thread); ``shutdown()`` cancels a running job (its run
    is marked ``interrupted`` and resumed at the next start) and waits for it.
    """

    def __init__(
        self,
        engine: Engine,
        options: ScheduleOptions,
        *,
        on_event: Callable[[str], None] | None = None,
        wait: bool = False,
    ):
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self.engine = engine
        self.options = options
        self.on_event = on_event
        self.wait = wait
        self._lock: Any = None  # tracker.store.lock.StoreLock while running
        self._scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine), "memory": MemoryJobStore()},
            # One job at a time: the jobs write to one database and share the sites' politeness budget. The
            # webhook has its own thread, so a slow receiver never holds the next crawl.
            executors={"default": ThreadPoolExecutor(1), "delivery": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._scheduler.add_listener(self._listen)

    def _listen(self, event: Any) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

        if not hasattr(event, "job_id"):
            return
        if event.job_id in JOBS and self.options.webhook_url and self._scheduler.running:
            # After each job, off its thread; while a delivery is still under way the next is skipped (max_instances)
            # and the events wait, pending, for the one after.
            self._scheduler.add_job(
                deliver_events,
                id="webhook",
                name="webhook",
                jobstore="memory",
                executor="delivery",
                kwargs={"options": self.options.as_kwargs()},
                replace_existing=True,
            )
        if self.on_event is None:
            return
        if event.code == EVENT_JOB_EXECUTED:
            self.on_event(f"job {event.job_id} finished: {describe_result(event.retval or JobResult(event.job_id))}")
        elif event.code == EVENT_JOB_ERROR:
            self.on_event(f"job {event.job_id} failed: {event.exception!r}")

    def start(self, *, paused: bool = False) -> list[str]:
        """Start: add, update or remove jobs to match the triggers, run killed runs' jobs at once; return notes.

        Unless ``paused``, take the store's scheduler lock first: one scheduler per store (raises StoreBusy
        naming the holder, or waits for it with ``wait``)."""
        from tracker import service
        from tracker.store.lock import hold_store

        notes: list[str] = []
        if not paused:
            self._lock = hold_store(self.engine, "scheduler", wait=self.wait, on_wait=self.on_event)
        self._scheduler.start(paused=True)
        kwargs = {"options": self.options.as_kwargs()}
        for job in JOBS:
            spec = self.options.triggers.get(job, "off")
            trigger = parse_trigger(spec)
            existing = self._scheduler.get_job(job)
            name = f"{job}: {spec}"
            if trigger is None:
                if existing is not None:
                    existing.remove()
                    notes.append(f"{job}: off (removed)")
                continue
            job_kwargs = {"job": job, **kwargs, "deliver": False}  # the webhook runs in its own thread
            if existing is not None and existing.name == name:
                existing.modify(kwargs=job_kwargs)  # the next run time stays as stored
            else:
                self._scheduler.add_job(run_job, trigger, id=job, name=name, kwargs=job_kwargs, replace_existing=True)
            unfinished = service.unfinished_runs(self.engine, job_source(job))
            if unfinished:
                self._scheduler.modify_job(job, next_run_time=datetime.now(UTC))
                notes.append(f"{job}: run #{unfinished[0]} was cut short; resuming it now")
        if not paused:
            self._scheduler.resume()
        return notes

    def run_now(self, job: JobName) -> None:
        """Run a job as soon as the scheduler is free (its regular times are unchanged after it)."""
        self._scheduler.modify_job(job, next_run_time=datetime.now(UTC))

    def jobs(self) -> list[JobInfo]:
        """The stored jobs with their next run and the last run of each."""
        from tracker import service

        return [
            JobInfo(j.id, j.name.split(": ", 1)[-1], j.next_run_time, service.last_run(self.engine, job_source(j.id)))
            for j in self._scheduler.get_jobs(jobstore="default")
        ]

    def shutdown(self, *, timeout: float = 30.0) -> None:
        """Stop: cancel a running job (its run becomes ``interrupted``) and wait up to ``timeout`` for it."""
        if not self._scheduler.running:
            self._release()
            return
        self._scheduler.pause()
        _cancel_running()
        done = threading.Event()

        def stop() -> None:
            self._scheduler.shutdown(wait=True)
            done.set()

        threading.Thread(target=stop, daemon=True).start()
        if not done.wait(timeout):
            log.warning("a job did not stop within %.0f s; its run will be resumed at the next start", timeout)
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def describe_result(result: JobResult) -> str:
    """One line on what a job did (:func:`run_job`'s result): what it has, in the order it learnt it."""
    jobs: list[tuple[str, object]] = [("jobs", result.jobs)] if result.jobs is not None else []
    deferred = isinstance(result.jobs, int)
    order: list[tuple[str, object]] = [
        ("sites", result.sites),
        ("status", result.status),
        ("changes", result.changes),
        ("new_versions", result.new_versions),
        *(jobs if deferred else []),
    ]
    parts = [f"{k} {v}" for k, v in order if v is not None]
    if result.status is not None:  # every job that ran has a run (None only if it could not start one)
        parts.append(f"run_id {result.run_id}")
    parts += [f"{k} {v}" for k, v in [*([] if deferred else jobs), ("feeds", result.feeds)] if v is not None]
    hook = result.webhook
    if hook:
        parts.append(
            f"webhook: {hook.delivered} delivered" + (f", {hook.pending} pending ({hook.error})" if hook.error else "")
        )
    return ", ".join(parts)


def describe(jobs: Sequence[JobInfo]) -> list[dict[str, Json]]:
    """Jobs as plain values (``schedule --show --format json``)."""
    return [j.as_dict() for j in jobs]
