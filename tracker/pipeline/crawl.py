"""Live crawls of a site list into the history store.

For each site: ``/robots.txt`` (https, falling back to http only when the connection fails), then — where our own
robots.txt group allows it — the homepage (first 512 KiB), ``/.well-known/tdmrep.json``, ``/ai.txt``,
``/llms.txt``, the terms-of-service page the homepage links to, and the first RSL license the site declares. Every
outcome, faults included, becomes an observation; nothing is dropped silently.

Terms kept on another host (esquire.com → hearst.com, cnbc.com → nbcuniversal.com) are fetched only after that
host's robots.txt — read once per host per run — lets our group fetch them; the terms' version records the host.

Good citizenship: a descriptive User-Agent with a contact URL, one request at a time per host with a delay
between them, a global concurrency limit, retries with backoff and jitter for transient failures only, capped
streaming reads, and no private or loopback addresses unless told (see tracker.fetch.http.Guard).

Resumable: observations are written in batches, each in one transaction together with the list of sites it
completes (tracker.store.runs); ``resume=True`` continues the newest unfinished run of the same site list,
skipping exactly the sites whose observations landed. Ctrl-C (or cancellation) writes what is done and marks the
run ``interrupted``.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from sqlalchemy import Engine

from tracker.config.settings import Settings
from tracker.errors import LocalResourceError, NetworkDown, ParameterError
from tracker.fetch.http import (
    MAX_REDIRECTS,
    TIMEOUT,
    ConnectTo,
    Guard,
    RobotsFetch,
    fetch_robots,
    fetch_url,
    make_crawl_client,
    network_options,
    user_agent_header,
)
from tracker.fetch.network import down_message, is_dns_error, is_unreached
from tracker.pipeline.changes import run_changes
from tracker.records.json import Json, JsonObject
from tracker.records.runs import RunResult
from tracker.records.signals import PageSignals, TermsPage
from tracker.records.vocabulary import RESOURCE_KINDS, UNREACHABLE, ResourceKind
from tracker.rules.agents import load_registry
from tracker.rules.robots import ROBOTS_MAX_BYTES, RobotsRules
from tracker.rules.signals import find_tos_links, page_signals, rsl_license_urls, scan_html, tos_signals
from tracker.rules.sitelist import SiteEntry
from tracker.store.runs import Run
from tracker.store.writer import Observation, SiteRow

__all__ = [
    "OUR_TOKEN",
    "RESOURCES",
    "CrawlConfig",
    "CrawlProgress",
    "HostLimiter",
    "SiteCrawler",
    "crawl_sites",
    "handle_concurrency",
    "run_crawl",
]

#: Where each resource kind lives on a site ("" for those found from other resources).
RESOURCES: dict[ResourceKind, str] = {
    "robots": "/robots.txt",
    "homepage": "/",
    "tdmrep": "/.well-known/tdmrep.json",
    "ai_txt": "/ai.txt",
    "llms_txt": "/llms.txt",
    "terms": "",  # found on the homepage (needs "homepage")
    "rsl": "",  # the first RSL license the site declares (robots.txt License:, Link header, HTML)
}
assert tuple(RESOURCES) == RESOURCE_KINDS
#: The product token our crawler obeys in robots.txt (and names in its User-Agent).
OUR_TOKEN = "consent-tracker"

#: Response headers kept with a version (the rest change on every request or say nothing about consent).
KEPT_HEADERS = (
    "content-type",
    "content-length",
    "last-modified",
    "etag",
    "x-robots-tag",
    "content-signal",
    "content-usage",
    "tdm-reservation",
    "tdm-policy",
    "link",
    "server",
)


@dataclass(slots=True)
class CrawlConfig:
    """How to crawl: limits, politeness, resources and the network options (the ``crawl`` command's options)."""

    concurrency: int = 100
    delay: float = 0.1
    timeout: float = TIMEOUT
    total_timeout: float = 30.0
    retries: int = 1
    resources: tuple[ResourceKind, ...] = RESOURCE_KINDS
    user_agent: str = field(default_factory=user_agent_header)
    ca_bundle: str | None = None
    allow_private: bool = False
    connect_to: list[ConnectTo] = field(default_factory=list)
    batch_size: int = 200
    max_redirects: int = MAX_REDIRECTS
    #: Agent tokens whose own ``<meta name="…">`` tags are read on homepages (besides name="robots").
    agent_tokens: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        kinds = self.resources
        bad = any(k not in RESOURCES for k in kinds) or "robots" not in kinds
        if bad or ("terms" in kinds and "homepage" not in kinds):
            known = ", ".join(RESOURCES)
            raise ParameterError(
                f"resources must include robots (and homepage for terms), and only: {known}", "resources"
            )
        if self.concurrency < 1 or self.delay < 0 or self.retries < 0:
            raise ParameterError("concurrency must be ≥ 1, delay and retries ≥ 0", "concurrency")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> CrawlConfig:
        """A config from resolved settings, with explicit overrides (a None override is none)."""
        net = network_options(settings)
        config = cls(
            timeout=net.timeout,
            user_agent=net.user_agent,
            allow_private=net.allow_private,
            concurrency=settings.concurrency,
            delay=settings.delay,
            total_timeout=settings.total_timeout,
            retries=settings.retries,
            max_redirects=settings.max_redirects,
            agent_tokens=tuple(a.token for a in load_registry(settings.agents_file or None)),
        )
        return replace(config, **{k: v for k, v in overrides.items() if v is not None})

    def to_json(self) -> dict[str, Json]:
        """The config as plain JSON values (it travels with a distributed crawl's jobs)."""
        d: dict[str, Json] = {f: getattr(self, f) for f in self.__dataclass_fields__}
        d["resources"], d["agent_tokens"] = list(self.resources), list(self.agent_tokens)
        d["connect_to"] = [[c.host, c.port, c.to_host, c.to_port] for c in self.connect_to]
        return d

    @classmethod
    def from_json(cls, d: JsonObject) -> CrawlConfig:
        """The config :meth:`to_json` gave."""
        values: dict[str, Any] = dict(d)  # as to_json wrote it: only the sequences need turning back
        values["resources"], values["agent_tokens"] = tuple(values["resources"]), tuple(values["agent_tokens"])
        values["connect_to"] = [ConnectTo(*c) for c in values["connect_to"]]
        return cls(**values)


@dataclass(slots=True)
class CrawlProgress:
    """Counters reported while a crawl runs."""

    total: int
    done: int = 0
    skipped: int = 0  # already done by the run being resumed
    robots_status: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    #: Sites left unrecorded because the crawler itself failed (out of file handles …): a resume fetches them.
    unrecorded: int = 0
    local_errors: Counter[str] = field(default_factory=Counter)
    #: What the crawl changed on its own, to tell the user (concurrency lowered to the file handles available).
    notices: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Sites per second so far."""
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0


class HostLimiter:
    """One request at a time per host, with at least ``delay`` seconds between the end of one and the next."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold the host's one slot, after waiting out its delay."""
        lock = self._locks.get(host)
        if lock is None:
            lock = self._locks[host] = asyncio.Lock()
        async with lock:
            loop = asyncio.get_running_loop()
            wait = self._last.get(host, 0.0) + self.delay - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._last[host] = loop.time()

    def forget(self, host: str) -> None:
        """Drop a host's state once its site is done (keeps memory flat over a million sites)."""
        lock = self._locks.get(host)
        if lock is not None and not lock.locked():
            del self._locks[host]
            self._last.pop(host, None)


def _observation(kind: ResourceKind, at: datetime, f: RobotsFetch) -> Observation:
    keep_body = kind != "homepage" and f.status in ("ok", "empty", "soft404_html")
    headers = {k: v[:500] for k, v in f.headers.items() if k in KEPT_HEADERS}
    return Observation(
        kind=kind,
        seen_at=at,
        status=f.status,
        http_status=f.http_status,
        body=f.body if keep_body else None,
        truncated=f.truncated,
        headers=headers or None,
        final_url=f.final_url if f.final_url != f.url else None,
        error=f.error,
        source="live",
    )


class SiteCrawler:
    """Fetches every configured resource of a site, politely; one per crawl run (it caches the robots.txt of
    the other hosts that keep sites' terms, so each is read once per run)."""

    def __init__(self, client: httpx.AsyncClient, config: CrawlConfig, guard: Guard) -> None:
        self.client = client
        self.config = config
        self.guard = guard
        self.limiter = HostLimiter(config.delay)
        self._other_robots: dict[str, asyncio.Task[RobotsFetch]] = {}

    async def _get(self, url: str, kind: ResourceKind, host: str) -> RobotsFetch:
        """One polite fetch: wait for the host's slot, then fetch with the crawl's retries, timeouts and caps."""
        c = self.config
        async with self.limiter.slot(host):
            return await fetch_url(
                self.client,
                url,
                kind,
                guard=self.guard,
                retries=c.retries,
                total_timeout=c.total_timeout,
                max_bytes=ROBOTS_MAX_BYTES,
                max_redirects=c.max_redirects,
            )

    async def _robots(self, target: str, host: str) -> RobotsFetch:
        c = self.config
        async with self.limiter.slot(host):
            return await fetch_robots(
                self.client,
                target,
                guard=self.guard,
                retries=c.retries,
                total_timeout=c.total_timeout,
                max_redirects=c.max_redirects,
            )

    async def crawl(self, site: SiteEntry) -> list[Observation]:
        """Fetch every configured resource of one site; never raises for network or HTTP trouble."""
        at = datetime.now(UTC)
        host = site.domain
        robots = await self._robots(host, host)
        # Parsed once, here: the writer reuses it for the ruleset, and we obey our own group with it.
        rules = robots.rules if robots.status == "ok" else None
        observations = [_observation("robots", at, robots)]
        observations[0].rules = rules
        parts = urlsplit(robots.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        for kind in self.config.resources:
            if kind in ("robots", "terms", "rsl"):
                continue
            path = RESOURCES[kind]
            if robots.status in UNREACHABLE:
                # RFC 9309: an unreachable robots.txt means "assume complete disallow" — so we fetch nothing else.
                f = RobotsFetch(url=origin + path, status="disallowed", error="robots.txt unreachable")
            elif rules is not None and not rules.verdict(OUR_TOKEN, path).allowed:
                f = RobotsFetch(url=origin + path, status="disallowed", error=f"robots.txt disallows {OUR_TOKEN}")
            else:
                f = await self._get(origin + path, kind, host)
            obs = _observation(kind, at, f)
            observations.append(obs)
            if kind == "homepage":
                scan = scan_html(f.body) if f.status == "ok" else None
                obs.signals = (
                    page_signals(scan, f.headers, self.config.agent_tokens).as_dict() if scan is not None else None
                )
                if "terms" in self.config.resources:
                    observations.append(await self._terms(f, scan, at, rules, host))
        if "rsl" in self.config.resources and robots.status not in UNREACHABLE:
            observations.append(await self._rsl(rules, observations, at, host))
        self.limiter.forget(host)
        return observations

    async def _rsl(
        self, rules: RobotsRules | None, observations: list[Observation], at: datetime, host: str
    ) -> Observation:
        """Fetch the first RSL license document the site declares (it may live on a licensing server elsewhere)."""
        home = next((o for o in observations if o.kind == "homepage"), None)
        headers = (home.headers or {}) if home else {}
        links = PageSignals.from_dict(home.signals).rsl if home is not None and home.signals else ()
        urls = rsl_license_urls(rules, headers, links)
        if not urls:
            return Observation("rsl", at, "absent")
        url = urljoin(f"https://{host}/", urls[0].url)
        if urlsplit(url).scheme not in ("http", "https"):
            return Observation("rsl", at, "absent", error=f"unsupported license URL {url[:200]!r}")
        f = await self._get(url, "rsl", host)
        obs = _observation("rsl", at, f)
        obs.final_url = url
        return obs

    async def _robots_elsewhere(self, origin: str, host: str) -> RobotsFetch:
        """The robots.txt of another host, fetched once per run however many sites keep their terms there."""
        task = self._other_robots.get(origin)
        if task is None:
            task = self._other_robots[origin] = asyncio.ensure_future(self._robots(origin, host))
        return await asyncio.shield(task)

    async def _terms(
        self, homepage: RobotsFetch, scan: Any, at: datetime, rules: RobotsRules | None, host: str
    ) -> Observation:
        """Find the terms-of-service link on the homepage, read the robots.txt of the host it points to when that
        is another host, fetch the page if our group may, and classify it."""
        if homepage.status != "ok" or scan is None:
            return Observation("terms", at, "disallowed" if homepage.status == "disallowed" else "absent")
        base = homepage.final_url or homepage.url
        site_host = (urlsplit(base).hostname or host).removeprefix("www.")
        for href, via in find_tos_links(scan):
            url = urljoin(base, href)
            parts = urlsplit(url)
            terms_host = (parts.hostname or "").lower()
            if parts.scheme not in ("http", "https") or not terms_host:
                continue
            info = TermsPage(url, terms_host, via).as_dict()
            here = rules
            if terms_host.removeprefix("www.") != site_host:
                other = await self._robots_elsewhere(f"{parts.scheme}://{parts.netloc}", terms_host)
                if other.status in UNREACHABLE:
                    return Observation(
                        "terms",
                        at,
                        "disallowed",
                        signals=info,
                        final_url=url,
                        error=f"robots.txt of {terms_host} unreachable",
                    )
                here = other.rules if other.status == "ok" else None
            if here is not None and not here.verdict(OUR_TOKEN, url).allowed:
                return Observation(
                    "terms",
                    at,
                    "disallowed",
                    signals=info,
                    final_url=url,
                    error=f"robots.txt of {terms_host} disallows {OUR_TOKEN}",
                )
            f = await self._get(url, "terms", terms_host)
            obs = _observation("terms", at, f)
            obs.body = None  # terms pages change on every visit: their version is what they say
            obs.signals = tos_signals(f.body, url, via, terms_host).as_dict() if f.status == "ok" else info
            return obs
        return Observation("terms", at, "absent", error="no terms-of-service link found on the homepage")


class _Crawl:
    """One crawl run's moving parts: the plan, the fetching workers, the batched recording, the progress."""

    def __init__(
        self,
        run: Run,
        todo: Sequence[SiteEntry],
        crawler: SiteCrawler,
        progress: CrawlProgress,
        report: Callable[[CrawlProgress], None] | None,
        offline_after: int = 0,
    ) -> None:
        self.run = run
        self.crawler = crawler
        self.state = progress
        self.report = report
        # Until one site is reached, sites are held back, not recorded: when the first ``offline_after`` all fail,
        # the network is down, and their errors are this machine's outage, not the sites' (a resume fetches them).
        self.offline_after = min(offline_after, len(todo))
        self.held: list[tuple[str, list[Observation]]] = []
        self.batch_size = crawler.config.batch_size
        self.todo: asyncio.Queue[SiteEntry] = asyncio.Queue()
        for s in todo:
            self.todo.put_nowait(s)
        self.results: asyncio.Queue[tuple[str, list[Observation]] | None] = asyncio.Queue(maxsize=self.batch_size * 4)

    async def fetch(self) -> None:
        """A worker: crawl sites until none are left, handing each site's observations to the recorder."""
        while not self.todo.empty():
            site = self.todo.get_nowait()
            try:
                obs = await self.crawler.crawl(site)
            except LocalResourceError as e:  # our failure, not an observation of the site: left for a resume
                self.state.unrecorded += 1
                self.state.local_errors[str(e)[:200]] += 1
                continue
            self.state.robots_status[obs[0].status] += 1
            for o in obs:
                if o.error and o.status != "disallowed":
                    self.state.errors[o.error.split(":", 1)[0]] += 1
            if self.offline_after:
                self._hold((site.domain, obs))
                if self.offline_after:
                    continue
                for item in self.held:
                    await self.results.put(item)
                self.held = []
                continue
            await self.results.put((site.domain, obs))

    def _hold(self, item: tuple[str, list[Observation]]) -> None:
        """Hold a site back while none has been reached; the first reached ends the holding (``offline_after``
        becomes 0), and :class:`NetworkDown` when the first ``offline_after`` all failed."""
        self.held.append(item)
        robots = item[1][0]
        if robots.status != "network_error" or not is_unreached(robots.error):
            self.offline_after = 0
            return
        if len(self.held) >= self.offline_after:
            dns = all(is_dns_error(obs[0].error) for _, obs in self.held)
            raise NetworkDown(down_message(None, len(self.held), lookups=dns))

    async def record(self) -> None:
        """Write finished sites in batches (by size, or every 2 s), each in one transaction, until told to stop."""
        batch: list[tuple[str, list[Observation]]] = []
        last = time.monotonic()
        finished = False
        while not finished:
            try:
                item = await asyncio.wait_for(self.results.get(), timeout=1.0)
                if item is None:
                    finished = True
                else:
                    batch.append(item)
            except TimeoutError:
                pass
            if batch and (finished or len(batch) >= self.batch_size or time.monotonic() - last > 2.0):
                await asyncio.to_thread(self.run.record, batch)
                self.state.done += len(batch)
                batch = []
                last = time.monotonic()
                if self.report:
                    self.report(self.state)

    async def execute(self, concurrency: int) -> None:
        """Run the workers and the recorder; a failing recorder (disk full, database locked) stops the crawl."""
        recorder = asyncio.create_task(self.record())
        workers = [asyncio.create_task(self.fetch()) for _ in range(max(1, min(concurrency, self.todo.qsize())))]
        crawling = asyncio.gather(*workers)
        # Cancelled with us (Ctrl-C, SIGTERM), it ends holding a CancelledError nobody awaits: retrieved here, so
        # asyncio does not print it as "exception was never retrieved".
        crawling.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            await asyncio.wait([crawling, recorder], return_when=asyncio.FIRST_COMPLETED)  # type: ignore[type-var]
            if recorder.done():
                crawling.cancel()
                await asyncio.gather(crawling, return_exceptions=True)
                recorder.result()  # raises the recording error
            await crawling
            for item in self.held:  # none reached, but fewer held than asked (some left for a resume): recorded
                await self.results.put(item)
        finally:
            for w in workers:
                w.cancel()
            if not recorder.done():
                await self.results.put(None)
                await asyncio.shield(recorder)


#: File handles kept free of the crawl's sockets: the database, its journal, stdio, the resolver's threads.
FD_HEADROOM = 128
#: Sockets one site may hold at once: its own host and another (the host keeping its terms, a redirect target).
FDS_PER_SITE = 2


def handle_concurrency(wanted: int) -> tuple[int, str | None]:
    """The concurrency the open-file limit allows (raising the soft limit toward the hard one first), and a note
    when it is lower than ``wanted``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted * FDS_PER_SITE + FD_HEADROOM
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    if soft == resource.RLIM_INFINITY or soft >= need:
        return wanted, None
    allowed = max(1, (soft - FD_HEADROOM) // FDS_PER_SITE)
    return allowed, (
        f"concurrency lowered from {wanted} to {allowed}: {soft} open files allowed (ulimit -n), "
        f"{FDS_PER_SITE} per site and {FD_HEADROOM} kept for the database and the rest"
    )


async def crawl_sites(
    run: Run,
    sites: Sequence[SiteEntry],
    config: CrawlConfig,
    *,
    progress: Callable[[CrawlProgress], None] | None = None,
    client: httpx.AsyncClient | None = None,
    offline_after: int = 0,
) -> CrawlProgress:
    """Crawl sites into an open run (skipping those it has recorded); return the counters. The run's lifecycle is
    the caller's: a single-process crawl (:func:`run_crawl`) or one batch of a distributed one.

    ``offline_after`` N > 0: raise :class:`NetworkDown` when none of the first N sites (all of them, when fewer)
    could be connected to, recording none of them."""
    guard = Guard(allow_private=config.allow_private, connect_to=config.connect_to)
    concurrency, notice = handle_concurrency(config.concurrency)
    http = client or make_crawl_client(
        guard,
        concurrency=concurrency,
        user_agent=config.user_agent,
        timeout=config.timeout,
        ca_bundle=config.ca_bundle,
    )
    try:  # the client is closed however this ends, a cancellation while registering the sites included
        ids = await asyncio.to_thread(
            run.ensure_sites,
            [SiteRow(s.domain, rank=s.rank, category=s.category, list_source=run.source) for s in sites],
        )
        todo = [s for s in sites if ids[s.domain] not in run.done]
        state = CrawlProgress(total=len(sites), skipped=len(sites) - len(todo), notices=[notice] if notice else [])
        if progress:
            progress(state)  # the total and what a resume skips, before the first batch lands
        crawl = _Crawl(run, todo, SiteCrawler(http, config, guard), state, progress, offline_after)
        await crawl.execute(concurrency)
    finally:
        if client is None:
            await http.aclose()
    return state


async def run_crawl(
    engine: Engine,
    sites: Sequence[SiteEntry],
    config: CrawlConfig,
    *,
    source: str,
    resume: bool = False,
    progress: Callable[[CrawlProgress], None] | None = None,
    client: httpx.AsyncClient | None = None,
    offline_after: int = 0,
) -> RunResult:
    """Crawl the sites into the store as one crawl run; return what happened. With ``offline_after`` N > 0 a crawl
    that cannot reach any of its first N sites stops with :class:`NetworkDown`, its run ``failed``."""
    started = time.monotonic()
    params: dict[str, Json] = {"sites": len(sites), "resources": list(config.resources)}
    run = await asyncio.to_thread(Run.open, engine, "live", source, params=params, resume=resume)
    state = CrawlProgress(total=len(sites))
    with run:
        try:
            state = await crawl_sites(run, sites, config, progress=progress, client=client, offline_after=offline_after)
        finally:
            run.count(sites=state.done + state.skipped, observations=state.done, errors=sum(state.errors.values()))
    if state.unrecorded:  # our own failure left sites out: the run is not done, and a resume fetches them
        await asyncio.to_thread(run.finish, "interrupted")
    # After the run: the events of every site it opened a version for (a resumed run's too: same run id), for the
    # one agent set every writer uses (tracker.pipeline.changes.CHANGE_AGENTS), not this crawl's --agents-file.
    changes = await asyncio.to_thread(run_changes, run.engine, run.id)
    return replace(
        run.result(),
        sites=len(sites),
        done=state.done,
        skipped=state.skipped,
        robots_status=dict(state.robots_status),
        errors=dict(state.errors),
        seconds=time.monotonic() - started,
        changes=changes,
        unrecorded=state.unrecorded,
        local_errors=dict(state.local_errors),
        notices=tuple(state.notices),
    )
