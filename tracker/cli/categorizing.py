"""``consent-tracker categories import|assign|report``: what kind of site each is, and from which source."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracker import service
from tracker.cli.common import DbOpt, Text, open_db, out, simulated, warn

__all__ = ["categories_assign", "categories_import", "categories_report"]


def categories_import(
    file: Annotated[Path, typer.Argument(help="A domain,category CSV, or the study's annotation file.")],
    annotations: Annotated[
        bool, typer.Option("--annotations", help="The file is the Consent in Crisis annotations (dpi_top2000_…csv).")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Import category labels (yours, or the reference study's annotations), then re-assign categories."""
    report = service.categories_import(open_db(db), file, annotations=annotations)
    for p in report.problems[:20]:
        warn(p)
    out.print(
        Text(
            f"{report.labelled} sites labelled from {report.rows} rows (source {report.source}; "
            f"{report.new_sites} sites new to the database)"
        )
    )


def categories_assign(
    no_homepages: Annotated[
        bool, typer.Option("--no-homepages", help="Do not read the crawled homepages' schema.org types.")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Recompute every site's category from its labels (user > curated > annotation > homepage > tld)."""
    counts = service.categories_assign(open_db(db, create=False), homepages=not no_homepages)
    out.print(Text(", ".join(f"{k} {v}" for k, v in counts.most_common()) or "no sites"))


def categories_report(
    list_: Annotated[str | None, typer.Option("--list", help="Coverage over this tracked list (default: all).")] = None,
    db: DbOpt = None,
) -> None:
    """How our own rules agree with the reference annotations, and how many sites each source labels."""
    engine = open_db(db, create=False)
    simulated(engine)
    found = service.categories_report(engine, list_name=list_)
    a = found.agreement
    out.print(Text(f"agreement with the annotations: {a.agree} of {a.compared} sites ({a.rate:.0%})"))
    for (mine, theirs), n in a.pairs.most_common(8):
        out.print(Text(f"  ours {mine} / annotation {theirs}: {n}"))
    cov = found.coverage
    total = found.sites or 1
    out.print(
        Text(
            f"coverage of {found.sites} tracked sites: "
            + ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in cov.most_common())
        )
    )
