"""One holder per store: the lock a scheduler takes so that two never run the same jobs on one database.

The lock dies with its holder, so a scheduler killed with ``kill -9`` never leaves a stale lock behind and a
restart takes over at once. On SQLite it is an OS file lock (``flock``) on a file beside the database, which
also says who holds it (pid, host, since when); on PostgreSQL a session advisory lock on a connection kept for
the holder's life, whose ``application_name`` says who holds it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from tracker.errors import StoreBusy

__all__ = ["LockHolder", "StoreLock", "hold_store", "lock_path"]

#: The advisory lock's key on PostgreSQL (one per database, so one per store); below 2**31, so it shows in
#: ``pg_locks`` as classid 0, objid KEY.
_PG_KEY = 1_907_434_511


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a lock: process, host and since when (ISO 8601), as written in the lock file."""

    pid: int | str
    host: str
    since: str

    @classmethod
    def me(cls) -> LockHolder:
        """This process, now."""
        return cls(os.getpid(), socket.gethostname(), datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self) -> dict[str, int | str]:
        """As the lock file holds it."""
        return {"pid": self.pid, "host": self.host, "since": self.since}

    @classmethod
    def read(cls, raw: bytes) -> LockHolder | None:
        """From a lock file's bytes, leniently ('?' for what is missing); None if it says nothing yet (its holder
        is just starting) or is not JSON."""
        try:
            d = json.loads(raw or b"{}")
        except ValueError:
            return None
        if not isinstance(d, dict) or not d:
            return None
        pid = d.get("pid", "?")
        return cls(pid if isinstance(pid, int | str) else str(pid), str(d.get("host", "?")), str(d.get("since", "?")))


@dataclass(slots=True)
class StoreLock:
    """A held lock; :meth:`release` (or the holder's death) frees it."""

    what: str
    _fd: int | None = None
    _conn: Connection | None = None
    holder: LockHolder | None = None

    def release(self) -> None:
        """Free the lock (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the flock
            self._fd = None
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_KEY})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None


def lock_path(engine: Engine, role: str = "scheduler") -> Path | None:
    """The lock file beside an SQLite database (None for an in-memory database or a server)."""
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    if not db or db == ":memory:" or db.startswith("file::memory:"):
        return None
    p = Path(db)
    return p.with_name(f"{p.name}.{role}.lock")


def _who(holder: LockHolder | None) -> str:
    if holder is None:
        return "a process that is just starting"
    return f"pid {holder.pid} on host {holder.host} since {holder.since}"


def hold_store(
    engine: Engine,
    role: str = "scheduler",
    *,
    wait: bool = False,
    poll: float = 2.0,
    on_wait: Callable[[str], None] | None = None,
) -> StoreLock:
    """Take the store's ``role`` lock for this process's life; raise StoreBusy naming the holder if another
    process has it (or, with ``wait``, wait until it is free, telling ``on_wait`` once who holds it)."""
    told = False
    while True:
        try:
            return _try_hold(engine, role)
        except StoreBusy as busy:
            if not wait:
                raise
            if on_wait is not None and not told:
                on_wait(f"{busy}; waiting until it stops")
                told = True
            time.sleep(poll)


def _try_hold(engine: Engine, role: str) -> StoreLock:
    path = lock_path(engine, role)
    if engine.dialect.name == "sqlite":
        if path is None:
            return StoreLock(role)  # an in-memory database has one process by definition
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = LockHolder.read(os.read(fd, 4096))
            os.close(fd)
            raise StoreBusy(f"another {role} holds this store: {_who(holder)} (lock file {path})") from None
        me = LockHolder.me()
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me.to_json()).encode(), 0)
        return StoreLock(role, _fd=fd, holder=me)
    me = LockHolder.me()
    conn = engine.connect()
    try:
        name = f"consent-tracker {role} pid={me.pid} host={me.host}"[:63]
        conn.execute(text("SELECT set_config('application_name', :n, false)"), {"n": name})
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_KEY}).scalar()
        conn.commit()  # a session lock: it outlives the transaction, and an idle session is not timed out
        if got:
            return StoreLock(role, _conn=conn, holder=me)
        row = conn.execute(
            text(
                "SELECT a.application_name, a.pid, a.client_addr, a.backend_start FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.classid = 0 AND l.objid = :k AND l.database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())"
            ),
            {"k": _PG_KEY},
        ).first()
        conn.rollback()
    except BaseException:
        conn.close()
        raise
    conn.close()
    who = "a session that just ended"
    if row:
        since = row[3].astimezone(UTC).isoformat(timespec="seconds")
        who = f"{row[0] or 'a session'} (server backend {row[1]}, client {row[2] or 'local'}, since {since})"
    raise StoreBusy(f"another {role} holds this store: {who}")
