"""SQL views for people who query the store directly (sqlite3, Datasette, DuckDB, psql): the questions people ask,
answered in the project's own words, agents spelled as the registry spells them.

- ``agent_states``: every robots.txt version of every site × every agent the store evaluates — when it began
  (``first_seen``) and ended (``valid_to``, NULL for the current one), the robots.txt status, the agent's
  ``stance``, ``via`` (``named``: a group naming the agent; ``inherited``: the '*' group; ``none``), ``allowed_root``
  and ``blocked`` (the trends' definition: may not fetch '/'; NULL when robots.txt was unreachable, which is counted
  apart, never as allowed or blocked), and ``starts_state`` (1 where the stance or its source changed).
- ``current_agent_states``: the current row of each site × agent, with ``since``: the first day of the current
  unbroken stretch of that stance and source (an unreachable fetch in between breaks it).
- ``agent_changes``: the stored change events of an agent's stance with the site's domain and rank, the ``after``
  state split into ``after_stance`` and ``after_via`` (the events write an inherited block as ``full_block via *``).

The stance of a version mirrors :func:`tracker.store.queries.robots_verdict` (tests/test_store_views.py checks
they agree); the views read the evaluations of this parser version, and ``db migrate`` re-creates them when it
changes.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, text

from tracker.records.vocabulary import UNREACHABLE, VIA
from tracker.rules.agents import load_registry
from tracker.rules.robots import PARSER_VERSION
from tracker.store.models import AgentRow

__all__ = ["VIEWS", "create_views", "drop_views", "refresh_agents"]

_agents = AgentRow.__table__  # type: ignore[attr-defined]


def _quoted(values: object) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in sorted(values))  # type: ignore[call-overload]


def _via(column: str) -> str:
    cases = " ".join(f"WHEN '{source}' THEN '{via}'" for source, via in VIA.items())
    return f"CASE {column} {cases} ELSE 'none' END"


def _view_sql(parser_version: str) -> dict[str, str]:
    unreachable = _quoted(UNREACHABLE)
    rules = "v.status = 'ok' AND v.ruleset_id IS NOT NULL"
    base = f"""
SELECT v.site_id, s.domain, s.rank, s.category, a.token AS agent, a.company, a.purpose,
       v.id AS version_id, v.first_seen, v.valid_to, v.last_seen, v.source, v.status AS robots_status,
       CASE WHEN {rules} THEN COALESCE(e.stance, 'allowed')
            WHEN v.status IN ({unreachable}) THEN 'unreachable' ELSE 'no_robots' END AS stance,
       CASE WHEN {rules} THEN {_via("e.source")} ELSE 'none' END AS via,
       CASE WHEN {rules} THEN COALESCE(e.root_allowed, TRUE)
            WHEN v.status IN ({unreachable}) THEN FALSE ELSE TRUE END AS allowed_root,
       CASE WHEN {rules} THEN NOT COALESCE(e.root_allowed, TRUE)
            WHEN v.status IN ({unreachable}) THEN NULL ELSE FALSE END AS blocked
FROM versions v
JOIN sites s ON s.id = v.site_id
CROSS JOIN agents a
LEFT JOIN evaluations e
       ON e.ruleset_id = v.ruleset_id AND e.agent = a.key AND e.parser_version = '{parser_version}'
WHERE v.kind = 'robots'"""
    return {
        "agent_states": f"""
SELECT b.*,
       CASE WHEN LAG(b.stance) OVER w IS NULL OR LAG(b.stance) OVER w <> b.stance OR LAG(b.via) OVER w <> b.via
            THEN 1 ELSE 0 END AS starts_state
FROM ({base}) b
WINDOW w AS (PARTITION BY b.site_id, b.agent ORDER BY b.first_seen)""",
        "current_agent_states": """
SELECT t.domain, t.rank, t.category, t.agent, t.company, t.purpose, t.robots_status, t.stance, t.via,
       t.allowed_root, t.blocked, t.since, t.first_seen, t.last_seen, t.source, t.site_id, t.version_id
FROM (SELECT x.*, MAX(CASE WHEN x.starts_state = 1 THEN x.first_seen END)
                      OVER (PARTITION BY x.site_id, x.agent) AS since
      FROM agent_states x) t
WHERE t.valid_to IS NULL""",
        "agent_changes": """
SELECT s.domain, s.rank, s.category, c.agent, c.at, c.previous_seen, c.before, c.after,
       CASE WHEN c.after LIKE '% via *' THEN SUBSTR(c.after, 1, LENGTH(c.after) - 6) ELSE c.after END AS after_stance,
       CASE WHEN c.after LIKE '% via *' THEN 'inherited' ELSE 'named' END AS after_via,
       c.change, c.source, c.version_id, c.previous_version_id, c.site_id
FROM change_events c JOIN sites s ON s.id = c.site_id
WHERE c.signal = 'robots'""",
    }


#: The views, in the order they are created (a view reads those before it).
VIEWS: tuple[str, ...] = tuple(_view_sql(PARSER_VERSION))


def drop_views(conn: Connection) -> None:
    """Drop the views (before a schema change, or to re-create them)."""
    for name in reversed(VIEWS):
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")


def create_views(conn: Connection, parser_version: str = PARSER_VERSION) -> None:
    """(Re-)create the views over this parser version's evaluations."""
    drop_views(conn)
    for name, sql in _view_sql(parser_version).items():
        conn.execute(text(f"CREATE VIEW {name} AS {sql}"))  # text(): a driver that formats with % is safe


def refresh_agents(conn: Connection) -> int:
    """Write the ``agents`` table: the packaged registry's agents (those the store evaluates), as it spells them."""
    rows = [
        {"key": a.token.lower(), "token": a.token, "company": a.company, "purpose": a.purpose, "ai": a.ai}
        for a in load_registry(None)
    ]
    conn.execute(delete(_agents))
    if rows:
        conn.execute(insert(_agents), rows)
    return len(rows)
