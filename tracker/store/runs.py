"""The run lifecycle shared by crawls, imports and (later) backfills, scheduled jobs and workers.

A run is one row of ``crawl_runs``: it starts (or resumes an unfinished run of the same kind and source), records
batches of observations — each batch in one transaction with the list of sites it completes — and finishes as
``done``, ``interrupted`` (Ctrl-C, cancellation) or ``failed``. Used as a context manager the ending is decided
by how the block ends, so no caller can forget it::

    with Run.open(engine, "live", source, resume=True) as run:
        todo = [s for s in sites if run.site_id(s) not in run.done]
        ...
        run.record(batch)

A run found still ``running`` when another of the same kind and source starts was killed (a live one would be
writing the same data): it is marked ``interrupted``, or taken over when resuming.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, func, insert, select, text, update

from tracker.errors import StoreError
from tracker.records.json import Json, JsonObject
from tracker.records.runs import RunResult
from tracker.records.vocabulary import RunKind, RunStatus
from tracker.store.engine import as_utc
from tracker.store.models import CrawlRun, CrawlRunSite
from tracker.store.writer import Observation, RecordResult, SiteRow, Writer

__all__ = [
    "Run",
    "RunInfo",
    "close_run",
    "finished_runs_since",
    "last_run",
    "queue_counts",
    "run_info",
    "unfinished_runs",
]

_runs = CrawlRun.__table__  # type: ignore[attr-defined]
_run_sites = CrawlRunSite.__table__  # type: ignore[attr-defined]


@dataclass(slots=True)
class _Tally:
    """What a run did so far (written to its row when it finishes); published as :meth:`Run.result`."""

    sites: int = 0
    observations: int = 0
    new_versions: int = 0
    unchanged: int = 0
    errors: int = 0


@dataclass(slots=True)
class Run:
    """One crawl or import. Build with :meth:`open`."""

    engine: Engine
    id: int
    kind: RunKind
    source: str | None
    writer: Writer
    #: Ids of the sites this run had already recorded when it was opened (empty unless resumed).
    done: frozenset[int] = frozenset()
    resumed: bool = False
    status: RunStatus = "running"
    _tally: _Tally = field(default_factory=_Tally, repr=False)

    @classmethod
    def open(
        cls,
        engine: Engine,
        kind: RunKind,
        source: str | None,
        *,
        params: Mapping[str, Json] | None = None,
        resume: bool = False,
        skip_finished: bool = False,
    ) -> Run:
        """Start a run, or with ``resume`` continue the newest unfinished one of this kind and source.

        ``skip_finished`` also counts as done the sites that earlier *finished* runs of this kind and source
        recorded (a backfill over the same range has nothing to fetch for them again)."""
        writer = Writer(engine)
        finished: frozenset[int] = frozenset()
        if skip_finished:
            with engine.connect() as conn:
                finished = frozenset(
                    conn.execute(
                        select(_run_sites.c.site_id)
                        .select_from(_run_sites.join(_runs, _runs.c.id == _run_sites.c.run_id))
                        .where(_runs.c.kind == kind, _runs.c.source == source, _runs.c.status == "done")
                    ).scalars()
                )
        with engine.begin() as conn:
            previous = None
            if resume:
                # Only the newest run of this kind and source: an unfinished run older than a finished one is
                # stale (a scheduled crawl must not skip sites because last month's run recorded them).
                newest = conn.execute(
                    select(_runs.c.id, _runs.c.status)
                    .where(_runs.c.kind == kind, _runs.c.source == source)
                    .order_by(_runs.c.id.desc())
                    .limit(1)
                ).first()
                previous = newest[0] if newest is not None and newest[1] != "done" else None
            if previous is not None:
                conn.execute(update(_runs).where(_runs.c.id == previous).values(status="running", finished_at=None))
                done = frozenset(
                    conn.execute(select(_run_sites.c.site_id).where(_run_sites.c.run_id == previous)).scalars()
                )
                writer.run_id = int(previous)
                return cls(engine, int(previous), kind, source, writer, done | finished, resumed=True)
            conn.execute(
                update(_runs)
                .where(_runs.c.kind == kind, _runs.c.source == source, _runs.c.status == "running")
                .values(status="interrupted", finished_at=datetime.now(UTC))
            )
            res = conn.execute(
                insert(_runs).values(
                    kind=kind,
                    source=source,
                    status="running",
                    started_at=datetime.now(UTC),
                    params=json.dumps(params or {}, sort_keys=True, default=str),
                    sites=0,
                    observations=0,
                    new_versions=0,
                    unchanged=0,
                    errors=0,
                )
            )
            run_id = int(res.inserted_primary_key[0])  # type: ignore[index]
        writer.run_id = run_id
        return cls(engine, run_id, kind, source, writer, finished)

    @classmethod
    def attach(cls, engine: Engine, run_id: int) -> Run:
        """Join an open run from another process (a worker running one batch of a distributed crawl): the sites it
        has recorded count as done, so a batch retried after its worker died redoes only what never landed."""
        with engine.connect() as conn:
            row = conn.execute(select(_runs.c.kind, _runs.c.source).where(_runs.c.id == run_id)).first()
            if row is None:
                raise StoreError(f"no crawl run #{run_id}")
            done = frozenset(conn.execute(select(_run_sites.c.site_id).where(_run_sites.c.run_id == run_id)).scalars())
        writer = Writer(engine)
        writer.run_id = run_id
        return cls(engine, run_id, row.kind, row.source, writer, done, resumed=True)

    def count(self, *, sites: int | None = None, observations: int | None = None, errors: int | None = None) -> None:
        """Set how many sites, observations and errors the run has had so far (its row gets them at the end)."""
        t = self._tally
        if sites is not None:
            t.sites = sites
        if observations is not None:
            t.observations = observations
        if errors is not None:
            t.errors = errors

    def result(self) -> RunResult:
        """What the run did so far, as its row holds it (the pipelines add what they alone know)."""
        t = self._tally
        return RunResult(
            kind=self.kind,
            run_id=self.id,
            status=self.status,
            sites=t.sites,
            done=t.sites,
            skipped=len(self.done),
            new_versions=t.new_versions,
            unchanged=t.unchanged,
            observations=t.observations,
        )

    def add_counts(self) -> None:
        """Add this handle's counts to the run's row (atomic: several workers add theirs to the same run)."""
        c = self._tally
        with self.engine.begin() as conn:
            conn.execute(
                update(_runs)
                .where(_runs.c.id == self.id)
                .values(
                    observations=_runs.c.observations + c.observations,
                    new_versions=_runs.c.new_versions + c.new_versions,
                    unchanged=_runs.c.unchanged + c.unchanged,
                    errors=_runs.c.errors + c.errors,
                )
            )

    def ensure_sites(self, sites: Sequence[SiteRow]) -> dict[str, int]:
        """Create or update the run's sites (see :meth:`Writer.ensure_sites`); domain → site id."""
        return self.writer.ensure_sites(sites)

    def site_id(self, domain: str) -> int:
        """A site's id (created if new)."""
        return self.writer.site_id(domain)

    def record(self, items: Sequence[tuple[str, Sequence[Observation]]], *, continuous: bool = False) -> RecordResult:
        """Record a batch of sites' observations and mark those sites done, in one transaction."""
        result = self.writer.record_batch(items, continuous=continuous, mark_done=True)
        self._tally.new_versions += result.new_versions
        self._tally.unchanged += result.unchanged + result.duplicates
        return result

    def mark_done(self, domains: Sequence[str]) -> None:
        """Mark sites done that had nothing to record (an excluded site, a site the archive never captured)."""
        ids = self.writer.ensure_sites([SiteRow(d) for d in domains])
        with self.engine.begin() as conn:
            self.writer.mark_done(conn, [ids[d] for d in domains])

    def finish(self, status: RunStatus = "done") -> None:
        """Close the run with its status and counts."""
        self.status = status
        c = self._tally
        with self.engine.begin() as conn:
            conn.execute(
                update(_runs)
                .where(_runs.c.id == self.id)
                .values(
                    status=status,
                    finished_at=datetime.now(UTC),
                    sites=c.sites,
                    observations=c.observations,
                    new_versions=c.new_versions,
                    unchanged=c.unchanged,
                    errors=c.errors,
                )
            )

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.finish("done")
        elif issubclass(exc_type, (KeyboardInterrupt, asyncio.CancelledError)):
            self.finish("interrupted")
        else:
            self.finish("failed")


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A run as stored."""

    id: int
    kind: str
    source: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    sites: int
    observations: int
    new_versions: int
    errors: int
    params: JsonObject  # as stored (each kind of run keeps its own)
    recorded: int  # sites recorded so far (crawl_run_sites): progress of a running run

    @property
    def planned(self) -> int | None:
        """The sites the run set out to record (its ``sites`` parameter; None if it did not say)."""
        sites = self.params.get("sites")
        return sites if isinstance(sites, int) else None

    def as_dict(self) -> dict[str, Json]:
        """As plain values."""
        return {
            "id": self.id,
            "kind": self.kind,
            "source": self.source,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "sites": self.sites,
            "observations": self.observations,
            "new_versions": self.new_versions,
            "errors": self.errors,
            "recorded": self.recorded,
        }


def _info(conn: Any, row: Any) -> RunInfo:
    recorded = conn.execute(select(func.count()).select_from(_run_sites).where(_run_sites.c.run_id == row.id)).scalar()
    return RunInfo(
        row.id,
        row.kind,
        row.source,
        row.status,
        as_utc(row.started_at),
        as_utc(row.finished_at),
        row.sites,
        row.observations,
        row.new_versions,
        row.errors,
        json.loads(row.params) if row.params else {},
        int(recorded or 0),
    )


def run_info(engine: Engine, run_id: int) -> RunInfo | None:
    """One run, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(_runs).where(_runs.c.id == run_id)).first()
        return _info(conn, row) if row is not None else None


def last_run(engine: Engine, source: str) -> RunInfo | None:
    """The newest run of a source (e.g. ``schedule:robots``), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(_runs).where(_runs.c.source == source).order_by(_runs.c.id.desc()).limit(1)).first()
        return _info(conn, row) if row is not None else None


def unfinished_runs(engine: Engine, source: str) -> list[int]:
    """The newest run of a source if it did not finish (killed, interrupted or failed): what a resume takes over."""
    info = last_run(engine, source)
    return [info.id] if info is not None and info.status != "done" else []


def finished_runs_since(engine: Engine, kind: str, since: datetime | None) -> int:
    """How many runs of a kind finished (``done``) since a time (ever, with None)."""
    q = select(func.count()).select_from(_runs).where(_runs.c.kind == kind, _runs.c.status == "done")
    if since is not None:
        q = q.where(_runs.c.finished_at >= since)
    with engine.connect() as conn:
        return int(conn.execute(q).scalar() or 0)


def close_run(engine: Engine, run_id: int, status: RunStatus = "done") -> None:
    """Mark a run finished (a distributed crawl): its sites and new versions counted from what landed — exact even
    when a worker died before adding its batch's counts; the other counts are what the batches added."""
    from tracker.store.models import Version

    versions = Version.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        recorded = conn.execute(
            select(func.count()).select_from(_run_sites).where(_run_sites.c.run_id == run_id)
        ).scalar()
        opened = conn.execute(select(func.count()).select_from(versions).where(versions.c.run_id == run_id)).scalar()
        conn.execute(
            update(_runs)
            .where(_runs.c.id == run_id)
            .values(
                status=status, finished_at=datetime.now(UTC), sites=int(recorded or 0), new_versions=int(opened or 0)
            )
        )


def queue_counts(engine: Engine, run_id: int) -> dict[str, int]:
    """Jobs of a distributed run by status (todo, doing, succeeded, failed …), from procrastinate's table; empty
    when the database has no job queue (SQLite, or no distributed crawl yet)."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        if not conn.execute(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar():
            return {}
        rows = conn.execute(
            text(
                "SELECT status::text, count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'consent_tracker.crawl_batch' AND (args->>'run_id')::bigint = :run "
                "GROUP BY status"
            ),
            {"run": run_id},
        )
        return {status: int(n) for status, n in rows}
