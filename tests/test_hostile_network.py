"""Hostile input over real sockets (issue 18): stacked compression bombs, a slow-drip robots.txt, and our own
file-handle limit. The fake web (tests.fakeweb) serves on loopback; the crawler reaches it with --connect-to."""

from __future__ import annotations

import asyncio
import errno
import gzip
import json
import resource
import subprocess
import sys
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakeweb import FakeWeb, Host
from tracker.fetch.http import (
    ConnectTo,
    Guard,
    LocalResourceError,
    RobotsFetch,
    fetch_robots,
    fetch_url,
    make_client,
    make_crawl_client,
)
from tracker.rules.robots import ROBOTS_MAX_BYTES

ZEROS = 50_000_000


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _bombs() -> dict[str, tuple[str, bytes]]:
    zeros = b"\0" * ZEROS
    gz, df = _gzip(zeros), _deflate(zeros)
    return {
        "gzip2.test": ("gzip, gzip", _gzip(gz)),
        "deflate2.test": ("deflate, deflate", _deflate(df)),
        "chain3.test": ("gzip, deflate, gzip", _gzip(_deflate(gz))),
        "gzip1.test": ("gzip", gz),
    }


BOMBS = _bombs()


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeWeb]:
    hosts = {
        name: Host(fault="encoded", arg=spec, files={"/": (200, spec[1], {"Content-Encoding": spec[0]})})
        for name, spec in BOMBS.items()
    }
    hosts["drip.test"] = Host(fault="drip", arg=30)
    w = FakeWeb(hosts, tmp_path_factory.mktemp("hostile")).start()
    yield w
    w.stop()


def _guard(web: FakeWeb) -> Guard:
    return Guard(
        allow_private=True,
        connect_to=[ConnectTo("", 80, "127.0.0.1", web.http_port), ConnectTo("", 443, "127.0.0.1", web.https_port)],
    )


def _run(web: FakeWeb, call: Any) -> tuple[RobotsFetch, float, int]:
    """Run call(client, guard) against the fake web; (its result, seconds, peak bytes traced while it ran)."""

    async def go() -> RobotsFetch:
        guard = _guard(web)
        client = make_crawl_client(guard, ca_bundle=str(web.ca_path))
        try:
            return await call(client, guard)  # type: ignore[no-any-return]
        finally:
            await client.aclose()
            await asyncio.sleep(0.25)  # aiohttp closes TLS transports a loop turn later (its docs' graceful shutdown)

    tracemalloc.start()
    started = time.monotonic()
    try:
        result = asyncio.run(go())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, time.monotonic() - started, peak


@pytest.mark.parametrize("host", list(BOMBS))
@pytest.mark.parametrize("path", ["/robots.txt", "/"])
@pytest.mark.network_local
@pytest.mark.slow
def test_stacked_compression_bomb_costs_the_cap(web: FakeWeb, host: str, path: str) -> None:
    kind = "robots" if path == "/robots.txt" else "homepage"

    async def call(client: Any, guard: Guard) -> RobotsFetch:
        return await fetch_url(
            client, f"https://{host}{path}", kind, guard=guard, max_bytes=ROBOTS_MAX_BYTES, total_timeout=30
        )

    r, seconds, peak = _run(web, call)
    print(f"{host}{path}: {len(BOMBS[host][1])} bytes sent, peak {peak / 2**20:.1f} MiB, {seconds:.2f} s")
    assert r.status == "ok", r.error
    assert r.truncated and len(r.body) == ROBOTS_MAX_BYTES <= 512 * 1024
    assert r.body == b"\0" * ROBOTS_MAX_BYTES
    assert peak < 8 * 2**20  # the inflated body is 50 MB (before: the inner layer inflated in one call)


@pytest.mark.network_local
def test_too_many_encodings_are_refused(tmp_path: Path) -> None:
    w = FakeWeb({"deep.test": Host(fault="encoded", arg=("gzip, " * 5 + "gzip", b"x"))}, tmp_path).start()
    try:
        r, _, _ = _run(w, lambda client, guard: fetch_url(client, "https://deep.test/robots.txt", guard=guard))
    finally:
        w.stop()
    assert r.status == "network_error" and (r.error or "").startswith("decoding: 6 content encodings")


@pytest.mark.network_local
@pytest.mark.slow
def test_slow_drip_robots_costs_one_deadline(web: FakeWeb) -> None:
    """https connected and then dripped: no retry of the read timeout, no http fallback — one deadline."""

    async def call(client: Any, guard: Guard) -> RobotsFetch:
        return await fetch_robots(client, "drip.test", guard=guard, retries=1, total_timeout=2)

    before = dict(web.hits)
    r, seconds, _ = _run(web, call)
    hits = web.hits[("drip.test", "/robots.txt")] - before.get(("drip.test", "/robots.txt"), 0)
    print(f"drip: {seconds:.2f} s, {hits} request(s)")
    assert r.status == "network_error" and (r.error or "").startswith("timeout"), r.error
    assert r.url.startswith("https://") and hits == 1  # before: https, retry, http, retry (4 deadlines)
    print(f"slow drip: {seconds:.2f} s for one site with a 2 s total timeout")  # (no timed assertion: the count is)


def _limit_files(n: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))  # hard too: the crawler cannot raise it back


@pytest.mark.network_local
@pytest.mark.slow
def test_file_handle_limit_clamps_concurrency_and_is_never_a_site_fault(tmp_path: Path) -> None:
    """--concurrency 1000 with 200 file handles: lowered (and said so), and no site recorded as our EMFILE."""
    n = 300
    many = {f"f{i}.test": Host(robots="User-agent: *\nDisallow: /x\n", latency=0.3) for i in range(n)}
    w = FakeWeb(many, tmp_path).start()
    try:
        sites = tmp_path / "sites.txt"
        sites.write_text("\n".join(many) + "\n")
        db = tmp_path / "f.db"
        args = [
            sys.executable,
            "-m",
            "tracker",
            "crawl",
            "--sites",
            str(sites),
            "--db",
            str(db),
            "--concurrency",
            "1000",
            "--delay",
            "0",
            "--resources",
            "robots",
            "--retries",
            "0",
            *w.connect_to_args(),
        ]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=180, preexec_fn=lambda: _limit_files(200))
        export = subprocess.run(
            [sys.executable, "-m", "tracker", "export", "latest", "--db", str(db), "--format", "jsonl"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        w.stop()
    records = [json.loads(line) for line in export.stdout.splitlines()]
    errors = [r["error"] for r in records if r["error"]]
    assert not [e for e in errors if "open files" in e.lower()], errors[:3]  # before: EMFILE stored as network_error
    assert "concurrency lowered from 1000 to 36" in proc.stderr, proc.stderr
    assert proc.returncode == 0 and len(records) == n and not errors, proc.stderr + proc.stdout


def test_local_failure_is_raised_not_recorded() -> None:
    """EMFILE from the transport is the crawler's failure: fetch_url raises instead of returning an outcome."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise OSError(errno.EMFILE, "Too many open files")

    async def go() -> RobotsFetch:
        async with make_client(transport=httpx.MockTransport(handler)) as client:
            return await fetch_url(client, "https://example.com/robots.txt", guard=Guard(allow_private=True))

    with pytest.raises(LocalResourceError, match="Too many open files"):
        asyncio.run(go())


def test_unrecorded_sites_leave_the_run_unfinished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A site our own failure left out is counted, not recorded, and the run ends `interrupted` for a resume."""
    from tracker.pipeline.crawl import CrawlConfig, run_crawl
    from tracker.rules.sitelist import SiteEntry
    from tracker.store import open_store

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "bad.test":
            raise OSError(errno.EMFILE, "Too many open files")
        return httpx.Response(200, text="User-agent: *\nDisallow:\n")

    monkeypatch.setattr(resource, "getrlimit", lambda _: (100, 100))  # room for fewer than the 100 asked for
    monkeypatch.setattr(resource, "setrlimit", lambda *_: None)
    engine = open_store(tmp_path / "u.db")
    config = CrawlConfig(resources=("robots",), delay=0, retries=0, allow_private=True)

    async def go() -> Any:
        async with make_client(transport=httpx.MockTransport(handler)) as client:
            return await run_crawl(
                engine, [SiteEntry("good.test"), SiteEntry("bad.test")], config, source="t", client=client
            )

    summary = asyncio.run(go())
    assert (summary.done, summary.unrecorded, summary.status) == (1, 1, "interrupted")
    assert summary.local_errors == {"[Errno 24] Too many open files": 1}
    assert summary.notices and "concurrency lowered from 100 to 1" in summary.notices[0]
