"""`consent-tracker up`: the whole pipeline end to end against the demo's simulated web (a real process, real
sockets, the real dashboard), steps skipped when done, a clean Ctrl-C; and what it says when it cannot go on."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tracker.operations.demo.world import FAULTS, build_world


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_the_simulated_world_follows_the_public_record() -> None:
    w = build_world(200)
    gpt = [s.blocks["GPTBot"][0] for s in w.sites.values() if "GPTBot" in s.blocks]
    assert min(gpt).isoformat() >= "2023-08-08" and 0.2 < len(gpt) / 200 < 0.5
    ge = [s.blocks["Google-Extended"][0] for s in w.sites.values() if "Google-Extended" in s.blocks]
    assert ge and min(ge).isoformat() >= "2023-09-29"
    assert any(s.blocks["GPTBot"][1] is not None for s in w.sites.values() if "GPTBot" in s.blocks)  # reversals
    assert {s.fault for s in w.sites.values() if s.fault} == set(FAULTS)
    assert build_world(200).sites.keys() == w.sites.keys()  # deterministic


@pytest.mark.network_local
@pytest.mark.slow
def test_up_demo_end_to_end(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENT_TRACKER_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "up", "--demo", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: list[str] = []
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line)
            if line.startswith("up in"):
                break
        out = "".join(lines)
        assert "up in" in out, out + proc.stderr.read()  # type: ignore[union-attr]
        for n, step in enumerate(("sites", "backfill", "crawl", "schedule", "dashboard"), 1):
            assert f"step {n}/5 {step}: done" in out, out
        # The dashboard answers, and marks the data simulated.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=10) as r:
            assert r.status == 200
        con = sqlite3.connect(db)
        assert con.execute("SELECT value FROM store_meta WHERE key = 'simulated'").fetchone() == ("true",)
        categories = dict(con.execute("SELECT category, count(*) FROM sites GROUP BY category").fetchall())
        assert categories.get("news", 0) > 30 and None not in categories  # the simulated sites' own categories
        # Trends have points: GPTBot blocks appear from August 2023, as in the simulated world.
        trends = _cli(
            "trends",
            "-a",
            "GPTBot",
            "--since",
            "2023-06-01",
            "--until",
            "2024-06-30",
            "--format",
            "json",
            "--db",
            str(db),
            env=env,
        )
        rows = json.loads(trends.stdout)["rows"]
        by_month = {r["period"][:7]: r["blocked"] for r in rows}
        assert by_month["2023-07"] < by_month["2023-09"] < by_month["2024-06"], by_month
        # Changes of the history and of the crawl are events; the faulty sites' outages are not.
        changes = json.loads(_cli("changes", "--db", str(db), "--format", "json", "--limit", "0", env=env).stdout)
        assert any(r["change"] == "restriction" and r["agent"] == "GPTBot" for r in changes["rows"])
        assert any(r["change"] == "reversal" and r["agent"] == "GPTBot" for r in changes["rows"])
        # A report says it is simulated.
        rep = _cli("report", "--format", "csv", "--out", str(tmp_path / "rep"), "--db", str(db), env=env)
        assert rep.returncode == 0, rep.stderr
        assert "SIMULATED DATA" in (tmp_path / "rep" / "SIMULATED.txt").read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 130, err
    assert "stopped" in err
    # Everything stopped: the dashboard no longer answers.
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
        raise AssertionError("the dashboard still answers after Ctrl-C")
    except OSError:
        pass
    statuses = {s for (s,) in sqlite3.connect(db).execute("SELECT status FROM crawl_runs")}
    assert statuses <= {"done", "interrupted"}

    # Again: every data step is skipped.
    again = _cli("up", "--demo", "--db", str(db), "--no-schedule", env=env)
    assert again.returncode == 0, again.stderr
    for n, step in enumerate(("sites", "backfill", "crawl"), 1):
        assert f"step {n}/5 {step}: skipped" in again.stdout, again.stdout


@pytest.mark.slow
def test_up_offline_says_which_step_failed_and_how_to_go_on(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CONSENT_TRACKER_")},
        "CONSENT_TRACKER_TRANCO_URL": f"http://127.0.0.1:{_free_port()}",
        "CONSENT_TRACKER_TIMEOUT": "2",
    }
    r = _cli("up", "--db", str(tmp_path / "t.db"), "--no-schedule", env=env)
    assert r.returncode == 2
    assert "step 1/5 sites: failed" in r.stdout and "cannot download the Tranco list" in r.stdout
    assert "sites add FILE" in r.stdout and "up --demo" in r.stdout


@pytest.mark.slow
def test_the_demo_never_writes_into_a_database_of_real_data(tmp_path: Path) -> None:
    db = tmp_path / "real.db"
    sites = tmp_path / "s.txt"
    sites.write_text("example.com\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENT_TRACKER_")}
    assert _cli("sites", "add", str(sites), "--db", str(db), env=env).returncode == 0
    r = _cli("up", "--demo", "--db", str(db), "--no-schedule", env=env)
    assert r.returncode == 2 and "holds real data" in r.stderr
    assert sqlite3.connect(db).execute("SELECT count(*) FROM store_meta").fetchone() == (0,)
