"""``consent-tracker db migrate`` and ``db copy``: the database itself (SQLite or PostgreSQL)."""

from __future__ import annotations

from typing import Annotated

import typer

from tracker.cli.common import DbOpt, Table, Text, err, out
from tracker.config import settings

__all__ = ["db_copy", "db_migrate"]


def db_migrate(db: DbOpt = None) -> None:
    """Create the database, or upgrade its schema to this version's (SQLite path or PostgreSQL URL); then bring
    what it derives from stored bodies (evaluations, adoption readings) up to this parser's version, so that
    reads only read."""
    from tracker.store import open_store
    from tracker.store.engine import SCHEMA_REVISION, current_revision, database_url
    from tracker.store.writer import refresh_derived

    url = database_url(str(settings.get("db", db)))
    before = current_revision(open_store(url, upgrade=False))
    engine = open_store(url)
    shown = url.split("@")[-1] if "@" in url else url  # never print a password
    if before == SCHEMA_REVISION:
        out.print(Text(f"{shown}: already at schema {SCHEMA_REVISION}"))
    else:
        out.print(Text(f"{shown}: schema {before or 'none (new database)'} → {SCHEMA_REVISION}"))
    done = refresh_derived(engine)
    out.print(
        Text(
            f"evaluations: {done.evaluations_added:,} added, {done.evaluations_dropped:,} of another parser version "
            f"dropped; adoption readings: {done.adoptions_added:,} added, {done.adoptions_dropped:,} dropped"
        )
    )


def db_copy(
    source: Annotated[str, typer.Argument(help="The store to copy: an SQLite path or a PostgreSQL URL.")],
    target: Annotated[str, typer.Argument(help="A new, empty store (created and migrated here).")],
) -> None:
    """Copy a whole store to another backend (SQLite → PostgreSQL and back), verified by counts and checksums."""
    from tracker.store import open_store
    from tracker.store.transfer import copy_store

    src = open_store(source, create=False)
    dst = open_store(target)
    before, _ = copy_store(src, dst, progress=lambda table, n: err.print(Text(f"  {table}: {n:,} rows"), end="\r"))
    table = Table(title="copied; every table verified (rows and SHA-256 over its rows in key order)")
    for col in ("table", "rows", "sha256"):
        table.add_column(col)
    for c in before:
        table.add_row(c.table, f"{c.rows:,}", c.sha256[:16])
    out.print(table)
