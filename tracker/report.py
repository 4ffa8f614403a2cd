"""Exports: the latest state of every site (JSONL or CSV), a public interface documented in the README.

One record per site with a robots.txt observation::

    {"domain": "example.com", "fetched_at": "2026-11-26T12:00:00+00:00", "robots_status": "ok",
     "http_status": 200, "final_url": null, "error": null,
     "agents": {"GPTBot": {"allowed_root": false, "named": true, "stance": "full_block"}, ...}}

``robots_status`` is the fetch status class (ok, no_robots, blocked_4xx, unreachable, network_error,
redirect_loop, soft404_html, empty); for every status but ``ok`` the agents' stance is ``no_robots`` (nothing
restricted) or ``unreachable`` (RFC 9309: complete disallow; never counted as allowed or blocked).
CSV flattens the agents into ``<token>.allowed_root``, ``<token>.named`` and ``<token>.stance`` columns, and
neutralises cells that a spreadsheet would read as a formula.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import Engine, select

from tracker.agents import AgentRegistry
from tracker.crawl import UNREACHABLE
from tracker.evaluate import load_evaluations
from tracker.store.models import Site, Version

__all__ = ["csv_safe", "latest_records", "write_latest"]

_versions = Version.__table__  # type: ignore[attr-defined]
_sites = Site.__table__  # type: ignore[attr-defined]


def csv_safe(value: object) -> object:
    """Neutralise spreadsheet formula injection: text must not start with = + - @ or a tab/CR."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def latest_records(engine: Engine, registry: AgentRegistry) -> Iterator[dict[str, Any]]:
    """The current robots.txt state of every site, with each registry agent's verdict for '/' and stance."""
    tokens = [a.token for a in registry]
    evals = load_evaluations(engine, tokens)
    c = _versions.c
    q = (
        select(_sites.c.domain, c.last_seen, c.status, c.http_status, c.ruleset_id, c.final_url, c.error)
        .select_from(_versions.join(_sites, _sites.c.id == c.site_id))
        .where(c.kind == "robots", c.valid_to.is_(None))
        .order_by(_sites.c.rank.is_(None), _sites.c.rank, _sites.c.domain)
    )
    with engine.connect() as conn:
        for domain, last_seen, status, http_status, rid, final_url, error in conn.execute(q):
            agents: dict[str, dict[str, Any]] = {}
            for token in tokens:
                if status == "ok" and rid:
                    ev = evals[token.lower()].get(rid)
                    allowed, named, stance = ev if ev else (True, False, "allowed")
                elif status in UNREACHABLE:
                    allowed, named, stance = False, False, "unreachable"
                else:
                    allowed, named, stance = True, False, "no_robots"
                agents[token] = {"allowed_root": allowed, "named": named, "stance": stance}
            yield {
                "domain": domain,
                "fetched_at": last_seen.isoformat() if last_seen else None,
                "robots_status": status,
                "http_status": http_status,
                "final_url": final_url,
                "error": error,
                "agents": agents,
            }


def write_latest(engine: Engine, registry: AgentRegistry, out: IO[str], fmt: str = "jsonl") -> int:
    """Write the latest-state export as JSONL or CSV; return the number of records."""
    n = 0
    if fmt == "jsonl":
        for rec in latest_records(engine, registry):
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
        return n
    if fmt != "csv":
        raise ValueError(f"format must be jsonl or csv, not {fmt!r}")
    tokens = [a.token for a in registry]
    w = csv.writer(out)
    base = ["domain", "fetched_at", "robots_status", "http_status", "final_url", "error"]
    w.writerow(base + [f"{t}.{k}" for t in tokens for k in ("allowed_root", "named", "stance")])
    for rec in latest_records(engine, registry):
        row = [csv_safe(rec[k]) for k in base]
        for t in tokens:
            a = rec["agents"][t]
            row += [a["allowed_root"], a["named"], a["stance"]]
        w.writerow(row)
        n += 1
    return n
