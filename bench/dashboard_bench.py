"""Benchmark: each dashboard page in Chromium, cold and warm, at two sizes — the corpus history (~808 sites) and a
100,000-site, 3-year history — timed to the page's main element (its chart, or its table where it has no chart).

cold: a fresh server (a new process, nothing cached in memory or on disk), the page opened first, by a new browser.
warm: the same server, the page opened again in a new tab of the same browser (a new Streamlit session, its
      state empty; the browser's HTTP cache and the server's cross-session caches filled by the cold visit).
restart: a fresh server again, with what the first one kept on disk (tracker.dashboard.common.cache_folder), the
      page opened by a new browser: a dashboard restarted over unchanged data.

Targets (issue 20): cold ≤ 3 s on the corpus history; warm ≤ 2 s at 100,000 sites. ``--checkout DIR`` times another
checkout's dashboard (its own .venv) over the same databases, to put two revisions side by side.

    uv run python bench/dashboard_bench.py [--corpus-db PATH] [--big-db PATH] [--checkout DIR] [--pages agents,…]

The corpus database is imported from ../shared/corpus/history when absent; the 100,000-site one is
bench/forecast_bench.py's (built when absent, ~10 min).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
CORPUS = ROOT.parent / "shared" / "corpus"

#: page path → the element a reader waits for (its main chart, or its table)
PAGES = {
    "peer": "[data-testid='stVegaLiteChart']",
    "overview": "[data-testid='stVegaLiteChart']",  # served at /
    "agents": "[data-testid='stVegaLiteChart']",
    "signals": "[data-testid='stDataFrame']",  # its table, after its chart (a note on an unobserved signal comes first)
    "changes": "[data-testid='stDataFrame']",
    "sites": "[data-testid='stDataFrame']",
    "forecast": "[data-testid='stVegaLiteChart']",
    "gap": "[data-testid='stVegaLiteChart']",
    "data": "[data-testid='stDataFrame']",
}
IDLE = "() => !document.querySelector('[data-testid=stStatusWidget]')"  # Streamlit's "running" widget is gone


def corpus_db(path: Path) -> Path:
    if not path.exists():
        run = [sys.executable, "-m", "tracker"]
        subprocess.run([*run, "import-archive", str(CORPUS / "history"), "--db", str(path)], cwd=ROOT, check=True)
        top = CORPUS / "tranco_top10k_2024-07-01.csv"
        add = ["sites", "add", str(top), "--list", "tranco-2024", "--kind", "top", "--db", str(path)]
        subprocess.run([*run, *add], cwd=ROOT, check=True)
    return path


def big_db(path: Path, sites: int) -> Path:
    if not path.exists():
        import forecast_bench

        forecast_bench.build(path, sites)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: The peer: a bare Streamlit page with one small Altair chart and one table, served the same way — the floor a
#: page of ours is compared with (Streamlit's own start, the browser loading its frontend, Vega drawing).
PEER = """import altair as alt, pandas as pd, streamlit as st
st.title("peer")
st.altair_chart(alt.Chart(pd.DataFrame({"x": [1, 2, 3], "y": [1, 3, 2]})).mark_line().encode(x="x", y="y"))
st.dataframe(pd.DataFrame({"a": [1, 2]}))
"""


def start(checkout: Path, db: Path | None, cache: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Serve the checkout's dashboard of ``db`` (None: the peer page) on a free port; wait for its health check."""
    port = free_port()
    python = checkout / ".venv" / "bin" / "python"
    if db is None:
        peer = Path(tempfile.mkdtemp()) / "peer.py"
        peer.write_text(PEER)
        cmd = [str(python), "-m", "streamlit", "run", str(peer), "--server.headless", "true"]
        cmd += ["--browser.gatherUsageStats", "false", "--server.port", str(port)]
    else:
        cmd = [str(python), "-m", "tracker", "dashboard", "--db", str(db), "--port", str(port)]
    proc = subprocess.Popen(
        cmd,
        cwd=checkout,
        env={**os.environ, "CONSENT_TRACKER_DB": str(db or ""), "CONSENT_TRACKER_CACHE": str(cache)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return proc, port
        except OSError:
            time.sleep(0.25)
    proc.kill()
    raise SystemExit("the dashboard did not answer its health check in 60 s")


def visit(context: object, port: int, page_name: str) -> tuple[float, str]:
    """Seconds from navigation to the page's main element, in a new browser session (a new tab: Streamlit starts a
    session per tab), and "" — or "no chart: <what the page said instead>" when it ended without one."""
    page = context.new_page()  # type: ignore[attr-defined]
    t = time.perf_counter()
    page.goto(f"http://127.0.0.1:{port}/{'' if page_name in ('overview', 'peer') else page_name}")
    # its main element, or — the page done without one — what it said instead
    done = f"""() => document.querySelector("{PAGES[page_name]}") || (
        !document.querySelector("[data-testid=stStatusWidget]")
        && document.querySelector("[data-testid=stAlert], [data-testid=stException]"))"""
    page.wait_for_function(done, timeout=600_000, polling=50)
    took = time.perf_counter() - t
    page.wait_for_function(IDLE, timeout=600_000)
    note = ""
    if page.query_selector(PAGES[page_name]) is None:
        alert = page.query_selector("[data-testid='stAlert'], [data-testid='stException']")
        note = "no main element: " + (alert.inner_text()[:80].replace("\n", " ") if alert else "?")
    page.close()
    return took, note


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus-db", type=Path, default=Path("/tmp/consent-tracker-dashboard-corpus.db"))
    ap.add_argument("--big-db", type=Path, default=Path("/tmp/consent-tracker-forecast-bench.db"))
    ap.add_argument("--sites", type=int, default=100_000, help="sites of the big history when it is built")
    ap.add_argument("--checkout", type=Path, default=ROOT, help="the checkout whose dashboard is timed")
    ap.add_argument("--pages", default=",".join(PAGES), help="comma-separated pages (default: the peer, then all)")
    ap.add_argument("--sizes", default="corpus,big", help="corpus, big or both")
    args = ap.parse_args()
    pages = [p for p in args.pages.split(",") if p]
    dbs = {}
    if "corpus" in args.sizes:
        dbs["corpus"] = corpus_db(args.corpus_db)
    if "big" in args.sizes:
        dbs["big"] = big_db(args.big_db, args.sites)
    from playwright.sync_api import sync_playwright

    print(f"checkout {args.checkout.resolve()}; load average {os.getloadavg()[0]:.1f}")
    kinds = ("cold", "warm", "restart")
    print(f"{'page':10s} " + " ".join(f"{size + ' ' + kind:>15s}" for size in dbs for kind in kinds))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for name in pages:
            cells, notes = [], []
            for size, db in dbs.items():
                cache = Path(tempfile.mkdtemp(prefix="dashboard-cache-"))  # nothing kept from an earlier run
                for kind in kinds:
                    if kind != "warm":  # cold: a new server, nothing cached; restart: a new server, the disk cache kept
                        proc, port = start(args.checkout, None if name == "peer" else db, cache)
                        # a new browser (nothing cached, as a first-time reader); warm: another tab of the same one
                        context = browser.new_context(viewport={"width": 1280, "height": 1000})
                    took, note = visit(context, port, name)
                    cells.append(took)
                    notes += [f"{size} {kind}: {note}"] if note else []
                    if kind != "cold":
                        context.close()
                        proc.terminate()
                        proc.wait(30)
                shutil.rmtree(cache, ignore_errors=True)
            print(f"{name:10s} " + " ".join(f"{c:13.2f} s" for c in cells), *notes, sep="  ", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
