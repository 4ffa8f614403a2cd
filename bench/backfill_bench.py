"""Benchmark: backfill against a fake Wayback Machine on loopback (its own process), built from the corpus history.

Measured in one run:

- at the default politeness (``--rate 1``: one request a second to the archive) over a few sites: captures/s and
  requests/s, which the rate — not our code — bounds;
- unthrottled (``--rate 0``) over many sites: captures/s, sites/s, against a bare loop that fetches the very same
  URLs (the two index queries and the raw captures of the first run) over the same client, without parsing or
  storing — the peer;
- the requests made per site-year, the figure that says how kind a backfill is to the archive: two index queries a
  site plus one raw capture per distinct content.

    uv run python bench/backfill_bench.py [--sites 300] [--polite-sites 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.fetch.http import ConnectTo, Guard, make_crawl_client  # noqa: E402
from tracker.fetch.wayback import cdx_urls, choose_per_period, parse_cdx, raw_capture_url  # noqa: E402
from tracker.pipeline.backfill import BackfillConfig, backfill  # noqa: E402
from tracker.rules.sitelist import SiteEntry  # noqa: E402
from tracker.store import open_store  # noqa: E402

SINCE, UNTIL = date(2022, 7, 1), date(2024, 7, 14)
HOST = "archive.test"


def config(port: int, rate: float) -> BackfillConfig:
    return BackfillConfig(
        since=SINCE,
        until=UNTIL,
        rate=rate,
        archive_url=f"http://{HOST}",
        concurrency=8,
        connect_to=[ConnectTo.parse(f"{HOST}:80:127.0.0.1:{port}")],
    )


async def bare(port: int, domains: list[str]) -> tuple[float, int]:
    """The same requests a backfill makes (index queries, then each distinct capture once), nothing else."""
    cfg = config(port, 0)
    client = make_crawl_client(Guard(connect_to=cfg.connect_to), concurrency=8)
    n = 0
    t = time.perf_counter()
    seen: set[str] = set()
    sem = asyncio.Semaphore(8)

    async def one(domain: str) -> None:
        nonlocal n
        async with sem:
            rows = []
            for url in cdx_urls(cfg.archive_url, domain, since=SINCE, until=UNTIL):
                r = await client.get(url)
                n += 1
                rows += parse_cdx(r.content)
            for row in choose_per_period(rows, lambda d: f"{d.year}-{d.month:02d}"):
                if row.statuscode == "200" and row.digest not in seen:
                    seen.add(row.digest)
                    await client.get(raw_capture_url(cfg.archive_url, row), follow_redirects=True)
                    n += 1

    await asyncio.gather(*(one(d) for d in domains))
    await client.aclose()
    return time.perf_counter() - t, n


def run(port: int, domains: list[str], rate: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(Path(tmp) / "b.db")
        t = time.perf_counter()
        report = asyncio.run(backfill(engine, [SiteEntry(d) for d in domains], config(port, rate)))
        secs = time.perf_counter() - t
    years = (UNTIL - SINCE).days / 365.25
    return {
        "seconds": secs,
        "sites": report.done,
        "requests": report.requests,
        "captures": report.captures_fetched,
        "versions": report.new_versions,
        "per_site_year": report.requests / (report.done * years),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--sites", type=int, default=300)
    ap.add_argument("--polite-sites", type=int, default=6)
    args = ap.parse_args()
    cmd = [
        sys.executable,
        "-m",
        "tracker.operations.demo.archive",
        "--corpus",
        str(args.corpus),
        "--domains",
        str(args.sites),
    ]
    server = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        port, domains = info["port"], info["domains"]
        print(
            f"fake archive: {len(domains)} sites of the corpus history, {SINCE} → {UNTIL}, weekly captures, "
            "http:// redirects and duplicate rows"
        )
        polite = run(port, domains[: args.polite_sites], 1.0)
        print(
            f"default rate (1 request/s), {polite['sites']:.0f} sites: {polite['seconds']:.1f} s, "
            f"{polite['requests'] / polite['seconds']:.2f} requests/s, {polite['captures'] / polite['seconds']:.2f} "
            f"captures/s, {polite['per_site_year']:.1f} requests per site-year"
        )
        free = run(port, domains, 0)
        secs, n = asyncio.run(bare(port, domains))
        print(
            f"unthrottled, {free['sites']:.0f} sites: {free['seconds']:.1f} s, {free['sites'] / free['seconds']:.1f} "
            f"sites/s, {free['captures'] / free['seconds']:.1f} captures/s, {free['requests']:.0f} requests "
            f"({free['per_site_year']:.1f} per site-year), {free['versions']:.0f} versions"
        )
        print(
            f"bare loop, same {n} requests: {secs:.1f} s, {n / secs:.1f} requests/s; "
            f"ours {free['requests'] / free['seconds']:.1f} requests/s = "
            f"{(free['requests'] / free['seconds']) / (n / secs):.2f} of the bare loop"
        )
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(30)


if __name__ == "__main__":
    main()
