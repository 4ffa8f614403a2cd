"""Opening the database: engines, sessions, SQLite pragmas and schema migrations (Alembic).

``open_store(url_or_path)`` returns an engine whose schema is at the latest revision: a new database is
created by running every migration, an older one is upgraded. SQLite files run in WAL mode with foreign keys
on, so readers (the dashboard) never block the single writer.

A read-only store (``sqlite:///file:PATH?mode=ro&uri=true``, or ``sqlite:///PATH?mode=ro``; or ``readonly=True``
for, say, a PostgreSQL role that may only SELECT) is opened without writing anything: no folder, no WAL switch, no
migration — a schema that is out of date is an error that says to run ``consent-tracker db migrate``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session

from tracker.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "SCHEMA_REVISION",
    "StoreError",
    "as_utc",
    "current_revision",
    "database_url",
    "dialect_insert",
    "head_revision",
    "is_readonly",
    "migrate",
    "open_store",
    "session",
    "sqlite_file",
]

#: The newest migration (tests check it against the migrations folder). Knowing it here lets an up-to-date
#: database open without importing Alembic, which costs a second of start-up for every command.
SCHEMA_REVISION = "0005"

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
_lock = threading.Lock()


_T = TypeVar("_T")


def as_utc(value: _T) -> _T:
    """A datetime read back from the store as an aware UTC one (SQLite returns naive datetimes, PostgreSQL aware
    ones in the session's zone); anything else (None included) unchanged."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def database_url(db: str | Path) -> str:
    """A path becomes an SQLite URL; anything with '://' is taken as an SQLAlchemy URL. An SQLite URL with
    ``?mode=ro`` (or ``immutable=1``) but no ``uri=true`` becomes the URI form that SQLite opens read-only
    (``sqlite:///file:PATH?mode=ro&uri=true``)."""
    s = str(db)
    if "://" not in s:
        return f"sqlite:///{Path(s).expanduser().resolve()}"
    parsed = make_url(s)
    uri_only = _query(parsed, "mode") or _query(parsed, "immutable")  # options only a file: URI takes
    if parsed.get_backend_name() == "sqlite" and uri_only and not _query(parsed, "uri"):
        head, _, query = s.partition("?")
        scheme, _, path = head.partition(":///")
        return f"{scheme}:///{path if path.startswith('file:') else 'file:' + path}?{query}&uri=true"
    return s


def _query(url: URL, key: str) -> str:
    value = url.query.get(key, "")
    return (value[-1] if isinstance(value, tuple) else value).lower()


def is_readonly(db: str | Path) -> bool:
    """Whether a store URL asks SQLite to open the file read-only (``mode=ro``, or ``immutable=1``)."""
    parsed = make_url(database_url(db))
    return parsed.get_backend_name() == "sqlite" and (
        _query(parsed, "mode") == "ro" or _query(parsed, "immutable") in ("1", "true")
    )


def sqlite_file(url: URL) -> Path | None:
    """The file an SQLite URL names (a ``file:`` URI's path too), None for an in-memory database."""
    name = url.database
    if name in (None, "", ":memory:"):
        return None
    assert name is not None
    if _query(url, "uri") in ("true", "1") and name.startswith("file:"):
        name = unquote(name[len("file:") :])
        if name.startswith("//"):  # file://host/path: only the local host
            name = "/" + name[2:].partition("/")[2]
        if name in ("", ":memory:") or _query(url, "mode") == "memory":
            return None
    return Path(name)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_read_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # Nothing that writes: the journal mode is the file's (WAL if a writer made it), not switched here.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest migration's revision id, read from the migrations folder."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision (None for an empty database)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest schema."""
    from alembic import command

    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    with _lock, engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_store(
    db: str | Path,
    *,
    upgrade: bool = True,
    create: bool = True,
    echo: bool = False,
    readonly: bool | None = None,
) -> Engine:
    """Open (and by default create or upgrade) the history database at a path or SQLAlchemy URL.

    ``create=False`` is for commands that only read: a database file that does not exist is an error naming the
    path (a typo in ``--db`` must not quietly make an empty database, and its folder, and report "no data").

    ``readonly`` (default: what the URL says, :func:`is_readonly`) opens without writing anything; a schema that is
    not this version's is then an error asking for ``consent-tracker db migrate``.
    """
    url = database_url(db)
    parsed = make_url(url)
    ro = is_readonly(url) if readonly is None else readonly
    file = sqlite_file(parsed) if parsed.get_backend_name() == "sqlite" else None
    if file is not None and (ro or not create) and not file.is_file():
        raise StoreError(
            f"no database at {file} (check --db or CONSENT_TRACKER_DB; "
            "`consent-tracker crawl` or `import-archive` creates one)"
        )
    if file is not None and not ro:
        parent = file.parent
        if not parent.exists():
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"cannot create the folder for {file}: {e.strerror}") from None
    try:
        engine = create_engine(url, echo=echo)
    except Exception as e:  # bad URL, missing driver
        raise StoreError(f"cannot open database {url!r}: {e}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_read_pragmas if ro else _sqlite_pragmas)
    if upgrade:
        try:
            rev = current_revision(engine)
            if rev != SCHEMA_REVISION and ro:
                raise StoreError(
                    f"the database {_shown(url)} is at schema {rev or 'none (empty)'}, this version reads "
                    f"{SCHEMA_REVISION}, and it is opened read-only: run `consent-tracker db migrate` on it "
                    "(with write access), then read it again"
                )
            if rev != SCHEMA_REVISION:
                migrate(engine)
        except StoreError:
            raise
        except Exception as e:  # one line: the driver's reason, not SQLAlchemy's SQL and background link
            reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
            raise StoreError(f"cannot open or upgrade database {_shown(url)!r}: {reason}") from None
    return engine


def _shown(url: str) -> str:
    """A URL as it may be printed (never with its password)."""
    return make_url(url).render_as_string(hide_password=True)


def dialect_insert(conn: Connection, table: Table) -> Any:
    """An INSERT that takes ``on_conflict_do_nothing`` / ``on_conflict_do_update``: SQLite's or PostgreSQL's,
    whichever the connection speaks (the one place the store names a dialect)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def session(engine: Engine) -> Session:
    """A new session (use as a context manager)."""
    return Session(engine, expire_on_commit=False)
