"""``consent-tracker categories import|assign|report``: what kind of site each is, and from which source."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from tracker.cli.common import DbOpt, open_db, out, warn

__all__ = ["categories_assign", "categories_import", "categories_report"]


def categories_import(
    file: Annotated[Path, typer.Argument(help="A domain,category CSV, or the study's annotation file.")],
    annotations: Annotated[
        bool, typer.Option("--annotations", help="The file is the Consent in Crisis annotations (dpi_top2000_…csv).")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Import category labels (yours, or the reference study's annotations), then re-assign categories."""
    from tracker.analysis.categories import import_labels

    report = import_labels(open_db(db), file, annotations=annotations)
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
    from tracker.analysis.categories import assign

    counts = assign(open_db(db, create=False), homepages=not no_homepages)
    out.print(Text(", ".join(f"{k} {v}" for k, v in counts.most_common()) or "no sites"))


def categories_report(
    list_: Annotated[str | None, typer.Option("--list", help="Coverage over this tracked list (default: all).")] = None,
    db: DbOpt = None,
) -> None:
    """How our own rules agree with the reference annotations, and how many sites each source labels."""
    from tracker.analysis.categories import agreement, coverage
    from tracker.pipeline.tracking import tracked_entries

    engine = open_db(db, create=False)
    a = agreement(engine)
    out.print(Text(f"agreement with the annotations: {a.agree} of {a.compared} sites ({a.rate:.0%})"))
    for (mine, theirs), n in a.pairs.most_common(8):
        out.print(Text(f"  ours {mine} / annotation {theirs}: {n}"))
    domains = [e.domain for e in tracked_entries(engine, [list_] if list_ else None)]
    cov = coverage(engine, domains)
    total = len(domains) or 1
    out.print(
        Text(
            f"coverage of {len(domains)} tracked sites: "
            + ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in cov.most_common())
        )
    )
