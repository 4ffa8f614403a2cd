"""The read API (``consent-tracker serve``) over real HTTP on loopback: each endpoint answers the document the CLI's
``--format json`` prints for the same parameters; answers carry an ETag tied to the data's version (304 when the
client has it, a new one once the store changes), Cache-Control and CORS headers; long lists are paged with a link
to the next page; every bad input is a 4xx JSON error, never a traceback or a 500; it serves a read-only store, and
``serve`` on a missing or damaged store fails at start with one line."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from tests import records_store
from tests.conftest import CORPUS_REASON, PG_ADMIN, corpus_path, needs_corpus, needs_postgres, new_store_url
from tracker import service
from tracker.api import ApiOptions, create_app
from tracker.cli import app as cli
from tracker.config import settings
from tracker.store import open_store
from tracker.store.writer import Observation, Writer

pytestmark = pytest.mark.network_local

runner = CliRunner()


class Served:
    """An app served by uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="critical", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the server did not start"
            time.sleep(0.02)
        self.client = httpx.Client(base_url=self.url, timeout=60)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def close(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()


def serve(db: str, options: ApiOptions | None = None) -> Served:
    return Served(create_app(settings.resolve({"db": db}), options))


def cli_json(db: str | None, *args: str) -> Any:
    result = runner.invoke(cli, [*args, "--format", "json", *(["--db", db] if db else [])])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> str:
    """tests/records_store.py's store: three sites, every resource kind and change type."""
    return records_store.build(tmp_path_factory.mktemp("api") / "small.db")


@pytest.fixture(scope="module")
def api(small: str) -> Iterator[Served]:
    served = serve(small)
    yield served
    served.close()


# -- the same JSON as the CLI ---------------------------------------------------------------------------------------
SAME = [
    ("/v1/trends", ("trends",)),
    ("/v1/trends?agents=GPTBot", ("trends", "-a", "GPTBot")),
    ("/v1/trends?agent=GPTBot&agent=CCBot&freq=week", ("trends", "-a", "GPTBot", "-a", "CCBot", "--freq", "week")),
    (
        "/v1/trends?by=company&rule=all&since=2025-03-05",
        ("trends", "--by", "company", "--rule", "all", "--since", "2025-03-05"),
    ),
    (
        "/v1/trends?by=purpose&weight=rank&until=2025-03-20",
        ("trends", "--by", "purpose", "--weight", "rank", "--until", "2025-03-20"),
    ),
    ("/v1/trends?signals=content_signal&signal=noai", ("trends", "--signal", "content_signal", "--signal", "noai")),
    ("/v1/sites/a.test", ("site", "a.test")),
    ("/v1/sites/A.test?agents=GPTBot&agent=ClaudeBot", ("site", "A.test", "-a", "GPTBot", "-a", "ClaudeBot")),
    ("/v1/changes", ("changes",)),
    ("/v1/changes?site=a.test&agents=GPTBot", ("changes", "--site", "a.test", "--agent", "GPTBot")),
    (
        "/v1/changes?changes=reversal&since=2025-03-01&until=2025-04-30",
        ("changes", "--change", "reversal", "--since", "2025-03-01", "--until", "2025-04-30"),
    ),
    ("/v1/changes?signals=robots&limit=3", ("changes", "--signal", "robots", "--limit", "3")),
]


@pytest.mark.parametrize(("path", "args"), SAME, ids=[p for p, _ in SAME])
def test_each_endpoint_answers_what_the_cli_prints(api: Served, small: str, path: str, args: tuple[str, ...]) -> None:
    r = api.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json() == cli_json(small, *args)


@pytest.mark.parametrize(
    ("path", "args"),
    [
        ("/v1/agents", ("agents", "list")),
        ("/v1/agents?purpose=search", ("agents", "list", "--purpose", "search")),
        (
            "/v1/agents?company=openai&purpose=training",
            ("agents", "list", "--company", "openai", "--purpose", "training"),
        ),
    ],
)
def test_agents_are_the_registry_the_cli_lists(api: Served, path: str, args: tuple[str, ...]) -> None:
    r = api.get(path)
    assert r.status_code == 200 and r.json() == cli_json(None, *args)
    assert r.json()  # the check can fail: there is something to compare


@pytest.mark.slow
def test_the_forecast_is_the_clis(api: Served, small: str) -> None:
    r = api.get("/v1/forecast?draws=2000&seed=7&overtraining=5")
    assert r.status_code == 200, r.text
    assert r.json() == cli_json(small, "forecast", "--draws", "2000", "--seed", "7", "--overtraining", "5")


def test_the_site_differs_between_sites(api: Served) -> None:
    """The comparison can fail: two sites give two different documents."""
    a, b = api.get("/v1/sites/a.test").json(), api.get("/v1/sites/b.test").json()
    assert a["site"]["domain"] == "a.test" and b["site"]["domain"] == "b.test" and a != b


# -- paging ----------------------------------------------------------------------------------------------------------
def test_changes_are_paged_with_a_link_to_the_next_page(api: Served, small: str) -> None:
    everything = cli_json(small, "changes", "--limit", "0")["rows"]
    assert len(everything) > 5
    rows: list[Any] = []
    url: str | None = "/v1/changes?limit=2"
    pages = 0
    while url:
        r = api.get(url)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["count"] == len(page["rows"]) <= 2
        rows += page["rows"]
        pages += 1
        link = r.headers.get("link")
        url = link[1 : link.index(">")] if link else None
        assert link is None or link.endswith('rel="next"')
    assert rows == everything  # every event once, in order
    assert pages == (len(everything) + 1) // 2


def test_trend_rows_are_paged_too(api: Served) -> None:
    whole = api.get("/v1/trends?agents=GPTBot&freq=day").json()
    assert len(whole["rows"]) > 10
    first = api.get("/v1/trends?agents=GPTBot&freq=day&limit=10")
    assert first.json()["rows"] == whole["rows"][:10] and 'rel="next"' in first.headers["link"]
    assert first.json()["groups"] == whole["groups"]  # each page carries the definitions
    rest = api.get("/v1/trends?agents=GPTBot&freq=day&limit=5000&offset=10")
    assert rest.json()["rows"] == whole["rows"][10:] and "link" not in rest.headers


# -- caching ---------------------------------------------------------------------------------------------------------
def test_etag_and_cache_control_and_304(api: Served) -> None:
    r = api.get("/v1/trends?agents=GPTBot")
    etag = r.headers["etag"]
    assert etag.startswith('"') and r.headers["cache-control"] == "public, max-age=60"
    again = api.get("/v1/trends?agents=GPTBot", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert api.get("/v1/trends?agents=GPTBot", headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    other = api.get("/v1/trends?agents=GPTBot", headers={"If-None-Match": '"not-it"'})
    assert other.status_code == 200 and other.json() == r.json()
    assert api.get("/v1/trends?agents=CCBot").headers["etag"] != etag  # another question, another tag
    assert api.get("/v1/sites/nowhere.test", headers={"If-None-Match": "*"}).status_code == 404  # not a 304


def test_a_write_to_the_store_moves_the_etag(tmp_path: Path) -> None:
    db = records_store.build(tmp_path / "live.db")
    served = serve(db, ApiOptions(version_ttl=0, max_age=0))
    try:
        before = served.get("/v1/changes?site=b.test")
        assert before.headers["cache-control"] == "no-cache"
        engine = open_store(db)
        Writer(engine).record(
            "b.test", [Observation("robots", datetime(2025, 6, 1, tzinfo=UTC), "ok", 200, body=records_store.BLOCK)]
        )
        from tracker.pipeline.changes import CHANGE_AGENTS, detect_changes

        detect_changes(engine, [Writer(engine).site_id("b.test")], list(CHANGE_AGENTS))
        engine.dispose()
        after = served.get("/v1/changes?site=b.test", headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
        assert after.json()["count"] > before.json()["count"]  # the new answer, not the cached one
    finally:
        served.close()


def test_cors_for_get(api: Served) -> None:
    r = api.get("/v1/agents", headers={"Origin": "https://newsroom.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "etag" in r.headers["access-control-expose-headers"].lower()
    pre = api.client.options(
        "/v1/trends", headers={"Origin": "https://newsroom.example", "Access-Control-Request-Method": "GET"}
    )
    assert pre.status_code == 200 and "GET" in pre.headers["access-control-allow-methods"]
    denied = api.client.options(
        "/v1/trends", headers={"Origin": "https://newsroom.example", "Access-Control-Request-Method": "DELETE"}
    )
    assert denied.status_code == 400


# -- bad input -------------------------------------------------------------------------------------------------------
BAD = [
    ("/v1/sites/nowhere.test", 404),
    ("/v1/sites/" + "x" * 300 + ".test", 400),
    ("/v1/sites/a.test?agents=NoSuchBot", 400),
    ("/v1/trends?agents=NoSuchBot", 400),
    ("/v1/trends?agent=GPTBot&agent=NoSuchBot", 400),
    ("/v1/trends?agents=" + "&agents=".join(["GPTBot"] * 51), 400),
    ("/v1/changes?agents=NoSuchBot", 400),
    ("/v1/changes?agents=GoogleOther", 400),  # in the registry, but change events do not follow it
    ("/v1/changes?site=nowhere.test", 404),
    ("/v1/trends?since=2024-13-01", 400),
    ("/v1/trends?until=yesterday", 400),
    ("/v1/changes?since=2024-02-30", 400),
    ("/v1/trends?since=" + "9" * 5000, 400),
    ("/v1/trends?freq=year", 400),
    ("/v1/trends?by=country", 400),
    ("/v1/trends?weight=tokens", 400),  # no weights stored
    ("/v1/trends?list=nosuchlist", 400),
    ("/v1/trends?signals=telepathy", 400),
    ("/v1/trends?max_age=-1", 400),
    ("/v1/trends?limit=0", 400),
    ("/v1/trends?limit=5001", 400),
    ("/v1/changes?limit=-1", 400),
    ("/v1/changes?limit=0", 400),
    ("/v1/changes?limit=1000000", 400),
    ("/v1/changes?limit=ten", 400),
    ("/v1/changes?offset=-5", 400),
    ("/v1/changes?offset=99999999999999999999999", 400),
    ("/v1/changes?changes=apocalypse", 400),
    ("/v1/changes?signals=telepathy", 400),
    ("/v1/agents?purpose=evil", 400),
    ("/v1/agents?company=NoSuchCompany", 404),
    ("/v1/forecast?draws=1", 400),
    ("/v1/forecast?draws=100000000", 400),
    ("/v1/forecast?projection=astrology", 400),
    ("/v1/forecast?overtraining=-3", 400),
    ("/v1/forecast?seed=-1", 400),
    ("/v1/nothing", 404),
    ("/v1/sites/", 404),
    ("/v1/sites/a.test/extra", 404),
    ("/v1/trends/extra", 404),
    ("/%2e%2e/%2e%2e/etc/passwd", 404),
    ("/v1/sites/%00", 404),
    ("/favicon.ico", 404),
]


@pytest.mark.parametrize(("path", "status"), BAD, ids=[p[:60] for p, _ in BAD])
def test_bad_input_is_a_4xx_json_error(api: Served, path: str, status: int) -> None:
    r = api.get(path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert error["status"] == status and error["message"] and "Traceback" not in r.text
    assert "etag" not in r.headers and r.headers["cache-control"] == "no-store"


def test_a_bad_parameter_is_named(api: Served) -> None:
    assert api.get("/v1/trends?since=2024-13-01").json()["error"]["parameter"] == "since"
    assert api.get("/v1/changes?limit=0").json()["error"]["parameter"] == "limit"
    assert api.get("/v1/trends?freq=year").json()["error"]["parameter"] == "freq"


def test_other_methods_are_refused_as_json(api: Served) -> None:
    for method in ("POST", "PUT", "DELETE"):
        r = api.client.request(method, "/v1/trends")
        assert r.status_code == 405 and r.json()["error"]["status"] == 405


def test_an_unexpected_failure_is_logged_and_answered_as_json(
    api: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The last resort: a bug is a JSON 500 with no detail (the traceback goes to the log), never a page."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug with a secret in it")

    monkeypatch.setattr(service, "agents", broken)
    with caplog.at_level("ERROR", logger="tracker.api"):
        r = api.get("/v1/agents?purpose=user")
    assert r.status_code == 500 and r.json()["error"]["message"] == "internal error (logged on the server)"
    assert "secret" not in r.text and "secret" in caplog.text


# -- the documents ---------------------------------------------------------------------------------------------------
def test_openapi_document_and_docs_page(api: Served) -> None:
    doc = api.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {"/v1/trends", "/v1/sites/{domain}", "/v1/changes", "/v1/agents", "/v1/forecast"} <= set(doc["paths"])
    names = {p["name"] for p in doc["paths"]["/v1/trends"]["get"]["parameters"]}
    assert {"agents", "since", "until", "by", "rule", "weight", "lists", "category", "limit", "offset"} <= names
    docs = api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    index = api.get("/v1").json()
    assert index["data"]["schema"] and len(index["data"]["tag"]) == 32


# -- read-only stores, and a store that is not there -----------------------------------------------------------------
def _fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_serves_a_read_only_store_and_writes_nothing(small: str, tmp_path: Path) -> None:
    import shutil
    import sqlite3

    path = tmp_path / "ro.db"
    shutil.copy(small, path)
    with sqlite3.connect(path) as conn:  # one file, no WAL left to replay
        conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    before = _fingerprint(path)
    served = serve(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        for url, args in SAME[:3] + SAME[6:9]:
            r = served.get(url)
            assert r.status_code == 200 and r.json() == cli_json(small, *args)
    finally:
        served.close()
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert _fingerprint(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ro.db"]  # no -wal, no -shm, no journal


@needs_postgres
def test_serves_a_read_only_postgresql_role(small: str, tmp_path: Path) -> None:
    """A role that may only SELECT: the API answers as over the SQLite file it was copied from."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tracker.store.transfer import copy_store

    owner = new_store_url("postgresql", tmp_path)
    copy_store(open_store(small, create=False), open_store(owner))
    role, dbname = f"ct_api_reader_{uuid.uuid4().hex[:12]}", make_url(owner).database
    admin = open_store(owner, upgrade=False)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f'GRANT CONNECT ON DATABASE "{dbname}" TO {role}'))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    admin.dispose()
    reader = make_url(owner).set(username=role, password=None).render_as_string(hide_password=False)
    served = serve(reader)
    try:
        for url, args in SAME:
            r = served.get(url)
            assert r.status_code == 200, (url, r.text)
            assert r.json() == cli_json(small, *args), url
        assert served.get("/v1/sites/nowhere.test").status_code == 404
    finally:
        served.close()
        served.app.state.engine.dispose()
        with open_store(owner, upgrade=False).begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
        root = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with root.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"))
            conn.execute(text(f'REVOKE ALL ON DATABASE "{dbname}" FROM {role}'))
            conn.execute(text(f"DROP ROLE {role}"))
        root.dispose()


def _serve_command(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.parametrize("what", ["missing", "garbage", "empty"])
def test_serve_on_a_missing_or_damaged_store_fails_at_start_with_one_line(tmp_path: Path, what: str) -> None:
    db = tmp_path / "store.db"
    if what == "garbage":
        db.write_bytes(b"this is not an SQLite file at all, " * 200)
    elif what == "empty":
        db.write_bytes(b"")
    done = _serve_command("--db", str(db))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(db) in lines[0], done.stderr
    assert "Traceback" not in done.stderr and "Uvicorn running" not in done.stderr


def test_serve_on_a_port_in_use_fails_with_one_line(small: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        done = _serve_command("--db", small, "--port", str(busy.getsockname()[1]))
    assert done.returncode == 2 and done.stderr.strip().startswith("error: cannot listen on 127.0.0.1:"), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_serve_command_serves_until_stopped(small: str, workers: str) -> None:
    """The command itself, as a user starts it: a process (or several) on a port (0: a free one, said on its first
    line), answering over the network, stopped by TERM."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracker",
            "serve",
            "--db",
            small,
            "--port",
            "0",
            "--no-access-log",
            "--workers",
            workers,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/v1", first).group(1))  # type: ignore[union-attr]
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/sites/c.test", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        assert r.status_code == 200 and r.json() == cli_json(small, "site", "c.test")
        etags = {httpx.get(f"http://127.0.0.1:{port}/v1/agents", timeout=5).headers["etag"] for _ in range(6)}
        assert len(etags) == 1  # every process tags the same data alike
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert proc.returncode in (0, -15)


# -- the corpus history ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The shared corpus' history imported once per session (about 20 seconds)."""
    if not corpus_path("history").is_dir():
        pytest.skip(CORPUS_REASON)
    db = tmp_path_factory.mktemp("corpus-api") / "history.db"
    done = subprocess.run(
        [sys.executable, "-m", "tracker", "import-archive", str(corpus_path("history")), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    return str(db)


@pytest.fixture(scope="module")
def corpus_api(corpus_db: str) -> Iterator[Served]:
    served = serve(f"sqlite:///file:{corpus_db}?mode=ro&uri=true")
    yield served
    served.close()


CORPUS_SAME = [
    ("/v1/trends?agent=GPTBot", ("trends", "-a", "GPTBot")),
    (
        "/v1/trends?agents=GPTBot&agents=CCBot&by=agent&since=2023-01-01",
        ("trends", "-a", "GPTBot", "-a", "CCBot", "--since", "2023-01-01"),
    ),
    ("/v1/trends?by=company", ("trends", "--by", "company")),
    ("/v1/sites/nytimes.com", ("site", "nytimes.com")),
    ("/v1/sites/theguardian.com?agents=GPTBot", ("site", "theguardian.com", "-a", "GPTBot")),
    ("/v1/changes", ("changes",)),
    (
        "/v1/changes?agent=GPTBot&change=restriction&since=2023-08-01",
        ("changes", "-a", "GPTBot", "--change", "restriction", "--since", "2023-08-01"),
    ),
    ("/v1/forecast", ("forecast",)),
]


@needs_corpus
@pytest.mark.slow
@pytest.mark.parametrize(("path", "args"), CORPUS_SAME, ids=[p for p, _ in CORPUS_SAME])
def test_on_the_corpus_history_each_endpoint_answers_what_the_cli_prints(
    corpus_api: Served, corpus_db: str, path: str, args: tuple[str, ...]
) -> None:
    r = corpus_api.get(path)
    assert r.status_code == 200, r.text
    expected = cli_json(corpus_db, *args)
    assert r.json() == expected
    assert expected != {} and expected != []


@needs_corpus
@pytest.mark.slow
def test_on_the_corpus_history_gptbot_is_blocked_by_some(corpus_api: Served) -> None:
    rows = corpus_api.get("/v1/trends?agent=GPTBot").json()["rows"]
    assert max(r["blocked_named"] for r in rows) > 50  # the 2023 wave of GPTBot blocks is there


def test_simulated_data_is_marked_as_the_cli_marks_it(small: str, tmp_path: Path) -> None:
    """On the demo's simulated data the API's documents carry "simulated": true first, exactly as the CLI's JSON."""
    import shutil

    from tracker.store import catalog

    demo = str(tmp_path / "demo.db")
    shutil.copy(small, demo)
    catalog.set_meta(service.open_store(demo), catalog.SIMULATED, "true")
    served = serve(demo)
    try:
        for path, args in [
            ("/v1/trends?agents=GPTBot", ("trends", "-a", "GPTBot")),
            ("/v1/sites/a.test", ("site", "a.test")),
            ("/v1/changes", ("changes",)),
            ("/v1/forecast?draws=2000", ("forecast", "--draws", "2000")),
        ]:
            r = served.get(path)
            assert r.status_code == 200, r.text
            document = r.json()
            assert next(iter(document)) == "simulated" and document["simulated"] is True, path
            assert document == cli_json(demo, *args), path
        assert "simulated" not in served.get("/v1/agents").text  # the registry is not the store's data
    finally:
        served.close()
