"""Wayback backfill against a fake archive on loopback (real sockets), built from the corpus' dated history."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import corpus_path, needs_corpus
from tracker.analysis.trends import restriction_series
from tracker.fetch import wayback
from tracker.fetch.http import ConnectTo
from tracker.operations.demo.archive import Capture, FakeArchive
from tracker.pipeline.archive_import import import_archive
from tracker.pipeline.backfill import ArchiveUnavailable, BackfillConfig, backfill
from tracker.rules.agents import load_registry
from tracker.rules.sitelist import SiteEntry
from tracker.store import open_store

REG = load_registry()
NEWS = [
    "nytimes.com",
    "cnn.com",
    "bbc.co.uk",
    "reuters.com",
    "theguardian.com",
    "medium.com",
    "washingtonpost.com",
    "npr.org",
    "forbes.com",
    "quora.com",
    "stackoverflow.com",
    "imdb.com",
]
SINCE, UNTIL = date(2022, 7, 1), date(2024, 7, 14)


def config(archive: FakeArchive, **kw: object) -> BackfillConfig:
    base: dict[str, object] = {
        "since": SINCE,
        "until": UNTIL,
        "rate": 0,
        "archive_url": archive.url,
        "connect_to": [ConnectTo.parse(archive.connect_to())],
        "backoff": 0.01,
    }
    base.update(kw)
    return BackfillConfig(**base)  # type: ignore[arg-type]


# -- pure parts ---------------------------------------------------------------------------------------------------
@needs_corpus
def test_parse_real_cdx_answers() -> None:
    rows = wayback.parse_cdx(corpus_path("wayback", "cdx_json_kamaloff_with_robots_row.json").read_bytes())
    robots = [r for r in rows if r.original.endswith("/robots.txt")]
    assert robots and robots[0].statuscode == "404" and robots[0].when.year == 2013
    with_key = wayback.parse_cdx(corpus_path("wayback", "cdx_json_example_from_ia_docs.json").read_bytes())
    assert len(with_key) == 5  # the empty row and the resume key after it are not captures
    plain = wayback.parse_cdx(corpus_path("wayback", "edgi_cassettes", "test_search__00_cdx.body").read_bytes())
    assert plain and plain[0].timestamp == "19961231235847"
    assert wayback.parse_cdx(b"") == [] and wayback.parse_cdx(b"<html>") == [] and wayback.parse_cdx(b"[[1,2]") == []


def test_one_capture_per_period_prefers_the_file_and_the_last() -> None:
    rows = [
        wayback.CdxRow("20230103000000", "https://a/robots.txt", "200", "text/plain", "A"),
        wayback.CdxRow("20230128000000", "https://a/robots.txt", "200", "text/plain", "B"),
        wayback.CdxRow("20230130000000", "http://a/robots.txt", "404", "text/html", "N"),
        wayback.CdxRow("20230131000000", "http://a/robots.txt", "301", "text/html", "R"),
        wayback.CdxRow("20230210000000", "http://a/robots.txt", "404", "text/html", "N"),
        wayback.CdxRow("20230315000000", "http://a/robots.txt", "302", "text/html", "R"),
    ]
    chosen = wayback.choose_per_period(rows, lambda d: f"{d.year}-{d.month:02d}")
    # January: the last capture of the file (not the later 404 or redirect); February: its absence; March: only a
    # redirect, so nothing (it inherits February)
    assert [(r.timestamp, r.statuscode) for r in chosen] == [("20230128000000", "200"), ("20230210000000", "404")]


@pytest.mark.parametrize(
    ("statuscode", "body", "ctype", "expected"),
    [
        ("200", b"User-agent: *\nDisallow: /\n", "text/plain", "ok"),
        ("404", None, None, "no_robots"),
        ("200", b"<!DOCTYPE html><html><body>Page not found</body></html>", "text/html", "soft404_html"),
        ("200", b"<html><title>Wayback Machine</title><p>Hrm.</p></html>", "text/html", "archive_error"),
        ("200", None, None, "archive_error"),
        ("200", b"  \n", "text/plain", "empty"),
    ],
)
def test_capture_status(statuscode: str, body: bytes | None, ctype: str | None, expected: str) -> None:
    assert wayback.capture_status(statuscode, body, ctype) == expected


# -- against the fake archive ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def archive() -> FakeArchive:
    if not corpus_path("history").is_dir():
        pytest.skip("the shared corpus is absent")
    a = FakeArchive.from_history(corpus_path("history"), NEWS, until=UNTIL)
    # The archive's habits: a site it excludes, a site whose first CDX requests get 429, an HTML error page captured
    # alone in a month, and the archive's own error page served for a capture.
    a.add("excluded.example", [Capture("20230105120000", "https://excluded.example/robots.txt", body=b"x")])
    a.excluded.add("excluded.example")
    a.add(
        "flaky.example",
        [Capture("20230105120000", "https://flaky.example/robots.txt", body=b"User-agent: GPTBot\nDisallow: /\n")],
    )
    a.rate_limited["flaky.example"] = 2
    a.add(
        "html.example",
        [
            Capture("20230105120000", "https://html.example/robots.txt", body=b"User-agent: *\nDisallow: /x\n"),
            Capture(
                "20230210120000",
                "https://html.example/robots.txt",
                "200",
                "text/html",
                b"<!DOCTYPE html><html><body><h1>Page not found</h1></body></html>",
            ),
            Capture(
                "20230312120000",
                "https://html.example/robots.txt",
                body=b"User-agent: *\nDisallow: /y\n",
                serve="archive_error",
            ),
            Capture("20230415120000", "https://html.example/robots.txt", "404", "text/html", b""),
            Capture("20230516120000", "http://html.example/robots.txt", "301", "text/html", b""),
        ],
    )
    a.start()
    yield a
    a.stop()


def _series(engine: object) -> list[tuple[str, str, int, int, int]]:
    rows = restriction_series(engine, REG, ["GPTBot", "CCBot", "Google-Extended"], since=date(2022, 8, 1))  # type: ignore[arg-type]
    return [(r.period, r.agent, r.sites, r.blocked, r.blocked_named) for r in rows]


@needs_corpus
@pytest.mark.slow
def test_backfill_reproduces_the_archives_monthly_history(archive: FakeArchive, tmp_path: Path) -> None:
    engine = open_store(tmp_path / "b.db")
    sites = [SiteEntry(d) for d in NEWS]
    report = asyncio.run(backfill(engine, sites, config(archive)))
    assert report.status == "done" and report.done == len(NEWS) and not report.excluded
    assert report.classified.get("skipped_3xx", 0) > 0  # the http:// redirects were seen, not parsed
    # The same sites imported from the dated files themselves: the monthly series must be the same.
    src = tmp_path / "hist"
    src.mkdir()
    for d in NEWS:
        shutil.copytree(corpus_path("history", d), src / d)  # a copy: import-archive skips links out of the archive
    reference = open_store(tmp_path / "r.db")
    import_archive(reference, src, until=UNTIL)
    got, want = _series(engine), _series(reference)
    assert len(got) >= 3 * 23 and got == want
    # GPTBot arrived in August 2023: some of these news sites block it by name afterwards, none before.
    named = {(p, a): n for p, a, _, _, n in got}
    assert named[("2023-07", "GPTBot")] == 0 and named[("2024-06", "GPTBot")] >= 3


@needs_corpus
@pytest.mark.slow
def test_a_second_run_fetches_nothing_and_captures_are_fetched_once(archive: FakeArchive, tmp_path: Path) -> None:
    engine = open_store(tmp_path / "b.db")
    sites = [SiteEntry(d) for d in NEWS[:4]]
    before = archive.hits.copy()
    first = asyncio.run(backfill(engine, sites, config(archive)))
    fetched = {k: v - before.get(k, 0) for k, v in archive.hits.items() if k.startswith("raw:")}
    assert first.captures_fetched > 0 and all(v == 1 for v in fetched.values() if v)  # each content once
    # requests per site-year: two index queries and one fetch per distinct content
    assert first.requests == 2 * len(sites) + first.captures_fetched + archive.hits["429"] - before["429"]
    again = asyncio.run(backfill(engine, sites, config(archive)))
    assert again.requests == 0 and again.skipped == len(sites) and again.new_versions == 0
    # A longer range queries the index again but fetches no capture it already has.
    longer = asyncio.run(backfill(engine, sites, config(archive, until=date(2024, 7, 31))))
    assert longer.captures_fetched == 0 and longer.new_versions == 0 and longer.requests == 2 * len(sites)


@needs_corpus
def test_archive_habits_are_classified(archive: FakeArchive, tmp_path: Path) -> None:
    engine = open_store(tmp_path / "b.db")
    sites = [SiteEntry("excluded.example"), SiteEntry("flaky.example"), SiteEntry("html.example")]
    report = asyncio.run(backfill(engine, sites, config(archive, since=date(2023, 1, 1), until=date(2023, 6, 30))))
    assert report.excluded == ("excluded.example",) and report.status == "done"
    assert report.classified["soft404_html"] == 1 and report.classified["archive_error"] == 1
    assert report.classified["no_robots"] == 1 and report.classified["skipped_3xx"] == 1
    with closing(sqlite3.connect(tmp_path / "b.db")) as con:
        rows = con.execute(
            "SELECT s.domain, v.status, v.source FROM versions v JOIN sites s ON s.id = v.site_id "
            "ORDER BY s.domain, v.first_seen"
        ).fetchall()
    # the HTML page is a version of its own (no rules), the archive's error page is no version at all (March
    # inherits February), the 404 says the file was gone in April, the May redirect is counted and nothing more
    assert rows == [
        ("flaky.example", "ok", "wayback"),
        ("html.example", "ok", "wayback"),
        ("html.example", "soft404_html", "wayback"),
        ("html.example", "no_robots", "wayback"),
    ]


@needs_corpus
def test_an_archive_that_keeps_refusing_stops_the_run_with_a_clear_error(archive: FakeArchive, tmp_path: Path) -> None:
    engine = open_store(tmp_path / "b.db")
    archive.rate_limited["stubborn.example"] = 100
    with pytest.raises(ArchiveUnavailable, match=r"keeps refusing us.*HTTP 429.*run the same backfill again"):
        asyncio.run(backfill(engine, [SiteEntry("stubborn.example")], config(archive, retries=2)))
    with closing(sqlite3.connect(tmp_path / "b.db")) as con:
        assert con.execute("SELECT status FROM crawl_runs").fetchone()[0] == "failed"


@needs_corpus
def test_an_archive_whose_name_does_not_resolve_is_offline_not_rate_limiting(
    archive: FakeArchive, tmp_path: Path
) -> None:
    """An archive that answers nothing is not refusing us: its host (under .invalid, RFC 6761: never resolves, and
    fails locally) does not resolve, so the error says offline, after two tries rather than the whole backoff."""
    engine = open_store(tmp_path / "b.db")
    unresolvable = config(archive, archive_url="http://archive.invalid", connect_to=[], retries=4)
    with pytest.raises(ArchiveUnavailable) as caught:
        asyncio.run(backfill(engine, [SiteEntry("stubborn.example")], unresolvable))
    assert "archive.invalid does not resolve" in str(caught.value) and "offline" in str(caught.value)
    assert "2 tries" in str(caught.value)  # of the 5 allowed
    assert "rate-limiting" not in str(caught.value)
    with closing(sqlite3.connect(tmp_path / "b.db")) as con:
        assert con.execute("SELECT status FROM crawl_runs").fetchone()[0] == "failed"


@needs_corpus
@pytest.mark.network_local
@pytest.mark.slow
def test_kill_and_resume_mid_backfill(archive: FakeArchive, tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    sites = tmp_path / "sites.txt"
    sites.write_text("\n".join(NEWS) + "\n")
    args = [
        sys.executable,
        "-m",
        "tracker",
        "backfill",
        "--sites",
        str(sites),
        "--db",
        str(db),
        "--since",
        "2022-07",
        "--until",
        "2024-07-14",
        "--rate",
        "20",
        "--archive-url",
        archive.url,
        "--connect-to",
        archive.connect_to(),
    ]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if db.exists():
            try:
                with closing(sqlite3.connect(db)) as peek:
                    n = peek.execute("SELECT count(*) FROM crawl_run_sites").fetchone()[0]
            except sqlite3.Error:
                continue
            if n >= 2:
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    with closing(sqlite3.connect(db)) as con:
        done_before = con.execute("SELECT count(*) FROM crawl_run_sites").fetchone()[0]
    assert 2 <= done_before < len(NEWS), "the kill should land mid-backfill"
    again = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"({done_before} already done)" in again.stdout or f"({done_before}" in again.stdout
    clean = open_store(tmp_path / "clean.db")
    asyncio.run(backfill(clean, [SiteEntry(d) for d in NEWS], config(archive)))
    assert _series(open_store(db)) == _series(clean)
    q = "SELECT s.domain, v.first_seen, v.status, v.body_id IS NULL FROM versions v JOIN sites s ON s.id = v.site_id ORDER BY 1, 2"
    with closing(sqlite3.connect(db)) as con, closing(sqlite3.connect(tmp_path / "clean.db")) as ref:
        assert con.execute(q).fetchall() == ref.execute(q).fetchall()
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT status FROM crawl_runs ORDER BY id DESC").fetchone()[0] == "done"


@needs_corpus
@pytest.mark.slow
def test_a_fresh_database_reaches_a_multi_year_trend_by_backfill_alone(archive: FakeArchive, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tracker.cli import app

    runner = CliRunner()
    db = str(tmp_path / "fresh.db")
    panel = tmp_path / "panel.csv"
    panel.write_text("rank,domain\n" + "".join(f"{i},{d}\n" for i, d in enumerate(NEWS, 1)))
    steps = [
        ["sites", "add", str(panel), "--db", db],
        [
            "backfill",
            "--since",
            "2022-07",
            "--until",
            "2024-07-14",
            "--rate",
            "0",
            "--archive-url",
            archive.url,
            "--connect-to",
            archive.connect_to(),
            "--db",
            db,
        ],
        ["weights", "import", str(corpus_path("dpi_domain_token_counts.csv")), "--db", db],
    ]
    for args in steps:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    listed = __import__("json").loads(runner.invoke(app, ["sites", "list", "--db", db, "--format", "json"]).output)
    assert listed[0]["name"] == "panel" and listed[0]["sites"] == len(NEWS)
    result = runner.invoke(
        app, ["trends", "--list", "panel", "--weight", "tokens", "-a", "GPTBot", "--db", db, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = __import__("json").loads(result.output)["rows"]
    assert len(rows) >= 24 and rows[0]["period"] == "2022-07" and rows[-1]["period"] == "2024-07"
    assert {r["sample"] for r in rows} == {"panel 'panel'"}
    assert all(r["weighting"] == "tokens:c4_tokens (stored)" and 0 < r["weight_measured_share"] <= 1 for r in rows)
    assert rows[-1]["blocked_named"] > rows[0]["blocked_named"]  # GPTBot blocks arrived in the meantime
    table = runner.invoke(app, ["trends", "--list", "panel", "--weight", "tokens", "--db", db]).output
    assert "sample: panel 'panel'; weighted by tokens:c4_tokens (stored)" in table and "measured" in table
