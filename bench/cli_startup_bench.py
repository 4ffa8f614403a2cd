"""Benchmark: how long the command line takes to answer, against the interpreter and Typer alone.

Each command runs as a fresh process (what a user waits for), ``--repeat`` times after one warm-up run (so the OS
file cache is warm, as it is for someone who just ran the tool); the median wall time is printed beside two peers run
the same way in the same command: ``python -c pass`` (the interpreter's own start), ``python -c "import typer"``
(the CLI framework, which no command can avoid) and a one-command Typer app invoked with an argument (what Typer
itself costs a command: typer 0.29 spends 0.2 s there importing pydantic, which is why the project pins <0.29).
CPU seconds (user + system of the child) are printed too: on a busy machine they move less than wall time. The
goal is ``--help`` and ``robots FILE`` under 0.3 s. Bytecode is cached as on a user's machine (pip and pipx compile
at install; Python writes ``__pycache__`` on first import): the children run without ``PYTHONDONTWRITEBYTECODE``,
which some sandboxes set and which makes every start compile each module from source (+0.1–0.2 s).
``python -X importtime -m tracker --help`` shows where any excess goes.

    uv run python bench/cli_startup_bench.py [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROBOTS = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
TYPER_APP = """
from typing import Annotated
import typer
app = typer.Typer(rich_markup_mode=None, add_completion=False)
@app.command()
def robots(target: str, agent: Annotated[list[str] | None, typer.Option("--agent")] = None) -> None:
    print(target)
@app.command()
def other() -> None:
    pass
app()
"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: The children's environment: bytecode cached, as a user's installed copy has it.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``repeat`` runs of ``cmd`` after a warm-up run (which also writes the bytecode
    cache); a failing command is an error."""
    subprocess.run(cmd, check=True, capture_output=True, env=ENV)
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), _cpu()
        subprocess.run(cmd, check=True, capture_output=True, env=ENV)
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        robots_file = Path(tmp) / "robots.txt"
        robots_file.write_text(ROBOTS)
        rows = [
            ("python -c pass (peer)", [py, "-c", "pass"]),
            ('python -c "import typer" (peer)', [py, "-c", "import typer"]),
            ("a one-command Typer app (peer)", [py, "-c", TYPER_APP, "robots", "x"]),
            ("consent-tracker --help", [py, "-m", "tracker", "--help"]),
            ("consent-tracker robots FILE", [py, "-m", "tracker", "robots", str(robots_file)]),
            ("consent-tracker trends --help", [py, "-m", "tracker", "trends", "--help"]),
        ]
        results = [(name, timed(cmd, args.repeat)) for name, cmd in rows]
    typer_alone = results[1][1][0]
    print(f"{'command':<34} {'median s':>9} {'cpu s':>7} {'× typer alone':>14}")
    for name, (seconds, cpu) in results:
        print(f"{name:<34} {seconds:9.3f} {cpu:7.3f} {seconds / typer_alone:14.2f}")
    goal = {name: wall for name, (wall, _) in results}
    for name in ("consent-tracker --help", "consent-tracker robots FILE"):
        verdict = "meets" if goal[name] < 0.3 else "misses"
        print(f"{name}: {goal[name]:.3f} s {verdict} the 0.3 s goal")


if __name__ == "__main__":
    main()
