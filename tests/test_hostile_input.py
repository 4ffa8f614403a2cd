"""Hostile input (issue 18): files and options that must be refused with a one-line message, never a traceback,
never half-accepted, and never silently turned into wrong figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.analysis.weights import load_weights
from tracker.cli import app
from tracker.errors import TrackerError

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _one_line_error(code: int, output: str) -> str:
    assert code == 2, output
    assert "Traceback" not in output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("error: "), output
    return " ".join(lines)


# --- item 5: token weights must be finite, non-negative counts -------------------------------------------------


@pytest.mark.parametrize("value", ["1e400", "inf", "-inf", "nan", "NaN", "-5", "lots"])
def test_weights_refuse_non_finite_or_negative(tmp_path: Path, value: str) -> None:
    f = tmp_path / "w.csv"
    f.write_text(f"url,c4_tokens\na.com,10\nb.com,{value}\nc.com,5\n", encoding="utf-8")
    with pytest.raises(TrackerError, match="line 3"):
        load_weights(f)


def test_weights_keep_zero_and_skip_empty(tmp_path: Path) -> None:
    f = tmp_path / "w.csv"
    f.write_text("url,c4_tokens\na.com,10\nb.com,0\nc.com,\n", encoding="utf-8")
    assert load_weights(f) == {"a.com": 10.0, "b.com": 0.0}


def test_weights_import_and_trends_weights_refuse_infinite(tmp_path: Path) -> None:
    f = tmp_path / "w.csv"
    f.write_text("url,c4_tokens\na.com,10\nb.com,1e400\n", encoding="utf-8")
    db = str(tmp_path / "t.db")
    msg = _one_line_error(*invoke("weights", "import", str(f), "--db", db))
    assert "line 3" in msg and "1e400" in msg
    msg = _one_line_error(*invoke("trends", "--weight", "tokens", "--weights", str(f), "--db", db))
    assert "line 3" in msg


def test_weights_import_non_utf8_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "w.csv"
    f.write_bytes(b"url,c4_tokens\n\xff\xfe\x00caf\xe9.com,10\n")
    msg = _one_line_error(*invoke("weights", "import", str(f), "--db", str(tmp_path / "t.db")))
    assert "UTF-8" in msg


# --- item 6: observation dates outside the web's history ------------------------------------------------------

_ROBOTS = "User-agent: GPTBot\nDisallow: /\n"


@pytest.mark.parametrize("name", ["9999-12-31.txt", "1800-01-01.txt", "1993-12-31.txt"])
def test_archive_refuses_dates_outside_the_webs_history(tmp_path: Path, name: str) -> None:
    from tracker.pipeline.archive_import import import_archive
    from tracker.store import open_store

    arch = tmp_path / "arch"
    (arch / "example.com").mkdir(parents=True)
    (arch / "example.com" / "2024-01-01.txt").write_text(_ROBOTS, encoding="utf-8")
    (arch / "example.com" / name).write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    db = tmp_path / "t.db"
    report = import_archive(open_store(f"sqlite:///{db}"), arch)
    assert any(f"example.com/{name}" in p for p in report.problems), report.problems
    assert report.first_date is not None and report.last_date is not None
    assert report.first_date.year == report.last_date.year == 2024
    code, output = invoke("trends", "--db", str(db), "--format", "csv")
    assert code == 0 and "Traceback" not in output, output


def test_import_archive_refuses_until_far_in_the_future(tmp_path: Path) -> None:
    arch = tmp_path / "arch"
    (arch / "example.com").mkdir(parents=True)
    (arch / "example.com" / "2024-01-01.txt").write_text(_ROBOTS, encoding="utf-8")
    msg = _one_line_error(*invoke("import-archive", str(arch), "--until", "9999-12-31", "--db", str(tmp_path / "t.db")))
    assert "9999-12-31" in msg


# --- item 12: import-archive stays inside the folder it is given ----------------------------------------------


def test_import_archive_skips_links_out_of_the_archive(tmp_path: Path) -> None:
    from tracker.pipeline.archive_import import import_archive
    from tracker.store import open_store, queries

    outside = tmp_path / "outside"
    (outside / "secret.com").mkdir(parents=True)
    (outside / "secret.com" / "2024-01-01.txt").write_text("User-agent: *\nDisallow: /secret\n", encoding="utf-8")
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    arch = tmp_path / "arch"
    (arch / "example.com").mkdir(parents=True)
    (arch / "example.com" / "2024-01-01.txt").write_text(_ROBOTS, encoding="utf-8")
    (arch / "example.com" / "2024-02-01.txt").symlink_to(outside / "passwd")
    (arch / "secret.com").symlink_to(outside / "secret.com", target_is_directory=True)
    # A link that stays inside the archive is fine.
    (arch / "example.org").symlink_to(arch / "example.com", target_is_directory=True)
    engine = open_store(f"sqlite:///{tmp_path / 't.db'}")
    report = import_archive(engine, arch)
    assert "example.com/2024-02-01.txt: a link to outside the archive (skipped)" in report.problems
    assert "secret.com: a link to outside the archive (skipped)" in report.problems
    assert report.domains == 2 and report.files == 2
    domains = {s.domain for s in queries.sites_for_weights(engine)}
    assert "secret.com" not in domains and {"example.com", "example.org"} <= domains


# --- item 10: one-line errors instead of tracebacks -----------------------------------------------------------


def test_categories_import_non_utf8_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_bytes(b"domain,category\ncaf\xe9.com,news\n")
    msg = _one_line_error(*invoke("categories", "import", str(f), "--db", str(tmp_path / "t.db")))
    assert "UTF-8" in msg


def test_sites_add_non_utf8_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "s.txt"
    f.write_bytes(b"example.com\ncaf\xe9.com\n")
    msg = _one_line_error(*invoke("sites", "add", str(f), "--db", str(tmp_path / "t.db")))
    assert "UTF-8" in msg


def _damaged_db(tmp_path: Path) -> Path:
    import sqlite3

    arch = tmp_path / "arch"
    for i in range(300):
        d = arch / f"site{i}.com"
        d.mkdir(parents=True)
        for month in (1, 6):
            body = f"User-agent: GPTBot\nDisallow: /{i}/{month}\n" + "".join(f"# filler {i} {k}\n" for k in range(40))
            (d / f"2024-{month:02d}-01.txt").write_text(body, encoding="utf-8")
    db = tmp_path / "t.db"
    code, output = invoke("import-archive", str(arch), "--db", str(db))
    assert code == 0, output
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = con.execute("PRAGMA page_size").fetchone()[0]
    size = db.stat().st_size
    with db.open("r+b") as fh:  # garbage over the middle pages, the header and schema page intact
        for offset in range(size // 3 // page * page, 2 * size // 3 // page * page, page):
            fh.seek(offset)
            fh.write(b"\xa5" * page)
    return db


@pytest.mark.slow
def test_damaged_database_is_one_line_naming_the_file(tmp_path: Path) -> None:
    db = _damaged_db(tmp_path)
    msg = _one_line_error(*invoke("trends", "--db", str(db), "--format", "csv"))
    assert str(db) in msg and ".recover" in msg


# --- item 13: missing validation ------------------------------------------------------------------------------


def test_categories_import_annotations_wrong_format_names_missing_columns(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("domain,category\nexample.com,news\n", encoding="utf-8")
    msg = _one_line_error(*invoke("categories", "import", str(f), "--annotations", "--db", str(tmp_path / "t.db")))
    assert "'Domain'" in msg and "'Type of service'" in msg


def test_sites_add_binary_file_refused_whole(tmp_path: Path) -> None:
    f = tmp_path / "s.bin"
    f.write_bytes(b"\x00\x01\x02junk\nexample.com\n\x00abc.de\n")
    db = tmp_path / "t.db"
    msg = _one_line_error(*invoke("sites", "add", str(f), "--db", str(db)))
    assert "not a text file" in msg
    code, output = invoke("sites", "list", "--db", str(db), "--format", "json")
    assert code != 0 or output.strip() in ("[]", ""), output


def test_trends_refuses_negative_max_age(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    assert invoke("sites", "add", str(_site_file(tmp_path)), "--db", str(db))[0] == 0
    msg = _one_line_error(*invoke("trends", "--max-age", "-1", "--db", str(db)))
    assert "--max-age" in msg


def test_backfill_refuses_before_the_wayback_machine(tmp_path: Path) -> None:
    msg = _one_line_error(*invoke("backfill", "--since", "1800-01", "--db", str(tmp_path / "t.db")))
    assert "1996" in msg


@pytest.mark.slow
def test_report_unknown_category_lists_the_known_ones(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    assert invoke("sites", "add", str(_site_file(tmp_path)), "--db", str(db))[0] == 0
    msg = _one_line_error(*invoke("report", "--category", "nosuch", "--out", str(tmp_path / "r"), "--db", str(db)))
    assert "unknown category 'nosuch'" in msg and "news" in msg and "crawl first" not in msg


def _site_file(tmp_path: Path) -> Path:
    f = tmp_path / "sites.txt"
    f.write_text("example.com\n", encoding="utf-8")
    return f


@pytest.mark.parametrize("at", ["9999-12-31", "1800-01-01"])
def test_the_writer_refuses_dates_outside_the_webs_history(tmp_path: Path, at: str) -> None:
    from datetime import UTC, datetime

    from tracker.errors import StoreError
    from tracker.store import open_store
    from tracker.store.writer import Observation, Writer

    engine = open_store(f"sqlite:///{tmp_path / 't.db'}")
    ok = Observation(
        kind="robots", seen_at=datetime(2024, 1, 1, tzinfo=UTC), status="ok", http_status=200, body=_ROBOTS.encode()
    )
    bad = Observation(
        kind="robots",
        seen_at=datetime.fromisoformat(at).replace(tzinfo=UTC),
        status="ok",
        http_status=200,
        body=b"User-agent: *\nAllow: /\n",
    )
    with Writer(engine) as w, pytest.raises(StoreError, match=at):
        w.record("example.com", [ok, bad])
