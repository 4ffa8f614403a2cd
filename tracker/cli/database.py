"""``consent-tracker db migrate`` and ``db copy``: the database itself (SQLite or PostgreSQL)."""

from __future__ import annotations

from typing import Annotated

import typer

from tracker import service
from tracker.cli.common import DbOpt, Table, Text, err, out, resolved

__all__ = ["db_copy", "db_migrate"]


def db_migrate(db: DbOpt = None) -> None:
    """Create the database, or upgrade its schema to this version's (SQLite path or PostgreSQL URL); then bring
    what it derives from stored bodies (evaluations, adoption readings) up to this parser's version, so that
    reads only read."""
    done = service.db_migrate(resolved(db=db).db)
    if done.before == done.after:
        out.print(Text(f"{done.shown}: already at schema {done.after}"))
    else:
        out.print(Text(f"{done.shown}: schema {done.before or 'none (new database)'} → {done.after}"))
    r = done.refreshed
    out.print(
        Text(
            f"evaluations: {r.evaluations_added:,} added, {r.evaluations_dropped:,} of another parser version "
            f"dropped; adoption readings: {r.adoptions_added:,} added, {r.adoptions_dropped:,} dropped"
        )
    )


def db_copy(
    source: Annotated[str, typer.Argument(help="The store to copy: an SQLite path or a PostgreSQL URL.")],
    target: Annotated[str, typer.Argument(help="A new, empty store (created and migrated here).")],
) -> None:
    """Copy a whole store to another backend (SQLite → PostgreSQL and back), verified by counts and checksums."""
    checks = service.db_copy(
        source, target, progress=lambda table, n: err.print(Text(f"  {table}: {n:,} rows"), end="\r")
    )
    table = Table(title="copied; every table verified (rows and SHA-256 over its rows in key order)")
    for col in ("table", "rows", "sha256"):
        table.add_column(col)
    for c in checks:
        table.add_row(c.table, f"{c.rows:,}", c.sha256[:16])
    out.print(table)
