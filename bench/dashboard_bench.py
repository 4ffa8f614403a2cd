"""Benchmark: the dashboard on a 100,000-site, 3-year history — each page's first full render in Chromium, the
same page again (cached), and each query behind it timed on its own (the peer a page is compared with: a page can
be no faster than its query).

The history is bench/forecast_bench.py's (built once into --db). Target: every page under 2 s, under 0.5 s cached.

    uv run python bench/dashboard_bench.py [--db /tmp/consent-tracker-forecast-bench.db] [--sites 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PAGES = ["", "agents", "signals", "sites", "forecast", "gap", "data"]
IDLE = "() => !document.querySelector('[data-testid=stStatusWidget]')"  # Streamlit's "running" widget is gone


def queries(db: Path) -> dict[str, float]:
    """Each page's main query through tracker, timed cold then warm (best of the two)."""
    from tracker.analysis.forecast import forecast, load_params
    from tracker.analysis.headlines import headline
    from tracker.analysis.latest import site_history
    from tracker.analysis.trends import restriction_series, signal_series
    from tracker.rules.agents import load_registry
    from tracker.rules.signals.preferences import ADOPTION
    from tracker.store import open_store, queries

    e, reg = open_store(db), load_registry()
    jobs = {
        "overview: headline": lambda: headline(e, reg),
        "agents: 4 agents": lambda: restriction_series(e, reg, ["GPTBot", "ClaudeBot", "Google-Extended", "CCBot"]),
        "signals: 4 signals": lambda: signal_series(e, ["content_signal", "noai", "tdmrep", "tos_ai_training"]),
        "sites: search + history": lambda: site_history(e, reg, queries.site_domains(e, "site1", 50)[0], ["GPTBot"]),
        "forecast: 20,000 draws": lambda: forecast(e, reg, load_params(overrides=["draws=20000"])),
        "data: every signal": lambda: signal_series(e, list(ADOPTION)),
    }
    out = {}
    for name, job in jobs.items():
        times = []
        for _ in range(2):
            t = time.perf_counter()
            job()
            times.append(time.perf_counter() - t)
        out[name] = min(times)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/consent-tracker-forecast-bench.db"))
    ap.add_argument("--sites", type=int, default=100_000)
    args = ap.parse_args()
    if not args.db.exists():
        import forecast_bench

        forecast_bench.build(args.db, args.sites)
    for name, secs in queries(args.db).items():
        print(f"query  {name:28s} {secs:6.2f} s")
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CONSENT_TRACKER_DB": str(args.db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "dashboard", "--db", str(args.db), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            for name in PAGES:
                times = []
                for _ in range(2):
                    t = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}/{name}")
                    page.wait_for_selector("[data-testid='stMain']")
                    # the script starts: Streamlit shows its "running" widget (unless it finished first) …
                    with contextlib.suppress(Exception):
                        page.wait_for_selector("[data-testid='stStatusWidget']", timeout=1500)
                    page.wait_for_function(IDLE, timeout=600_000)  # … and hides it when the page is complete
                    times.append(time.perf_counter() - t)
                print(f"page   {name or 'overview':28s} first {times[0]:6.2f} s, cached {times[1]:6.2f} s")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
