"""``consent-tracker crawl`` (a site list into the history, in this process or spread over workers),
``crawl status RUN`` and ``worker``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracker import service
from tracker.cli.common import (
    AgentsFileOpt,
    AllowPrivateOpt,
    CaBundleOpt,
    ConnectToOpt,
    DbOpt,
    FormatOpt,
    ListOpt,
    SitesOpt,
    Text,
    TopOpt,
    err,
    open_db,
    out,
    print_csv,
    progress_bar,
    resolved,
    sites_to_use,
)
from tracker.records.vocabulary import RESOURCE_KINDS, OutputFormat

if TYPE_CHECKING:
    from tracker.pipeline.crawl import CrawlConfig, CrawlProgress
    from tracker.records.runs import RunResult
    from tracker.store.runs import RunInfo

__all__ = ["crawl_cmd", "crawl_status", "worker_cmd"]


def crawl_cmd(
    ctx: typer.Context,
    sites: SitesOpt = None,
    list_: ListOpt = None,
    top: TopOpt = None,
    db: DbOpt = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", help="Sites crawled at once [env CONSENT_TRACKER_CONCURRENCY].")
    ] = None,
    delay: Annotated[
        float | None,
        typer.Option("--delay", help="Seconds between two requests to the same host [env CONSENT_TRACKER_DELAY]."),
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option("--retries", help="Extra tries for transient failures (5xx, 429, network) [env …_RETRIES]."),
    ] = None,
    resources: Annotated[
        str, typer.Option("--resources", help="Comma-separated: " + ",".join(RESOURCE_KINDS) + ".")
    ] = ",".join(RESOURCE_KINDS),
    resume: Annotated[bool, typer.Option("--resume", help="Continue the last unfinished crawl of this list.")] = False,
    connect_to: ConnectToOpt = None,
    ca_bundle: CaBundleOpt = None,
    allow_private: AllowPrivateOpt = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds per connect and per read.")] = None,
    total_timeout: Annotated[
        float | None, typer.Option("--total-timeout", help="Seconds for one fetch in all [env …_TOTAL_TIMEOUT].")
    ] = None,
    user_agent: Annotated[str | None, typer.Option("--user-agent", help="User-Agent header.")] = None,
    agents_file: AgentsFileOpt = None,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed", help="Defer the crawl as jobs for `consent-tracker worker` processes (PostgreSQL only)."
        ),
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="With --distributed: block until the workers are done.")] = False,
    batch: Annotated[int, typer.Option("--batch", help="With --distributed: sites per job.", min=1)] = 50,
) -> None:
    """Crawl a site list: robots.txt and the other signals of every site, into the history."""
    if ctx.invoked_subcommand is not None:
        return
    options = resolved(
        db=db,
        agents_file=agents_file or None,
        concurrency=concurrency,
        delay=delay,
        retries=retries,
        timeout=timeout,
        total_timeout=total_timeout,
        user_agent=user_agent,
        allow_private=allow_private,
    )
    if distributed:
        from tracker.operations.workers import conninfo

        conninfo(options.db)  # before anything is created: PostgreSQL only
    engine = open_db(options)
    entries = sites_to_use(engine, sites, list_, top)
    config = service.crawl_config(
        options, resources=resources.split(","), connect_to=connect_to or (), ca_bundle=ca_bundle
    )
    source = str(sites.resolve()) if sites else "tracked:" + ",".join(list_ or ["all"])
    if distributed:
        _distribute(engine, options.db, entries, config, source=source, resume=resume, wait=wait, batch=batch)
        return
    with progress_bar("crawling", "sites", "{task.fields[rate]:.0f}/s", tail="{task.fields[errors]}") as bar:
        task = bar.add_task("", total=len(entries), rate=0.0, errors="")

        def progress(p: CrawlProgress) -> None:
            errs = ", ".join(f"{k} {v}" for k, v in p.errors.most_common(3))
            bar.update(task, completed=p.done + p.skipped, rate=p.rate, errors=errs)

        try:
            import asyncio

            summary = asyncio.run(
                service.crawl(engine, entries, config, source=source, resume=resume, progress=progress)
            )
        except KeyboardInterrupt:
            err.print(Text("interrupted: what was fetched is saved; run again with --resume to finish", style="yellow"))
            raise typer.Exit(130) from None
    _print_summary(summary)
    if summary.unrecorded:
        raise typer.Exit(1)


def _print_summary(summary: RunResult) -> None:
    for notice in summary.notices:
        err.print(Text(notice, style="yellow"), soft_wrap=True)
    out.print(Text(summary.summary()), soft_wrap=True)
    if summary.errors:
        out.print(Text("errors: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.errors.items()))), soft_wrap=True)
    if summary.unrecorded:
        why = "; ".join(f"{k} ({v})" for k, v in (summary.local_errors or {}).items())
        err.print(
            Text(
                f"{summary.unrecorded} sites not recorded: the crawler itself failed ({why}), not the sites; "
                "run again with --resume to fetch them",
                style="red",
            ),
            soft_wrap=True,
        )


def _distribute(
    engine: Any,
    db_url: str,
    entries: list[Any],
    config: CrawlConfig,
    *,
    source: str,
    resume: bool,
    wait: bool,
    batch: int,
) -> None:
    from tracker.operations.workers import defer_crawl, wait_for_run

    d = defer_crawl(engine, db_url, entries, config, source=source, resume=resume, batch=batch)
    out.print(
        Text(
            f"crawl #{d.run_id}: {d.sites} sites deferred as {d.jobs} jobs of up to {batch} sites"
            + (f" ({d.already_done} already recorded)" if d.already_done else "")
            + f"; run `consent-tracker worker` on any machine with this database; "
            f"`consent-tracker crawl status {d.run_id}` shows progress"
        ),
        soft_wrap=True,
    )
    if not wait:
        return
    with progress_bar("crawling", "sites", "{task.fields[jobs]}") as bar:
        task = bar.add_task("", total=d.sites, jobs="")

        def progress(info: RunInfo, jobs: Mapping[str, int]) -> None:
            bar.update(task, completed=info.recorded, jobs=", ".join(f"{k} {v}" for k, v in sorted(jobs.items())))

        info = wait_for_run(engine, db_url, d.run_id, progress=progress)
    _print_status(info, {})


def crawl_status(
    run: Annotated[int, typer.Argument(help="The crawl run's number (printed when it started).")],
    fmt: FormatOpt = OutputFormat.table,
    db: DbOpt = None,
) -> None:
    """How far a crawl run has got: sites recorded, versions, errors, and its jobs when distributed."""
    status = service.crawl_status(open_db(db, create=False), run)
    if fmt is OutputFormat.json:
        print(json.dumps(status.as_dict(), indent=1))
        return
    if fmt is OutputFormat.csv:  # one row: the run's numbers, its parameters and job counts as JSON cells
        row = status.as_dict()
        print_csv([{k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()}])
        return
    _print_status(status.info, status.jobs)


def _print_status(info: RunInfo, jobs: Mapping[str, int]) -> None:
    total = info.params.get("sites")
    out.print(
        Text(
            f"crawl #{info.id} {info.status}: {info.recorded} of {total if total is not None else '?'} sites recorded, "
            f"{info.new_versions} new versions, {info.errors} errors; started {info.started_at:%Y-%m-%d %H:%M:%S} UTC"
            + (f", finished {info.finished_at:%Y-%m-%d %H:%M:%S}" if info.finished_at else "")
            + (f"; jobs: {', '.join(f'{k} {v}' for k, v in sorted(jobs.items()))}" if jobs else "")
        ),
        soft_wrap=True,
    )


def worker_cmd(
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Batch jobs run at once by this worker.", min=1)
    ] = 2,
    burst: Annotated[
        bool, typer.Option("--burst", help="Stop when the queue is empty (default: wait for more).")
    ] = False,
    heartbeat: Annotated[float, typer.Option("--heartbeat", help="Seconds between this worker's heartbeats.")] = 10.0,
    stalled_after: Annotated[
        float,
        typer.Option(
            "--stalled-after", help="Seconds without a heartbeat after which another worker's jobs are requeued."
        ),
    ] = 30.0,
    db: DbOpt = None,
) -> None:
    """Run distributed crawl jobs (from `crawl --distributed` or a distributed scheduler) until Ctrl-C; needs only
    the database (PostgreSQL)."""
    from tracker.operations.workers import run_worker

    db_url = resolved(db=db).db
    out.print(Text(f"worker on {db_url.split('@')[-1]}: {concurrency} jobs at once; Ctrl-C stops it"))
    try:
        import asyncio

        asyncio.run(
            run_worker(db_url, concurrency=concurrency, burst=burst, heartbeat=heartbeat, stalled_after=stalled_after)
        )
    except KeyboardInterrupt:
        err.print(Text("worker stopped; its unfinished jobs are requeued by the other workers", style="yellow"))
