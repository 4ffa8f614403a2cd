"""Benchmark: the forecast's Monte Carlo and a full forecast over a 100,000-site history.

- draws per second of the vectorised model (100,000 draws, monthly grid 2024–2040), against the same model written
  as a plain per-draw Python loop (the peer, timed on a few thousand draws);
- the Monte Carlo error of the default 20,000 draws against 100,000 (in days, on the run-out's median and 80% bounds);
- a full ``forecast`` — measured restriction of the training agents and its forecast, run-outs with and without
  consent and with restriction held, the gap, categories and the use-preference snapshot — over the corpus history
  (808 real sites; target under 3 s) and over a synthetic history of 100,000 sites × 3 years (real robots.txt
  templates, built once with bench/trends_bench.py's generator and kept in --db; target under 10 s): first, again,
  and with one assumption changed (what an analyst waits for on the dashboard).

    uv run python bench/forecast_bench.py [--sites 100000] [--db /tmp/consent-tracker-forecast-bench.db]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tracker.analysis.forecast import ForecastParams, draw, exhaustion, forecast  # noqa: E402
from tracker.rules.agents import load_registry  # noqa: E402
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
        stock0 = (
            ln(s.pages) * ln(s.bytes_per_page) / (6 - ln(s.bytes_per_token_offset)) * ln(s.quality) * ln(s.repetition)
        )
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


def corpus_db() -> Path | None:
    """The corpus history (808 real sites, 2022-07 → 2024-07) imported once into a temporary database."""
    history = ROOT.parent / "shared" / "corpus" / "history"
    if not history.is_dir():
        print("the shared corpus is absent: the 808-site forecast is skipped")
        return None
    db = Path("/tmp/consent-tracker-forecast-bench-corpus.db")
    if not db.exists():
        from tracker.pipeline.archive_import import import_archive

        import_archive(open_store(db), history)
    return db


def timed_forecast(db: Path, label: str, registry: object, params: ForecastParams) -> None:
    """A full forecast, cold (evaluations computed, imports warm), warm, and with one assumption changed."""
    engine = open_store(db)
    changed = replace(params, demand=replace(params.demand, overtraining=2.0))
    for what, p in (("first", params), ("again", params), ("one assumption changed", changed)):
        t = time.perf_counter()
        out = forecast(engine, registry, p)  # type: ignore[arg-type]
        secs = time.perf_counter() - t
        s = out.sample
        adjusted = out.exhaustion_consent_adjusted
        print(
            f"full forecast, {label}, {what}: {secs:.2f} s over {s.sites or 0:,} sites "
            f"({s.date_from} → {s.date_to}); consent-adjusted run-out {adjusted.median_month if adjusted else None}; "
            f"target {'3' if 'corpus' in label else '10'} s"
        )


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
    print(
        f"Monte Carlo: {params.draws:,} draws × {len(d.times)} months in {secs:.2f} s = {rate:,.0f} draws/s; "
        f"plain Python loop {peer_rate:,.0f} draws/s (ratio {rate / peer_rate:.0f}x); run-out median {e.median:.2f}"
    )
    big = exhaustion(draw(replace(params, draws=100_000)))
    days = [
        abs(a - b) * 365.25
        for a, b in ((e.median, big.median), (e.p10, big.p10), (e.p90, big.p90))
        if a is not None and b is not None
    ]
    print(
        f"Monte Carlo error: {params.draws:,} draws against 100,000 — median, p10, p90 differ by "
        f"{', '.join(f'{x:.0f}' for x in days)} days"
    )
    registry = load_registry()
    corpus = corpus_db()
    if corpus is not None:
        timed_forecast(corpus, "corpus history", registry, params)
    if not args.db.exists():
        build(args.db, args.sites)
    timed_forecast(args.db, f"{args.sites:,}-site synthetic history", registry, params)


if __name__ == "__main__":
    main()
