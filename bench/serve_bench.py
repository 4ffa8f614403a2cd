"""Benchmark: ``consent-tracker serve`` under load, against a bare FastAPI endpoint on the same stack.

2,000 requests, 50 at a time, over real HTTP on loopback, a mix of the API's reads — a trend series (one of eight
agents), one site (any of the store's), a page of change events, the agent registry — against:

- the corpus history (808 real sites, 2022-07 → 2024-07; imported once into a temporary database), and
- a synthetic history of 100,000 sites × 3 years (bench/forecast_bench.py's, built once and kept in --db),

each opened read-only (a ``mode=ro`` URI), as ``consent-tracker serve`` in its own process. The first pass meets an
empty response cache (every distinct answer is computed once, while the others wait or are served); the second
asks the same again (answered from the cache, as between two crawls). The peer is a FastAPI endpoint returning a
constant, served by uvicorn the same way, under the same load: the ratio is what our answers cost over the bare
stack. Prints requests/s, p50/p99 latency and errors; the goal is p99 under 500 ms with no errors.

    uv run python bench/serve_bench.py [--requests 2000] [--concurrency 50] [--sites 100000] [--no-synthetic]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

AGENTS = [
    "GPTBot",
    "CCBot",
    "ClaudeBot",
    "Google-Extended",
    "Applebot-Extended",
    "PerplexityBot",
    "Bytespider",
    "OAI-SearchBot",
]
PEER = """
import sys, uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.get("/v1/constant")
def constant() -> dict:
    return {"rows": [], "count": 0}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=False, log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], port: int, probe: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                why = proc.stderr.read().decode() if proc.stderr else ""
                raise SystemExit(f"{probe} did not start: {why}") from None
            time.sleep(0.1)
    return proc


@dataclass
class Run:
    seconds: float
    latencies: list[float]
    errors: int
    statuses: dict[int, int]
    by_kind: dict[str, list[float]]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, p: float, xs: list[float] | None = None) -> float:
        xs = sorted(self.latencies if xs is None else xs)
        return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000

    def kinds(self) -> str:
        """p50/p99 of each endpoint: where the tail is."""
        return "; ".join(
            f"{k} p50 {self.pct(50, v):.0f} ms, p99 {self.pct(99, v):.0f} ms" for k, v in sorted(self.by_kind.items())
        )

    def line(self, label: str) -> str:
        return (
            f"{label}: {len(self.latencies):,} requests in {self.seconds:.1f} s = {self.rate:,.0f} requests/s; "
            f"p50 {self.pct(50):.1f} ms, p99 {self.pct(99):.1f} ms, max {max(self.latencies) * 1000:.0f} ms; "
            f"errors {self.errors}"
        )


async def load(base: str, paths: list[str], concurrency: int) -> Run:
    """Every path once, ``concurrency`` requests in flight at a time (keep-alive connections, as a CDN would)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for p in paths:
        queue.put_nowait(p)
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    statuses: dict[int, int] = {}
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while not queue.empty():
            path = queue.get_nowait()
            t = time.perf_counter()
            try:
                async with session.get(base + path) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                    if r.status != 200:
                        errors += 1
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
            latencies.append(time.perf_counter() - t)
            by_kind.setdefault(path.split("?")[0].split("/")[2], []).append(latencies[-1])

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        t = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - t
    return Run(seconds, latencies, errors, statuses, by_kind)


def mix(domains: list[str], n: int, seed: int = 1) -> list[str]:
    """The request mix: trends, a site, a page of changes, the agents — a quarter each, in random order."""
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            paths.append(f"/v1/trends?agents={rng.choice(AGENTS)}")
        elif kind == 1:
            paths.append(f"/v1/sites/{rng.choice(domains)}")
        elif kind == 2:
            agent = rng.choice(["", "&agents=GPTBot", "&agents=CCBot", "&changes=restriction"])
            paths.append(f"/v1/changes?limit=50&offset={50 * rng.randrange(10)}{agent}")
        else:
            paths.append(f"/v1/agents{rng.choice(['', '?purpose=training', '?purpose=search', '?company=OpenAI'])}")
    rng.shuffle(paths)
    return paths


def bench_store(label: str, db: Path, domains: list[str], peer_base: str, args: argparse.Namespace) -> None:
    port = free_port()
    url = f"sqlite:///file:{db}?mode=ro&uri=true"
    cmd = [sys.executable, "-m", "tracker", "serve", "--db", url, "--port", str(port), "--no-access-log"]
    cmd += ["--workers", str(args.workers)]
    t = time.perf_counter()
    proc = start(cmd, port, "consent-tracker serve")
    print(f"{label}: serve started in {time.perf_counter() - t:.1f} s")
    try:
        paths = mix(domains, args.requests)
        base = f"http://127.0.0.1:{port}"
        distinct = len(set(paths))
        for what in (f"first pass, {distinct:,} distinct answers computed", "second pass, answers cached"):
            # the peer under the same load just before: the machine is shared, and its speed drifts
            peer = asyncio.run(load(peer_base, ["/v1/constant"] * args.requests, args.concurrency))
            run = asyncio.run(load(base, paths, args.concurrency))
            print("  " + run.line(f"{what}"))
            print("    " + run.kinds())
            print("  " + peer.line("peer, just before"))
            print(
                f"    ratio to the peer: {run.rate / peer.rate:.2f}x its requests/s, "
                f"p50 {run.pct(50) / peer.pct(50):.1f}x, p99 {run.pct(99) / peer.pct(99):.1f}x; "
                f"goal p99 < 500 ms with 0 errors: {'met' if run.pct(99) < 500 and not run.errors else 'NOT met'}"
            )
            if run.errors:
                print(f"    statuses: {run.statuses}")
    finally:
        proc.terminate()
        proc.wait(30)


def domains_of(db: Path) -> list[str]:
    """Every site of the store (the requests ask for any of them)."""
    from tracker.store import open_store, queries

    engine = open_store(f"sqlite:///file:{db}?mode=ro&uri=true")
    try:
        return queries.site_domains(engine, limit=10_000_000)
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--sites", type=int, default=100_000)
    ap.add_argument("--db", type=Path, default=Path("/tmp/consent-tracker-forecast-bench.db"))
    ap.add_argument("--no-synthetic", action="store_true", help="Only the corpus history.")
    ap.add_argument("--workers", type=int, default=1, help="serve --workers (the peer stays one process).")
    args = ap.parse_args()
    print(
        f"{os.cpu_count()} CPUs; {args.requests:,} requests, {args.concurrency} at a time; "
        f"serve --workers {args.workers}"
    )

    port = free_port()
    peer = start([sys.executable, "-c", PEER, str(port)], port, "the bare FastAPI endpoint")
    peer_base = f"http://127.0.0.1:{port}"
    asyncio.run(load(peer_base, ["/v1/constant"] * 200, args.concurrency))  # warm up
    try:
        import forecast_bench

        corpus = forecast_bench.corpus_db()
        if corpus is None:
            print("the shared corpus is absent: the corpus history's run is skipped")
        else:
            bench_store("corpus history (808 sites)", corpus, domains_of(corpus), peer_base, args)
        if args.no_synthetic:
            return
        if not args.db.exists():
            forecast_bench.build(args.db, args.sites)
        domains = domains_of(args.db)
        bench_store(f"synthetic history ({len(domains):,} sites × 3 years)", args.db, domains, peer_base, args)
    finally:
        peer.terminate()
        peer.wait(30)


if __name__ == "__main__":
    main()
