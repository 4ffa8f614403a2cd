"""Benchmark: the forecast's Monte Carlo and a full forecast over a 100,000-site history.

- draws per second of the vectorised model (100,000 draws, monthly grid 2024–2040), against the same model written
  as a plain per-draw Python loop (the peer, timed on a few thousand draws);
- a full ``forecast`` — measured restriction of the training agents, curve choice and bootstrap, run-out with and
  without consent, the gap, categories and the use-preference snapshot — over a synthetic history of 100,000 sites
  × 3 years (real robots.txt templates, built once with bench/trends_bench.py's generator and kept in --db).

    uv run python bench/forecast_bench.py [--sites 100000] [--db /tmp/consent-tracker-forecast-bench.db]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tracker.agents import load_registry  # noqa: E402
from tracker.forecast import ForecastParams, draw, exhaustion, forecast  # noqa: E402
from tracker.store import open_store  # noqa: E402
from tracker.store.writer import Observation, Writer  # noqa: E402


def python_loop(params: ForecastParams, n: int) -> float:
    """The peer: the same model, one draw at a time in plain Python (seconds for n draws)."""
    rng = random.Random(params.seed)
    s, d = params.stock, params.demand
    times = [params.start + i / params.steps_per_year for i in range(int((params.end - params.start) * 12) + 1)]

    def ln(i: object) -> float:
        return math.exp(rng.gauss(i.mu, i.sigma))  # type: ignore[attr-defined]

    t = time.perf_counter()
    for _ in range(n):
        stock0 = ln(s.pages) * ln(s.bytes_per_page) / (6 - ln(s.bytes_per_token_offset)) * ln(s.quality) * ln(
            s.repetition)  # fmt: skip
        growth = ln(s.growth_a) * ln(s.growth_b)
        base, slope = ln(d.largest_dataset), rng.gauss(0.375, 0.0536)
        for year in times:
            if base * 10 ** (slope * (year - 2024)) >= stock0 * growth ** (year - 2024):
                break
    return time.perf_counter() - t


def build(db: Path, sites: int) -> None:
    import trends_bench as tb

    pool = tb.templates(ROOT.parent / "shared" / "corpus", 3000)
    rng = random.Random(1)
    engine = open_store(db)
    writer = Writer(engine)
    weeks = 52 * 3
    t = time.perf_counter()
    for start in range(0, sites, 2000):
        batch = []
        for i in range(start, min(start + 2000, sites)):
            changes, _ = tb.site_history(i, rng, pool, weeks)
            obs = [Observation("robots", tb.at(w), "ok", 200, body=b, source="archive") for w, b in changes]
            obs.append(Observation("robots", tb.at(weeks - 1), "ok", 200, body=changes[-1][1], source="archive"))
            batch.append((f"site{i}.example", obs))
        writer.record_batch(batch, continuous=True)
    print(f"built a {sites:,}-site history in {time.perf_counter() - t:.0f} s ({db})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=100_000)
    ap.add_argument("--db", type=Path, default=Path("/tmp/consent-tracker-forecast-bench.db"))
    args = ap.parse_args()
    params = ForecastParams()
    t = time.perf_counter()
    d = draw(params)
    e = exhaustion(d)
    secs = time.perf_counter() - t
    peer_n = 3000
    peer = python_loop(params, peer_n)
    rate, peer_rate = params.draws / secs, peer_n / peer
    print(f"Monte Carlo: {params.draws:,} draws × {len(d.times)} months in {secs:.2f} s = {rate:,.0f} draws/s; "
          f"plain Python loop {peer_rate:,.0f} draws/s (ratio {rate / peer_rate:.0f}x); run-out median {e.median:.2f}")
    if not args.db.exists():
        build(args.db, args.sites)
    engine = open_store(args.db)
    registry = load_registry()
    for label in ("cold (evaluations computed)", "warm"):
        t = time.perf_counter()
        out = forecast(engine, registry, params)
        secs = time.perf_counter() - t
        s = out["sample"]
        print(f"full forecast, {label}: {secs:.1f} s over {s['sites']:,} sites ({s['from']} → {s['to']}); "
              f"consent-adjusted run-out {out['exhaustion_consent_adjusted']['median']:.2f}; "
              f"restriction curve {out['restricted_share']['model']}")  # fmt: skip


if __name__ == "__main__":
    main()
