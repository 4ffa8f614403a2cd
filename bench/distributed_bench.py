"""Benchmark: a distributed crawl with 1, 2 and 4 worker processes against the single-process SQLite crawl.

A fake web of N hosts (20–80 ms latency, real robots.txt bodies; tests/fakeweb.py in its own process) on loopback.
Every phase crawls the same sites, robots.txt only, through the real CLI:

- the peer: ``consent-tracker crawl`` in one process into a fresh SQLite file;
- ``crawl --distributed`` into a fresh PostgreSQL database, then W ``worker --burst`` processes (W = 1, 2, 4),
  timed from the workers' start (their imports included) until the run is closed (the batch that records the last
  site closes it).

Prints sites/s per phase and the ratio to the single-process crawl. The machine has 2 cores shared by the fake web,
PostgreSQL, the workers and this script: expect the curve to flatten at 2 workers.

    uv run python bench/distributed_bench.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres [--sites 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.store import open_store  # noqa: E402
from tracker.store.runs import run_info  # noqa: E402


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracker", *args], capture_output=True, text=True, cwd=ROOT)


def _fresh_db(admin: str, name: str) -> str:
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", default=os.environ.get("CONSENT_TRACKER_TEST_POSTGRES"), help="admin URL of a server")
    ap.add_argument("--sites", type=int, default=3000)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--concurrency", type=int, default=50, help="sites at once per batch job")
    ap.add_argument("--jobs", type=int, default=2, help="batch jobs at once per worker")
    ap.add_argument("--batch", type=int, default=100)
    args = ap.parse_args()
    if not args.pg:
        sys.exit("give --pg (an admin URL of a PostgreSQL server) or set CONSENT_TRACKER_TEST_POSTGRES")
    # Host names s<i>-fake.test: each its own registrable domain (a site list folds s<i>.fake.test into one site).
    # The fake web's certificate names only *.fake.test, so HTTPS goes to a closed port and every phase falls back
    # to http:// alike.
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fakeweb.py"), "--hosts", str(args.sites), "--suffix=-fake.test"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused at once
    tmp = Path(tempfile.mkdtemp())
    try:
        assert server.stdout is not None
        web = json.loads(server.stdout.readline())
        sites = tmp / "sites.txt"
        sites.write_text("".join(f"s{i}-fake.test\n" for i in range(args.sites)))
        # --retries 0: the refused HTTPS would otherwise be retried after a backoff, and the phases would measure sleep.
        common = [
            "--sites",
            str(sites),
            "--resources",
            "robots",
            "--concurrency",
            str(args.concurrency),
            "--retries",
            "0",
            "--connect-to",
            f":80:127.0.0.1:{web['http']}",
            "--connect-to",
            f":443:127.0.0.1:{closed.getsockname()[1]}",
        ]
        print(f"fake web: {args.sites:,} hosts, 20-80 ms latency; {os.cpu_count()} cores shared by everything")
        t = time.monotonic()
        r = _cli("crawl", *common, "--db", str(tmp / "one.db"))
        assert r.returncode == 0, r.stderr
        assert f"{args.sites} sites" in r.stdout, r.stdout
        single = args.sites / (time.monotonic() - t)
        print(f"{'single process, SQLite':32s} {single:7.0f} sites/s  (concurrency {args.concurrency})")
        for w in (int(x) for x in args.workers.split(",")):
            db = _fresh_db(args.pg, f"ct_bench_w{w}")
            r = _cli("crawl", *common, "--db", db, "--distributed", "--batch", str(args.batch))
            assert r.returncode == 0, r.stderr
            run_id = r.stdout.split("#", 1)[1].split(":", 1)[0]
            t = time.monotonic()
            # Long-running workers (a burst worker may leave before a batch retried a moment later is due).
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "tracker", "worker", "--db", db, "--concurrency", str(args.jobs)],
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(w)
            ]
            # Polled in this process (a CLI call per poll would take a core's share from the workers).
            engine = open_store(db)
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                info = run_info(engine, int(run_id))
                if info is not None and info.status != "running":
                    break
                time.sleep(0.2)
            seconds = time.monotonic() - t
            engine.dispose()
            status = json.loads(_cli("crawl", "status", run_id, "--db", db, "--format", "json").stdout)
            for p in procs:
                p.send_signal(signal.SIGINT)
                p.wait(60)
            assert status["recorded"] == args.sites, status
            rate = args.sites / seconds
            print(
                f"{f'distributed, {w} worker(s), PostgreSQL':32s} {rate:7.0f} sites/s  "
                f"ratio to single process {rate / single:.2f}  ({status['recorded']:,} sites recorded, "
                f"{args.jobs} jobs × {args.concurrency} sites at once per worker; jobs {status['jobs']})"
            )
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(30)


if __name__ == "__main__":
    main()
