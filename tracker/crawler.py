"""Live crawls of a site list into the history store.

For each site: ``/robots.txt`` (https, falling back to http only when the connection fails), then — where our own
robots.txt group allows it — the homepage (first 512 KiB), ``/.well-known/tdmrep.json``, ``/ai.txt`` and
``/llms.txt``. Every outcome, faults included, becomes an observation; nothing is dropped silently.

Good citizenship: a descriptive User-Agent with a contact URL, one request at a time per host with a delay
between them, a global concurrency limit, retries with backoff and jitter for transient failures only, capped
streaming reads, and no private or loopback addresses unless told (see tracker.crawl.Guard).

Resumable: observations are written in batches, each in one transaction together with the list of sites it
completes; ``resume=True`` continues the newest unfinished run of the same site list, skipping exactly the sites
whose observations landed. Ctrl-C (or cancellation) writes what is done and marks the run ``interrupted``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx
from sqlalchemy import Engine

from tracker.agents import load_registry
from tracker.crawl import UNREACHABLE, ConnectTo, Guard, RobotsFetch, fetch_robots, fetch_url, make_crawl_client
from tracker.robots import ROBOTS_MAX_BYTES, RobotsRules, parse_robots
from tracker.signals import find_tos_links, html_signals, rsl_license_urls, tos_signals, x_robots_tag
from tracker.sites import SiteEntry
from tracker.store.writer import Observation, Writer

__all__ = ["OUR_TOKEN", "RESOURCES", "CrawlConfig", "CrawlProgress", "CrawlSummary", "crawl_site", "run_crawl"]

#: What the crawler fetches from each site, by kind.
RESOURCES: dict[str, str] = {
    "robots": "/robots.txt",
    "homepage": "/",
    "tdmrep": "/.well-known/tdmrep.json",
    "ai_txt": "/ai.txt",
    "llms_txt": "/llms.txt",
    "terms": "",  # found on the homepage (needs "homepage")
    "rsl": "",  # the first RSL license the site declares (robots.txt License:, Link header, HTML)
}
#: The product token our crawler obeys in robots.txt (and names in its User-Agent).
OUR_TOKEN = "consent-tracker"


@functools.cache
def _ai_tokens() -> tuple[str, ...]:
    """Agent tokens whose own <meta name="…"> tags are read on homepages (besides name="robots")."""
    return tuple(a.token for a in load_registry())


#: Response headers kept with a version (the rest change on every request or say nothing about consent).
KEPT_HEADERS = (
    "content-type", "content-length", "last-modified", "etag", "x-robots-tag", "content-signal", "content-usage",
    "tdm-reservation", "tdm-policy", "link", "server",
)  # fmt: skip


@dataclass(slots=True)
class CrawlConfig:
    """How to crawl: limits, politeness, resources and the network options."""

    concurrency: int = 100
    per_host_delay: float = 0.1
    timeout: float = 10.0
    total_timeout: float = 30.0
    retries: int = 1
    resources: tuple[str, ...] = tuple(RESOURCES)
    user_agent: str | None = None
    ca_bundle: str | None = None
    allow_private: bool = False
    connect_to: list[ConnectTo] = field(default_factory=list)
    batch_size: int = 200
    max_redirects: int = 5


@dataclass(slots=True)
class CrawlProgress:
    """Counters reported while a crawl runs."""

    total: int
    done: int = 0
    skipped: int = 0  # already done by the run being resumed
    robots_status: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        """Sites per second so far."""
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0


@dataclass(slots=True)
class CrawlSummary:
    """What a crawl did."""

    run_id: int
    sites: int
    done: int
    skipped: int
    new_versions: int
    unchanged: int
    robots_status: dict[str, int]
    errors: dict[str, int]
    seconds: float
    status: str


class HostLimiter:
    """One request at a time per host, with at least ``delay`` seconds between the end of one and the next."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
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


def page_signals(body: bytes, headers: dict[str, str]) -> dict[str, object]:
    """The normalised signals of a homepage: what its version is made of (its bytes change on every visit)."""
    html = html_signals(body, _ai_tokens())
    return {
        "meta_robots": html["meta_robots"],
        "x_robots_tag": x_robots_tag(headers.get("x-robots-tag", "").split("\n"))
        if headers.get("x-robots-tag")
        else [],
        "tdm_meta": html["tdm_meta"],
        "tdm_header": {k: headers[k] for k in ("tdm-reservation", "tdm-policy") if k in headers},
        "content_signal_header": headers.get("content-signal"),
        "content_usage_header": headers.get("content-usage"),
        "rsl": [r for r in html["rsl"] if "url" in r]
        + [
            {"location": "html_inline", "sha256": hashlib.sha256(r["inline"].encode()).hexdigest()}
            for r in html["rsl"]
            if "inline" in r
        ],
        "link_header_license": [u["url"] for u in rsl_license_urls(None, headers, None)],
        "tos_link": html["tos_link"],
    }


def _observation(kind: str, at: datetime, f: RobotsFetch) -> Observation:
    keep_body = kind != "homepage" and f.status in ("ok", "empty", "soft404_html")
    headers = {k: v[:500] for k, v in f.headers.items() if k in KEPT_HEADERS}
    signals = page_signals(f.body, f.headers) if kind == "homepage" and f.status == "ok" else None
    return Observation(
        kind=kind,
        seen_at=at,
        status=f.status,
        http_status=f.http_status,
        body=f.body if keep_body else None,
        truncated=f.truncated,
        signals=signals if kind == "homepage" else None,
        headers=headers or None,
        final_url=f.final_url if f.final_url != f.url else None,
        error=f.error,
        source="live",
    )


async def _get(
    client: httpx.AsyncClient, url: str, kind: str, config: CrawlConfig, guard: Guard, limiter: HostLimiter, host: str
) -> RobotsFetch:
    """One polite fetch: wait for the host's slot, then fetch with the crawl's retries, timeouts and caps."""
    async with limiter.slot(host):
        return await fetch_url(
            client, url, kind, guard=guard, retries=config.retries, total_timeout=config.total_timeout,
            max_bytes=ROBOTS_MAX_BYTES, max_redirects=config.max_redirects,
        )  # fmt: skip


async def crawl_site(
    client: httpx.AsyncClient, site: SiteEntry, config: CrawlConfig, guard: Guard, limiter: HostLimiter
) -> list[Observation]:
    """Fetch every configured resource of one site; never raises for network or HTTP trouble."""
    at = datetime.now(UTC)
    host = site.domain
    async with limiter.slot(host):
        robots = await fetch_robots(
            client, host, guard=guard, retries=config.retries, total_timeout=config.total_timeout,
            max_redirects=config.max_redirects,
        )  # fmt: skip
    # Parsed once, here: the writer reuses it for the ruleset, and we obey our own group with it.
    rules = robots.rules if robots.status == "ok" else None
    observations = [_observation("robots", at, robots)]
    observations[0].rules = rules
    parts = urlsplit(robots.url)
    origin = f"{parts.scheme}://{parts.netloc}"
    for kind in config.resources:
        if kind in ("robots", "terms", "rsl") or kind not in RESOURCES:
            continue
        path = RESOURCES[kind]
        if robots.status in UNREACHABLE:
            # RFC 9309: an unreachable robots.txt means "assume complete disallow" — so we fetch nothing else.
            f = RobotsFetch(url=origin + path, status="disallowed", error="robots.txt unreachable")
        elif rules is not None and not rules.verdict(OUR_TOKEN, path).allowed:
            f = RobotsFetch(url=origin + path, status="disallowed", error=f"robots.txt disallows {OUR_TOKEN}")
        else:
            f = await _get(client, origin + path, kind, config, guard, limiter, host)
        observations.append(_observation(kind, at, f))
        if kind == "homepage" and "terms" in config.resources:
            observations.append(await _terms(client, f, at, rules, config, guard, limiter, host))
    if "rsl" in config.resources and robots.status not in UNREACHABLE:
        observations.append(await _rsl(client, rules, observations, at, config, guard, limiter, host))
    limiter.forget(host)
    return observations


async def _rsl(
    client: httpx.AsyncClient,
    rules: RobotsRules | None,
    observations: list[Observation],
    at: datetime,
    config: CrawlConfig,
    guard: Guard,
    limiter: HostLimiter,
    host: str,
) -> Observation:
    """Fetch the first RSL license document the site declares (it may live on a licensing server elsewhere)."""
    home = next((o for o in observations if o.kind == "homepage"), None)
    headers = home.headers or {} if home else {}
    html: dict[str, list[dict[str, str]]] = {"rsl": []}
    if home is not None and home.signals:
        html = {"rsl": [r for r in home.signals.get("rsl", []) if "url" in r]}
    urls = rsl_license_urls(rules, headers, html)
    if not urls:
        return Observation("rsl", at, "absent")
    base = f"https://{host}/"
    url = urljoin(base, urls[0]["url"])
    if urlsplit(url).scheme not in ("http", "https"):
        return Observation("rsl", at, "absent", error=f"unsupported license URL {url[:200]!r}")
    f = await _get(client, url, "rsl", config, guard, limiter, host)
    obs = _observation("rsl", at, f)
    obs.final_url = url
    return obs


async def _terms(
    client: httpx.AsyncClient,
    homepage: RobotsFetch,
    at: datetime,
    rules: RobotsRules | None,
    config: CrawlConfig,
    guard: Guard,
    limiter: HostLimiter,
    host: str,
) -> Observation:
    """Find the terms-of-service link on the homepage, fetch it (same site only) and classify it."""
    if homepage.status != "ok":
        return Observation("terms", at, "disallowed" if homepage.status == "disallowed" else "absent")
    base = homepage.final_url or homepage.url
    site = urlsplit(base).hostname or host
    for href, via in find_tos_links(homepage.body):
        url = urljoin(base, href)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or (parts.hostname or "").removeprefix("www.") != site.removeprefix(
            "www."
        ):
            continue  # platform terms on another host are left for later: we have not read that host's robots.txt
        if rules is not None and not rules.verdict(OUR_TOKEN, url).allowed:
            return Observation("terms", at, "disallowed", error=f"robots.txt disallows {OUR_TOKEN}", final_url=url)
        f = await _get(client, url, "terms", config, guard, limiter, host)
        obs = _observation("terms", at, f)
        obs.body = None  # terms pages change on every visit: their version is what they say
        obs.signals = tos_signals(f.body, url, via) if f.status == "ok" else {"url": url, "found_via": via}
        return obs
    return Observation("terms", at, "absent", error="no terms-of-service link found on the homepage")


async def run_crawl(
    engine: Engine,
    sites: Sequence[SiteEntry],
    config: CrawlConfig,
    *,
    source: str,
    resume: bool = False,
    progress: Callable[[CrawlProgress], None] | None = None,
    client: httpx.AsyncClient | None = None,
) -> CrawlSummary:
    """Crawl the sites into the store as one crawl run; return what happened."""
    writer = Writer(engine)
    await asyncio.to_thread(
        writer.ensure_sites,
        [{"domain": s.domain, "rank": s.rank, "category": s.category, "list_source": source} for s in sites],
    )
    run_id = writer.resumable_run("live", source) if resume else None
    if run_id is not None:
        writer.resume_run(run_id)
        done_ids = await asyncio.to_thread(writer.done_sites, run_id)
    else:
        run_id = writer.start_run("live", source, {"sites": len(sites), "resources": list(config.resources)})
        done_ids = set()
    todo = [s for s in sites if writer.site_id(s.domain) not in done_ids]
    state = CrawlProgress(total=len(sites), skipped=len(sites) - len(todo))
    guard = Guard(allow_private=config.allow_private, connect_to=config.connect_to)
    limiter = HostLimiter(config.per_host_delay)
    totals = {"new_versions": 0, "unchanged": 0}
    results: asyncio.Queue[tuple[str, list[Observation]] | None] = asyncio.Queue(maxsize=config.batch_size * 4)
    own_client = client is None
    http = client or make_crawl_client(
        guard, concurrency=config.concurrency, user_agent=config.user_agent, timeout=config.timeout,
        ca_bundle=config.ca_bundle,
    )  # fmt: skip

    async def store() -> None:
        batch: list[tuple[str, list[Observation]]] = []
        last = time.monotonic()
        finished = False
        while not finished:
            try:
                item = await asyncio.wait_for(results.get(), timeout=1.0)
                if item is None:
                    finished = True
                else:
                    batch.append(item)
            except TimeoutError:
                pass
            if batch and (finished or len(batch) >= config.batch_size or time.monotonic() - last > 2.0):
                res = await asyncio.to_thread(writer.record_batch, batch, mark_done=True)
                totals["new_versions"] += res.new_versions
                totals["unchanged"] += res.unchanged + res.duplicates
                state.done += len(batch)
                batch = []
                last = time.monotonic()
                if progress:
                    progress(state)

    queue: asyncio.Queue[SiteEntry | None] = asyncio.Queue()
    for s in todo:
        queue.put_nowait(s)

    async def worker() -> None:
        while True:
            site = queue.get_nowait() if not queue.empty() else None
            if site is None:
                return
            obs = await crawl_site(http, site, config, guard, limiter)
            state.robots_status[obs[0].status] += 1
            for o in obs:
                if o.error and o.status != "disallowed":
                    state.errors[o.error.split(":", 1)[0]] += 1
            await results.put((site.domain, obs))

    status = "failed"
    started = time.monotonic()
    storer = asyncio.create_task(store())
    try:
        workers = [asyncio.create_task(worker()) for _ in range(max(1, min(config.concurrency, len(todo))))]
        crawling = asyncio.gather(*workers)
        try:
            # If storing fails (disk full, database locked for good), stop crawling instead of filling the queue.
            await asyncio.wait([crawling, storer], return_when=asyncio.FIRST_COMPLETED)  # type: ignore[type-var]
            if storer.done():
                crawling.cancel()
                await asyncio.gather(crawling, return_exceptions=True)
                storer.result()  # raises the storing error
            await crawling
        finally:
            for w in workers:
                w.cancel()
            if not storer.done():
                await results.put(None)
                await asyncio.shield(storer)
        status = "done"
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        raise
    finally:
        if own_client:
            await http.aclose()
        writer.finish_run(
            status,
            sites=state.done + state.skipped,
            observations=state.done,
            new_versions=totals["new_versions"],
            unchanged=totals["unchanged"],
            errors=sum(state.errors.values()),
        )
    return CrawlSummary(
        run_id=run_id,
        sites=len(sites),
        done=state.done,
        skipped=state.skipped,
        new_versions=totals["new_versions"],
        unchanged=totals["unchanged"],
        robots_status=dict(state.robots_status),
        errors=dict(state.errors),
        seconds=time.monotonic() - started,
        status=status,
    )
