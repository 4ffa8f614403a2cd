"""The scheduler: trigger settings, and `consent-tracker schedule` as a real process over the fake web — jobs run,
a killed scheduler resumes its cut-short run (no duplicate, no loss), changes reach the feed and the webhook."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from tests.fakeweb import FakeWeb, Host
from tests.test_changes import Receiver
from tracker.errors import SettingError
from tracker.operations.schedule import (
    JobResult,
    ScheduleOptions,
    WebhookResult,
    _top_up_since,
    describe_result,
    parse_trigger,
)

N = 40


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("0 3 * * *", CronTrigger),
        ("every 6h", IntervalTrigger),
        ("every 2s", IntervalTrigger),
        ("EVERY 1w", IntervalTrigger),
        ("off", type(None)),
        ("", type(None)),
    ],
)
def test_trigger_specs(spec: str, kind: type) -> None:
    assert isinstance(parse_trigger(spec), kind)


@pytest.mark.parametrize("spec", ["daily", "every 5x", "0 3 * *", "61 * * * *", "every 0s"])
def test_bad_trigger_specs_say_what_is_accepted(spec: str) -> None:
    with pytest.raises(SettingError):
        parse_trigger(spec)


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("0 3 31 2 *", "never fires"),  # 31 February: the job would only ever be listed as "paused"
        ("0 3 30 2 *", "never fires"),
        ("every 99999999999d", "at most 3660d"),  # an overflow traceback before
    ],
)
def test_schedules_that_never_run_are_refused_naming_the_setting(spec: str, said: str) -> None:
    from tracker.config.settings import get

    with pytest.raises(SettingError, match=said) as e:
        get("schedule-robots", environ={"CONSENT_TRACKER_SCHEDULE_ROBOTS": spec})
    assert str(e.value).startswith(f"CONSENT_TRACKER_SCHEDULE_ROBOTS={spec!r}: ")


def test_wayback_top_up_window() -> None:
    from datetime import date

    assert _top_up_since(date(2026, 11, 29), 2) == date(2026, 9, 1)
    assert _top_up_since(date(2026, 1, 5), 2) == date(2025, 11, 1)


def _wait(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if cond():
                return
        except sqlite3.OperationalError:
            pass  # the database is being created, or locked for a moment
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def web(tmp_path: Path) -> Iterator[FakeWeb]:
    hosts = {f"s{i}.test": Host(robots="User-agent: *\nDisallow: /private/\n", latency=0.25) for i in range(N)}
    w = FakeWeb(hosts, tmp_path).start()
    yield w
    w.stop()


@pytest.mark.network_local
@pytest.mark.slow
def test_scheduler_runs_resumes_a_killed_run_and_reports_changes(web: FakeWeb, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    sites = tmp_path / "sites.txt"
    sites.write_text("".join(f"s{i}.test\n" for i in range(N)))
    add = subprocess.run(
        [sys.executable, "-m", "tracker", "sites", "add", str(sites), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert add.returncode == 0, add.stderr
    hook = Receiver().start()
    env = {
        **os.environ,
        "CONSENT_TRACKER_SCHEDULE_ROBOTS": "every 3s",
        "CONSENT_TRACKER_SCHEDULE_SIGNALS": "off",
        "CONSENT_TRACKER_SCHEDULE_WAYBACK": "off",
        "CONSENT_TRACKER_CONCURRENCY": "4",
        "CONSENT_TRACKER_DELAY": "0",
        "CONSENT_TRACKER_WEBHOOK_URL": hook.url,
        "CONSENT_TRACKER_FEEDS_DIR": str(tmp_path / "feeds"),
    }
    cmd = [sys.executable, "-m", "tracker", "schedule", "--db", str(db), *web.connect_to_args()]
    con = sqlite3.connect(db)

    def runs() -> list[tuple[int, str]]:
        return con.execute("SELECT id, status FROM crawl_runs WHERE source = 'schedule:robots' ORDER BY id").fetchall()

    def recorded(run_id: int) -> int:
        return con.execute("SELECT count(*) FROM crawl_run_sites WHERE run_id = ?", (run_id,)).fetchone()[0]

    try:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # The first run starts 3 s after the scheduler; 40 sites at 4 a time and 0.25 s each take ~3 s, and
        # batches commit every 2 s: kill it between its first and its last site.
        _wait(lambda: bool(runs()) and 0 < recorded(runs()[0][0]) < N, 60, "the first batch of the first run")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first = runs()[0][0]
        partial = recorded(first)
        assert runs() == [(first, "running")] and 0 < partial < N
        time.sleep(0.5)
        hits_before = sum(web.hits.values())

        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # At start the scheduler resumes the cut-short run at once: the same run finishes, none is started beside it.
        _wait(lambda: runs()[0] == (first, "done"), 60, "the killed run to be resumed and finished")
        assert recorded(first) == N
        resumed_hits = sum(web.hits.values()) - hits_before
        assert resumed_hits >= N - partial  # only the remaining sites (plus any next run already under way)
        # Each site has exactly one robots.txt version: nothing recorded twice.
        assert con.execute("SELECT count(*), count(DISTINCT site_id) FROM versions").fetchone() == (N, N)

        # A site blocks GPTBot: the next scheduled run records a restriction, writes the feed, calls the webhook.
        web.hosts["s7.test"].robots = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n"
        n_before = len(runs())
        _wait(lambda: len(runs()) >= n_before + 2 and runs()[-1][1] == "done", 60, "two more scheduled runs")
        events = con.execute(
            "SELECT s.domain, e.agent, e.before, e.after, e.change FROM change_events e "
            "JOIN sites s ON s.id = e.site_id WHERE e.agent = 'GPTBot'"
        ).fetchall()
        assert events == [("s7.test", "GPTBot", "partial_block via *", "full_block", "restriction")]
        _wait(lambda: any(e["agent"] == "GPTBot" for e in hook.received), 20, "the webhook")
        gpt = [e for e in hook.received if e["agent"] == "GPTBot"]
        assert len(gpt) == 1 and gpt[0]["site"] == "s7.test"  # once, though later runs followed
        feed = feedparser.parse((tmp_path / "feeds" / "all.atom").read_bytes())
        assert not feed.bozo and any(
            "s7.test: GPTBot partial_block via * → full_block" in e.title for e in feed.entries
        )
        assert (tmp_path / "feeds" / "site" / "s7.test.atom").exists()
        # Runs never overlap: each started after the one before had finished.
        spans = con.execute(
            "SELECT started_at, finished_at FROM crawl_runs WHERE source = 'schedule:robots' AND id > ? ORDER BY id",
            (first,),
        ).fetchall()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans) if a[1])

        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        assert "stopping" in stderr
        assert all(status in ("done", "interrupted") for _, status in runs())
        listed = subprocess.run(
            [*cmd[:4], "--show", "--db", str(db), "--format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert listed.returncode == 0, listed.stderr
        assert '"job": "robots"' in listed.stdout and '"trigger": "every 3s"' in listed.stdout
        assert '"signals"' not in listed.stdout  # off: not a job
    finally:
        if proc.poll() is None:
            proc.kill()
        hook.stop()


@pytest.mark.parametrize(
    ("result", "line"),
    [
        (JobResult("robots", sites=0), "sites 0"),
        (
            JobResult("robots", sites=3, status="done", changes=1, new_versions=2, run_id=7, feeds=4),
            "sites 3, status done, changes 1, new_versions 2, run_id 7, feeds 4",
        ),
        (
            JobResult("signals", sites=3, status="deferred", jobs=1, run_id=7, feeds=0),
            "sites 3, status deferred, jobs 1, run_id 7, feeds 0",
        ),
        (
            JobResult("signals", sites=3, status="still with the workers", run_id=7, jobs={"todo": 1}),
            "sites 3, status still with the workers, run_id 7, jobs {'todo': 1}",
        ),
        (
            JobResult("robots", sites=1, status="failed", changes=0, new_versions=0),
            "sites 1, status failed, changes 0, new_versions 0, run_id None",
        ),
        (JobResult("webhook"), ""),
        (JobResult("webhook", webhook=WebhookResult(2, 0, None)), "webhook: 2 delivered"),
        (
            JobResult(
                "robots",
                sites=1,
                status="done",
                changes=0,
                new_versions=0,
                run_id=1,
                webhook=WebhookResult(0, 5, "HTTP 500"),
            ),
            "sites 1, status done, changes 0, new_versions 0, run_id 1, webhook: 0 delivered, 5 pending (HTTP 500)",
        ),
    ],
)
def test_describe_result_says_what_the_job_did_in_the_order_it_learnt_it(result: JobResult, line: str) -> None:
    """The one line ``schedule --run`` and the scheduler's log print, as they printed it when the result was a
    dict (its keys in insertion order)."""
    assert describe_result(result) == line


def test_schedule_options_survive_the_job_store() -> None:
    """The options a job carries are plain JSON (the job store keeps them) and come back equal; a job stored
    before with tuples reads back too."""
    import json

    opts = ScheduleOptions(
        "sqlite:///x.db", {"delay": 0.5}, {"robots": "daily"}, connect_to=("a:1:b:2",), lists=("top",)
    )
    kwargs = opts.as_kwargs()
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert ScheduleOptions.from_kwargs(kwargs) == opts
    assert ScheduleOptions.from_kwargs({**kwargs, "connect_to": ("a:1:b:2",), "lists": None}) == ScheduleOptions(
        "sqlite:///x.db", {"delay": 0.5}, {"robots": "daily"}, connect_to=("a:1:b:2",)
    )
