"""The evaluation cache: each agent's verdict for '/' and stance, computed once per distinct ruleset.

A million sites that share three robots.txt rule sets are evaluated three times per agent. Rows carry the parser
version (:data:`tracker.rules.robots.PARSER_VERSION`); rows of another version are dropped and recomputed, so a parser
fix re-reads the whole history on the next query. The store reads and writes the rows; this module computes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine

from tracker.rules.robots import PARSER_VERSION, parse_robots
from tracker.rules.vocabulary import UNREACHABLE, StanceName
from tracker.store import queries

__all__ = ["ensure_evaluations", "load_evaluations", "robots_verdict"]


def ensure_evaluations(engine: Engine, agents: Iterable[str], ruleset_ids: Sequence[int] | None = None) -> int:
    """Compute whatever evaluations are missing for these agents (of every ruleset, or of the given ones); return
    how many rows were added."""
    wanted = sorted({a.lower() for a in agents})
    if not wanted:
        return 0
    queries.delete_evaluations_except(engine, PARSER_VERSION)
    todo = queries.rulesets_missing(engine, wanted, PARSER_VERSION, ruleset_ids)
    added = 0
    rows: list[dict[str, Any]] = []
    for rid, body, truncated in queries.ruleset_samples(engine, list(todo)):
        rules = parse_robots(body, truncated=truncated)
        for agent in todo[rid]:
            st = rules.stance(agent)
            rows.append(
                {
                    "ruleset_id": rid,
                    "agent": agent,
                    "parser_version": PARSER_VERSION,
                    "root_allowed": st.root_allowed,
                    "named": st.named,
                    "lenient_named": st.lenient_named,
                    "source": st.source,
                    "stance": st.stance,
                }
            )
        if len(rows) >= 5000:
            queries.insert_evaluations(engine, rows)
            added += len(rows)
            rows = []
    queries.insert_evaluations(engine, rows)
    return added + len(rows)


def load_evaluations(
    engine: Engine, agents: Iterable[str], ruleset_ids: Sequence[int] | None = None
) -> dict[str, dict[int, queries.EvaluationRow]]:
    """agent (lower case) → ruleset id → (root_allowed, named, stance), computing what is missing first (for every
    ruleset, or only the given ones)."""
    wanted = sorted({a.lower() for a in agents})
    ensure_evaluations(engine, wanted, ruleset_ids)
    return queries.load_evaluations(engine, wanted, PARSER_VERSION, ruleset_ids)


def robots_verdict(
    status: str, ruleset_id: int | None, evaluation: queries.EvaluationRow | None
) -> tuple[bool, bool, StanceName | str]:
    """(allowed_root, named, stance) of an agent under a stored robots.txt version (its status and ruleset)."""
    if status == "ok" and ruleset_id:
        return evaluation if evaluation else (True, False, "allowed")
    if status in UNREACHABLE:
        return (False, False, "unreachable")
    return (True, False, "no_robots")
