"""Shared fixtures: where the third-party corpus lives, and skipping cleanly when it is absent."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The dashboard keeps results on disk between runs of its server: the tests keep theirs in a folder of their own
# (each session a new one), never in the user's cache.
os.environ["CONSENT_TRACKER_CACHE"] = tempfile.mkdtemp(prefix="consent-tracker-test-cache-")
CORPUS = Path(os.environ.get("CONSENT_TRACKER_CORPUS", ROOT.parent / "shared" / "corpus")).resolve()
CORPUS_REASON = f"the shared test corpus is not at {CORPUS} (set CONSENT_TRACKER_CORPUS to its folder)"


@dataclass(frozen=True)
class Res:
    """A resource as the store would hand it over (tracker.rules.signals.preferences.Evidence), for unit tests."""

    status: str
    body: bytes | None = None
    signals: dict[str, Any] | None = None
    truncated: bool = False


def corpus_path(*parts: str) -> Path:
    """Path inside the shared corpus (may not exist: pair with needs_corpus)."""
    return CORPUS.joinpath(*parts)


def load_corpus_json(*parts: str) -> Any:
    """Load a JSON file of the corpus, or None when the corpus is absent (collection must not fail)."""
    p = corpus_path(*parts)
    if not p.exists():
        return None
    return json.loads(p.read_text(encoding="utf-8"))


if os.environ.get("CONSENT_TRACKER_REQUIRE_CORPUS") and not CORPUS.is_dir():
    # CI always has the corpus: a missing one must fail loudly, not skip the conformance suite.
    raise pytest.UsageError(CORPUS_REASON)

_skip_without_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=CORPUS_REASON)


def needs_corpus(test: Any) -> Any:
    """Marks a test ``corpus`` (``pytest -m "not corpus"`` leaves it out) and skips it with a reason when the corpus
    is absent."""
    return pytest.mark.corpus(_skip_without_corpus(test))


#: Debian's chromium, for the dashboard's browser test and PDF reports (no browser download).
CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
CHROMIUM_REASON = "Debian's chromium is not installed (apt-get install chromium)"
if os.environ.get("CONSENT_TRACKER_REQUIRE_CHROMIUM") and CHROMIUM is None:
    raise pytest.UsageError(CHROMIUM_REASON)  # CI installs it: its absence must fail, not skip the browser tests
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason=CHROMIUM_REASON)

# -- the store's two backends ---------------------------------------------------------------------------------------
#: An admin URL of a throwaway PostgreSQL server (`.ci/run` starts one), e.g.
#: postgresql+psycopg://postgres@127.0.0.1:5432/postgres. The store suite runs on SQLite and on it.
PG_ADMIN = os.environ.get("CONSENT_TRACKER_TEST_POSTGRES", "")
PG_REASON = (
    "no PostgreSQL server for the tests: set CONSENT_TRACKER_TEST_POSTGRES to an admin URL "
    "(postgresql+psycopg://postgres@127.0.0.1:PORT/postgres); .ci/run starts one"
)
if os.environ.get("CONSENT_TRACKER_REQUIRE_POSTGRES") and not PG_ADMIN:
    raise pytest.UsageError(PG_REASON)  # CI starts a server: its absence must fail, not skip the PostgreSQL half
needs_postgres = pytest.mark.skipif(not PG_ADMIN, reason=PG_REASON)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=needs_postgres)]


class PgDatabases:
    """Fresh databases on the test server: each a copy of one migrated template (CREATE DATABASE … TEMPLATE)."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        from tracker.store import open_store

        self.base = make_url(admin_url)
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        self.prefix = f"ct_test_{os.getpid()}"
        self.made: list[str] = []
        self.template = f"{self.prefix}_template"
        self._sql(f'DROP DATABASE IF EXISTS "{self.template}"')
        self._sql(f'CREATE DATABASE "{self.template}"')
        open_store(self.url(self.template)).dispose()  # every migration, once

    def _sql(self, statement: str) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(statement))

    def url(self, name: str) -> str:
        """The URL of a database on the server."""
        return self.base.set(database=name).render_as_string(hide_password=False)

    def new(self) -> str:
        """A new, migrated, empty database."""
        name = f"{self.prefix}_{len(self.made)}"
        self._sql(f'DROP DATABASE IF EXISTS "{name}"')
        self._sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.made.append(name)
        return self.url(name)

    def drop_all(self) -> None:
        """Drop every database made (connections left open are closed by the server's FORCE)."""
        for name in [*self.made, self.template]:
            self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


_pg: PgDatabases | None = None


def new_store_url(backend: str, tmp_path: Path) -> str:
    """A new, empty store of the backend: an SQLite file under tmp_path, or a fresh PostgreSQL database."""
    global _pg
    if backend == "sqlite":
        return str(tmp_path / f"store-{len(list(tmp_path.glob('store-*')))}.db")
    if _pg is None:
        _pg = PgDatabases(PG_ADMIN)
    return _pg.new()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _pg is not None:
        _pg.drop_all()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store on each backend (SQLite; PostgreSQL when a server is given)."""
    return new_store_url(request.param, tmp_path)
