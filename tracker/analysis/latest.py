"""Exports: the latest state of every site (JSONL or CSV), and everything known about one site.

A public interface documented in the README ("export latest"). One record per site with a robots.txt
observation::

    {"domain": "example.com", "fetched_at": "2026-11-26T12:00:00+00:00", "robots_status": "ok",
     "http_status": 200, "final_url": null, "error": null,
     "agents": {"GPTBot": {"allowed_root": false, "named": true, "stance": "full_block",
                           "training_optout": true, "training_optout_sources": ["content_signal"]}, ...},
     "signals": {...}, "adoption": {"content_signal": true, "noai": null, ...}}

``robots_status`` is the fetch status class (tracker.records.vocabulary.FETCH_STATUSES); for every status but ``ok`` the
agents' stance is ``no_robots`` (nothing restricted) or ``unreachable`` (RFC 9309: complete disallow; never counted
as allowed or blocked). Use preferences come from :mod:`tracker.rules.signals.preferences`, and only from there:
``training_optout`` is null when it was not observed (no homepage fetched and no source saying "no"), and
``adoption`` is each signal's one reading (the one ``trends --signal`` and the change events use; null: not
observed). CSV flattens the agents, signals and adoption into columns, writes an empty cell for null, and
neutralises cells a spreadsheet would read as a formula.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

from sqlalchemy import Engine

from tracker.pipeline.changes import site_changes
from tracker.records.csv_safety import csv_safe
from tracker.records.site import AgentVerdict, SiteHistory, SiteInfo, SiteState, VersionChange, VersionEntry
from tracker.records.vocabulary import SIGNAL_NAMES, ExportFormat
from tracker.rules.agents import CORE_PANEL, AgentRegistry
from tracker.rules.signals.preferences import SitePreferences, site_preferences
from tracker.store import queries
from tracker.store.queries import LatestState

__all__ = [
    "latest_records",
    "site_agents",
    "site_history",
    "write_latest",
]


def _agent_records(
    state: queries.LatestState,
    prefs: SitePreferences,
    tokens: Sequence[str],
    evals: dict[str, dict[int, queries.EvaluationRow]],
) -> dict[str, AgentVerdict]:
    """Each agent's verdict for '/', stance and training preference on a site now."""
    robots = state.robots
    agents: dict[str, AgentVerdict] = {}
    for token in tokens:
        allowed, named, stance = queries.robots_verdict(
            robots.status, robots.ruleset_id, evals[token.lower()].get(robots.ruleset_id or 0)
        )
        pref = prefs.for_agent(token)
        agents[token] = AgentVerdict(allowed, named, stance, pref.training_optout, pref.sources)
    return agents


def latest_records(engine: Engine, registry: AgentRegistry, *, domain: str | None = None) -> Iterator[SiteState]:
    """The current state of every site: robots.txt status, each registry agent's verdict for '/', stance and
    training preference, the site's use preferences and each signal's adoption."""
    tokens = [a.token for a in registry]
    states: Iterable[LatestState] = queries.latest_states(engine, domain=domain)
    if domain is None:
        evals = queries.evaluations(engine, tokens)
    else:
        # One site: the evaluations of its current ruleset only, not every ruleset's (0.5 s on the corpus history).
        states = list(states)
        evals = queries.evaluations(
            engine, tokens, sorted({s.robots.ruleset_id for s in states if s.robots.ruleset_id})
        )
    for state in states:
        robots = state.robots
        prefs = site_preferences(state.resources)
        yield SiteState(
            domain=state.site.domain,
            fetched_at=robots.last_seen,
            robots_status=robots.status,
            http_status=robots.http_status,
            final_url=robots.final_url,
            error=robots.error,
            agents=_agent_records(state, prefs, tokens, evals),
            signals=prefs.signals,
            adoption=dict(prefs.adoption),
        )


_SIGNAL_COLUMNS = (
    "noai",
    "noml",
    "noimageai",
    "tdm_reservation",
    "content_signal",
    "content_usage",
    "rsl_license",
    "ai_txt",
    "llms_txt",
    "tos_url",
)
_AGENT_COLUMNS = ("allowed_root", "named", "stance", "training_optout")
_BASE_COLUMNS = ("domain", "fetched_at", "robots_status", "http_status", "final_url", "error")


def _cell(value: object) -> object:
    """A CSV cell: null is an empty cell (never "False"), text is formula-safe."""
    return "" if value is None else csv_safe(value)


def _csv_row(state: SiteState, tokens: Sequence[str]) -> list[object]:
    rec = state.as_dict()
    s = state.signals
    flat: dict[str, object] = {k: v for k, v in s.as_dict().items() if not isinstance(v, dict)}
    flat["content_signal"] = ",".join(f"{k}={v}" for k, v in sorted(s.content_signal.items()))
    flat["content_usage"] = ",".join(f"{k}={v}" for k, v in sorted(s.content_usage.items()))
    flat["tos_url"] = s.tos.url
    row: list[object] = [_cell(rec[k]) for k in _BASE_COLUMNS]
    row += [_cell(flat[k]) for k in _SIGNAL_COLUMNS]
    row += [_cell(state.adoption[k]) for k in SIGNAL_NAMES]
    for t in tokens:
        verdict = state.agents[t].as_dict()
        row += [_cell(verdict[k]) for k in _AGENT_COLUMNS]
    return row


def write_latest(
    engine: Engine, registry: AgentRegistry, out: IO[str], fmt: ExportFormat | str = ExportFormat.jsonl
) -> int:
    """Write the latest-state export as JSONL or CSV; return the number of records."""
    fmt = ExportFormat(fmt)
    n = 0
    if fmt is ExportFormat.jsonl:
        for rec in latest_records(engine, registry):
            out.write(json.dumps(rec.as_dict(), ensure_ascii=False) + "\n")
            n += 1
        return n
    tokens = [a.token for a in registry]
    w = csv.writer(out)
    w.writerow(
        list(_BASE_COLUMNS)
        + [f"signals.{k}" for k in _SIGNAL_COLUMNS]
        + [f"adoption.{k}" for k in SIGNAL_NAMES]
        + [f"{t}.{k}" for t in tokens for k in _AGENT_COLUMNS]
    )
    for rec in latest_records(engine, registry):
        w.writerow(_csv_row(rec, tokens))
        n += 1
    return n


def _history_entry(
    v: queries.StoredResource,
    agents: Sequence[str],
    evals: dict[str, dict[int, queries.EvaluationRow]],
    changes: Sequence[VersionChange],
    *,
    first: bool,
) -> VersionEntry:
    stances: dict[str, str] | None = None
    if v.kind == "robots":
        stances = {
            a: str(queries.robots_verdict(v.status, v.ruleset_id, evals[a.lower()].get(v.ruleset_id or 0))[2])
            for a in agents
        }
    return VersionEntry(
        kind=v.kind,
        status=v.status,
        http_status=v.http_status,
        first_seen=v.first_seen,
        valid_to=v.valid_to,
        last_seen=v.last_seen,
        observations=v.observations,
        source=v.source,
        error=v.error,
        first=first,
        agents=stances,
        signals=v.signals if stances is None and v.signals else None,
        changes=tuple(changes),
    )


def site_agents(registry: AgentRegistry, asked: Sequence[str] | None = None) -> list[str]:
    """The agents ``site`` (and the dashboard's Sites page) shows: those asked for, as the registry spells them, or
    else the core panel's agents the registry has (CCBot, Google-Extended, Applebot-Extended … besides OpenAI's and
    Anthropic's) — the agents the stored change events follow."""
    if asked:
        return registry.resolve(asked)[0]
    return [t for t in CORE_PANEL if t != "*" and t in registry]


def site_history(engine: Engine, registry: AgentRegistry, domain: str, agents: Sequence[str]) -> SiteHistory | None:
    """Everything known about one site: its current state (``current``, the export's record), each of these agents'
    stance and training preference now (``agents``), and every version of every resource — the first with what it
    said (robots.txt: per agent; other resources: their signals), each later one with every change it made to these
    agents' stances and to every signal (tracker.pipeline.changes). None if the site is unknown."""
    site = queries.find_site(engine, domain)
    if site is None:
        return None
    versions = queries.site_versions(engine, site.id, bodies=True)
    evals = queries.evaluations(engine, agents, sorted({v.ruleset_id for v in versions if v.ruleset_id}))
    by_version: dict[int | None, list[VersionChange]] = {}
    for c in site_changes(versions, agents, evals):
        by_version.setdefault(c.version_id, []).append(
            VersionChange(c.agent or None, c.signal, c.before, c.after, c.change)
        )
    history: list[VersionEntry] = []
    seen_kinds: set[str] = set()
    for v in versions:
        history.append(
            _history_entry(v, agents, evals, by_version.get(v.version_id, []), first=v.kind not in seen_kinds)
        )
        seen_kinds.add(v.kind)
    current = next(latest_records(engine, registry, domain=domain), None)
    now: dict[str, AgentVerdict] = {}
    for state in queries.latest_states(engine, domain=domain):
        now = _agent_records(state, site_preferences(state.resources), agents, evals)
    return SiteHistory(
        site=SiteInfo(site.domain, site.rank, site.category, site.list_source),
        current=current,
        agents=now,
        history=tuple(history),
    )
