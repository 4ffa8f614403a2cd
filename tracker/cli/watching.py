"""``consent-tracker changes``: what changed, site × agent × signal, before → after."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tracker.cli.common import DbOpt, FormatOpt, open_db, out, parse_day, print_rows_as_data
from tracker.vocabulary import CHANGE_TYPES, SIGNAL_NAMES, OutputFormat

__all__ = ["changes_cmd"]


def changes_cmd(
    since: Annotated[str | None, typer.Option("--since", help="First day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Last day (YYYY-MM-DD).")] = None,
    site: Annotated[str | None, typer.Option("--site", help="Only this site.")] = None,
    agent: Annotated[list[str] | None, typer.Option("--agent", "-a", help="Only these agents (repeatable).")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Only sites of this category.")] = None,
    signal: Annotated[
        list[str] | None,
        typer.Option("--signal", "-s", help="Only these (repeatable): robots (stances), " + ", ".join(SIGNAL_NAMES)),
    ] = None,
    change: Annotated[
        list[str] | None, typer.Option("--type", help="Only these types (repeatable): " + ", ".join(CHANGE_TYPES))
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first (0: all).")] = 200,
    diff: Annotated[bool, typer.Option("--diff", help="Show each robots.txt change's diff.")] = False,
    fmt: FormatOpt = OutputFormat.table,
    db: DbOpt = None,
) -> None:
    """What changed: each site's new stance per agent and each signal adopted or dropped, restrictions and
    reversals apart, newest first."""
    from tracker.changes import list_events

    bad = [c for c in change or [] if c not in CHANGE_TYPES]
    if bad:
        raise typer.BadParameter(f"{bad[0]!r} is not one of {', '.join(CHANGE_TYPES)}", param_hint="--type")
    events = list_events(
        open_db(db, create=False), since=parse_day(since, "--since"), until=parse_day(until, "--until"), site=site,
        agents=agent, category=category, signals=signal, changes=change,  # type: ignore[arg-type]
        limit=limit or None, diffs=diff or fmt is not OutputFormat.table,
    )  # fmt: skip
    if fmt is not OutputFormat.table:
        print_rows_as_data(events, fmt, {"count": len(events)})
        return
    if not events:
        out.print("no changes match (changes are recorded when a crawl, backfill or import adds versions)")
        return
    table = Table(title=f"{len(events)} changes, newest first" + (" (--limit reached)" if len(events) == limit else ""))
    for col in ("when", "site", "agent / signal", "before", "after", "type", "source"):
        table.add_column(col, overflow="fold")
    for ev in events:
        e = ev.stored
        style = {"restriction": "red", "reversal": "green"}.get(e.change, "")
        table.add_row(
            Text(ev.when.removeprefix("first seen ")), Text(e.domain),
            Text(e.agent if e.signal == "robots" else e.signal),
            Text(e.before), Text(e.after), Text(e.change, style=style), Text(e.source),
        )  # fmt: skip
    out.print(table)
    if diff:
        for ev in events:
            if ev.diff:
                out.print(Text(f"\n{ev.title} — {ev.when}", style="bold"))
                out.print(Text(ev.diff), soft_wrap=True)
