"""``consent-tracker up``: the main job — sites, history, a first crawl, then the scheduler and the dashboard.

``up --demo`` runs the same pipeline against the simulated web and archive of :mod:`tracker.operations.demo` on
loopback,
into a database of its own (``data/demo.db`` in the current folder unless ``--db`` or ``CONSENT_TRACKER_DB`` names
one) that is marked simulated, so every page, feed and report built from it says so.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from tracker import service
from tracker.cli.common import DbOpt, Text, err, open_db, out, step_progress
from tracker.cli.presenting import dashboard_process
from tracker.config import settings
from tracker.config.settings import Settings
from tracker.errors import TrackerError
from tracker.operations.processes import Child, sigterm_as_interrupt

__all__ = ["DEMO_DB", "up_cmd"]

DEMO_DB = settings.DATA_DIR / "demo.db"
#: The demo's schedule: often enough that a newcomer sees scheduled crawls find the simulated web's changes.
DEMO_TRIGGERS = {"schedule-robots": "every 2m", "schedule-signals": "every 15m", "schedule-wayback": "off"}


def up_cmd(
    demo: Annotated[
        bool, typer.Option("--demo", help="Use a simulated web and archive on this machine (offline).")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="Dashboard port.")] = 8501,
    host: Annotated[
        str, typer.Option("--host", help="Dashboard address (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    top: Annotated[int, typer.Option("--top", help="How many of the Tranco list to track on a fresh database.")] = 1000,
    since: Annotated[
        str, typer.Option("--since", metavar="MONTH", help="How far back the history goes (YYYY-MM).")
    ] = "2019-01",
    no_dashboard: Annotated[bool, typer.Option("--no-dashboard", help="Do not serve the dashboard.")] = False,
    no_schedule: Annotated[
        bool, typer.Option("--no-schedule", help="Stop after the first crawl (no scheduler, no dashboard).")
    ] = False,
    db: DbOpt = None,
) -> None:
    """The main job: track the Tranco top 1,000, backfill their history, crawl them, then keep crawling on a
    schedule and serve the dashboard — each step skipped when already done; Ctrl-C (or SIGTERM) stops everything."""
    with sigterm_as_interrupt() as terminated:
        try:
            _up(demo, port, host, top, since, no_dashboard, no_schedule, db)
        except KeyboardInterrupt:
            how = "stopped by SIGTERM" if terminated else "stopped"
            err.print(
                Text(f"{how}: what was done is saved; `consent-tracker up` again goes on from there", style="yellow")
            )
            raise typer.Exit(128 + (signal.SIGTERM if terminated else signal.SIGINT)) from None


def _up(
    demo: bool,
    port: int,
    host: str,
    top: int,
    since: str,
    no_dashboard: bool,
    no_schedule: bool,
    db: str | None,
) -> None:
    """``up``'s steps, in order; the dashboard and the demo's web stopped however it ends."""
    from tracker.operations.up import backfill_step, crawl_step, network_check, sites_step

    demo_web: Any = None
    overrides: dict[str, settings.SettingValue] = {}
    connect_to: list[str] = []
    if demo:
        from tracker.operations.demo import start_demo

        db = db or os.environ.get(settings.SETTINGS["db"].env) or str(DEMO_DB)
        demo_web = start_demo()
        overrides = {**demo_web.settings, **DEMO_TRIGGERS}
        connect_to = demo_web.connect_to
        top = min(top, len(demo_web.world.sites))
    db_url = str(settings.get("db", db))
    if not db_url.startswith("postgresql") and "://" not in db_url:
        Path(db_url).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = open_db(db_url)
    try:
        service.prepare_up_store(engine, demo=demo, name=db_url)
    except TrackerError:
        if demo_web is not None:
            demo_web.stop()
        raise
    options = settings.resolve({**overrides, "db": db_url})  # once, here: every step reads these
    started = time.monotonic()
    timings: list[tuple[str, float]] = []
    hints: set[str] = set()
    label = " (simulated web on loopback)" if demo else ""
    out.print(Text(f"consent-tracker up{label}: database {db_url}", style="bold"))

    def report(result: Any, n: int) -> None:
        style = {"done": "green", "skipped": "cyan", "failed": "red"}[result.status]
        out.print(
            Text(f"step {n}/5 {result.step}: {result.status} in {result.seconds:.1f} s — {result.detail}", style=style),
            soft_wrap=True,
        )
        if result.hint and result.hint not in hints:  # once: two steps failing for one reason share their advice
            hints.add(result.hint)
            out.print(Text(f"  how to go on: {result.hint}", style="yellow"), soft_wrap=True)
        timings.append((result.step, result.seconds))

    demo_running = demo_web
    try:
        result = sites_step(
            engine,
            top=top,
            tranco_url=options.tranco_url,
            user_agent=options.header(),
            timeout=options.timeout,
        )
        report(result, 1)
        if result.status == "failed":
            raise typer.Exit(2)
        if demo and result.status == "done":
            demo_web.label_categories(engine)
        since_d = service.parse_month_or_day(since, "since")
        backfill = service.backfill_config(options, since=since_d, connect_to=connect_to)
        crawl = service.crawl_config(options, connect_to=connect_to)
        offline = network_check(engine, backfill, crawl.connect_to)
        with step_progress("backfilling", "sites") as update:
            result = backfill_step(
                engine, backfill, progress=lambda p, _d: update(p.done + p.skipped, p.total), offline=offline
            )
        report(result, 2)
        with step_progress("crawling", "sites") as update:
            result = crawl_step(engine, crawl, progress=lambda p: update(p.done + p.skipped, p.total), offline=offline)
        report(result, 3)
        if no_schedule:
            out.print(Text(f"ready in {time.monotonic() - started:.0f} s (no scheduler, no dashboard: --no-schedule)"))
            return
        _serve(engine, options, connect_to, demo, host, port, no_dashboard, started, report)
    finally:
        if demo_running is not None:
            demo_running.stop()


def _serve(
    engine: Any,
    settings_: Settings,
    connect_to: list[str],
    demo: bool,
    host: str,
    port: int,
    no_dashboard: bool,
    started: float,
    report: Any,
) -> None:
    """Steps 4 and 5: the scheduler in this process, the dashboard as a child; until Ctrl-C."""
    from tracker.operations.schedule import ScheduleOptions, Scheduler
    from tracker.operations.up import StepResult

    options = ScheduleOptions.from_settings(settings_, connect_to=connect_to, simulated=demo)
    db_url = settings_.db
    t = time.monotonic()
    scheduler = Scheduler(engine, options, on_event=lambda msg: err.print(Text(msg)))
    notes = scheduler.start()
    jobs = ", ".join(f"{j.name} {j.trigger}" for j in scheduler.jobs())
    report(
        StepResult(
            "schedule",
            "done",
            time.monotonic() - t,
            f"jobs: {jobs}; feeds in {options.feeds_dir}" + ("; " + "; ".join(notes) if notes else ""),
        ),
        4,
    )
    dash: Child | None = None
    # Its standard error goes to a file, quoted when it fails: a pipe nobody reads fills up and stalls it.
    with tempfile.TemporaryFile() as log:
        try:
            if not no_dashboard:
                t = time.monotonic()
                cmd, env = dashboard_process(db_url, host=host, port=port)
                dash = Child.start(cmd, env=env, stderr=log)
                url = f"http://{host}:{port}/"
                if not _wait_healthy(url, dash, 60):
                    report(
                        StepResult(
                            "dashboard",
                            "failed",
                            time.monotonic() - t,
                            f"it did not answer at {url}" + _tail(log),
                            f"is port {port} taken? `consent-tracker up --port 8502`",
                        ),
                        5,
                    )
                    raise typer.Exit(2)
                report(StepResult("dashboard", "done", time.monotonic() - t, f"at {url}"), 5)
            out.print(
                Text(
                    f"up in {time.monotonic() - started:.0f} s"
                    + (" — simulated data, marked as such everywhere" if demo else "")
                    + "; Ctrl-C stops everything",
                    style="bold",
                )
            )
            while dash is None or dash.poll() is None:
                time.sleep(0.5)
            err.print(Text(f"the dashboard exited ({dash.poll()}); stopping{_tail(log)}", style="red"))
        finally:
            if dash is not None:
                dash.stop()
            scheduler.shutdown()


def _tail(log: IO[bytes], lines: int = 5) -> str:
    """The last lines the dashboard wrote to its standard error, to quote after a failure."""
    log.seek(0, os.SEEK_END)
    log.seek(max(0, log.tell() - 4000))
    text = log.read().decode("utf-8", "replace").strip().splitlines()[-lines:]
    return (": " + " / ".join(line.strip() for line in text)) if text else ""


def _wait_healthy(url: str, proc: Child, timeout: float) -> bool:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "_stcore/health", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False
