"""A site's records: each agent's verdict, the site's use-preference signals, its state now (the ``export latest``
record) and its history (the ``site`` command's record).

The JSON shapes are the ones ``export latest`` and ``site --format json`` print (README: "export latest")::

    {"domain": "example.com", "fetched_at": "2026-11-26T12:00:00+00:00", "robots_status": "ok",
     "http_status": 200, "final_url": null, "error": null,
     "agents": {"GPTBot": {"allowed_root": false, "named": true, "stance": "full_block",
                           "training_optout": true, "training_optout_sources": ["content_signal"]}, ...},
     "signals": {...}, "adoption": {"content_signal": true, "noai": null, ...}}

Never observed is null: ``training_optout``, each signal and each adoption reading are ``None`` when nothing was
read that could say (tracker.rules.signals.preferences).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar, cast

from tracker.records.json import Json, JsonObject, iso, parse_iso
from tracker.records.vocabulary import UNREAD, OptoutSource, SignalName

__all__ = [
    "AgentVerdict",
    "SiteHistory",
    "SiteInfo",
    "SiteSignals",
    "SiteState",
    "TermsSummary",
    "VersionChange",
    "VersionEntry",
    "adoption_summary",
    "version_summary",
]


K = TypeVar("K")
V = TypeVar("V")


def _frozen(d: Mapping[K, V]) -> dict[K, V]:
    # A plain dict (records are pickled by the dashboard's cache; a mappingproxy is not picklable).
    return dict(d)


def _obj(value: Json) -> JsonObject:
    return value if isinstance(value, dict) else {}


def _str(value: Json) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Json) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(value: Json) -> bool | None:
    return value if isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class AgentVerdict:
    """One agent on one site now: may it fetch '/', is it named in robots.txt (else it inherits the ``*`` group),
    its stance, and its training preference (``None``: not observed) with the sources saying "no"."""

    allowed_root: bool
    named: bool
    stance: str
    training_optout: bool | None
    training_optout_sources: tuple[OptoutSource, ...] = ()

    @property
    def inherited(self) -> bool:
        """Whether its restriction comes from the ``*`` group rather than a group naming it."""
        return not self.named and self.stance not in ("no_robots", "unreachable", "allowed")

    def as_dict(self) -> dict[str, Json]:
        """The export's per-agent object."""
        return {
            "allowed_root": self.allowed_root,
            "named": self.named,
            "stance": self.stance,
            "training_optout": self.training_optout,
            "training_optout_sources": list(self.training_optout_sources),
        }

    @classmethod
    def from_dict(cls, d: JsonObject) -> AgentVerdict:
        """Read back :meth:`as_dict`."""
        sources = d.get("training_optout_sources")
        return cls(
            allowed_root=bool(d["allowed_root"]),
            named=bool(d["named"]),
            stance=str(d["stance"]),
            training_optout=_bool(d.get("training_optout")),
            training_optout_sources=tuple(cast(OptoutSource, s) for s in sources if isinstance(s, str))
            if isinstance(sources, list)
            else (),
        )


@dataclass(frozen=True, slots=True)
class TermsSummary:
    """What a site's terms of service say about scraping and AI training, in the export's vocabulary (prohibited /
    conditional / unrestricted / unknown). ``found`` is ``None`` when the terms were never looked for, ``False``
    when looking failed; ``host`` and ``flags`` are only known when they were looked for (and, for flags, read)."""

    url: str | None
    scraping: str
    ai_training: str
    evidence: JsonObject | None = None
    host: str | None = None
    flags: tuple[str, ...] | None = None
    found: bool | None = None

    def as_dict(self) -> dict[str, Json]:
        """The export's ``signals.tos`` object (its keys say how far the terms were read)."""
        out: dict[str, Json] = {"url": self.url}
        if self.found is not None:
            out["host"] = self.host
        out |= {
            "scraping": self.scraping,
            "ai_training": self.ai_training,
            "evidence": dict(self.evidence) if self.evidence is not None else None,
        }
        if self.found:
            out["flags"] = list(self.flags or ())
        if self.found is not None:
            out["found"] = self.found
        return out

    @classmethod
    def from_dict(cls, d: JsonObject) -> TermsSummary:
        """Read back :meth:`as_dict`."""
        flags = d.get("flags")
        return cls(
            url=_str(d.get("url")),
            scraping=str(d.get("scraping", "unknown")),
            ai_training=str(d.get("ai_training", "unknown")),
            evidence=_obj(d["evidence"]) if isinstance(d.get("evidence"), dict) else None,
            host=_str(d.get("host")),
            flags=tuple(str(f) for f in flags) if isinstance(flags, list) else None,
            found=_bool(d.get("found")),
        )


@dataclass(frozen=True, slots=True)
class SiteSignals:
    """A site's use-preference signals as read (the export's ``signals`` object). ``None``: not observed."""

    noai: bool | None
    noml: bool | None
    noimageai: bool | None
    noarchive: bool | None
    tdm_reservation: bool | None
    tdm_policy: str | None
    #: Content-Signal values for everyone (robots.txt ``*`` group and the homepage header): {"ai-train": "no", …}.
    content_signal: Mapping[str, str]
    #: aipref Content-Usage for '/' (robots.txt and the homepage header): {"train-ai": "n", …}.
    content_usage: Mapping[str, str]
    rsl_license: str | None
    #: The RSL document: None when there is none, {"status": …} when it could not be read, else its reading.
    rsl: JsonObject | None
    ai_txt: bool | None
    ai_txt_stance: str | None
    llms_txt: bool | None
    tos: TermsSummary
    #: The homepage's fetch status; None when it was never fetched.
    homepage_status: str | None

    def as_dict(self) -> dict[str, Json]:
        """The export's ``signals`` object."""
        return {
            "noai": self.noai,
            "noml": self.noml,
            "noimageai": self.noimageai,
            "noarchive": self.noarchive,
            "tdm_reservation": self.tdm_reservation,
            "tdm_policy": self.tdm_policy,
            "content_signal": dict(self.content_signal),
            "content_usage": dict(self.content_usage),
            "rsl_license": self.rsl_license,
            "rsl": dict(self.rsl) if self.rsl is not None else None,
            "ai_txt": self.ai_txt,
            "ai_txt_stance": self.ai_txt_stance,
            "llms_txt": self.llms_txt,
            "tos": self.tos.as_dict(),
            "homepage_status": self.homepage_status,
        }

    @classmethod
    def from_dict(cls, d: JsonObject) -> SiteSignals:
        """Read back :meth:`as_dict`."""
        return cls(
            noai=_bool(d.get("noai")),
            noml=_bool(d.get("noml")),
            noimageai=_bool(d.get("noimageai")),
            noarchive=_bool(d.get("noarchive")),
            tdm_reservation=_bool(d.get("tdm_reservation")),
            tdm_policy=_str(d.get("tdm_policy")),
            content_signal=_frozen({k: str(v) for k, v in _obj(d.get("content_signal")).items()}),
            content_usage=_frozen({k: str(v) for k, v in _obj(d.get("content_usage")).items()}),
            rsl_license=_str(d.get("rsl_license")),
            rsl=_obj(d["rsl"]) if isinstance(d.get("rsl"), dict) else None,
            ai_txt=_bool(d.get("ai_txt")),
            ai_txt_stance=_str(d.get("ai_txt_stance")),
            llms_txt=_bool(d.get("llms_txt")),
            tos=TermsSummary.from_dict(_obj(d.get("tos"))),
            homepage_status=_str(d.get("homepage_status")),
        )


@dataclass(frozen=True, slots=True)
class SiteState:
    """A site's state now: its robots.txt fetch, each agent's verdict, its signals and each signal's adoption
    (True, False, or None when not observed). The ``export latest`` record."""

    domain: str
    fetched_at: datetime | None
    robots_status: str
    http_status: int | None
    final_url: str | None
    error: str | None
    agents: Mapping[str, AgentVerdict]
    signals: SiteSignals
    adoption: Mapping[SignalName, bool | None]

    def as_dict(self) -> dict[str, Json]:
        """The export's record (one JSONL line)."""
        return {
            "domain": self.domain,
            "fetched_at": iso(self.fetched_at),
            "robots_status": self.robots_status,
            "http_status": self.http_status,
            "final_url": self.final_url,
            "error": self.error,
            "agents": {t: a.as_dict() for t, a in self.agents.items()},
            "signals": self.signals.as_dict(),
            "adoption": {str(k): v for k, v in self.adoption.items()},
        }

    @classmethod
    def from_dict(cls, d: JsonObject) -> SiteState:
        """Read back :meth:`as_dict` (a line of ``export latest``)."""
        return cls(
            domain=str(d["domain"]),
            fetched_at=parse_iso(d.get("fetched_at")),
            robots_status=str(d["robots_status"]),
            http_status=_int(d.get("http_status")),
            final_url=_str(d.get("final_url")),
            error=_str(d.get("error")),
            agents=_frozen({t: AgentVerdict.from_dict(_obj(a)) for t, a in _obj(d.get("agents")).items()}),
            signals=SiteSignals.from_dict(_obj(d.get("signals"))),
            adoption=_frozen({cast(SignalName, k): _bool(v) for k, v in _obj(d.get("adoption")).items()}),
        )


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """A tracked site: its domain, rank and category, and the list it came from."""

    domain: str
    rank: int | None = None
    category: str | None = None
    list_source: str | None = None

    def as_dict(self) -> dict[str, Json]:
        """The ``site`` record's ``site`` object."""
        return {"domain": self.domain, "rank": self.rank, "category": self.category, "list_source": self.list_source}

    @classmethod
    def from_dict(cls, d: JsonObject) -> SiteInfo:
        """Read back :meth:`as_dict`."""
        return cls(str(d["domain"]), _int(d.get("rank")), _str(d.get("category")), _str(d.get("list_source")))


@dataclass(frozen=True, slots=True)
class VersionChange:
    """One change a version made: an agent's stance (``agent``) or a signal's adoption, before → after."""

    agent: str | None
    signal: str
    before: str
    after: str
    change: str

    def as_dict(self) -> dict[str, Json]:
        """The ``site`` record's change object."""
        return {
            "agent": self.agent,
            "signal": self.signal,
            "before": self.before,
            "after": self.after,
            "change": self.change,
        }

    @classmethod
    def from_dict(cls, d: JsonObject) -> VersionChange:
        """Read back :meth:`as_dict`."""
        return cls(_str(d.get("agent")), str(d["signal"]), str(d["before"]), str(d["after"]), str(d["change"]))


@dataclass(frozen=True, slots=True)
class VersionEntry:
    """One version of one of a site's resources: when it held, what it was, and what it changed. The first version
    of a resource says what it said: robots.txt each agent's stance (``agents``), other resources their stored
    signals (``signals``); a later one lists its ``changes``."""

    kind: str
    status: str
    http_status: int | None
    first_seen: datetime | None
    valid_to: datetime | None
    last_seen: datetime | None
    observations: int
    source: str
    error: str | None
    first: bool
    agents: Mapping[str, str] | None = None
    signals: JsonObject | None = None
    changes: tuple[VersionChange, ...] = field(default=())

    def as_dict(self) -> dict[str, Json]:
        """The ``site`` record's history entry (``agents`` for robots.txt, ``signals`` for a page that has them)."""
        out: dict[str, Json] = {
            "kind": self.kind,
            "status": self.status,
            "http_status": self.http_status,
            "from": iso(self.first_seen),
            "until": iso(self.valid_to),
            "last_seen": iso(self.last_seen),
            "observations": self.observations,
            "source": self.source,
            "error": self.error,
            "first": self.first,
        }
        if self.agents is not None:
            out["agents"] = dict(self.agents)
        elif self.signals is not None:
            out["signals"] = dict(self.signals)
        out["changes"] = [c.as_dict() for c in self.changes]
        return out

    @classmethod
    def from_dict(cls, d: JsonObject) -> VersionEntry:
        """Read back :meth:`as_dict`."""
        changes = d.get("changes")
        return cls(
            kind=str(d["kind"]),
            status=str(d["status"]),
            http_status=_int(d.get("http_status")),
            first_seen=parse_iso(d.get("from")),
            valid_to=parse_iso(d.get("until")),
            last_seen=parse_iso(d.get("last_seen")),
            observations=_int(d.get("observations")) or 0,
            source=str(d.get("source")),
            error=_str(d.get("error")),
            first=bool(d.get("first")),
            agents=_frozen({k: str(v) for k, v in _obj(d["agents"]).items()}) if "agents" in d else None,
            signals=_obj(d["signals"]) if isinstance(d.get("signals"), dict) else None,
            changes=tuple(VersionChange.from_dict(_obj(c)) for c in changes) if isinstance(changes, list) else (),
        )


@dataclass(frozen=True, slots=True)
class SiteHistory:
    """Everything known about one site: the site, its state now (``current``: the export's record, None before a
    robots.txt observation), these agents' verdicts now, and every version of every resource."""

    site: SiteInfo
    current: SiteState | None
    agents: Mapping[str, AgentVerdict]
    history: tuple[VersionEntry, ...]

    def as_dict(self) -> dict[str, Json]:
        """The ``site --format json`` record."""
        return {
            "site": self.site.as_dict(),
            "current": self.current.as_dict() if self.current is not None else None,
            "agents": {t: a.as_dict() for t, a in self.agents.items()},
            "history": [h.as_dict() for h in self.history],
        }

    @classmethod
    def from_dict(cls, d: JsonObject) -> SiteHistory:
        """Read back :meth:`as_dict`."""
        history = d.get("history")
        return cls(
            site=SiteInfo.from_dict(_obj(d.get("site"))),
            current=SiteState.from_dict(_obj(d["current"])) if isinstance(d.get("current"), dict) else None,
            agents=_frozen({t: AgentVerdict.from_dict(_obj(a)) for t, a in _obj(d.get("agents")).items()}),
            history=tuple(VersionEntry.from_dict(_obj(h)) for h in history) if isinstance(history, list) else (),
        )


def adoption_summary(adoption: Mapping[SignalName, bool | None]) -> str:
    """'adopted: tdmrep; not adopted: content_signal, …; not observed: noai, …' (each signal's one reading)."""
    parts = []
    for label, value in (("adopted", True), ("not adopted", False), ("not observed", None)):
        names = [k for k, v in adoption.items() if v is value]
        if names:
            parts.append(f"{label}: {', '.join(names)}")
    return "; ".join(parts)


def _by_stance(stances: Mapping[str, str]) -> str:
    groups: dict[str, list[str]] = {}
    for agent, stance in stances.items():
        groups.setdefault(stance, []).append(agent)
    return "; ".join(f"{stance}: {', '.join(agents)}" for stance, agents in groups.items())


def version_summary(entry: VersionEntry) -> str:
    """One line on a version of a site's history: the first of a resource says what it said (robots.txt: the
    agents by stance), later ones every change they made (each agent whose stance changed, each signal)."""
    if entry.first:
        if entry.kind == "robots":
            return "first seen — " + _by_stance(entry.agents or {})
        return "first seen" + (f": {json.dumps(entry.signals)}" if entry.signals else "")
    if entry.changes:
        return "; ".join(f"{c.agent or c.signal} {c.before} → {c.after} ({c.change})" for c in entry.changes)
    if entry.status in UNREAD:
        return "fetch failed: says nothing about consent"
    n = len(entry.agents or {})
    if entry.kind == "robots":
        return f"content only: no stance of the {n} agents shown and no signal changed"
    return "content only: no signal changed"
