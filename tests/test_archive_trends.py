"""Archive import and trend series, checked by hand on a small archive, and against the real corpus history."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from tests.conftest import corpus_path, needs_corpus
from tracker.analysis.trends import restriction_series
from tracker.analysis.weights import load_weights
from tracker.cli import app
from tracker.pipeline.archive_import import ArchiveError, import_archive, normalise_host
from tracker.rules.agents import load_registry
from tracker.store import Version, open_store

OPEN = "User-agent: *\nDisallow: /private/\n"
NAMED = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n"
STAR = "User-agent: *\nDisallow: /\n"
HTML = "<!DOCTYPE html><html><body>Page not found</body></html>"

REG = load_registry()


def make_archive(root: Path) -> Path:
    files = {
        "a.example/2023-01-01.txt": OPEN,
        "a.example/2023-08-15.txt": NAMED,
        "b.example/2023-03-10.txt": STAR,
        "c.example/2023-02-01.txt": HTML,
        "c.example/2023-09-01.txt": OPEN,
        "d.example/2023-05-05.txt": "",
        "not a domain/2023-01-01.txt": STAR,
        "b.example/2023-13-45.txt": STAR,
        "b.example/notes.md": "hello",
        "stray.txt": "x",
    }
    for name, body in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body)
    return root


@pytest.fixture
def db(tmp_path: Path) -> tuple[Engine, Path]:
    archive = make_archive(tmp_path / "archive")
    engine = open_store(tmp_path / "t.db")
    return engine, archive


@pytest.mark.slow
def test_import_reports_bad_input_and_lands_the_rest(db: tuple[Engine, Path]) -> None:
    engine, archive = db
    report = import_archive(engine, archive)
    assert report.domains == 4 and report.files == 6
    assert report.html_bodies == 1 and report.empty_bodies == 1
    problems = "\n".join(report.problems)
    assert "not a domain: not a valid domain name" in problems
    assert "2023-13-45.txt: file name is not a YYYY-MM-DD.txt date" in problems
    assert "notes.md" in problems and "stray.txt: not a domain folder" in problems
    assert (report.first_date, report.last_date) == (date(2023, 1, 1), date(2023, 9, 1))
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(Version.status, func.count()).group_by(Version.status)).all())
    assert statuses == {"ok": 4, "soft404_html": 1, "empty": 1}


def test_reimport_is_a_no_op(db: tuple[Engine, Path]) -> None:
    engine, archive = db
    import_archive(engine, archive)
    with engine.connect() as conn:
        before = conn.execute(select(Version.id, Version.first_seen, Version.last_seen, Version.valid_to)).all()
    again = import_archive(engine, archive)
    assert again.new_versions == 0
    with engine.connect() as conn:
        after = conn.execute(select(Version.id, Version.first_seen, Version.last_seen, Version.valid_to)).all()
    assert before == after


def test_import_resumes_after_growth(db: tuple[Engine, Path]) -> None:
    engine, archive = db
    import_archive(engine, archive)
    (archive / "d.example" / "2023-10-01.txt").write_text(NAMED)
    report = import_archive(engine, archive)
    assert report.new_versions == 1 and report.last_date == date(2023, 10, 1)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    engine = open_store(tmp_path / "t.db")
    with pytest.raises(ArchiveError, match="not found"):
        import_archive(engine, tmp_path / "nope")


def test_unreadable_file_is_reported(db: tuple[Engine, Path]) -> None:
    engine, archive = db
    (archive / "a.example" / "2023-04-01.txt").mkdir()  # a name that looks right but cannot be read as a file
    report = import_archive(engine, archive)
    assert any("a.example/2023-04-01.txt: cannot read" in p for p in report.problems)
    assert report.domains == 4  # the rest landed


def test_monthly_series_by_hand(db: tuple[Engine, Path]) -> None:
    engine, archive = db
    import_archive(engine, archive)
    rows = restriction_series(engine, REG, ["GPTBot"], freq="month")
    got = {r.period: (r.sites, r.blocked, r.blocked_named, r.no_robots, r.partial_block, r.full_block) for r in rows}
    assert got == {
        "2023-01": (1, 0, 0, 0, 1, 0),
        "2023-02": (2, 0, 0, 1, 1, 0),
        "2023-03": (3, 1, 0, 1, 1, 1),
        "2023-04": (3, 1, 0, 1, 1, 1),
        "2023-05": (4, 1, 0, 2, 1, 1),
        "2023-06": (4, 1, 0, 2, 1, 1),
        "2023-07": (4, 1, 0, 2, 1, 1),
        "2023-08": (4, 2, 1, 2, 0, 2),
        "2023-09": (4, 2, 1, 1, 1, 2),
    }
    last = rows[-1]
    assert last.period_end == "2023-09-01"  # the last observation, not the calendar month end
    assert last.blocked_share == 0.5 and last.blocked_named_share == 0.25


def test_no_periods_before_first_or_after_last_observation(db: tuple[Engine, Path]) -> None:
    engine, archive = db
    import_archive(engine, archive)
    rows = restriction_series(engine, REG, ["GPTBot"], freq="month", since=date(2022, 1, 1), until=date(2025, 1, 1))
    assert rows[0].period == "2023-01" and rows[-1].period == "2023-09"
    assert restriction_series(engine, REG, ["GPTBot"], since=date(2024, 1, 1)) == []


def test_weekly_and_daily_labels(db: tuple[Engine, Path]) -> None:
    engine, archive = db
    import_archive(engine, archive)
    weeks = restriction_series(engine, REG, ["GPTBot"], freq="week", since=date(2023, 8, 1), until=date(2023, 8, 31))
    assert [w.period for w in weeks][:3] == ["2023-W31", "2023-W32", "2023-W33"]
    assert [w.blocked for w in weeks if w.period == "2023-W32"] == [1]  # before 15 Aug
    assert [w.blocked for w in weeks if w.period == "2023-W33"] == [2]  # week of 14-20 Aug
    days = restriction_series(engine, REG, ["GPTBot"], freq="day", since=date(2023, 8, 14), until=date(2023, 8, 15))
    assert [(d.period, d.blocked) for d in days] == [("2023-08-14", 1), ("2023-08-15", 2)]


def test_group_by_company_and_purpose(db: tuple[Engine, Path]) -> None:
    engine, archive = db
    import_archive(engine, archive)
    rows = restriction_series(engine, REG, [], by="company", until=date(2023, 8, 31))
    openai = [r for r in rows if r.agent == "OpenAI" and r.period == "2023-08"]
    anthropic = [r for r in rows if r.agent == "Anthropic" and r.period == "2023-08"]
    assert openai[0].blocked == 2 and openai[0].blocked_named == 1
    assert anthropic[0].blocked == 1 and anthropic[0].blocked_named == 0
    purposes = {r.agent for r in restriction_series(engine, REG, [], by="purpose")}
    # Control tokens (Google-Extended, Applebot-Extended …) count with training: they exist to opt out of it.
    assert {"training", "search", "user"} <= purposes and "control" not in purposes


def test_token_weighting(db: tuple[Engine, Path], tmp_path: Path) -> None:
    engine, archive = db
    import_archive(engine, archive)
    weights_csv = tmp_path / "w.csv"
    weights_csv.write_text("url,c4_tokens,rf_tokens\nwww.a.example,300,1\nb.example,100,1\nc.example,50,1\n")
    weights = load_weights(weights_csv)
    assert weights == {"www.a.example": 300.0, "b.example": 100.0, "c.example": 50.0}
    rows = restriction_series(engine, REG, ["GPTBot"], weight="tokens", weights=weights, weight_label="c4")
    last = rows[-1]
    # a (300, www. matched) and b (100) block; c (50) does not; d has no weight
    assert last.sites_weight == 450 and last.blocked_weight == 400
    assert last.blocked_share == pytest.approx(400 / 450) and last.weighting == "c4"
    assert last.sites == 4 and last.blocked == 2  # raw counts stay


def test_cli_import_and_trends(db: tuple[Engine, Path], tmp_path: Path) -> None:
    _, archive = db
    runner = CliRunner()
    dbfile = str(tmp_path / "cli.db")
    result = runner.invoke(app, ["import-archive", str(archive), "--db", dbfile])
    assert result.exit_code == 0, result.output
    assert "6 files of 4 domains" in result.output and "not a valid domain name" in result.output
    result = runner.invoke(app, ["trends", "--db", dbfile, "--agent", "GPTBot", "--agent", "CCBot", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {r["agent"] for r in rows} == {"GPTBot", "CCBot"}
    aug = next(r for r in rows if r["period"] == "2023-08" and r["agent"] == "GPTBot")
    assert (aug["sites"], aug["blocked"], aug["blocked_named"]) == ("4", "2", "1")
    result = runner.invoke(
        app, ["trends", "--db", dbfile, "--format", "json", "--freq", "week", "--from", "2023-08-01"]
    )
    data = json.loads(result.output)
    assert "blocked" in data["definitions"] and data["rows"][0]["period"] == "2023-W31"
    bad = runner.invoke(app, ["trends", "--db", dbfile, "--from", "August"])
    assert bad.exit_code == 2 and "--since must be a month like 2016-01 or a day" in bad.output
    bad = runner.invoke(app, ["import-archive", str(tmp_path / "nope"), "--db", dbfile])
    assert bad.exit_code == 2 and "not found" in bad.output


@pytest.mark.parametrize(
    ("name", "host"),
    [
        ("Example.COM", "example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("1", None),
        ("op", None),
        ("a b.com", None),
        ("-x.com", None),
        ("get.py", "get.py"),
        ("1.2.3.4", None),
    ],
)
def test_normalise_host(name: str, host: str | None) -> None:
    assert normalise_host(name) == host


@needs_corpus
@pytest.mark.slow
def test_real_history_gptbot_blocks_start_in_august_2023(tmp_path: Path) -> None:
    engine = open_store(tmp_path / "h.db")
    report = import_archive(engine, corpus_path("history"))
    assert report.domains > 800 and report.new_versions > 5000
    rows = restriction_series(engine, REG, ["GPTBot", "Google-Extended", "ClaudeBot"], freq="month")
    named = {(r.period, r.agent): r.blocked_named for r in rows}
    # No site could name GPTBot before OpenAI announced it (7 Aug 2023); within two months ~100 did.
    assert all(named[(p, "GPTBot")] == 0 for p in ("2022-12", "2023-03", "2023-07"))
    assert named[("2023-08", "GPTBot")] > 20 and named[("2023-10", "GPTBot")] > 80
    # Google-Extended was announced on 28 Sep 2023; the weekly fetches show it from October.
    assert named[("2023-09", "Google-Extended")] == 0 < named[("2023-10", "Google-Extended")]
    # Blocks inherited from '*' were there all along, and are never counted as named.
    jan = next(r for r in rows if r.period == "2023-01" and r.agent == "GPTBot")
    assert jan.blocked > 0 and jan.blocked_named == 0
    # A second import adds nothing.
    assert import_archive(engine, corpus_path("history")).new_versions == 0


def test_category_filter_and_recategorising(db: tuple[Engine, Path]) -> None:
    from tracker.store.models import VersionEvent
    from tracker.store.writer import SiteRow, Writer, rebuild_events

    engine, archive = db
    import_archive(engine, archive)
    w = Writer(engine)
    w.ensure_sites(
        [
            SiteRow("a.example", category="news"),
            SiteRow("b.example", category="news"),
            SiteRow("c.example", category="shop"),
        ]
    )
    news = restriction_series(engine, REG, ["GPTBot"], category="news")
    assert (news[-1].sites, news[-1].blocked, news[-1].blocked_named) == (2, 2, 1)
    shop = restriction_series(engine, REG, ["GPTBot"], category="shop")
    assert (shop[-1].sites, shop[-1].blocked) == (1, 0)
    # Moving a site to another category moves its counts; the result equals a full rebuild.
    w.ensure_sites([SiteRow("b.example", category="shop")])
    assert restriction_series(engine, REG, ["GPTBot"], category="shop")[-1].sites == 2

    def events() -> list[tuple]:
        cols = (VersionEvent.day, VersionEvent.category, VersionEvent.starts, VersionEvent.ends)
        with engine.connect() as conn:
            return sorted(tuple(r) for r in conn.execute(select(*cols)) if r[2] or r[3])

    before = events()
    rebuild_events(engine)
    assert events() == before


@needs_corpus
@pytest.mark.network_local
@pytest.mark.slow
def test_import_killed_midway_resumes_to_the_same_history(tmp_path: Path) -> None:
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    dbfile = tmp_path / "k.db"
    cmd = [sys.executable, "-m", "tracker", "import-archive", str(corpus_path("history")), "--db", str(dbfile)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:
            if sqlite3.connect(dbfile).execute("SELECT count(*) FROM versions").fetchone()[0] > 0:
                break
        except sqlite3.OperationalError:
            continue  # not created yet
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    con = sqlite3.connect(dbfile)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    partial = con.execute("SELECT count(*) FROM versions").fetchone()[0]
    assert 0 < partial < 5000, "the kill should land mid-import"
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    clean = open_store(tmp_path / "clean.db")
    import_archive(clean, corpus_path("history"))
    cols = (Version.kind, Version.first_seen, Version.valid_to, Version.status)
    with clean.connect() as conn:
        expected = sorted(map(str, conn.execute(select(*cols))))
    with open_store(dbfile).connect() as conn:
        got = sorted(map(str, conn.execute(select(*cols))))
    assert got == expected  # nothing lost, nothing duplicated
    runs = dict(con.execute("SELECT id, status FROM crawl_runs").fetchall())
    assert runs == {1: "interrupted", 2: "done"}


def test_site_view_and_unknown_signals(db: tuple[Engine, Path]) -> None:
    engine, archive = db
    import_archive(engine, archive)
    runner = CliRunner()
    dbfile = str(engine.url.database)
    result = runner.invoke(app, ["site", "a.example", "--db", dbfile, "-a", "GPTBot", "--format", "json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert [(h["from"][:10], h["agents"]["GPTBot"]) for h in info["history"]] == [
        ("2023-01-01", "partial_block"),
        ("2023-08-15", "full_block"),
    ]
    assert info["current"]["signals"]["noai"] is None  # the homepage was never fetched: unknown, not "no"
    result = runner.invoke(app, ["site", "a.example", "--db", dbfile])
    assert result.exit_code == 0 and "history" in result.output and "full_block" in result.output
    missing = runner.invoke(app, ["site", "nope.example", "--db", dbfile])
    assert missing.exit_code == 2 and "not in the database" in missing.output


def test_signal_series_counts_adoption_over_observed_sites(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from tracker.analysis.trends import signal_series
    from tracker.store.writer import Observation, Writer

    engine = open_store(tmp_path / "s.db")
    w = Writer(engine)
    d = lambda m: datetime(2025, m, 1, tzinfo=UTC)  # noqa: E731
    cs = b"User-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n"
    plain = b"User-agent: *\nDisallow:\n"
    noai = {"meta_robots": [{"source": "meta", "ua_scope": None, "directives": ["noai"]}], "x_robots_tag": []}
    w.record(
        "a.example",
        [
            Observation("robots", d(1), "ok", 200, body=plain),
            Observation("robots", d(3), "ok", 200, body=cs),
            Observation("robots", d(5), "ok", 200, body=cs),
            Observation("homepage", d(1), "ok", 200, signals={"meta_robots": [], "x_robots_tag": []}),
            Observation("homepage", d(4), "ok", 200, signals=noai),
        ],
    )
    w.record(
        "b.example",
        [Observation("robots", d(2), "ok", 200, body=plain), Observation("robots", d(5), "ok", 200, body=plain)],
    )
    rows = signal_series(engine, ["content_signal", "noai"])
    got = {(r.period, r.signal): (r.sites, r.adopting) for r in rows}
    assert got[("2025-01", "content_signal")] == (1, 0)
    assert got[("2025-02", "content_signal")] == (2, 0)
    assert got[("2025-03", "content_signal")] == (2, 1)
    assert got[("2025-05", "content_signal")] == (2, 1)
    assert got[("2025-03", "noai")] == (1, 0) and got[("2025-04", "noai")] == (1, 1)  # only a's homepage observed
    runner = CliRunner()
    out = runner.invoke(app, ["trends", "--db", str(tmp_path / "s.db"), "--signal", "noai", "--format", "json"])
    assert out.exit_code == 0 and json.loads(out.output)["rows"][-1]["adopting"] == 1
    bad = runner.invoke(app, ["trends", "--db", str(tmp_path / "s.db"), "--signal", "telepathy"])
    assert bad.exit_code == 2 and "unknown signal" in bad.output


@needs_corpus
def test_a_stored_capped_body_is_evaluated_like_the_whole_file(tmp_path: Path) -> None:
    # The store keeps 512,000 bytes of primevideo.com's 516,025-byte file; its cut last line must not become
    # "Disallow: /" in the evaluations that exports and trends read.
    from tracker.analysis.latest import latest_records

    src = corpus_path("history", "primevideo.com", "2022-07-28.txt")
    (tmp_path / "arch" / "primevideo.com").mkdir(parents=True)
    (tmp_path / "arch" / "primevideo.com" / "2022-07-28.txt").write_bytes(src.read_bytes())
    engine = open_store(tmp_path / "t.db")
    import_archive(engine, tmp_path / "arch")
    rec = next(latest_records(engine, REG))
    assert rec.agents["GPTBot"].allowed_root is True
    assert rec.agents["GPTBot"].stance != "full_block"
    rows = restriction_series(engine, REG, ["GPTBot", "CCBot"])
    assert rows and all(r.blocked == 0 for r in rows)


def test_weighted_share_of_reachable_sites_is_weighted(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from tracker.store.writer import Observation, Writer

    engine = open_store(tmp_path / "w.db")
    at = datetime(2024, 1, 10, tzinfo=UTC)
    w = Writer(engine)
    w.record("big.example", [Observation("robots", at, "ok", 200, body=NAMED.encode())])
    w.record("small.example", [Observation("robots", at, "ok", 200, body=OPEN.encode())])
    w.record("down.example", [Observation("robots", at, "unreachable", 503)])
    weights = {"big.example": 900.0, "small.example": 50.0, "down.example": 50.0}
    last = restriction_series(engine, REG, ["GPTBot"], weight="tokens", weights=weights)[-1]
    assert last.blocked_share == pytest.approx(900 / 1000)
    # over the weight of the sites that could be read: 900 / 950, not the unweighted 1 / 2
    assert last.blocked_share_reachable == pytest.approx(900 / 950)
    plain = restriction_series(engine, REG, ["GPTBot"])[-1]
    assert plain.blocked_share_reachable == pytest.approx(1 / 2)


def test_trends_warns_about_an_agent_no_registry_knows(db: tuple[Engine, Path], tmp_path: Path) -> None:
    engine, archive = db
    import_archive(engine, archive)
    result = CliRunner().invoke(
        app, ["trends", "-a", "NoSuchBot", "-a", "GPTBot", "--db", str(tmp_path / "t.db"), "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert "NoSuchBot is not in the agent registry" in result.output and "unnamed product token" in result.output
    assert "GPTBot is not" not in result.output
