"""The evaluation cache: each agent's verdict for '/' and stance, computed once per distinct ruleset.

A million sites that share three robots.txt rule sets are evaluated three times per agent. Rows carry the parser
version (:data:`tracker.robots.PARSER_VERSION`); rows of another version are dropped and recomputed, so a parser
fix re-reads the whole history on the next query.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from sqlalchemy import Engine, and_, delete, exists, insert, select

from tracker.robots import PARSER_VERSION, parse_robots
from tracker.store.models import Body, Evaluation, RuleSet

__all__ = ["ensure_evaluations", "load_evaluations"]

_bodies = Body.__table__  # type: ignore[attr-defined]
_rulesets = RuleSet.__table__  # type: ignore[attr-defined]
_evals = Evaluation.__table__  # type: ignore[attr-defined]


def ensure_evaluations(engine: Engine, agents: Iterable[str]) -> int:
    """Compute whatever evaluations are missing for these agents; return how many rows were added."""
    wanted = sorted({a.lower() for a in agents})
    if not wanted:
        return 0
    added = 0
    with engine.begin() as conn:
        conn.execute(delete(_evals).where(_evals.c.parser_version != PARSER_VERSION))
        todo: dict[int, list[str]] = {}
        for agent in wanted:
            missing = select(_rulesets.c.id).where(
                ~exists().where(
                    and_(
                        _evals.c.ruleset_id == _rulesets.c.id,
                        _evals.c.agent == agent,
                        _evals.c.parser_version == PARSER_VERSION,
                    )
                )
            )
            for (rid,) in conn.execute(missing):
                todo.setdefault(rid, []).append(agent)
        if not todo:
            return 0
        rows = []
        ids = sorted(todo)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            # One body per ruleset is enough: every body with this ruleset evaluates the same.
            sample = (
                select(_bodies.c.ruleset_id, _bodies.c.content, _bodies.c.compression, _bodies.c.truncated)
                .where(_bodies.c.ruleset_id.in_(chunk))
                .order_by(_bodies.c.ruleset_id, _bodies.c.id)
            )
            seen: set[int] = set()
            for rid, content, compression, truncated in conn.execute(sample):
                if rid in seen:
                    continue
                seen.add(rid)
                data = zlib.decompress(content) if compression == "zlib" else bytes(content)
                rules = parse_robots(data, truncated=bool(truncated))
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
                conn.execute(insert(_evals), rows)
                added += len(rows)
                rows = []
        if rows:
            conn.execute(insert(_evals), rows)
            added += len(rows)
    return added


def load_evaluations(engine: Engine, agents: Iterable[str]) -> dict[str, dict[int, tuple[bool, bool, str]]]:
    """agent (lower case) → ruleset id → (root_allowed, named, stance), computing what is missing first."""
    wanted = sorted({a.lower() for a in agents})
    ensure_evaluations(engine, wanted)
    out: dict[str, dict[int, tuple[bool, bool, str]]] = {a: {} for a in wanted}
    with engine.connect() as conn:
        q = select(_evals.c.agent, _evals.c.ruleset_id, _evals.c.root_allowed, _evals.c.named, _evals.c.stance).where(
            _evals.c.agent.in_(wanted), _evals.c.parser_version == PARSER_VERSION
        )
        for agent, rid, root_allowed, named, stance in conn.execute(q):
            out[agent][rid] = (bool(root_allowed), bool(named), stance)
    return out
