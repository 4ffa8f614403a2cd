"""Moving a store between backends: ``db copy`` (SQLite → PostgreSQL and back), verified by counts and checksums.

Every table of the models is copied in foreign-key order, in primary-key order, in chunks, into a store at the
same schema revision that holds no history yet. PostgreSQL's id sequences are moved past the copied ids so the
next insert does not collide. Then both sides are read again and compared table by table: the row count and a
SHA-256 over every row in primary-key order, with values in one canonical form (datetimes as UTC, booleans as
0/1, bytes as hex) so that the two backends' different storage of the same value hashes alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Table, delete, func, insert, select, text
from sqlmodel import SQLModel

from tracker.errors import StoreError
from tracker.store import models  # noqa: F401  (registers the tables)

__all__ = ["TableCheck", "copy_store", "table_checks"]

CHUNK = 5000


@dataclass(frozen=True, slots=True)
class TableCheck:
    """A table's row count and checksum on one side."""

    table: str
    rows: int
    sha256: str


def _tables() -> list[Table]:
    return list(SQLModel.metadata.sorted_tables)


def _canonical(v: Any) -> str:
    if v is None:
        return "∅"
    if isinstance(v, datetime):
        v = v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v
        return v.isoformat(timespec="microseconds")
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, bytes | memoryview):
        return bytes(v).hex()
    if isinstance(v, float):
        return repr(round(v, 9))
    return str(v)


def _ordered(table: Table) -> Any:
    return select(table).order_by(*table.primary_key.columns)


def table_checks(engine: Engine) -> list[TableCheck]:
    """Row count and checksum of every table of the models."""
    out = []
    with engine.connect() as conn:
        for table in _tables():
            h = hashlib.sha256()
            n = 0
            for row in conn.execution_options(yield_per=CHUNK).execute(_ordered(table)):
                h.update("\x1f".join(_canonical(v) for v in row).encode())
                h.update(b"\x1e")
                n += 1
            out.append(TableCheck(table.name, n, h.hexdigest()))
    return out


#: Tables a new store is created with rows in (the registry's agents, tracker.store.views).
_MADE_AT_CREATION = frozenset({"agents"})


def copy_store(
    source: Engine, target: Engine, *, progress: Callable[[str, int], None] | None = None
) -> tuple[list[TableCheck], list[TableCheck]]:
    """Copy every table from one store into an empty one; return both sides' checks (equal, or StoreError)."""
    with target.connect() as conn:
        filled = [
            t.name
            for t in _tables()
            if t.name not in _MADE_AT_CREATION and conn.execute(select(func.count()).select_from(t)).scalar()
        ]
    if filled:
        raise StoreError(f"the target already holds data ({', '.join(filled[:4])}…): copy into a new, empty store")
    with source.connect() as src, target.begin() as dst:
        for table in _tables():
            if table.name in _MADE_AT_CREATION:  # the source's rows replace what creating the target wrote
                dst.execute(delete(table))
            batch: list[dict[str, Any]] = []
            n = 0
            for row in src.execution_options(yield_per=CHUNK).execute(_ordered(table)):
                batch.append(dict(row._mapping))
                if len(batch) >= CHUNK:
                    dst.execute(insert(table), batch)
                    n += len(batch)
                    batch = []
                    if progress:
                        progress(table.name, n)
            if batch:
                dst.execute(insert(table), batch)
                n += len(batch)
            if progress:
                progress(table.name, n)
        if dst.dialect.name == "postgresql":
            for table in _tables():
                for col in table.primary_key.columns:
                    if col.autoincrement is True or (
                        col.autoincrement == "auto" and len(table.primary_key) == 1 and col.type.python_type is int
                    ):
                        dst.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{col.name}'), "
                                f"COALESCE((SELECT max({col.name}) FROM {table.name}), 0) + 1, false)"
                            )
                        )
    before, after = table_checks(source), table_checks(target)
    bad = [f"{a.table} ({a.rows} rows → {b.rows})" for a, b in zip(before, after, strict=True) if a != b]
    if bad:
        raise StoreError("the copy differs from its source: " + ", ".join(bad))
    return before, after
