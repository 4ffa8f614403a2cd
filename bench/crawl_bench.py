"""Benchmark: crawl a fake web of N hosts (20–80 ms latency each, real robots.txt bodies) on loopback.

The fake web runs in its own process on the same 2 cores. Measured in one run, each phase in a fresh process so
peak memory is its own:

- our crawler, robots.txt only and with every resource (robots, homepage, tdmrep, ai.txt, llms.txt), into a
  fresh SQLite file — sites/s and peak RSS, at N and at N/5 sites (memory should be flat in N);
- a bare httpx loop over the same aiohttp transport fetching the same robots.txt URLs at the same concurrency
  (no parsing, no storage): the peer our robots-only crawl is compared with;
- httpx's default connection pool doing the same loop over plain HTTP, so the choice of transport stays
  justified by measurement.

    uv run python bench/crawl_bench.py [--sites 10000] [--concurrency 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def phase(args: argparse.Namespace) -> None:
    """Run one phase in this process and print {'seconds', 'sites', 'maxrss_mb'} as JSON."""
    web = json.loads(args.web)
    names = [f"s{i}.fake.test" for i in range(args.sites)]
    if args.phase.startswith("ours"):
        from tracker.fetch.http import ConnectTo
        from tracker.pipeline.crawl import RESOURCES, CrawlConfig, run_crawl
        from tracker.rules.sitelist import SiteEntry
        from tracker.store import open_store

        db = Path(tempfile.mkdtemp()) / "bench.db"
        engine = open_store(db)
        config = CrawlConfig(
            concurrency=args.concurrency,
            delay=args.delay,
            resources=("robots",) if args.phase == "ours-robots" else tuple(RESOURCES),
            ca_bundle=web["ca"],
            connect_to=[
                ConnectTo.parse(f":80:127.0.0.1:{web['http']}"),
                ConnectTo.parse(f":443:127.0.0.1:{web['https']}"),
            ],
            retries=0,
        )
        sites = [SiteEntry(n, i + 1) for i, n in enumerate(names)]
        t = time.perf_counter()
        summary = asyncio.run(run_crawl(engine, sites, config, source="bench"))
        secs = time.perf_counter() - t
        done = summary.done
        extra = {"robots_status": summary.robots_status}
    else:
        done, secs = asyncio.run(_bare(args, web, names))
        extra = {}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": secs, "sites": done, "maxrss_mb": rss, **extra}))


async def _bare(args: argparse.Namespace, web: dict, names: list[str]) -> tuple[int, float]:
    import httpx

    from tracker.fetch.http import ConnectTo, Guard, make_crawl_client

    if args.phase == "bare-aiohttp":
        guard = Guard(connect_to=[ConnectTo.parse(f":443:127.0.0.1:{web['https']}")])
        client = make_crawl_client(guard, concurrency=args.concurrency, ca_bundle=web["ca"])
        requests = [(f"https://{n}/robots.txt", {}) for n in names]
    elif args.phase == "bare-aiohttp-http":
        guard = Guard(connect_to=[ConnectTo.parse(f":80:127.0.0.1:{web['http']}")])
        client = make_crawl_client(guard, concurrency=args.concurrency)
        requests = [(f"http://{n}/robots.txt", {}) for n in names]
    else:  # httpx's own pool cannot remap hosts: plain HTTP to the address, with the Host header
        client = httpx.AsyncClient(limits=httpx.Limits(max_connections=args.concurrency))
        requests = [(f"http://127.0.0.1:{web['http']}/robots.txt", {"Host": n}) for n in names]
    queue: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    done = 0

    async def worker() -> None:
        nonlocal done
        while not queue.empty():
            url, headers = queue.get_nowait()
            async with client.stream("GET", url, headers=headers) as resp:
                async for _ in resp.aiter_bytes():
                    pass
            done += 1

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    secs = time.perf_counter() - t
    await client.aclose()
    return done, secs


def run_phase(name: str, web: dict, sites: int, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--phase",
        name,
        "--web",
        json.dumps(web),
        "--sites",
        str(sites),
        "--concurrency",
        str(args.concurrency),
        "--delay",
        str(args.delay),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=100)
    ap.add_argument("--delay", type=float, default=0.1, help="per-host delay of our crawler (its default: 0.1)")
    ap.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--web", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        phase(args)
        return
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fakeweb.py"), "--hosts", str(args.sites)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert server.stdout is not None
        web = json.loads(server.stdout.readline())
        print(f"fake web: {args.sites:,} hosts, 20-80 ms latency, on this machine; concurrency {args.concurrency}")
        small = max(args.sites // 5, 100)
        results = {}
        phases = [
            ("bare-aiohttp", args.sites),
            ("ours-robots", args.sites),
            ("ours-all", args.sites),
            ("ours-robots", small),
            ("bare-aiohttp-http", args.sites),
            ("httpx-default", args.sites),
        ]
        for name, n in phases:
            r = run_phase(name, web, n, args)
            results[(name, n)] = r
            rate = r["sites"] / r["seconds"]
            rss = r["maxrss_mb"]
            print(f"{name:18s} {n:>7,} sites  {r['seconds']:7.1f} s  {rate:7.0f} sites/s  peak RSS {rss:6.0f} MB")
        bare = results[("bare-aiohttp", args.sites)]
        ours = results[("ours-robots", args.sites)]
        ours_all = results[("ours-all", args.sites)]
        http_bare = results[("bare-aiohttp-http", args.sites)]
        default = results[("httpx-default", args.sites)]
        rate = lambda r: r["sites"] / r["seconds"]  # noqa: E731
        print(
            f"robots.txt only: {rate(ours):.0f} sites/s (target ≥ 300); ratio to the bare httpx loop on the same "
            f"transport: {rate(ours) / rate(bare):.2f} (target ≥ 0.8)"
        )
        print(f"every resource: {rate(ours_all):.0f} sites/s (target ≥ 150), {5 * rate(ours_all):.0f} requests/s")
        print(
            f"memory: peak RSS {results[('ours-robots', small)]['maxrss_mb']:.0f} MB at {small:,} sites, "
            f"{ours['maxrss_mb']:.0f} MB at {args.sites:,} sites"
        )
        print(
            f"transport: over plain HTTP the aiohttp transport did {rate(http_bare):.0f} req/s, httpx's default "
            f"pool {rate(default):.0f} req/s (ratio {rate(http_bare) / rate(default):.1f}x)"
        )
        print(f"robots.txt outcomes (ours, all resources): {ours_all.get('robots_status')}")
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(30)


if __name__ == "__main__":
    main()
