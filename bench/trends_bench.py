"""Benchmark: a synthetic history of N sites × Y years of weekly crawls, through the real writer and trend query.

Each site starts with a real robots.txt from the corpus (made unique by its own Sitemap line, as real files are),
and changes a few times (Poisson, ~0.5 a year); after August 2023 some changes add a GPTBot block. The weekly
crawls that found nothing new are what the store does not write: they only move `last_seen`, and the import
records each site's change history (like `import-archive`). Printed:

- storage per site-year, against storing every weekly snapshot's body (the naive peer, computed exactly);
- import rate (sites/s, observations/s) through Writer.record_batch;
- time of a monthly GPTBot series, cold (the first read; the writer stored the evaluations while importing, so the
  import rate includes them) and warm, against a naive per-period SQL query measured in the same run.

    uv run python bench/trends_bench.py [--sites 1000000] [--years 3] [--db /tmp/bench.db]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from tracker.analysis.trends import restriction_series  # noqa: E402
from tracker.rules.agents import load_registry  # noqa: E402
from tracker.store import open_store  # noqa: E402
from tracker.store.writer import Observation, Writer  # noqa: E402

START = date(2022, 1, 3)  # a Monday
GPTBOT_DAY = date(2023, 8, 7)


def templates(corpus: Path, limit: int) -> list[bytes]:
    """Distinct real robots.txt bodies under 4 KB (the typical size), or a small synthetic set without a corpus."""
    found: dict[bytes, None] = {}
    root = corpus / "real_robots"
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file() and 0 < p.stat().st_size < 4096:
                data = p.read_bytes()
                if b"<html" not in data[:500].lower():
                    found[data] = None
            if len(found) >= limit:
                break
    if not found:
        for i in range(200):
            found[f"User-agent: *\nDisallow: /private{i}/\nDisallow: /search\n".encode()] = None
    return list(found)


def site_history(i: int, rng: random.Random, pool: list[bytes], weeks: int) -> tuple[list[tuple[int, bytes]], int]:
    """(week, body) changes of one site, and the total bytes its weekly snapshots would take if stored naively."""
    # Zipf-like template popularity: a few templates are everywhere (CMS defaults), most are rare.
    idx = min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)
    sitemap = f"\nSitemap: https://site{i}.example/sitemap.xml\n".encode()
    body = pool[idx] + sitemap
    changes = [(0, body)]
    n_changes = min(_poisson(rng, 0.5 * weeks / 52), 8)
    for week in sorted(rng.sample(range(1, weeks), n_changes)) if n_changes else []:
        day = START + timedelta(weeks=week)
        if day >= GPTBOT_DAY and rng.random() < 0.3:
            body = b"User-agent: GPTBot\nDisallow: /\n\n" + body
        else:
            body = pool[rng.randrange(len(pool))] + sitemap
        changes.append((week, body))
    naive = 0
    for k, (week, b) in enumerate(changes):
        end = changes[k + 1][0] if k + 1 < len(changes) else weeks
        naive += len(b) * (end - week)
    return changes, naive


def _poisson(rng: random.Random, lam: float) -> int:
    l_, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= l_:
            return k
        k += 1


def at(week: int) -> datetime:
    d = START + timedelta(weeks=week)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def naive_series(engine, months: list[date]) -> float:  # type: ignore[no-untyped-def]
    """The peer: one SQL query per month-end, joining versions in effect with the evaluation for GPTBot."""
    t = time.perf_counter()
    with engine.connect() as conn:
        for m in months:
            conn.execute(
                text(
                    "SELECT count(*), sum(CASE WHEN e.root_allowed = 0 THEN 1 ELSE 0 END) FROM versions v "
                    "LEFT JOIN evaluations e ON e.ruleset_id = v.ruleset_id AND e.agent = 'gptbot' "
                    "WHERE v.kind = 'robots' AND v.first_seen <= :d AND (v.valid_to IS NULL OR v.valid_to > :d)"
                ),
                {"d": datetime(m.year, m.month, m.day, tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")},
            ).one()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=1_000_000)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--db", type=Path, default=Path("/tmp/consent-tracker-trends-bench.db"))
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    for suffix in ("", "-wal", "-shm"):
        Path(str(args.db) + suffix).unlink(missing_ok=True)
    pool = templates(args.corpus, 3000)
    weeks = 52 * args.years
    rng = random.Random(args.seed)
    engine = open_store(args.db)
    writer = Writer(engine)
    print(f"{args.sites:,} sites x {args.years} years of weekly crawls; {len(pool)} real robots.txt templates")

    naive_bytes = 0
    observations = 0
    versions = 0
    t0 = time.perf_counter()
    last_print = t0
    for start in range(0, args.sites, args.batch):
        batch = []
        for i in range(start, min(start + args.batch, args.sites)):
            changes, naive = site_history(i, rng, pool, weeks)
            naive_bytes += naive
            obs = [Observation("robots", at(w), "ok", 200, body=b, source="archive") for w, b in changes]
            # The last weekly crawl confirms the current content (the ones in between only move last_seen).
            obs.append(Observation("robots", at(weeks - 1), "ok", 200, body=changes[-1][1], source="archive"))
            observations += len(obs)
            batch.append((f"site{i}.example", obs))
        res = writer.record_batch(batch, continuous=True)
        versions += res.new_versions
        now = time.perf_counter()
        if now - last_print > 15:
            done = min(start + args.batch, args.sites)
            print(f"  … {done:,} sites in {now - t0:.0f} s ({done / (now - t0):,.0f} sites/s)", flush=True)
            last_print = now
    import_secs = time.perf_counter() - t0
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    size = sum(os.path.getsize(str(args.db) + s) for s in ("", "-wal") if os.path.exists(str(args.db) + s))
    site_years = args.sites * args.years
    print(
        f"import: {import_secs:.1f} s, {args.sites / import_secs:,.0f} sites/s, "
        f"{observations / import_secs:,.0f} observations/s, {versions:,} versions"
    )
    print(
        f"storage: {size / 1e6:,.1f} MB = {size / site_years:,.0f} bytes per site-year "
        f"(target < 2,000); naive weekly snapshots would take {naive_bytes / site_years:,.0f} bytes per site-year "
        f"(ratio {naive_bytes / size:,.1f}x)"
    )

    registry = load_registry()
    t = time.perf_counter()
    rows = restriction_series(engine, registry, ["GPTBot"], freq="month")
    cold = time.perf_counter() - t
    t = time.perf_counter()
    rows = restriction_series(engine, registry, ["GPTBot"], freq="month")
    warm = time.perf_counter() - t
    months = [date.fromisoformat(r.period_end) for r in rows]
    peer = naive_series(engine, months)
    print(
        f"monthly GPTBot series ({len(rows)} months): cold {cold:.2f} s (first read), warm {warm:.2f} s "
        f"(target < 2 s); naive per-month SQL peer {peer:.2f} s (ratio {peer / warm:.1f}x)"
    )
    last = rows[-1]
    print(
        f"last period {last.period}: {last.sites:,} sites, {last.blocked:,} block GPTBot ({last.blocked_share:.1%}), "
        f"{last.blocked_named:,} by name"
    )


if __name__ == "__main__":
    main()
