"""The AI user-agent registry: who crawls, for whom, and for what purpose.

The registry is data (``tracker/data/agents.json``), written from the operators' own documentation. Each agent has a
product token, a company, a purpose — ``training``, ``search``, ``user`` (fetches a person asked for) or
``control`` (a robots.txt token that never crawls, such as Google-Extended) — and whether the operator says
it obeys robots.txt. Classic search crawlers (Googlebot, Bingbot…) are kept with ``ai=False`` as controls, so
reports can tell "blocks AI" from "blocks every crawler".

:func:`merge_upstream` folds in the ai.robots.txt project's ``robots.json`` without losing our own facts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from tracker.errors import RegistryError
from tracker.records.json import Json, JsonObject
from tracker.records.vocabulary import CONTROL_USE, PURPOSES, Purpose
from tracker.rules.robots import is_valid_token

__all__ = [
    "CORE_PANEL",
    "PURPOSES",
    "UPSTREAM_URL",
    "Agent",
    "AgentRegistry",
    "RegistryError",
    "default_registry_path",
    "load_registry",
    "merge_upstream",
]

OBEYS: tuple[str, ...] = ("yes", "no", "partial", "unknown", "n/a")

#: The default panel for per-site reports (signals.md §10), kept stable across snapshots; '*' is the wildcard group.
CORE_PANEL: tuple[str, ...] = (
    "GPTBot",
    "OAI-SearchBot",
    "ChatGPT-User",
    "ClaudeBot",
    "Claude-SearchBot",
    "Claude-User",
    "anthropic-ai",
    "Claude-Web",
    "Google-Extended",
    "Googlebot",
    "Applebot",
    "Applebot-Extended",
    "CCBot",
    "meta-externalagent",
    "meta-externalfetcher",
    "FacebookBot",
    "PerplexityBot",
    "Perplexity-User",
    "Bytespider",
    "Amazonbot",
    "cohere-ai",
    "cohere-training-data-crawler",
    "MistralAI-User",
    "DuckAssistBot",
    "YouBot",
    "Diffbot",
    "omgili",
    "Timpibot",
    "ImagesiftBot",
    "Bingbot",
    "*",
)

#: The ai.robots.txt project's machine-readable list (used by ``agents sync``).
UPSTREAM_URL = "https://raw.githubusercontent.com/ai-robots-txt/ai.robots.txt/main/robots.json"

# How the upstream "function" field maps onto our purposes when a token is new to us.
_UPSTREAM_FUNCTION = {
    "ai data scrapers": "training",
    "ai search crawlers": "search",
    "ai assistants": "user",
    "ai agents": "user",
    "undocumented ai agents": "unknown",
}


@dataclass(frozen=True, slots=True)
class Agent:
    """One user agent: a robots.txt product token and what its operator says it does."""

    token: str
    company: str
    purpose: Purpose
    ai: bool = True
    obeys_robots: str = "unknown"
    docs: str | None = None
    notes: str | None = None
    source: str = "consent-tracker"
    upstream_names: tuple[str, ...] = field(default_factory=tuple)

    @property
    def use(self) -> Purpose:
        """The use its robots.txt group governs: its purpose, or for a control token the use it controls
        (training: a site that blocks only Google-Extended restricts training)."""
        return CONTROL_USE if self.purpose == "control" else self.purpose

    @property
    def valid_token(self) -> bool:
        """Whether the token is a valid RFC 9309 product token (else strict matching cannot name it)."""
        return is_valid_token(self.token)

    def to_json(self) -> dict[str, Json]:
        """A JSON-ready dict (empty optional fields left out)."""
        d = asdict(self)
        d["upstream_names"] = list(self.upstream_names)
        return {k: v for k, v in d.items() if v not in (None, [], "consent-tracker") or k == "ai"}


class AgentRegistry:
    """An ordered, case-insensitive collection of agents."""

    def __init__(self, agents: Iterable[Agent], *, description: str = "") -> None:
        self._agents: dict[str, Agent] = {}
        for a in agents:
            key = a.token.lower()
            if key in self._agents:
                raise RegistryError(f"duplicate agent token {a.token!r} (tokens are case-insensitive)")
            self._agents[key] = a
        self.description = description

    def __iter__(self) -> Iterator[Agent]:
        return iter(self._agents.values())

    def __len__(self) -> int:
        return len(self._agents)

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and token.lower() in self._agents

    def get(self, token: str) -> Agent | None:
        """The agent with this token (case-insensitive), or None."""
        return self._agents.get(token.lower())

    def resolve(self, tokens: Iterable[str]) -> tuple[list[str], list[str]]:
        """Tokens as the registry spells them, in order without repeats, and those it does not know (kept as
        given: a site may still name them, so they are read as unnamed product tokens)."""
        out: dict[str, str] = {}
        unknown: list[str] = []
        for t in tokens:
            known = self.get(t)
            if known is None and t != "*" and t.lower() not in {u.lower() for u in unknown}:
                unknown.append(t)
            name = known.token if known else t
            out.setdefault(name.lower(), name)
        return list(out.values()), unknown

    def tokens(self) -> list[str]:
        """All tokens, in registry order."""
        return [a.token for a in self]

    def select(self, *, purpose: str | None = None, company: str | None = None, ai: bool | None = None) -> list[Agent]:
        """Agents filtered by purpose, company (case-insensitive) and/or AI-ness."""
        out = []
        for a in self:
            if purpose is not None and a.purpose != purpose:
                continue
            if company is not None and a.company.lower() != company.lower():
                continue
            if ai is not None and a.ai != ai:
                continue
            out.append(a)
        return out

    def for_use(self, use: str) -> list[Agent]:
        """The agents whose robots.txt group governs this use: for training, the training crawlers and the control
        tokens (Google-Extended, Applebot-Extended …); search-only and user-triggered agents never count."""
        return [a for a in self if a.use == use]

    def companies(self) -> dict[str, list[Agent]]:
        """Agents grouped by company, in registry order."""
        out: dict[str, list[Agent]] = {}
        for a in self:
            out.setdefault(a.company, []).append(a)
        return out

    def to_json(self) -> dict[str, Json]:
        """The registry file's JSON form."""
        return {"schema": 1, "description": self.description, "agents": [a.to_json() for a in self]}

    def save(self, path: Path) -> None:
        """Write the registry file atomically."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)


def _agent_from_json(d: Mapping[str, Any], where: str) -> Agent:
    try:
        token = str(d["token"]).strip()
        company = str(d.get("company") or "unknown")
        purpose = str(d["purpose"])
    except (KeyError, TypeError) as e:
        raise RegistryError(f"{where}: agent entry lacks {e}") from None
    if not token:
        raise RegistryError(f"{where}: agent entry with an empty token")
    if purpose not in PURPOSES:
        raise RegistryError(f"{where}: agent {token!r} has purpose {purpose!r}; expected one of {PURPOSES}")
    obeys = str(d.get("obeys_robots", "unknown"))
    if obeys not in OBEYS:
        raise RegistryError(f"{where}: agent {token!r} has obeys_robots {obeys!r}; expected one of {OBEYS}")
    return Agent(
        token=token,
        company=company,
        purpose=purpose,
        ai=bool(d.get("ai", True)),
        obeys_robots=obeys,
        docs=d.get("docs"),
        notes=d.get("notes"),
        source=str(d.get("source", "consent-tracker")),
        upstream_names=tuple(d.get("upstream_names", ())),
    )


def default_registry_path() -> Path:
    """The registry packaged with tracker (``tracker/data/agents.json``)."""
    return Path(str(resources.files("tracker") / "data" / "agents.json"))


def load_registry(path: str | Path | None = None) -> AgentRegistry:
    """Load the agent registry (default: the project's ``tracker/data/agents.json``)."""
    p = Path(path) if path is not None else default_registry_path()
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"agent registry not found: {p}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RegistryError(f"agent registry {p} is not readable JSON: {e}") from None
    entries = raw.get("agents") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(f"agent registry {p} has no 'agents' list")
    agents = [_agent_from_json(e, f"{p}[{i}]") for i, e in enumerate(entries) if isinstance(e, dict)]
    return AgentRegistry(agents, description=str(raw.get("description", "")))


def _upstream_token(name: str) -> str:
    """ai.robots.txt sometimes lists versioned names ('MistralAI-User/1.0'); keep the part before '/'."""
    return name.split("/", 1)[0].strip()


def merge_upstream(registry: AgentRegistry, upstream: Any) -> tuple[AgentRegistry, list[str], list[str]]:
    """Fold the ai.robots.txt ``robots.json`` (parsed, or its raw bytes) into the registry; return (merged, added,
    updated).

    Our own entries keep their purpose, company and notes; upstream only fills what we lack (docs) and records
    the names it uses. New tokens arrive with a purpose mapped from upstream's ``function`` field
    (``unknown`` when it does not say).
    """
    if isinstance(upstream, (bytes, str)):
        try:
            upstream = json.loads(upstream)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise RegistryError(f"the upstream list is not JSON: {e}") from None
    if not isinstance(upstream, dict) or not upstream:
        raise RegistryError("upstream list is not a non-empty JSON object of token -> details")
    agents: dict[str, Agent] = {a.token.lower(): a for a in registry}
    added: list[str] = []
    updated: list[str] = []
    for name, info in upstream.items():
        if not isinstance(name, str) or not name.strip():
            continue
        info = info if isinstance(info, dict) else {}
        token = _upstream_token(name)
        key = token.lower()
        existing = agents.get(key)
        if existing is not None:
            names = tuple(dict.fromkeys((*existing.upstream_names, name)))
            docs = existing.docs or _docs_from(info)
            if names != existing.upstream_names or docs != existing.docs:
                agents[key] = replace(existing, upstream_names=names, docs=docs)
                updated.append(existing.token)
            continue
        function = str(info.get("function", "")).strip().lower()
        operator = str(info.get("operator", "")).strip()
        respect = str(info.get("respect", "")).strip().lower()
        agents[key] = Agent(
            token=token,
            company=operator if operator and not operator.lower().startswith("unclear") else "unknown",
            purpose=_UPSTREAM_FUNCTION.get(function, "unknown"),  # type: ignore[arg-type]
            ai=True,
            obeys_robots="yes" if respect.startswith("yes") else "no" if respect.startswith("no") else "unknown",
            docs=_docs_from(info),
            notes=(str(info.get("description"))[:300] or None) if info.get("description") else None,
            source="ai.robots.txt",
            upstream_names=(name,),
        )
        added.append(token)
    return AgentRegistry(agents.values(), description=registry.description), added, updated


def _docs_from(info: JsonObject) -> str | None:
    desc = str(info.get("description", ""))
    marker = "More info can be found at "
    if marker in desc:
        return desc.split(marker, 1)[1].strip().rstrip(".") or None
    return None
