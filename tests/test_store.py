"""The history store: versions only on change, content-addressed bodies, evaluations cached, real SQLite (WAL)."""

from __future__ import annotations

import itertools
import sqlite3
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from tests.conftest import BACKENDS, new_store_url
from tracker.pipeline import evaluation as evaluate
from tracker.store import Body, Evaluation, RuleSet, Site, Version, open_store
from tracker.store.engine import SCHEMA_REVISION, head_revision
from tracker.store.writer import Observation, Writer

BLOCK = b"User-agent: GPTBot\nDisallow: /\n"
OPEN = b"User-agent: *\nDisallow: /private/\n"


def day(n: int) -> datetime:
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=n)


def robots(n: int, body: bytes | None, status: str = "ok") -> Observation:
    return Observation("robots", day(n), status, 200 if body is not None else 503, body=body)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    e = open_store(store_url)
    yield e
    e.dispose()  # close pooled connections now (PostgreSQL's would warn when collected)


def versions(engine: Engine, domain: str) -> list[tuple[str, int | None, datetime, datetime, datetime | None, int]]:
    with engine.connect() as conn:
        sid = conn.execute(select(Site.id).where(Site.domain == domain)).scalar_one()
        rows = conn.execute(
            select(
                Version.status,
                Version.body_id,
                Version.first_seen,
                Version.last_seen,
                Version.valid_to,
                Version.observations,
            )
            .where(Version.site_id == sid)
            .order_by(Version.first_seen)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_new_file_is_wal_and_at_head(tmp_path: Path) -> None:
    path = tmp_path / "new" / "sub" / "t.db"
    open_store(path)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == SCHEMA_REVISION
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sites", "bodies", "rulesets", "versions", "evaluations", "crawl_runs"} <= tables


def test_schema_revision_constant_matches_migrations() -> None:
    assert head_revision() == SCHEMA_REVISION


def test_migrations_match_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    engine = open_store(tmp_path / "m.db")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], f"models and migrations disagree; add a migration: {diff}"


def test_same_fetch_only_moves_last_seen(engine: Engine) -> None:
    w = Writer(engine)
    r1 = w.record("a.example", [robots(0, BLOCK)])
    r2 = w.record("a.example", [robots(7, BLOCK)])
    assert (r1.new_versions, r2.new_versions, r2.unchanged) == (1, 0, 1)
    (v,) = versions(engine, "a.example")
    assert v[2] == day(0) and v[3] == day(7) and v[4] is None and v[5] == 2


def test_change_opens_a_version_and_closes_the_previous(engine: Engine) -> None:
    w = Writer(engine)
    w.record("a.example", [robots(0, OPEN), robots(7, BLOCK)])
    v1, v2 = versions(engine, "a.example")
    assert v1[4] == day(7) and v2[2] == day(7) and v2[4] is None


def test_a_site_that_changes_back_has_three_versions_and_two_bodies(engine: Engine) -> None:
    w = Writer(engine)
    w.record("a.example", [robots(0, OPEN), robots(7, BLOCK), robots(14, OPEN)])
    vs = versions(engine, "a.example")
    assert len(vs) == 3 and vs[0][1] == vs[2][1] != vs[1][1]
    assert count(engine, Body) == 2


def test_same_body_at_two_sites_is_stored_once(engine: Engine) -> None:
    w = Writer(engine)
    w.record("a.example", [robots(0, BLOCK)])
    w.record("b.example", [robots(3, BLOCK)])
    assert count(engine, Body) == 1 and count(engine, Version) == 2
    with engine.connect() as conn:
        content = conn.execute(select(Body.content)).scalar_one()
    assert zlib.decompress(content) == BLOCK


def test_bodies_differing_only_in_comments_share_a_ruleset(engine: Engine) -> None:
    w = Writer(engine)
    w.record("a.example", [robots(0, BLOCK + b"Sitemap: https://a.example/s.xml\n")])
    w.record("b.example", [robots(0, b"# hello\n" + BLOCK + b"Sitemap: https://b.example/s.xml\n")])
    w.record("c.example", [robots(0, OPEN)])
    assert count(engine, Body) == 3 and count(engine, RuleSet) == 2


def test_recording_twice_changes_nothing(engine: Engine) -> None:
    w = Writer(engine)
    obs = [robots(0, OPEN), robots(7, BLOCK), robots(9, BLOCK), robots(14, None, "unreachable")]
    w.record("a.example", obs)
    before = versions(engine, "a.example")
    again = Writer(engine).record("a.example", obs)
    assert again.new_versions == 0 and again.duplicates == len(obs)
    assert versions(engine, "a.example") == before


def test_out_of_order_backfill_inserts_in_the_middle(engine: Engine) -> None:
    w = Writer(engine)
    w.record("a.example", [robots(0, OPEN), robots(20, OPEN)])
    w.record("a.example", [robots(10, BLOCK)])  # an archive capture between two live fetches
    vs = versions(engine, "a.example")
    assert [v[2] for v in vs] == [day(0), day(10)]  # the day-20 fetch of OPEN was merged into the first version
    # Now OPEN again at day 30: a third version after BLOCK.
    w.record("a.example", [robots(30, OPEN)])
    vs = versions(engine, "a.example")
    assert [v[2] for v in vs] == [day(0), day(10), day(30)]
    assert vs[1][4] == day(30) and vs[0][4] == day(10)


def test_earlier_sighting_moves_first_seen_back(engine: Engine) -> None:
    w = Writer(engine)
    w.record("a.example", [robots(0, OPEN), robots(20, BLOCK)])
    w.record("a.example", [robots(15, BLOCK)])
    vs = versions(engine, "a.example")
    assert [v[2] for v in vs] == [day(0), day(15)] and vs[0][4] == day(15)


def test_status_changes_are_versions_too(engine: Engine) -> None:
    w = Writer(engine)
    w.record("a.example", [robots(0, OPEN), robots(7, None, "unreachable"), robots(14, OPEN)])
    assert [v[0] for v in versions(engine, "a.example")] == ["ok", "unreachable", "ok"]


def test_run_lifecycle_done_interrupted_failed_and_resume(engine: Engine) -> None:
    from tracker.store import CrawlRun
    from tracker.store.runs import Run

    def status(run_id: int) -> tuple[str, int, object]:
        with engine.connect() as conn:
            row = conn.execute(select(CrawlRun).where(CrawlRun.id == run_id)).one()
        return row.status, row.sites, row.finished_at

    with Run.open(engine, "live", "sites.csv") as run:
        run.record([("a.example", [robots(0, OPEN)])])
        run.counts.sites = 1
    assert status(run.id)[:2] == ("done", 1) and status(run.id)[2] is not None
    assert run.counts.new_versions == 1

    with pytest.raises(KeyboardInterrupt), Run.open(engine, "live", "other.csv") as run2:
        run2.record([("b.example", [robots(0, OPEN)])])
        raise KeyboardInterrupt
    assert status(run2.id)[0] == "interrupted"

    # Resuming takes the unfinished run over, with the sites it had recorded.
    with Run.open(engine, "live", "other.csv", resume=True) as again:
        assert again.id == run2.id and again.resumed
        assert again.done == {again.site_id("b.example")}
    assert status(run2.id)[0] == "done"

    with pytest.raises(RuntimeError), Run.open(engine, "archive", "/x"):
        raise RuntimeError("disk full")
    # A run left 'running' (killed) is marked interrupted when the next run of the same source starts.
    killed = Run.open(engine, "archive", "/y")
    later = Run.open(engine, "archive", "/y")
    assert status(killed.id)[0] == "interrupted" and later.id != killed.id


def test_evaluations_are_computed_once_per_ruleset(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    w = Writer(engine)
    for i in range(20):
        w.record(f"s{i}.example", [robots(0, BLOCK + f"Sitemap: https://s{i}.example/x\n".encode())])
    w.record("open.example", [robots(0, OPEN)])
    assert evaluate.ensure_evaluations(engine, ["GPTBot", "CCBot"]) == 4  # 2 rulesets × 2 agents
    assert evaluate.ensure_evaluations(engine, ["GPTBot", "CCBot"]) == 0
    ev = evaluate.load_evaluations(engine, ["GPTBot"])["gptbot"]
    assert sorted(ev.values()) == [(False, True, "full_block"), (True, False, "partial_block")]
    # A new parser version invalidates the cache.
    monkeypatch.setattr(evaluate, "PARSER_VERSION", "test-next")
    assert evaluate.ensure_evaluations(engine, ["GPTBot"]) == 2
    with engine.connect() as conn:
        versions_left = set(conn.execute(select(Evaluation.parser_version)).scalars())
    assert versions_left == {"test-next"}


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=40, deadline=None)
@given(seq=st.lists(st.tuples(st.integers(0, 60), st.sampled_from([OPEN, BLOCK, None])), min_size=1, max_size=12))
@pytest.mark.slow
def test_store_then_load_matches_the_observations(
    backend: str, tmp_path_factory: pytest.TempPathFactory, seq: list
) -> None:
    """Whatever the order, the version in effect at each observed day holds what was observed that day."""
    engine = open_store(new_store_url(backend, tmp_path_factory.mktemp("h")))
    latest: dict[int, bytes | None] = {}
    for n, body in seq:
        latest[n] = body  # a later observation of the same day replaces an earlier one in this model
    obs = [robots(n, b, "ok" if b is not None else "unreachable") for n, b in latest.items()]
    Writer(engine).record("p.example", obs)
    vs = versions(engine, "p.example")
    with engine.connect() as conn:
        bodies = {bid: zlib.decompress(c) for bid, c in conn.execute(select(Body.id, Body.content))}
    for n, body in latest.items():
        in_effect = [v for v in vs if v[2] <= day(n) and (v[4] is None or day(n) < v[4])]
        assert len(in_effect) == 1
        got = bodies.get(in_effect[0][1]) if in_effect[0][1] is not None else None
        assert got == body
    # consecutive versions differ (no version is opened for an unchanged fetch)
    for a, b in itertools.pairwise(vs):
        assert (a[0], a[1]) != (b[0], b[1])
        assert a[4] == b[2]


def _events(engine: Engine) -> dict[tuple, tuple[int, int]]:
    from tracker.store.models import VersionEvent

    with engine.connect() as conn:
        rows = conn.execute(
            select(
                VersionEvent.kind,
                VersionEvent.day,
                VersionEvent.status,
                VersionEvent.ruleset_id,
                VersionEvent.category,
                VersionEvent.starts,
                VersionEvent.ends,
            )
        ).all()
    return {tuple(r[:5]): (r[5], r[6]) for r in rows if r[5] or r[6]}


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=30, deadline=None)
@given(
    batches=st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["a.example", "b.example"]), st.integers(0, 40), st.sampled_from([OPEN, BLOCK, None])
            ),
            min_size=1,
            max_size=6,
        ),
        min_size=1,
        max_size=4,
    )
)
@pytest.mark.slow
def test_version_events_stay_equal_to_a_rebuild(
    backend: str, tmp_path_factory: pytest.TempPathFactory, batches: list
) -> None:
    """The counts the writer maintains incrementally equal a recount from the versions, whatever the order."""
    from tracker.store.writer import rebuild_events

    engine = open_store(new_store_url(backend, tmp_path_factory.mktemp("ev")))
    w = Writer(engine)
    for batch in batches:
        items: dict[str, list[Observation]] = {}
        for domain, n, body in batch:
            items.setdefault(domain, []).append(robots(n, body, "ok" if body is not None else "unreachable"))
        w.record_batch(list(items.items()))
    incremental = _events(engine)
    rebuild_events(engine)
    assert incremental == _events(engine)


def test_homepages_are_versioned_by_their_signals_not_their_bytes(engine: Engine) -> None:
    w = Writer(engine)
    page = lambda n, html, signals: Observation("homepage", day(n), "ok", 200, body=html, signals=signals)  # noqa: E731
    w.record(
        "a.example", [page(0, b"<html>ad 1</html>", {"noai": False}), page(1, b"<html>ad 2</html>", {"noai": False})]
    )
    assert count(engine, Body) == 0  # homepage bytes change on every visit and are not kept
    assert len(versions(engine, "a.example")) == 1
    w.record("a.example", [page(2, b"<html>ad 3</html>", {"noai": True})])
    assert len(versions(engine, "a.example")) == 2
