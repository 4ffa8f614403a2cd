"""What was never observed is null, never "no" (issue 17, item 4): after a robots.txt-only history, the export, `site`,
`trends --signal` and the Signals page say "not observed", and `training_optout` is false only with an observation."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from tests.conftest import Res
from tracker.cli import app
from tracker.pipeline.archive_import import import_archive
from tracker.records.vocabulary import SIGNAL_NAMES
from tracker.rules import signals as sig
from tracker.store import open_store
from tracker.store.writer import Observation, Writer

ROOT = Path(__file__).resolve().parents[1]
OPEN = b"User-agent: *\nAllow: /\n"


HOME = Res("ok", signals=sig.page_signals(b"<html><head><title>x</title></head></html>", {}).as_dict())


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({}, None),
        ({"robots": Res("ok", OPEN)}, None),  # an archive import: robots.txt only
        ({"robots": Res("no_robots")}, None),
        ({"robots": Res("ok", OPEN), "homepage": HOME}, False),  # the least that makes a "no"
        ({"robots": Res("no_robots"), "homepage": HOME}, False),  # a 404 robots.txt is an observation: no lines
        ({"robots": Res("ok", OPEN), "homepage": Res("absent")}, None),  # a 404 homepage shows no meta tags
        ({"robots": Res("ok", OPEN), "homepage": Res("disallowed")}, None),  # not fetched: our group may not
        ({"robots": Res("unreachable"), "homepage": HOME}, None),
        ({"robots": Res("ok", OPEN), "tdmrep": Res("absent"), "ai_txt": Res("absent")}, None),
        # a "no" needs no more than itself
        ({"robots": Res("ok", b"User-agent: *\nContent-Signal: ai-train=no\nAllow: /\n")}, True),
        ({"tdmrep": Res("ok", b'[{"location": "/", "tdm-reservation": 1}]')}, True),
    ],
)
def test_training_optout_is_false_only_when_observed(resources: dict[str, Res], expected: bool | None) -> None:
    prefs = sig.site_preferences(resources)
    assert prefs.for_agent("GPTBot").training_optout is expected
    assert prefs.for_agent("CCBot").training_optout is expected


def test_a_never_fetched_homepage_is_not_a_404() -> None:
    prefs = sig.site_preferences({"robots": Res("ok", OPEN)})
    assert prefs.signals.homepage_status is None and prefs.as_dict()["homepage_status"] is None
    assert (
        sig.site_preferences({"robots": Res("ok", OPEN), "homepage": Res("absent")}).signals.homepage_status == "absent"
    )


@pytest.fixture(scope="module")
def archive_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An imported robots.txt archive: two sites, one with a Content-Signal line, no homepage ever fetched."""
    root = tmp_path_factory.mktemp("unobserved")
    arch = root / "archive"
    for domain, files in {
        "plain.example": {
            "2023-01-01.txt": "User-agent: *\nDisallow: /private/\n",
            "2023-06-01.txt": "User-agent: GPTBot\nDisallow: /\n",
        },
        "says.example": {
            "2023-01-01.txt": "User-agent: *\nAllow: /\n",
            "2023-06-01.txt": "User-agent: *\nContent-Signal: ai-train=no\nAllow: /\n",
        },
    }.items():
        (arch / domain).mkdir(parents=True)
        for name, text in files.items():
            (arch / domain / name).write_text(text)
    db = root / "a.db"
    import_archive(open_store(db), arch, until=datetime(2023, 7, 1).date())
    return db


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_export_after_an_archive_import_says_null(archive_db: Path) -> None:
    records = {r["domain"]: r for r in map(json.loads, _cli("export", "latest", "--db", str(archive_db)).splitlines())}
    plain, says = records["plain.example"], records["says.example"]
    for agent in plain["agents"].values():  # every registry agent, not only GPTBot
        assert agent["training_optout"] is None and agent["training_optout_sources"] == []
    assert says["agents"]["GPTBot"]["training_optout"] is True  # robots.txt alone can say "no"
    assert says["agents"]["GPTBot"]["training_optout_sources"] == ["content_signal"]
    assert plain["signals"]["homepage_status"] is None and plain["signals"]["noai"] is None
    assert plain["adoption"]["noai"] is None and plain["adoption"]["tdmrep"] is None
    assert plain["adoption"]["content_signal"] is False  # robots.txt read: it says nothing (the header unknown)
    assert set(plain["adoption"]) == set(SIGNAL_NAMES)


def test_csv_writes_an_empty_cell_for_null(archive_db: Path) -> None:
    rows = {
        r["domain"]: r
        for r in csv.DictReader(io.StringIO(_cli("export", "latest", "--db", str(archive_db), "--format", "csv")))
    }
    plain = rows["plain.example"]
    assert plain["GPTBot.training_optout"] == "" and plain["CCBot.training_optout"] == ""
    assert "False" not in {plain[c] for c in plain if c.endswith(".training_optout")}
    assert plain["signals.noai"] == "" and plain["adoption.noai"] == "" and plain["adoption.content_signal"] == "False"
    assert rows["says.example"]["GPTBot.training_optout"] == "True"


def test_site_says_not_fetched_and_not_observed(archive_db: Path) -> None:
    out = _cli("site", "plain.example", "--db", str(archive_db))
    assert "homepage_status: not fetched" in out and "homepage_status: absent" not in out
    assert "not observed" in out and "not observed: noai" in out
    data = json.loads(_cli("site", "plain.example", "--db", str(archive_db), "--format", "json"))
    assert data["current"]["agents"]["GPTBot"]["training_optout"] is None
    assert data["agents"]["CCBot"]["training_optout"] is None


def test_trends_signal_says_never_observed(archive_db: Path) -> None:
    out = _cli("trends", "--db", str(archive_db), "--signal", "noai")
    assert "noai: never observed (no homepage fetched in this database)" in out
    assert "no observations in that range" not in out and "0.0%" not in out
    data = json.loads(
        _cli("trends", "--db", str(archive_db), "--signal", "noai", "--signal", "content_signal", "--format", "json")
    )
    assert [n["signal"] for n in data["never_observed"]] == ["noai"]
    assert [n["signal"] for n in data["partly_observed"]] == ["content_signal"]  # read from robots.txt alone
    assert {r["signal"] for r in data["rows"]} == {"content_signal"}
    assert data["rows"][-1]["sites"] == 2 and data["rows"][-1]["adopting"] == 1


def test_signals_page_says_never_observed_and_draws_no_line(archive_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_TRACKER_DB", str(archive_db))
    os.environ["CONSENT_TRACKER_DB"] = str(archive_db)
    at = AppTest.from_file(str(ROOT / "tracker" / "dashboard" / "views" / "signals.py"), default_timeout=120)
    at.session_state["signals"] = ["noai", "tdmrep"]
    at.run()
    assert not at.exception, at.exception
    infos = [i.value for i in at.info]
    assert any("never observed (no homepage fetched" in i for i in infos)
    assert any("tdmrep" in i and "never observed" in i for i in infos)
    assert not at.get("vega_lite_chart")  # no line at all, not a line at zero
    at.session_state["signals"] = ["noai", "content_signal"]
    at.run()
    assert len(at.get("vega_lite_chart")) == 1  # content_signal, read from robots.txt alone: said so
    observed = dict(zip(at.dataframe[0].value["signal"], at.dataframe[0].value["observed"], strict=True))
    assert observed["content_signal"].startswith("read from robots.txt alone")
    assert observed["noai"] == "never"


def test_a_crawled_homepage_makes_no_a_real_no(tmp_path: Path) -> None:
    from tracker.analysis.latest import latest_records
    from tracker.rules.agents import load_registry

    engine = open_store(tmp_path / "c.db")
    at = datetime(2025, 1, 1, tzinfo=UTC)
    page = sig.page_signals(b"<html><head></head><body>hi</body></html>", {}).as_dict()
    Writer(engine).record(
        "crawled.example",
        [
            Observation("robots", at, "ok", 200, body=OPEN),
            Observation("homepage", at, "ok", 200, signals=page),
            Observation("robots", at + timedelta(days=1), "ok", 200, body=OPEN),
        ],
    )
    rec = next(latest_records(engine, load_registry()))
    assert rec.agents["GPTBot"].training_optout is False and rec.signals.homepage_status == "ok"
    assert rec.adoption["noai"] is False and rec.adoption["tos_ai_training"] is None  # terms never fetched
