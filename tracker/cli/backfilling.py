"""``consent-tracker backfill``: history from the Wayback Machine for the tracked sites (or a list)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from tracker.cli.common import (
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
    warn,
)
from tracker.config import settings
from tracker.fetch.http import ConnectTo
from tracker.rules.vocabulary import Freq

__all__ = ["WAYBACK_START", "backfill_cmd", "month_or_day"]

#: The Wayback Machine's first captures date from 1996: nothing older can be backfilled.
WAYBACK_START = date(1996, 1, 1)


def month_or_day(value: str | None, option: str, *, end: bool = False) -> date | None:
    """``2016-01`` (the first, or with ``end`` the last, day of the month) or ``2016-01-15``."""
    if value is None:
        return None
    try:
        if len(value) == 7:
            d = date.fromisoformat(value + "-01")
            if end:
                nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
                return date.fromordinal(nxt.toordinal() - 1)
            return d
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a month like 2016-01 or a day like 2016-01-31, not {value!r}")


def backfill_cmd(
    since: Annotated[str, typer.Option("--since", help="First month (2016-01) or day.")] = "2016-01",
    until: Annotated[str | None, typer.Option("--until", help="Last month or day (default: today).")] = None,
    freq: Annotated[Freq, typer.Option("--freq", help="One capture per period.")] = Freq.month,
    sites: SitesOpt = None,
    list_: ListOpt = None,
    top: TopOpt = None,
    rate: Annotated[
        float | None,
        typer.Option("--rate", help="Requests a second to the archive (0: no limit) [env …_ARCHIVE_RATE]."),
    ] = None,
    archive_url: Annotated[
        str | None, typer.Option("--archive-url", help="The archive [env CONSENT_TRACKER_ARCHIVE_URL].")
    ] = None,
    connect_to: ConnectToOpt = None,
    ca_bundle: CaBundleOpt = None,
    allow_private: AllowPrivateOpt = None,
    db: DbOpt = None,
) -> None:
    """Backfill robots.txt history from the Wayback Machine: one capture per period, as versions (resumable)."""
    from tracker.pipeline.backfill import BackfillConfig, BackfillProgress, backfill

    since_d = month_or_day(since, "--since")
    if since_d is not None and since_d < WAYBACK_START:
        fail(
            f"--since {since}: the Wayback Machine's archive starts in {WAYBACK_START.year}; "
            f"give {WAYBACK_START.year}-01 or later"
        )
    until_d = month_or_day(until, "--until", end=True) or datetime.now(UTC).date()
    try:
        config = BackfillConfig.from_settings(
            settings.resolve_all(),
            since=since_d,
            until=until_d,
            freq=freq,
            rate=rate,
            archive_url=archive_url,
            ca_bundle=ca_bundle,
            allow_private=allow_private,
            connect_to=[ConnectTo.parse(c) for c in connect_to or []],
        )
    except ValueError as e:
        fail(str(e))
    engine = open_db(db)
    entries = sites_to_use(engine, sites, list_, top)
    with Progress(
        TextColumn("backfilling"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("sites"),
        TextColumn("{task.fields[req]} requests, {task.fields[cap]} captures"),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("", total=len(entries), req=0, cap=0)

        def progress(p: BackfillProgress, domain: str) -> None:
            bar.update(task, completed=p.done + p.skipped, req=p.requests, cap=p.captures, description=domain)

        try:
            report = asyncio.run(backfill(engine, entries, config, progress=progress))
        except KeyboardInterrupt:
            err.print(
                Text("interrupted: what was fetched is saved; run the same backfill again to resume", style="yellow")
            )
            raise typer.Exit(130) from None
    out.print(Text(report.summary()), soft_wrap=True)
    if report.excluded:
        warn(f"the archive excludes {len(report.excluded)} site(s): {', '.join((report.excluded or ())[:10])}")
