"""``consent-tracker sites add|list|remove``: the tracked site lists (a fixed panel, a moving top-N)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tracker import service
from tracker.cli.common import (
    DbOpt,
    FormatOpt,
    Table,
    Text,
    fail,
    open_db,
    out,
    print_csv,
    resolved,
    simulated,
    warn,
)
from tracker.records.vocabulary import OutputFormat

__all__ = ["sites_add", "sites_list", "sites_remove"]


def sites_add(
    file: Annotated[
        Path | None,
        typer.Argument(help="A site list: CSV with a domain column, Tranco rank,domain, or one domain a line."),
    ] = None,
    tranco: Annotated[
        int | None, typer.Option("--tranco", help="Download the Tranco list's top N instead of reading a file.")
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="The Tranco list of this day (default: the latest).")
    ] = None,
    list_: Annotated[
        str | None, typer.Option("--list", help="The list to add to (default: 'panel', or 'tranco-top' with --tranco).")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="panel (fixed; only grows) or top (replaced by each new ranking). "
            "Default: panel for a file, top for --tranco.",
        ),
    ] = None,
    top: Annotated[int | None, typer.Option("--top", help="Only the first N sites of the file, by rank.")] = None,
    db: DbOpt = None,
) -> None:
    """Track sites: add a file or a downloaded Tranco list to a panel or a top-N list."""
    options = resolved(db=db)
    if (file is None) == (tranco is None):
        fail("give a site list FILE or --tranco N (one of the two)")
    added = service.sites_add(
        open_db(options),
        options,
        file=file,
        tranco=tranco,
        date=service.parse_day(date, "date"),
        list_=list_,
        kind=kind,
        top=top,
    )
    for problem in added.problems[:20]:
        warn(problem)
    if len(added.problems) > 20:
        warn(f"… and {len(added.problems) - 20} more lines skipped")
    report = added.report
    extra = f" (Tranco list {report.list_id} of {report.list_date})" if report.list_id else ""
    out.print(
        Text(
            f"{report.kind} '{report.list_name}'{extra}: {report.added} added, {report.removed} removed, "
            f"{report.total} sites now"
        ),
        soft_wrap=True,
    )


def sites_list(
    list_name: Annotated[str | None, typer.Argument(help="A list to show its sites (default: the lists).")] = None,
    fmt: FormatOpt = OutputFormat.table,
    db: DbOpt = None,
) -> None:
    """Show the tracked lists, or the sites of one."""
    engine = open_db(db, create=False)
    simulated(engine)
    if list_name is None:
        infos = service.sites_list(engine)
        lists = [
            {
                "name": i.name,
                "kind": i.kind,
                "sites": i.sites,
                "source": i.source,
                "list_id": i.list_id,
                "list_date": i.list_date,
            }
            for i in infos
        ]
        if fmt is OutputFormat.json:
            print(json.dumps(lists, indent=1))
            return
        if fmt is OutputFormat.csv:
            print_csv(lists)
            return
        table = Table(title="tracked lists")
        for col in ("list", "kind", "sites", "source", "ranking of"):
            table.add_column(col, overflow="fold")
        for i in infos:
            table.add_row(Text(i.name), Text(i.kind), str(i.sites), Text(i.source or ""), Text(i.list_date or ""))
        out.print(table)
        if not infos:
            out.print("no tracked sites yet: `consent-tracker sites add FILE` or `sites add --tranco 1000`")
        return
    info, members = service.list_members(engine, list_name)
    if fmt is OutputFormat.csv:
        print_csv([{"rank": r, "domain": d, "category": c} for d, r, c in members])
    elif fmt is OutputFormat.json:
        print(json.dumps([{"domain": d, "rank": r, "category": c} for d, r, c in members], indent=1))
    else:
        table = Table(title=f"{info.kind} '{list_name}': {len(members)} sites")
        for col in ("rank", "domain", "category"):
            table.add_column(col)
        for d, r, c in members:
            table.add_row(str(r or ""), Text(d), Text(c or ""))
        out.print(table)


def sites_remove(
    list_name: Annotated[str, typer.Argument(help="The list.")],
    domains: Annotated[list[str] | None, typer.Argument(help="Sites to take out (none: drop the whole list).")] = None,
    db: DbOpt = None,
) -> None:
    """Take sites out of a list, or drop a list; the sites' history stays in the database."""
    n = service.sites_remove(open_db(db, create=False), list_name, domains=domains or ())
    what = f"{n} site(s) taken out of '{list_name}'" if domains else f"list '{list_name}' ({n} sites) dropped"
    out.print(Text(what + "; their history stays"))
