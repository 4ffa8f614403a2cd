"""Distributed crawls on PostgreSQL: two worker processes crawl the fake web, every site is recorded exactly once
(also when one worker is killed mid-batch), and the result equals a single-process crawl of the same web."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import needs_postgres, new_store_url
from tests.fakeweb import FakeWeb, Host
from tracker.store import open_store

pytestmark = needs_postgres
N = 120


def _cli(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def _hosts() -> dict[str, Host]:
    hosts = {}
    for i in range(N):
        robots = "User-agent: GPTBot\nDisallow: /\n" if i % 3 == 0 else f"User-agent: *\nDisallow: /p{i}/\n"
        hosts[f"d{i}.test"] = Host(robots=robots, latency=0.15, fault="status" if i % 17 == 0 else None, arg=503)
    return hosts


def _content(rows: list[tuple]) -> set[tuple]:
    return {tuple(r) for r in rows}


@pytest.mark.network_local
def test_two_workers_one_killed_record_every_site_once_as_one_process_would(tmp_path: Path) -> None:
    web = FakeWeb(_hosts(), tmp_path).start()
    try:
        sites = tmp_path / "sites.txt"
        sites.write_text("".join(f"d{i}.test\n" for i in range(N)))
        common = [
            "--sites",
            str(sites),
            "--resources",
            "robots",
            "--delay",
            "0",
            "--retries",
            "0",
            *web.connect_to_args(),
        ]
        # The reference: one process, SQLite.
        lite = tmp_path / "one.db"
        r = _cli("crawl", *common, "--db", str(lite))
        assert r.returncode == 0, r.stderr
        # The same crawl deferred as jobs of 8 sites, on PostgreSQL.
        pg = new_store_url("postgresql", tmp_path)
        r = _cli("crawl", *common, "--db", pg, "--distributed", "--batch", "8")
        assert r.returncode == 0, r.stderr
        assert "120 sites deferred as 15 jobs" in r.stdout, r.stdout
        run_id = int(r.stdout.split("#", 1)[1].split(":", 1)[0])
        status = json.loads(_cli("crawl", "status", str(run_id), "--db", pg, "--format", "json").stdout)
        assert status["status"] == "running" and status["recorded"] == 0 and status["jobs"] == {"todo": 15}
        hits_before = sum(web.hits.values())

        worker = [
            sys.executable,
            "-m",
            "tracker",
            "worker",
            "--db",
            pg,
            "--concurrency",
            "2",
            "--heartbeat",
            "1",
            "--stalled-after",
            "3",
        ]
        doomed = subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        engine = open_store(pg)

        def recorded() -> int:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT count(*) FROM crawl_run_sites")).scalar() or 0)

        deadline = time.time() + 60
        while recorded() < 8 and time.time() < deadline:
            time.sleep(0.05)
        doomed.send_signal(signal.SIGKILL)  # mid-batch: it holds two jobs, some of their sites unrecorded
        doomed.wait()
        assert 0 < recorded() < N
        survivor = subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 120
            while time.time() < deadline:
                status = json.loads(_cli("crawl", "status", str(run_id), "--db", pg, "--format", "json").stdout)
                # The run closes with its last site; a requeued job whose sites had all landed before the kill
                # may still run after that (and find nothing to do).
                if status["status"] == "done" and not (status["jobs"].get("todo") or status["jobs"].get("doing")):
                    break
                time.sleep(0.5)
            assert status["status"] == "done", status
            assert status["recorded"] == N and status["jobs"].get("succeeded") == 15, status
        finally:
            survivor.send_signal(signal.SIGINT)
            survivor.communicate(timeout=30)

        with engine.connect() as conn:
            dist = conn.execute(
                text(
                    "SELECT s.domain, v.kind, v.status, v.http_status, b.sha256 FROM versions v JOIN sites s ON "
                    "s.id = v.site_id LEFT JOIN bodies b ON b.id = v.body_id"
                )
            ).all()
            per_site = conn.execute(text("SELECT count(*), count(DISTINCT site_id) FROM versions")).one()
        one = (
            sqlite3.connect(lite)
            .execute(
                "SELECT s.domain, v.kind, v.status, v.http_status, b.sha256 FROM versions v JOIN sites s ON "
                "s.id = v.site_id LEFT JOIN bodies b ON b.id = v.body_id"
            )
            .fetchall()
        )
        assert tuple(per_site) == (N, N)  # one version per site: nothing recorded twice
        assert _content(dist) == _content(one)  # the same content as the single-process crawl
        # Only the killed worker's unrecorded sites were fetched again (one robots.txt each, https): at most its
        # two batches.
        refetched = sum(web.hits.values()) - hits_before - N
        assert 0 <= refetched <= 16, refetched
        # The run's change events and counts were written by the batch that closed it.
        info = json.loads(_cli("crawl", "status", str(run_id), "--db", pg, "--format", "json").stdout)
        assert info["new_versions"] == N and info["finished_at"]
    finally:
        web.stop()


def test_distributed_needs_postgresql(tmp_path: Path) -> None:
    sites = tmp_path / "s.txt"
    sites.write_text("a.test\n")
    r = _cli("crawl", "--sites", str(sites), "--db", str(tmp_path / "x.db"), "--distributed")
    assert r.returncode == 2 and "needs PostgreSQL" in r.stderr


@pytest.mark.network_local
def test_wait_and_a_distributed_scheduler(tmp_path: Path) -> None:
    hosts = {f"w{i}.test": Host(robots=f"User-agent: *\nDisallow: /x{i}/\n") for i in range(20)}
    web = FakeWeb(hosts, tmp_path).start()
    pg = new_store_url("postgresql", tmp_path)
    worker = subprocess.Popen(
        [sys.executable, "-m", "tracker", "worker", "--db", pg, "--heartbeat", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sites = tmp_path / "sites.txt"
        sites.write_text("".join(f"w{i}.test\n" for i in range(20)))
        net = ["--delay", "0", *web.connect_to_args()]
        # --wait blocks until the workers are done, then says how it ended.
        r = _cli(
            "crawl",
            "--sites",
            str(sites),
            "--resources",
            "robots",
            "--db",
            pg,
            "--distributed",
            "--wait",
            "--batch",
            "5",
            *net,
        )
        assert r.returncode == 0, r.stderr
        assert "20 sites deferred as 4 jobs" in r.stdout and "done: 20 of 20 sites recorded" in r.stdout, r.stdout
        # The scheduler's crawl jobs defer to the workers when distributed.
        assert _cli("sites", "add", str(sites), "--db", pg).returncode == 0
        r = _cli(
            "schedule",
            "--run",
            "robots",
            "--distributed",
            "--db",
            pg,
            *web.connect_to_args(),
            env={**os.environ, "CONSENT_TRACKER_FEEDS_DIR": str(tmp_path / "feeds")},
        )  # not the project's data/
        assert (tmp_path / "feeds" / "all.atom").exists()
        assert r.returncode == 0, r.stderr
        assert "status deferred" in r.stdout and "jobs 4" not in r.stdout, r.stdout  # 20 sites, batches of 50: 1 job
        run_id = int(r.stdout.split("run_id ", 1)[1].split(",", 1)[0].split()[0])
        deadline = time.time() + 60
        while time.time() < deadline:
            status = json.loads(_cli("crawl", "status", str(run_id), "--db", pg, "--format", "json").stdout)
            if status["status"] == "done":
                break
            time.sleep(0.3)
        assert status["status"] == "done" and status["recorded"] == 20, status
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(30)
        web.stop()
