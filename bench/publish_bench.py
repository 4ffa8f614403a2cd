"""Benchmark: ``publish`` of a synthetic history of 100,000 sites × 3 years (real robots.txt templates, built once with
bench/trends_bench.py's generator, as bench/forecast_bench.py builds it, and kept in --db).

Each run is a child process, so its peak memory is its own (``ru_maxrss`` from ``wait4``). Printed:

- ``publish``: wall time, peak memory, the release's size against the SQLite store's, and each table's rows and bytes;
- peer 1, ``export latest --format csv`` of the same store (one row per site, the current state only): time, memory;
- peer 2, a bare pyarrow write of the release's largest table (agent_states) from one in-memory table
  (``pq.write_table``): what writing those rows costs without streaming — the memory the chunked writer avoids;
- with ``--also N``: ``publish`` of an N-site store built the same way (kept beside --db), to show the peak memory
  does not grow with the number of sites.

    uv run python bench/publish_bench.py [--sites 100000] [--db /tmp/consent-tracker-publish-bench.db] [--also 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PUBLISH = """
import sys
from pathlib import Path
from tracker import service
from tracker.rules.agents import load_registry
from tracker.store import open_store
service.publish(open_store(sys.argv[1], create=False), load_registry(), out=Path(sys.argv[2]))
"""
EXPORT = """
import sys
from pathlib import Path
from tracker import service
from tracker.records.vocabulary import ExportFormat
from tracker.rules.agents import load_registry
from tracker.store import open_store
engine = open_store(sys.argv[1], create=False)
service.export_latest_to(engine, load_registry(), Path(sys.argv[2]), fmt=ExportFormat.csv)
"""
BARE = """
import sys
import pyarrow.parquet as pq
table = pq.read_table(sys.argv[1])
pq.write_table(table, sys.argv[2], compression="zstd", compression_level=9)
"""


def child(code: str, *args: str) -> tuple[float, float]:
    """Run ``code`` in a fresh interpreter: (wall seconds, peak resident MB)."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed: {code.strip().splitlines()[-1]}")
    return secs, usage.ru_maxrss / 1024


def size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return sum(Path(str(path) + s).stat().st_size for s in ("", "-wal") if Path(str(path) + s).exists())


def publish(db: Path, work: Path, label: str) -> tuple[float, float, Path]:
    out = work / f"release-{label}"
    secs, peak = child(PUBLISH, str(db), str(out))
    meta = json.loads((out / "datapackage.json").read_text())
    print(
        f"publish ({label}): {secs:.1f} s, peak memory {peak:,.0f} MB; release {size(out) / 1e6:,.1f} MB = "
        f"{size(out) / size(db):.2f}x the SQLite store ({size(db) / 1e6:,.1f} MB); data through "
        f"{meta['consent_tracker']['data_through']}"
    )
    for r in meta["resources"]:
        if "parquet" in r:
            print(
                f"  {r['name']:<14} {r['rows']:>12,} rows  parquet {r['parquet']['bytes'] / 1e6:>8,.1f} MB  "
                f"csv {r['bytes'] / 1e6:>8,.1f} MB"
            )
    return secs, peak, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=100_000)
    ap.add_argument("--db", type=Path, default=Path("/tmp/consent-tracker-publish-bench.db"))
    ap.add_argument("--also", type=int, default=0, help="Also publish a store of this many of its sites.")
    args = ap.parse_args()
    if not args.db.exists():
        import forecast_bench

        forecast_bench.build(args.db, args.sites)
    with tempfile.TemporaryDirectory(prefix="publish-bench-") as tmp:
        work = Path(tmp)
        secs, peak, out = publish(args.db, work, f"{args.sites:,} sites")
        export = work / "latest.csv"
        e_secs, e_peak = child(EXPORT, str(args.db), str(export))
        print(
            f"peer, export latest --format csv: {e_secs:.1f} s, peak memory {e_peak:,.0f} MB, "
            f"{size(export) / 1e6:,.1f} MB (publish takes {secs / e_secs:.1f}x its time, "
            f"{peak / e_peak:.2f}x its memory)"
        )
        b_secs, b_peak = child(BARE, str(out / "agent_states.parquet"), str(work / "bare.parquet"))
        print(
            f"peer, bare pyarrow write of agent_states from one in-memory table: {b_secs:.1f} s, peak memory "
            f"{b_peak:,.0f} MB (publish's whole release: {peak / b_peak:.2f}x that memory)"
        )
        if args.also:
            small = args.db.with_name(f"{args.db.stem}-{args.also}{args.db.suffix}")
            if not small.exists():
                import forecast_bench

                forecast_bench.build(small, args.also)
            _, s_peak, _ = publish(small, work, f"{args.also:,} sites")
            print(f"peak memory: {s_peak:,.0f} MB at {args.also:,} sites, {peak:,.0f} MB at {args.sites:,} sites")


if __name__ == "__main__":
    main()
