"""Reads never write: every read command answers the same over a read-only store (a ``mode=ro`` SQLite URI, a
PostgreSQL role that may only SELECT) as over a writable one, and leaves the file as it was. Evaluations and adoption
readings are made when versions are written and remade by ``db migrate``; what a store lacks (an older parser's
store, an agent outside the registry) a read evaluates in memory. The dashboard's pages over a read-only store are
in tests/test_dashboard.py."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.conftest import PG_ADMIN, needs_postgres, new_store_url
from tracker.cli import app
from tracker.errors import StoreError
from tracker.store import Evaluation, open_store, queries, writer
from tracker.store.engine import SCHEMA_REVISION, database_url, is_readonly
from tracker.store.models import Adoption
from tracker.store.transfer import copy_store
from tracker.store.writer import Observation, Writer

#: Every command that only reads the store, with options that reach each kind of read (series by agent, group,
#: signal and weight; a site; change events with diffs; the export; the forecast; the claims; lists; runs; report).
READS: list[tuple[str, ...]] = [
    ("trends",),
    ("trends", "--format", "json", "--by", "company"),
    ("trends", "--format", "csv", "--by", "purpose", "--rule", "all", "--freq", "week"),
    ("trends", "--format", "csv", "--signal", "content_signal", "--signal", "noai", "--signal", "tdmrep"),
    ("trends", "--format", "csv", "--weight", "rank"),
    ("trends", "--format", "csv", "--weight", "tokens"),
    ("trends", "--format", "csv", "--list", "tranco-top", "--category", "news"),
    ("trends", "--format", "csv", "-a", "ClaudeBot", "-a", "Bytespider", "-a", "NotInTheRegistryBot"),
    ("site", "bayatlas.test", "--format", "json"),
    ("site", "bayforum.test"),
    ("changes", "--format", "json", "--limit", "0"),
    ("changes", "--diff", "--limit", "5"),
    ("export", "latest"),
    ("export", "latest", "--format", "csv"),
    ("forecast", "--draws", "2000", "--format", "json"),
    ("claims", "--format", "json"),
    ("sites", "list"),
    ("sites", "list", "tranco-top", "--format", "csv"),
    ("crawl", "status", "1", "--format", "json"),
    ("categories", "report"),
]
WITHOUT_DB = [("agents", "list"), ("settings",)]  # read no store: nothing to compare

runner = CliRunner(env={"SOURCE_DATE_EPOCH": "1767323045"})  # the report's "made on": the same for every answer


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def ro_url(path: Path) -> str:
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def answers(db: str, report_dir: Path) -> dict[tuple[str, ...], tuple[int, str]]:
    """Each read command's exit code and output over a store; the report's files as one more answer."""
    out = {cmd: invoke(*cmd, "--db", db) for cmd in READS}
    code, _ = invoke("report", "--out", str(report_dir), "--db", db)
    text = ""
    for p in sorted(p for p in report_dir.rglob("*") if p.is_file()):  # every file, made at the runner's fixed time
        lines = p.read_text(encoding="utf-8").splitlines()
        text += f"{p.relative_to(report_dir)}\n" + "\n".join(lines) + "\n"
    out[("report",)] = (code, text)
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo world after `up --demo`: a Tranco list, a backfill, a crawl of every resource kind, change events;
    then token weights for a few sites, so that every read has something to read."""
    tmp = tmp_path_factory.mktemp("ro")
    db = tmp / "demo.db"
    r = subprocess.run(
        [sys.executable, "-m", "tracker", "up", "--demo", "--db", str(db), "--no-schedule"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    csv = tmp / "tokens.csv"
    csv.write_text("url,c4_tokens\nhttps://bayatlas.test/a,1200\nhttps://bayforum.test/,800\n")
    code, output = invoke("weights", "import", str(csv), "--db", str(db))
    assert code == 0, output
    with sqlite3.connect(db) as conn:  # every write in the file itself, so that only a read could change it now
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


@pytest.fixture(scope="module")
def writable_answers(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], tuple[int, str]]:
    before = fingerprint(demo)
    out = answers(str(demo), tmp_path_factory.mktemp("report-w"))
    assert fingerprint(demo) == before  # reading through a writable open writes nothing either
    return out


@pytest.mark.slow
@pytest.mark.network_local  # the demo store: `up --demo` serves its simulated web on loopback
def test_every_read_command_answers_the_same_over_a_read_only_store(
    demo: Path, writable_answers: dict[tuple[str, ...], tuple[int, str]], tmp_path: Path
) -> None:
    for cmd, (code, output) in writable_answers.items():
        assert code == 0 and len(output) > 100, (cmd, code, output[-500:])
    before = fingerprint(demo)
    assert answers(ro_url(demo), tmp_path / "report") == writable_answers
    assert fingerprint(demo) == before
    # The plain form, sqlite:///PATH?mode=ro, is read-only too.
    plain = f"sqlite:///{demo}?mode=ro"
    assert is_readonly(plain) and database_url(plain) == ro_url(demo)
    for cmd in READS[:2]:
        assert invoke(*cmd, "--db", plain) == writable_answers[cmd]
    assert fingerprint(demo) == before
    for cmd in WITHOUT_DB:
        assert invoke(*cmd)[0] == 0


@pytest.mark.slow
@pytest.mark.network_local  # the demo store: `up --demo` serves its simulated web on loopback
def test_a_store_without_stored_evaluations_reads_the_same_in_memory(
    demo: Path, writable_answers: dict[tuple[str, ...], tuple[int, str]], tmp_path: Path
) -> None:
    """A store written by an older parser (or before evaluations were stored on write) lacks this parser's
    evaluations and adoption readings: a read over it evaluates them in memory, answers the same, writes nothing."""
    bare = tmp_path / "bare.db"
    shutil.copy(demo, bare)
    with sqlite3.connect(bare) as conn:
        conn.execute("UPDATE evaluations SET parser_version = 'older'")
        conn.execute("DELETE FROM adoptions")
    conn.close()
    before = fingerprint(bare)
    assert answers(ro_url(bare), tmp_path / "report") == writable_answers
    assert fingerprint(bare) == before
    # `db migrate` then stores them: the older rows go, this parser's come back.
    code, output = invoke("db", "migrate", "--db", str(bare))
    assert code == 0 and "of another parser version dropped" in output, output
    with sqlite3.connect(bare) as conn:
        assert {v for (v,) in conn.execute("SELECT DISTINCT parser_version FROM evaluations")} == {
            writer.PARSER_VERSION
        }
        assert conn.execute("SELECT count(*) FROM adoptions").fetchone()[0] > 0
    conn.close()


@pytest.mark.slow
def test_a_parser_version_change_then_db_migrate_recomputes_evaluations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "p.db"
    engine = open_store(db)
    Writer(engine).record(
        "a.example",
        [Observation("robots", datetime(2024, 1, 1, tzinfo=UTC), "ok", 200, b"User-agent: GPTBot\nDisallow: /\n")],
    )
    stored = queries.stored_evaluations(engine, ["gptbot"], writer.PARSER_VERSION)["gptbot"]
    assert list(stored.values()) == [(False, True, "full_block")]  # written with the version, not on read
    monkeypatch.setattr(writer, "PARSER_VERSION", "next")
    monkeypatch.setattr(queries, "PARSER_VERSION", "next")
    before = fingerprint(db)
    assert queries.evaluations(engine, ["GPTBot"])["gptbot"] == stored  # read in memory, not stored
    assert fingerprint(db) == before
    code, output = invoke("db", "migrate", "--db", str(db))
    assert code == 0, output
    assert f"evaluations: {len(writer.evaluated_agents())} added, {len(writer.evaluated_agents())} of another" in (
        " ".join(output.split())
    )
    with engine.connect() as conn:
        assert set(conn.execute(select(Evaluation.parser_version)).scalars()) == {"next"}
    assert queries.stored_evaluations(engine, ["gptbot"], "next")["gptbot"] == stored


def test_a_read_only_open_writes_nothing_and_never_migrates(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    Writer(open_store(db)).record(
        "a.example", [Observation("robots", datetime(2024, 1, 1, tzinfo=UTC), "ok", 200, b"")]
    )
    before = fingerprint(db)
    engine = open_store(ro_url(db), create=False)
    with pytest.raises(Exception, match="readonly"):
        Writer(engine).record("b.example", [Observation("robots", datetime(2024, 1, 2, tzinfo=UTC), "ok", 200, b"")])
    engine.dispose()
    assert fingerprint(db) == before
    # An out-of-date schema: a writable open upgrades it; a read-only one says what to run instead.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0003'")
    conn.close()
    before = fingerprint(db)
    with pytest.raises(StoreError, match="consent-tracker db migrate"):
        open_store(ro_url(db))
    code, _ = invoke("trends", "--db", ro_url(db))
    assert code != 0
    assert fingerprint(db) == before
    # A path that does not exist is named, and nothing (no folder, no file) is made.
    missing = tmp_path / "nowhere" / "x.db"
    with pytest.raises(StoreError, match=f"no database at {missing}"):
        open_store(ro_url(missing))
    assert not missing.parent.exists()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (SCHEMA_REVISION,))
    conn.close()
    with open_store(ro_url(db)).connect() as c:  # at this version's schema it opens
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_REVISION


@pytest.fixture
def pg_reader(demo: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(owner URL, read-only role URL) of a PostgreSQL copy of the demo store; the role may only SELECT."""
    owner = new_store_url("postgresql", tmp_path)
    copy_store(open_store(demo, create=False), open_store(owner))
    role = f"ct_reader_{uuid.uuid4().hex[:12]}"
    admin = open_store(owner, upgrade=False)
    dbname = make_url(owner).database
    with admin.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f'GRANT CONNECT ON DATABASE "{dbname}" TO {role}'))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    admin.dispose()
    reader = make_url(owner).set(username=role, password=None).render_as_string(hide_password=False)
    yield owner, reader
    with open_store(owner, upgrade=False).begin() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))  # its grants in this database
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"))
        conn.execute(text(f'REVOKE ALL ON DATABASE "{dbname}" FROM {role}'))
        conn.execute(text(f"DROP ROLE {role}"))
    admin.dispose()


@needs_postgres
@pytest.mark.slow
@pytest.mark.network_local  # the demo store
def test_a_read_only_postgresql_role_runs_every_read_command(pg_reader: tuple[str, str], tmp_path: Path) -> None:
    owner, reader = pg_reader
    engine = open_store(reader)
    with pytest.raises(Exception, match="permission denied"), engine.begin() as conn:
        conn.execute(Adoption.__table__.delete())  # type: ignore[attr-defined]
    engine.dispose()
    expected = answers(owner, tmp_path / "o")
    assert all(code == 0 for code, _ in expected.values()), expected
    assert answers(reader, tmp_path / "r") == expected
