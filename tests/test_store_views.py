"""The SQL views (tracker.store.views) answer in the project's words and agree with the Python readers: the stance
and verdict of every robots.txt version × agent equal tracker.store.queries.robots_verdict's, agents are spelled as
the registry spells them, ``via`` is named / inherited / none, ``since`` starts the current unbroken stretch, and
the change events' inherited blocks are split out. On SQLite and, when a server is given, PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tests.conftest import corpus_path, needs_corpus
from tracker.pipeline.changes import CHANGE_AGENTS, detect_changes
from tracker.store import open_store, queries
from tracker.store.writer import Observation, Writer, evaluated_agents, refresh_derived

OPEN = b"User-agent: *\nDisallow: /private/\n"
BLOCK = b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n"
STAR_BLOCK = b"User-agent: *\nDisallow: /\n"


def day(n: int) -> datetime:
    return datetime(2025, 3, 1, 12, tzinfo=UTC) + timedelta(days=n)


def _build(url: str) -> Engine:
    engine = open_store(url)
    w = Writer(engine)
    w.record(
        "a.test",
        [
            Observation("robots", day(0), "ok", 200, body=OPEN),
            Observation("robots", day(10), "ok", 200, body=BLOCK),
            Observation("robots", day(20), "unreachable", 503, error="HTTP 503"),
            Observation("robots", day(30), "ok", 200, body=OPEN + b"# a comment\n"),
            Observation("robots", day(40), "ok", 200, body=OPEN + b"Sitemap: https://a.test/s.xml\n"),
        ],
    )
    w.record(
        "b.test",
        [
            Observation("robots", day(0), "ok", 200, body=STAR_BLOCK),
            Observation("robots", day(5), "no_robots", 404),
        ],
    )
    w.record("c.test", [Observation("robots", day(1), "ok", 200, body=STAR_BLOCK)])
    detect_changes(engine, [w.site_id(d) for d in ("a.test", "b.test", "c.test")], list(CHANGE_AGENTS))
    return engine


def _rows(engine: Engine, sql: str, **params: object) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def _day(value: object) -> str:
    return str(value)[:10]


def test_every_version_and_agent_agrees_with_the_python_reader(store_url: str) -> None:
    engine = _build(store_url)
    rows = _rows(engine, "SELECT * FROM agent_states")
    agents = {r["agent"] for r in rows}
    assert "GPTBot" in agents and "gptbot" not in agents  # the registry's spelling, not the evaluations' key
    assert len(agents) == len(evaluated_agents())
    evals = queries.evaluations(engine, evaluated_agents())
    for r in rows:
        version = r["version_id"]
        with engine.connect() as conn:
            status, ruleset = conn.execute(
                text("SELECT status, ruleset_id FROM versions WHERE id = :v"), {"v": version}
            ).one()
        allowed, _named, stance = queries.robots_verdict(
            status, ruleset, evals[str(r["agent"]).lower()].get(ruleset or 0)
        )
        assert (r["stance"], bool(r["allowed_root"])) == (stance, allowed), r
        assert r["via"] in ("named", "inherited", "none")
        assert r["blocked"] is None if status == "unreachable" else bool(r["blocked"]) is (not allowed), r


def test_the_questions_people_ask(store_url: str) -> None:
    engine = _build(store_url)
    gpt = {
        r["domain"]: r
        for r in _rows(engine, "SELECT * FROM agent_states WHERE agent = 'GPTBot' ORDER BY domain, first_seen")
        if r["domain"] == "a.test"
    }
    history = _rows(
        engine,
        "SELECT first_seen, stance, via, blocked, starts_state FROM agent_states "
        "WHERE domain = 'a.test' AND agent = 'GPTBot' ORDER BY first_seen",
    )
    assert gpt and [(h["stance"], h["via"], h["starts_state"]) for h in history] == [
        ("partial_block", "inherited", 1),
        ("full_block", "named", 1),
        ("unreachable", "none", 1),
        ("partial_block", "inherited", 1),
        ("partial_block", "inherited", 0),
    ]  # day 40 is a new body with the same rules: a new version, the same stretch
    now = {
        (r["domain"], r["agent"]): r
        for r in _rows(engine, "SELECT * FROM current_agent_states WHERE agent IN ('GPTBot', 'CCBot')")
    }
    assert _day(now["a.test", "GPTBot"]["since"]) == "2025-03-31"  # the stretch after the unreachable fetch
    assert now["b.test", "GPTBot"]["stance"] == "no_robots" and not now["b.test", "GPTBot"]["blocked"]
    blocked = _rows(
        engine, "SELECT domain, via, since FROM current_agent_states WHERE agent = 'GPTBot' AND blocked ORDER BY domain"
    )
    assert [(b["domain"], b["via"], _day(b["since"])) for b in blocked] == [("c.test", "inherited", "2025-03-02")]
    changes = _rows(
        engine,
        "SELECT domain, after, after_stance, after_via, change FROM agent_changes WHERE agent = 'GPTBot' ORDER BY at",
    )
    assert ("a.test", "full_block", "full_block", "named", "restriction") in {tuple(c.values()) for c in changes}
    inherited = [c for c in changes if c["after"].endswith(" via *")]  # type: ignore[union-attr]
    assert inherited and all(c["after_via"] == "inherited" and " " not in c["after_stance"] for c in inherited)  # type: ignore[operator]


def test_db_migrate_makes_the_views_again(tmp_path: Path) -> None:
    engine = _build(str(tmp_path / "m.db"))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP VIEW current_agent_states")
        conn.exec_driver_sql("DROP VIEW agent_states")
        conn.exec_driver_sql("DELETE FROM agents")
    refresh_derived(engine)
    assert _rows(engine, "SELECT count(*) AS n FROM current_agent_states WHERE agent = 'GPTBot'")[0]["n"] == 3


@needs_corpus
@pytest.mark.corpus
@pytest.mark.slow
def test_which_top_sites_block_gptbot_and_since_when_on_the_corpus(tmp_path: Path) -> None:
    from tracker.pipeline.archive_import import import_archive

    engine = open_store(tmp_path / "c.db")
    import_archive(engine, corpus_path("history"))
    blocked = {
        r["domain"]: r
        for r in _rows(engine, "SELECT domain, via, since FROM current_agent_states WHERE agent = 'GPTBot' AND blocked")
    }
    # the same sites as the readers' verdicts on each site's current robots.txt
    evals = queries.evaluations(engine, ["GPTBot"])["gptbot"]
    with engine.connect() as conn:
        current = conn.execute(
            text(
                "SELECT s.domain, v.status, v.ruleset_id FROM versions v JOIN sites s ON s.id = v.site_id "
                "WHERE v.kind = 'robots' AND v.valid_to IS NULL"
            )
        ).all()
    expected = {
        d
        for d, status, rs in current
        if not queries.robots_verdict(status, rs, evals.get(rs or 0))[0]
        and status != "unreachable"
        and status != "network_error"
    }
    assert set(blocked) == expected and len(expected) > 100
    assert blocked["nytimes.com"]["via"] == "named" and _day(blocked["nytimes.com"]["since"]) == "2023-08-20"
    # the change events' spelling "full_block via *" no longer hides inherited blocks from a LIKE on 'full_block'
    inherited = _rows(
        engine,
        "SELECT count(*) AS n FROM agent_changes WHERE agent = 'GPTBot' AND after_stance = 'full_block' "
        "AND after_via = 'inherited'",
    )[0]["n"]
    assert isinstance(inherited, int)
