"""Benchmark: how long the command line takes to answer, against the interpreter and Typer alone.

Each command runs as a fresh process (what a user waits for), ``--repeat`` times after one warm-up run (so the OS
file cache is warm, as it is for someone who just ran the tool); the median wall time is printed beside two peers run
the same way in the same command: ``python -c pass`` (the interpreter's own start) and ``python -c "import typer"``
(the CLI framework, which no command can avoid). The goal is ``--help`` and ``robots FILE`` under 0.3 s; the
``import`` lines of ``python -X importtime -m tracker --help`` show where any excess goes.

    uv run python bench/cli_startup_bench.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROBOTS = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"


def timed(cmd: list[str], repeat: int) -> float:
    """Median wall seconds of ``repeat`` runs of ``cmd`` after a warm-up run; a failing command is an error."""
    subprocess.run(cmd, check=True, capture_output=True)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        robots_file = Path(tmp) / "robots.txt"
        robots_file.write_text(ROBOTS)
        rows = [
            ("python -c pass (peer)", [py, "-c", "pass"]),
            ('python -c "import typer" (peer)', [py, "-c", "import typer"]),
            ("consent-tracker --help", [py, "-m", "tracker", "--help"]),
            ("consent-tracker robots FILE", [py, "-m", "tracker", "robots", str(robots_file)]),
            ("consent-tracker trends --help", [py, "-m", "tracker", "trends", "--help"]),
        ]
        results = [(name, timed(cmd, args.repeat)) for name, cmd in rows]
    typer_alone = results[1][1]
    print(f"{'command':<34} {'median s':>9} {'× typer alone':>14}")
    for name, seconds in results:
        print(f"{name:<34} {seconds:9.3f} {seconds / typer_alone:14.2f}")
    goal = {name: s for name, s in results}
    for name in ("consent-tracker --help", "consent-tracker robots FILE"):
        verdict = "meets" if goal[name] < 0.3 else "misses"
        print(f"{name}: {goal[name]:.3f} s {verdict} the 0.3 s goal")


if __name__ == "__main__":
    main()
