"""``consent-tracker crawl``: a site list into the history."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from tracker import settings
from tracker.cli.common import (
    AgentsFileOpt,
    AllowPrivateOpt,
    CaBundleOpt,
    ConnectToOpt,
    DbOpt,
    ListOpt,
    SitesOpt,
    TopOpt,
    err,
    fail,
    open_db,
    out,
    sites_to_use,
)
from tracker.crawl import ConnectTo
from tracker.crawler import CrawlConfig, CrawlProgress, CrawlSummary, run_crawl
from tracker.vocabulary import RESOURCE_KINDS

__all__ = ["crawl_cmd"]


def crawl_cmd(
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
) -> None:
    """Crawl a site list: robots.txt and the other signals of every site, into the history."""
    engine = open_db(db)
    entries = sites_to_use(engine, sites, list_, top)
    try:
        config = CrawlConfig.from_settings(
            {**settings.resolve_all(), **({"agents-file": agents_file} if agents_file else {})},
            concurrency=concurrency, delay=delay, retries=retries, timeout=timeout, total_timeout=total_timeout,
            user_agent=settings.user_agent(user_agent) if user_agent else None, ca_bundle=ca_bundle,
            allow_private=allow_private, resources=tuple(k.strip() for k in resources.split(",") if k.strip()),
            connect_to=[ConnectTo.parse(c) for c in connect_to or []],
        )  # fmt: skip
    except ValueError as e:
        fail(str(e))
    source = str(sites.resolve()) if sites else "tracked:" + ",".join(list_ or ["all"])
    with Progress(
        TextColumn("crawling"), BarColumn(), MofNCompleteColumn(), TextColumn("sites"),
        TextColumn("{task.fields[rate]:.0f}/s"), TimeRemainingColumn(), TextColumn("{task.fields[errors]}"),
        console=err, transient=True, disable=not err.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("", total=len(entries), rate=0.0, errors="")

        def progress(p: CrawlProgress) -> None:
            errs = ", ".join(f"{k} {v}" for k, v in p.errors.most_common(3))
            bar.update(task, completed=p.done + p.skipped, rate=p.rate, errors=errs)

        try:
            summary = asyncio.run(
                run_crawl(engine, entries, config, source=source, resume=resume, progress=progress)
            )
        except KeyboardInterrupt:
            err.print(Text("interrupted: what was fetched is saved; run again with --resume to finish", style="yellow"))
            raise typer.Exit(130) from None
    _print_summary(summary)


def _print_summary(summary: CrawlSummary) -> None:
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary.robots_status.items(), key=lambda kv: -kv[1]))
    rate = summary.done / summary.seconds if summary.seconds else 0
    out.print(
        Text(
            f"crawl #{summary.run_id} {summary.status}: {summary.done} sites in {summary.seconds:.1f} s ({rate:.0f}/s)"
            + (f", {summary.skipped} already done before resuming" if summary.skipped else "")
            + f"; {summary.new_versions} new versions, {summary.unchanged} unchanged, {summary.changes} changes"
            + f" (`consent-tracker changes`); robots.txt: {statuses}"
        ),
        soft_wrap=True,
    )
    if summary.errors:
        out.print(Text("errors: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.errors.items()))), soft_wrap=True)
