"""The command line starts at once because a command imports only what it uses: ``--help`` loads no store engine,
no HTTP client and no Rich; ``robots FILE`` no store engine and no HTTP client. Checked by the modules a fresh
interpreter has loaded (deterministic), not by timing (bench/cli_startup_bench.py measures the seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "httpx",
    "aiohttp",
    "numpy",
    "scipy",
    "streamlit",
    "altair",
    "pydantic",
    "lxml",
    "fastapi",
    "starlette",
    "uvicorn",
)

PROBE = """
import json, sys
sys.argv = ["consent-tracker", *json.loads(sys.argv[1])]
from tracker.cli import main
try:
    main()
except SystemExit:
    pass
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps(loaded), file=sys.stderr)
"""


def _loaded(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))], capture_output=True, text=True, timeout=60
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args", [["--help"], ["trends", "--help"], ["crawl", "--help"], ["up", "--help"], ["serve", "--help"]]
)
def test_help_loads_nothing_heavy(args: list[str]) -> None:
    loaded = _loaded(*args)
    assert "typer" in loaded  # the probe saw the CLI run
    assert not loaded & {*HEAVY, "rich"}, f"{' '.join(args)} loads {sorted(loaded & {*HEAVY, 'rich'})}"


def test_robots_file_loads_no_store_and_no_http_client(tmp_path: Path) -> None:
    robots = tmp_path / "robots.txt"
    robots.write_text("User-agent: GPTBot\nDisallow: /\n")
    loaded = _loaded("robots", str(robots))
    assert "rich" in loaded  # it printed its table
    assert not loaded & set(HEAVY), f"robots FILE loads {sorted(loaded & set(HEAVY))}"


def test_the_probe_sees_a_heavy_import() -> None:
    """The check can fail: a command that opens a store loads the engine."""
    loaded = _loaded("sites", "list", "--db", "/nonexistent/dir/x.db")
    assert "sqlalchemy" in loaded
