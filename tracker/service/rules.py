"""Use cases over the pure rules, needing no store: one robots.txt (the ``robots`` command) and the agent registry
(``agents list``). Light on purpose — no database engine, no HTTP client until a fetch — so they start at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.config.settings import Settings
from tracker.errors import ParameterError
from tracker.records.json import Json
from tracker.records.robots import RobotsReport
from tracker.records.vocabulary import Purpose
from tracker.rules.agents import Agent, AgentRegistry

__all__ = ["AgentSelection", "agents", "robots"]


@dataclass(frozen=True, slots=True)
class AgentSelection:
    """Some of the registry's agents, in registry order (iterable, sized, ``in``-testable like the list it was)."""

    agents: tuple[Agent, ...]

    def __iter__(self) -> Iterator[Agent]:
        return iter(self.agents)

    def __len__(self) -> int:
        return len(self.agents)

    def __contains__(self, agent: object) -> bool:
        return agent in self.agents

    def as_json(self) -> list[Json]:
        """The ``agents list --format json`` document (and the API's ``/v1/agents``): each agent's registry entry."""
        return [a.to_json() for a in self.agents]


def agents(registry: AgentRegistry, *, purpose: Purpose | None = None, company: str | None = None) -> AgentSelection:
    """The registry's agents, of a purpose or a company."""
    return AgentSelection(tuple(registry.select(purpose=purpose, company=company)))


#: A host name (with an optional port): what ``robots`` fetches when its target is not a file.
_DOMAIN = re.compile(r"^(?=.{1,253}$)([^\s/:.]{1,63}\.)+[^\s/:.]{2,63}\.?(:\d{1,5})?$")


def robots(
    target: str,
    settings: Settings,
    *,
    agents: list[str] | None = None,
    all_agents: bool = False,
    urls: list[str] | None = None,
    body: bytes | None = None,
    ca_bundle: str | None = None,
) -> RobotsReport:
    """One robots.txt — a file, ``body`` (read by the face, e.g. from standard input, named ``target``), or fetched
    from a domain or URL — with each agent's stance and whether it may fetch each URL (default '/'); the agents:
    those asked, or every registry agent, or the core panel."""
    from tracker.analysis.robots_file import robots_report
    from tracker.fetch.outcome import fetch_from_body
    from tracker.rules.agents import CORE_PANEL
    from tracker.service.inputs import load_registry

    reg = load_registry(settings)
    tokens = list(agents or []) + ([a.token for a in reg] if all_agents else [])
    names, _unknown = reg.resolve(tokens or list(CORE_PANEL))
    described: list[tuple[str, str | None, str | None]] = []
    for name in names:
        a = reg.get(name)
        purpose = a.purpose if a else ("the '*' group" if name == "*" else None)
        described.append((name, a.company if a else None, purpose))
    if body is not None:
        fetch = fetch_from_body(target, body)
    elif (path := Path(target)).is_file():
        try:
            fetch = fetch_from_body(str(path), path.read_bytes())
        except OSError as e:
            raise ParameterError(f"cannot read {path}: {e.strerror or e}", "target") from None
    elif path.exists():
        raise ParameterError(f"{target} is not a regular file", "target")
    elif "://" not in target and not _DOMAIN.match(target):
        if "/" in target or target.endswith(".txt"):
            raise ParameterError(f"no such file: {target}", "target")
        raise ParameterError(f"{target!r} is neither a file nor a domain or URL", "target")
    else:
        import asyncio

        from tracker.fetch.http import fetch_robots, make_client

        async def run() -> Any:
            async with make_client(
                user_agent=settings.header(), timeout=settings.timeout, verify=ca_bundle or True
            ) as client:
                return await fetch_robots(client, target, allow_private=settings.allow_private)

        fetch = asyncio.run(run())
    return robots_report(fetch, described, list(urls or ["/"]))
