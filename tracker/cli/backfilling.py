"""``consent-tracker backfill``: history from the Wayback Machine for the tracked sites (or a list)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tracker import service
from tracker.cli.common import (
    AllowPrivateOpt,
    CaBundleOpt,
    ConnectToOpt,
    DbOpt,
    FromOpt,
    ListOpt,
    SitesOpt,
    Text,
    ToOpt,
    TopOpt,
    either,
    err,
    open_db,
    out,
    progress_bar,
    resolved,
    sites_to_use,
    warn,
)
from tracker.records.vocabulary import Freq

if TYPE_CHECKING:
    from tracker.pipeline.backfill import BackfillProgress

__all__ = ["backfill_cmd"]


def backfill_cmd(
    since: Annotated[str, typer.Option("--since", metavar="DATE", help="First month (2016-01) or day.")] = "2016-01",
    until: Annotated[
        str | None, typer.Option("--until", metavar="DATE", help="Last month or day (default: today).")
    ] = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    freq: Annotated[Freq, typer.Option("--freq", help="One capture per period.")] = Freq.month,
    sites: SitesOpt = None,
    list_: ListOpt = None,
    top: TopOpt = None,
    archive_rate: Annotated[
        float | None,
        typer.Option("--archive-rate", help="Requests a second to the archive (0: no limit) [env …_ARCHIVE_RATE]."),
    ] = None,
    rate: Annotated[float | None, typer.Option("--rate", hidden=True, help="Old spelling of --archive-rate.")] = None,
    archive_url: Annotated[
        str | None, typer.Option("--archive-url", help="The archive [env CONSENT_TRACKER_ARCHIVE_URL].")
    ] = None,
    connect_to: ConnectToOpt = None,
    ca_bundle: CaBundleOpt = None,
    allow_private: AllowPrivateOpt = None,
    db: DbOpt = None,
) -> None:
    """Backfill robots.txt history from the Wayback Machine: one capture per period, as versions (resumable)."""
    options = resolved(
        db=db,
        archive_rate=archive_rate if archive_rate is not None else rate,
        archive_url=archive_url,
        allow_private=allow_private,
    )
    config = service.backfill_config(
        options,
        since=service.parse_month_or_day(either(since, from_), "since"),
        until=service.parse_month_or_day(either(until, to), "until", end=True),
        freq=freq,
        connect_to=connect_to or (),
        ca_bundle=ca_bundle,
    )
    engine = open_db(options)
    entries = sites_to_use(engine, sites, list_, top)
    with progress_bar(
        "backfilling", "sites", "{task.fields[req]} requests, {task.fields[cap]} captures", tail="{task.description}"
    ) as bar:
        task = bar.add_task("", total=len(entries), req=0, cap=0)

        def progress(p: BackfillProgress, domain: str) -> None:
            bar.update(task, completed=p.done + p.skipped, req=p.requests, cap=p.captures, description=domain)

        try:
            import asyncio

            report = asyncio.run(service.backfill(engine, entries, config, progress=progress))
        except KeyboardInterrupt:
            err.print(
                Text("interrupted: what was fetched is saved; run the same backfill again to resume", style="yellow")
            )
            raise typer.Exit(130) from None
    out.print(Text(report.summary()), soft_wrap=True)
    if report.excluded:
        warn(f"the archive excludes {len(report.excluded)} site(s): {', '.join((report.excluded or ())[:10])}")
