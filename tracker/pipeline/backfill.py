"""History for a fresh install: each tracked site's robots.txt captures from the Wayback Machine, as versions.

For each site: two CDX queries (http and https, with and without ``www.``; the file's captures one a day, other
statuses one a month, no 5xx — tracker.fetch.wayback.cdx_urls says why), one capture
chosen per period (the last that shows the file, else the last that shows its absence; a period with neither
inherits the previous one, as the reference study did), then the raw captures whose content is not known yet —
a digest fetched once is never fetched again, for any site or run. Each capture becomes a ``wayback`` observation
at its capture time, through the same writer as live crawls, so a backfill can land between live fetches.
Captures that are HTML pages or the archive's own error pages are recorded as such (or skipped), never as rules.

Polite to the archive: one request at a time per ``1/rate`` seconds overall (``rate`` 0: unthrottled), retries
with exponential backoff and jitter on 429 and 5xx, and a clear error when it keeps refusing us — said apart from an
archive that cannot be reached at all (its name does not resolve: this machine is offline; or no connection).
Resumable and idempotent: a run over the same range skips the sites a finished run recorded, and a killed run
resumes.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine

from tracker.config.settings import Settings
from tracker.errors import ArchiveUnavailable, ParameterError
from tracker.fetch.http import (
    TIMEOUT,
    ConnectTo,
    Guard,
    error_kind,
    make_crawl_client,
    network_options,
    read_capped,
    user_agent_header,
)
from tracker.fetch.network import is_dns_error
from tracker.fetch.wayback import (
    ARCHIVE_URL,
    CdxRow,
    capture_status,
    cdx_urls,
    choose_per_period,
    parse_cdx,
    raw_capture_url,
)
from tracker.pipeline.changes import run_changes
from tracker.records.json import Json
from tracker.records.runs import RunResult
from tracker.records.vocabulary import Freq
from tracker.rules.robots import ROBOTS_MAX_BYTES
from tracker.rules.sitelist import SiteEntry
from tracker.store import catalog
from tracker.store.runs import Run
from tracker.store.writer import Observation, SiteRow

__all__ = ["ArchiveUnavailable", "BackfillConfig", "BackfillProgress", "RateLimiter", "backfill"]

SOURCE = "wayback"


@dataclass(slots=True)
class BackfillConfig:
    """What to backfill and how politely (the ``backfill`` command's options)."""

    since: date = date(2016, 1, 1)
    until: date = field(default_factory=lambda: datetime.now(UTC).date())
    freq: Freq = Freq.month
    rate: float = 1.0  # requests a second to the archive; 0 = as fast as it answers
    concurrency: int = 4
    retries: int = 4
    backoff: float = 2.0
    archive_url: str = ARCHIVE_URL
    timeout: float = TIMEOUT
    user_agent: str = field(default_factory=user_agent_header)
    ca_bundle: str | None = None
    allow_private: bool = False
    connect_to: list[ConnectTo] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.freq = Freq(self.freq)
        if self.since > self.until:
            raise ParameterError(f"since ({self.since}) is after until ({self.until})", "since")
        if self.rate < 0 or self.concurrency < 1 or self.retries < 0:
            raise ParameterError("archive_rate must be ≥ 0, concurrency ≥ 1, retries ≥ 0", "archive_rate")

    @property
    def source(self) -> str:
        """The run's identity: a later run with the same archive and range has nothing new to fetch."""
        return f"{self.archive_url}|{self.since}|{self.until}|{self.freq.value}"

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> BackfillConfig:
        """A config from resolved settings, with explicit overrides (a None override is none)."""
        net = network_options(settings)
        given = {k: v for k, v in overrides.items() if v is not None}
        base = cls(
            timeout=net.timeout,
            user_agent=net.user_agent,
            allow_private=net.allow_private,
            archive_url=settings.archive_url,
            rate=settings.archive_rate,
            **{k: given.pop(k) for k in ("since", "until") if k in given},
        )
        return replace(base, **given)


@dataclass(slots=True)
class BackfillProgress:
    """Counters reported while a backfill runs."""

    total: int
    done: int = 0
    skipped: int = 0
    requests: int = 0
    captures: int = 0  # raw captures fetched
    reused: int = 0  # captures whose content was known (same digest): not fetched
    started: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class _Tally:
    """What the backfill met besides versions (published in its RunResult): the sites the archive excludes, and
    the capture chosen per period by what it was (and the index rows skipped by their status)."""

    excluded: list[str] = field(default_factory=list)
    classified: Counter[str] = field(default_factory=Counter)


class RateLimiter:
    """At most ``rate`` requests a second overall, spaced evenly (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Wait for the next slot."""
        if not self.interval:
            return
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


def _period_key(freq: Freq) -> Callable[[datetime], str]:
    if freq is Freq.month:
        return lambda d: f"{d.year:04d}-{d.month:02d}"
    if freq is Freq.week:
        return lambda d: "{:04d}-W{:02d}".format(*d.isocalendar()[:2])
    return lambda d: d.date().isoformat()


class _Archive:
    """Requests to the archive: rate-limited, retried with backoff and jitter on 429 and 5xx."""

    def __init__(self, client: httpx.AsyncClient, config: BackfillConfig, progress: BackfillProgress) -> None:
        self.client = client
        self.config = config
        self.limiter = RateLimiter(config.rate)
        self.progress = progress

    async def get(self, url: str) -> tuple[int, bytes, str | None]:
        """(status, body capped at 512,000 bytes, content type); raises ArchiveUnavailable when it keeps failing."""
        last = ""
        answered = False  # an HTTP answer (429, 5xx) means the archive is reachable: it refuses us
        tries = 0
        for attempt in range(self.config.retries + 1):
            await self.limiter.wait()
            self.progress.requests += 1
            tries += 1
            try:
                async with self.client.stream("GET", url, follow_redirects=True) as response:
                    if response.status_code == 429 or response.status_code >= 500:
                        last, answered = f"HTTP {response.status_code}", True
                        retry_after = response.headers.get("retry-after", "")
                    else:
                        body, _ = await read_capped(response, ROBOTS_MAX_BYTES)
                        return response.status_code, body, response.headers.get("content-type")
            except httpx.HTTPError as e:
                last, answered, retry_after = error_kind(e), False, ""
                if is_dns_error(last) and attempt >= 1:
                    break  # its name does not resolve, twice: backing off would not bring the network back
            if attempt < self.config.retries:
                wait = float(retry_after) if retry_after.isdigit() else self.config.backoff * 2**attempt
                if is_dns_error(last):
                    wait = min(wait, 1.0)  # one quick second try, for a resolver's hiccup
                await asyncio.sleep(min(wait, 300) * (0.5 + random.random()))
        host = urlsplit(url).hostname
        if answered:
            raise ArchiveUnavailable(
                f"the archive keeps refusing us ({last} after {tries} tries, last: {url[:160]}); "
                "it may be rate-limiting this address: wait, then run the same backfill again to resume "
                "(or lower the archive-rate setting)"
            )
        if is_dns_error(last):
            raise ArchiveUnavailable(
                f"the archive's host {host} does not resolve ({last}; {tries} tries): this machine looks offline; "
                "run the same backfill again once online to resume"
            )
        raise ArchiveUnavailable(
            f"cannot reach the archive at {host} ({last} after {tries} tries): run the same backfill again "
            "to resume once it answers"
        )


def _is_excluded(status: int, body: bytes) -> bool:
    return status == 403 and (b"Blocked Site" in body or b"AccessControl" in body or b"excluded" in body)


class _SiteBackfill:
    """One site: query the index, choose a capture per period, fetch what is not known, make observations."""

    def __init__(self, engine: Engine, archive: _Archive, config: BackfillConfig, report: _Tally) -> None:
        self.engine = engine
        self.archive = archive
        self.config = config
        self.report = report
        self.period = _period_key(config.freq)

    async def rows(self, domain: str) -> list[CdxRow] | None:
        """The site's captures in the range; None when the archive excludes the site."""
        rows: list[CdxRow] = []
        for url in cdx_urls(self.config.archive_url, domain, since=self.config.since, until=self.config.until):
            status, body, _ = await self.archive.get(url)
            if _is_excluded(status, body):
                return None
            if status == 200:
                rows += parse_cdx(body)
        return sorted(set(rows), key=lambda r: (r.timestamp, r.statuscode))

    async def run(self, site_id: int, domain: str) -> tuple[list[Observation], list[catalog.NewCapture]]:
        """Observations for the site and the capture rows to remember."""
        rows = await self.rows(domain)
        if rows is None:
            self.report.excluded.append(domain)
            return [], []
        known = await asyncio.to_thread(catalog.captures_of, self.engine, SOURCE, site_id)
        chosen = [r for r in choose_per_period(rows, self.period) if r.timestamp not in known]
        for r in rows:
            if r.statuscode not in ("200", "404", "410"):
                self.report.classified[f"skipped_{r.statuscode[:1]}xx"] += 1
        wanted = sorted({r.digest for r in chosen if r.statuscode == "200" and r.digest})
        bodies = await asyncio.to_thread(catalog.bodies_for_digests, self.engine, SOURCE, wanted) if wanted else {}
        observations: list[Observation] = []
        captures: list[catalog.NewCapture] = []
        for row in chosen:
            body: bytes | None = None
            truncated = False
            content_type = row.mimetype
            if row.statuscode == "200":
                if row.digest and row.digest in bodies:
                    body, truncated = bodies[row.digest]
                    self.archive.progress.reused += 1
                else:
                    code, fetched, content_type_ = await self.archive.get(raw_capture_url(self.config.archive_url, row))
                    self.archive.progress.captures += 1
                    content_type = content_type_ or content_type
                    body = fetched if code == 200 else None
                    truncated = body is not None and len(body) >= ROBOTS_MAX_BYTES
                    if body is not None and row.digest:
                        bodies[row.digest] = (body, truncated)
            status = capture_status(row.statuscode, body, content_type)
            self.report.classified[status] += 1
            sha = None
            if status != "archive_error":
                keep = body if status in ("ok", "empty", "soft404_html") else None
                observations.append(
                    Observation(
                        "robots",
                        row.when,
                        status,  # type: ignore[arg-type]
                        int(row.statuscode),
                        body=keep,
                        truncated=truncated,
                        source="wayback",
                    )
                )
                if keep is not None:
                    sha = hashlib.sha256(keep).hexdigest()
            captures.append(
                catalog.NewCapture(
                    site_id, row.timestamp, row.original, row.statuscode, row.digest or None, status, sha
                )
            )
        return observations, captures


async def backfill(
    engine: Engine,
    sites: Sequence[SiteEntry],
    config: BackfillConfig,
    *,
    progress: Callable[[BackfillProgress, str], None] | None = None,
    client: httpx.AsyncClient | None = None,
) -> RunResult:
    """Backfill the sites' robots.txt history from the archive as one run; return what happened."""
    started = time.monotonic()
    params: dict[str, Json] = {
        "sites": len(sites),
        "since": config.since.isoformat(),
        "until": config.until.isoformat(),
        "freq": config.freq.value,
    }
    run = await asyncio.to_thread(
        Run.open, engine, "wayback", config.source, params=params, resume=True, skip_finished=True
    )
    guard = Guard(allow_private=config.allow_private, connect_to=config.connect_to)
    http = client or make_crawl_client(
        guard,
        concurrency=config.concurrency,
        user_agent=config.user_agent,
        timeout=config.timeout,
        ca_bundle=config.ca_bundle,
    )
    report = _Tally()
    state = BackfillProgress(total=len(sites))
    observations_n = 0
    try:
        with run:
            ids = await asyncio.to_thread(run.ensure_sites, [SiteRow(s.domain) for s in sites])
            todo = [s for s in sites if ids[s.domain] not in run.done]
            state.skipped = len(sites) - len(todo)
            archive = _Archive(http, config, state)
            one = _SiteBackfill(engine, archive, config, report)
            queue: asyncio.Queue[SiteEntry] = asyncio.Queue()
            for s in todo:
                queue.put_nowait(s)
            lock = asyncio.Lock()

            async def worker() -> None:
                nonlocal observations_n
                while not queue.empty():
                    site = queue.get_nowait()
                    obs, caps = await one.run(ids[site.domain], site.domain)
                    async with lock:  # one writer at a time; each site is one transaction, marked done with it
                        if obs:
                            await asyncio.to_thread(run.record, [(site.domain, obs)], continuous=True)
                        else:
                            await asyncio.to_thread(run.mark_done, [site.domain])
                        # After the versions: a crash in between only means these captures are fetched again.
                        await asyncio.to_thread(catalog.record_captures, engine, SOURCE, caps)
                    observations_n += len(obs)
                    state.done += 1
                    run.count(sites=state.done + state.skipped, observations=observations_n)
                    if progress:
                        progress(state, site.domain)

            workers = [asyncio.create_task(worker()) for _ in range(max(1, min(config.concurrency, len(todo))))]
            try:
                await asyncio.gather(*workers)
            finally:
                for w in workers:
                    w.cancel()
        changes = await asyncio.to_thread(run_changes, engine, run.id)
    finally:
        if client is None:
            await http.aclose()
    return replace(
        run.result(),
        sites=len(sites),
        done=state.done,
        skipped=state.skipped,
        requests=state.requests,
        captures_fetched=state.captures,
        captures_reused=state.reused,
        observations=observations_n,
        excluded=tuple(report.excluded),
        classified=dict(report.classified),
        seconds=time.monotonic() - started,
        changes=changes,
    )
