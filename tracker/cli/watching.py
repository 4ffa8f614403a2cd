"""``consent-tracker changes`` (what changed, site × agent × signal, before → after) and ``schedule`` (the
recurring crawls that find the changes)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from tracker import service
from tracker.cli.common import (
    AllowPrivateOpt,
    CaBundleOpt,
    ConnectToOpt,
    DbOpt,
    FormatOpt,
    FromOpt,
    SinceOpt,
    Table,
    Text,
    ToOpt,
    UntilOpt,
    either,
    err,
    marked,
    open_db,
    out,
    print_rows_as_data,
    resolved,
    simulated,
    visible,
    warn,
)
from tracker.records.vocabulary import CHANGE_TYPES, JOBS, SIGNAL_NAMES, OutputFormat

if TYPE_CHECKING:
    from tracker.operations.schedule import JobInfo, JobResult

__all__ = ["changes_cmd", "print_job_result", "schedule_cmd"]


def changes_cmd(
    since: SinceOpt = None,
    until: UntilOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    site: Annotated[str | None, typer.Option("--site", help="Only this site.")] = None,
    agent: Annotated[list[str] | None, typer.Option("--agent", "-a", help="Only these agents (repeatable).")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Only sites of this category.")] = None,
    signal: Annotated[
        list[str] | None,
        typer.Option("--signal", "-s", help="Only these (repeatable): robots (stances), " + ", ".join(SIGNAL_NAMES)),
    ] = None,
    change: Annotated[
        list[str] | None, typer.Option("--change", help="Only these types (repeatable): " + ", ".join(CHANGE_TYPES))
    ] = None,
    type_: Annotated[list[str] | None, typer.Option("--type", hidden=True, help="Old spelling of --change.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first (0: all).")] = 200,
    diff: Annotated[bool, typer.Option("--diff", help="Show each robots.txt change's diff.")] = False,
    fmt: FormatOpt = OutputFormat.table,
    db: DbOpt = None,
) -> None:
    """What changed: each site's new stance per agent and each signal adopted or dropped, restrictions and
    reversals apart, newest first."""
    changes = [*(change or []), *(type_ or [])] or None
    engine = open_db(db, create=False)
    found = service.changes(
        engine,
        since=service.parse_month_or_day(either(since, from_), "since"),
        until=service.parse_month_or_day(either(until, to), "until", end=True),
        site=site,
        agents=agent,
        category=category,
        signals=signal,
        changes=changes,
        limit=limit,
        diffs=diff or fmt is not OutputFormat.table,
    )
    for a in found.unfollowed_agents:
        warn(
            f"{a} is not one of the agents change events follow (the core panel); "
            f"`consent-tracker site DOMAIN --agent {a}` reads its history"
        )
    events = found.events
    is_simulated = simulated(engine)
    if fmt is not OutputFormat.table:
        print_rows_as_data(events, fmt, marked(found.as_dict(), is_simulated))
        return
    if not events:
        out.print("no changes match (changes are recorded when a crawl, backfill or import adds versions)")
        return
    title = f"{len(events)} change{'s' if len(events) != 1 else ''}, newest first"
    table = Table(title=title + (" (--limit reached)" if found.more else ""))
    for col in ("when", "site", "agent / signal", "before", "after", "type", "source"):
        table.add_column(col, overflow="fold")
    for ev in events:
        style = {"restriction": "red", "reversal": "green"}.get(ev.change, "")
        table.add_row(
            Text(ev.when.removeprefix("first seen ")),
            Text(ev.site),
            Text(ev.subject),
            Text(ev.before),
            Text(ev.after),
            Text(ev.change, style=style),
            Text(ev.source),
        )
    out.print(table)
    if diff:
        for ev in events:
            if ev.robots_diff:
                out.print(Text(f"\n{ev.title} — {ev.when}", style="bold"))
                out.print(Text(visible(ev.robots_diff)), soft_wrap=True)  # fetched text never drives the terminal


def schedule_cmd(
    show: Annotated[bool, typer.Option("--show", help="Show the jobs, their next and last runs, and exit.")] = False,
    run: Annotated[
        str | None, typer.Option("--run", help="Run one job now (" + ", ".join(JOBS) + ") and exit, without waiting.")
    ] = None,
    list_: Annotated[
        list[str] | None, typer.Option("--list", help="Only the sites of this tracked list (repeatable).")
    ] = None,
    site_list: Annotated[
        list[str] | None, typer.Option("--site-list", hidden=True, help="Old spelling of --list.")
    ] = None,
    connect_to: ConnectToOpt = None,
    ca_bundle: CaBundleOpt = None,
    allow_private: AllowPrivateOpt = None,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed",
            help="Defer the crawls to `consent-tracker worker` processes (PostgreSQL) instead of running them here.",
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="If another scheduler holds this database, wait until it stops instead of exiting."
        ),
    ] = False,
    fmt: FormatOpt = OutputFormat.table,
    db: DbOpt = None,
) -> None:
    """Run the recurring jobs (robots.txt daily, every signal weekly, a Wayback top-up monthly; see the schedule-*
    settings) until Ctrl-C; after each run, write the change feeds and call the webhook."""
    from tracker.operations.schedule import ScheduleOptions, Scheduler, run_job

    options = ScheduleOptions.from_settings(
        resolved(db=db, allow_private=allow_private),
        connect_to=connect_to or (),
        ca_bundle=ca_bundle,
        lists=[*(list_ or []), *(site_list or [])] or None,
        distributed=distributed,
    )
    if distributed:
        from tracker.operations.workers import conninfo

        conninfo(options.db)  # PostgreSQL only, said before anything starts
    engine = open_db(options.db)
    if run is not None:
        if run not in JOBS:
            raise typer.BadParameter(f"{run!r} is not one of {', '.join(JOBS)}", param_hint="--run")
        if fmt is OutputFormat.table:
            out.print(Text(f"{run}: {JOBS[run]}"))
        _print_result(run_job(run, options.as_kwargs()), fmt)
        return
    scheduler = Scheduler(engine, options, on_event=lambda msg: err.print(Text(msg)), wait=wait)
    if show:
        scheduler.start(paused=True)
        try:
            _print_jobs(scheduler.jobs(), fmt)
        finally:
            scheduler.shutdown()
        return
    try:
        notes = scheduler.start()
    except KeyboardInterrupt:  # e.g. while waiting for another scheduler (--wait)
        scheduler.shutdown()
        err.print(Text("stopped before the scheduler started", style="yellow"))
        return
    for note in notes:
        err.print(Text(note, style="yellow"))
    _print_jobs(scheduler.jobs(), fmt)
    err.print(Text(f"scheduler running on {options.db}; feeds in {options.feeds_dir}; Ctrl-C stops it"))
    try:
        import threading

        threading.Event().wait()
    except KeyboardInterrupt:
        err.print(Text("stopping: a running job is interrupted and resumed at the next start", style="yellow"))
    finally:
        scheduler.shutdown()


def _print_result(result: JobResult, fmt: OutputFormat) -> None:
    """A job's result as a line (table), a JSON object, or one CSV row (its mappings as JSON cells)."""
    if fmt is OutputFormat.table:
        print_job_result(result)
        return
    from dataclasses import asdict

    document = asdict(result)
    if fmt is OutputFormat.json:
        print(json.dumps(document, indent=1, default=str))
        return
    w = csv.writer(sys.stdout)
    w.writerow(list(document))
    w.writerow([json.dumps(v, default=str) if isinstance(v, dict) else v for v in document.values()])


def print_job_result(result: JobResult) -> None:
    """One line on what a job did."""
    from tracker.operations.schedule import describe_result

    out.print(Text(f"{result.job}: {describe_result(result)}"), soft_wrap=True)


def _print_jobs(jobs: Sequence[JobInfo], fmt: OutputFormat) -> None:
    from tracker.operations.schedule import describe

    if fmt is OutputFormat.json:
        print(json.dumps({"jobs": describe(jobs)}, indent=1))
        return
    if fmt is OutputFormat.csv:
        w = csv.writer(sys.stdout)
        w.writerow(["job", "trigger", "next_run", "last_run", "last_status", "what"])
        for j in jobs:
            last = j.last_run
            w.writerow(
                [
                    j.name,
                    j.trigger,
                    j.next_run.isoformat() if j.next_run else None,
                    last.started_at.isoformat() if last else None,
                    last.status if last else None,
                    j.what,
                ]
            )
        return
    table = Table(title="scheduled jobs (UTC)")
    for col in ("job", "when", "next run", "last run", "what"):
        table.add_column(col, overflow="fold")
    for j in jobs:
        last = j.last_run
        last_text = (
            f"#{last.id} {last.status} {last.started_at.isoformat()[:16]}, {last.recorded} sites, "
            f"{last.new_versions} new versions"
            if last
            else "never"
        )
        next_run = j.next_run.isoformat() if j.next_run else "paused"
        table.add_row(Text(j.name), Text(j.trigger), Text(next_run[:16]), Text(last_text), Text(j.what))
    out.print(table)
