"""PostgreSQL as the store: every command on it gives what it gives on SQLite (the corpus history imported into
both), `db migrate`, and `db copy` both ways, verified by counts and checksums."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import corpus_path, needs_corpus, needs_postgres, new_store_url
from tracker.errors import StoreError
from tracker.store import open_store
from tracker.store.transfer import copy_store, table_checks
from tracker.store.writer import Writer

pytestmark = needs_postgres


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracker", *args], capture_output=True, text=True, timeout=300)


@needs_corpus
def test_every_read_command_agrees_across_backends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = corpus_path("history")
    lite, pg = str(tmp_path / "h.db"), new_store_url("postgresql", tmp_path)
    for db in (lite, pg):
        r = _cli("import-archive", str(history), "--db", db)
        assert r.returncode == 0, r.stderr
    commands = [
        ("trends", "-a", "GPTBot", "-a", "CCBot", "--since", "2023-01-01", "--format", "csv"),
        ("trends", "--by", "company", "--since", "2024-01-01", "--format", "csv"),
        ("trends", "--signal", "content_signal", "--signal", "rsl_license", "--format", "csv"),
        ("export", "latest", "--format", "csv"),
        ("site", "nytimes.com", "--format", "json"),
        ("changes", "--limit", "0", "--format", "csv"),
    ]
    for cmd in commands:
        a, b = _cli(*cmd, "--db", lite), _cli(*cmd, "--db", pg)
        assert a.returncode == 0 and b.returncode == 0, (cmd, a.stderr, b.stderr)
        if cmd[0] == "site":  # the same, but for the site's own row id
            a_json, b_json = json.loads(a.stdout), json.loads(b.stdout)
            assert a_json["history"] == b_json["history"] and a_json["current"] == b_json["current"]
        else:
            assert a.stdout == b.stdout, cmd
        assert len(a.stdout) > 200
    # The dashboard reads PostgreSQL as it reads SQLite: the same headline figures.
    from streamlit.testing.v1 import AppTest

    metrics = []
    for db in (lite, pg):
        monkeypatch.setenv("CONSENT_TRACKER_DB", db)
        at = AppTest.from_file(
            str(Path(__file__).resolve().parents[1] / "tracker" / "dashboard" / "views" / "overview.py"),
            default_timeout=120,
        )
        at.run()
        assert not at.exception, at.exception
        metrics.append([m.value for m in at.metric])
    assert metrics[0] == metrics[1] and metrics[0]


def test_db_migrate_and_copy_both_ways(tmp_path: Path) -> None:
    lite = tmp_path / "a.db"
    e = open_store(lite)
    w = Writer(e)
    from tests.test_changes import BLOCK_GPT, OPEN, homepage, robots

    w.record("a.test", [robots(0, OPEN), robots(10, BLOCK_GPT), robots(20, None, "unreachable"), homepage(0, True)])
    w.record("b.test", [robots(0, BLOCK_GPT, source="wayback")])
    from tracker.pipeline.changes import detect_changes

    detect_changes(e, [w.site_id("a.test"), w.site_id("b.test")], ["GPTBot"])
    pg = new_store_url("postgresql", tmp_path)
    before, after = copy_store(e, open_store(pg))
    assert before == after and {c.table: c.rows for c in after}["versions"] == 5
    assert {c.table: c.rows for c in after}["change_events"] == 1
    # The sequences moved past the copied ids: new rows go in.
    Writer(open_store(pg)).record("c.test", [robots(30, OPEN)])
    # And back, through the CLI.
    back = tmp_path / "back.db"
    r = _cli("db", "copy", pg, str(back))
    assert r.returncode == 0, r.stderr
    assert "every table verified" in r.stdout
    assert table_checks(open_store(back)) == table_checks(open_store(pg))
    # Into a store that holds data: refused, nothing written.
    with pytest.raises(StoreError, match="already holds data"):
        copy_store(e, open_store(pg))
    # `db migrate` on a new PostgreSQL database, twice.
    fresh = new_store_url("postgresql", tmp_path)
    with open_store(fresh, upgrade=False).begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        for v in ("agent_changes", "current_agent_states", "agent_states"):
            conn.execute(text(f"DROP VIEW IF EXISTS {v}"))
        for t in ("agents", "change_events", "store_meta"):
            conn.execute(text(f"DROP TABLE IF EXISTS {t}"))
        conn.execute(text("CREATE TABLE alembic_version (version_num varchar(32) primary key)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('0003')"))
    r = _cli("db", "migrate", "--db", fresh)
    assert r.returncode == 0 and "schema 0003 → 0005" in r.stdout, r.stdout + r.stderr
    assert "already at schema 0005" in _cli("db", "migrate", "--db", fresh).stdout
