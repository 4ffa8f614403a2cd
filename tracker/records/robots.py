"""What the ``robots`` command reports about one robots.txt: the fetch, the parse, and per agent its stance and
verdict for each URL. :meth:`RobotsReport.as_dict` is the ``robots --format json`` shape."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.records.json import Json

__all__ = ["AgentStance", "RobotsFetchFacts", "RobotsLine", "RobotsParseFacts", "RobotsReport", "UrlVerdict"]


@dataclass(frozen=True, slots=True)
class UrlVerdict:
    """May the agent fetch this URL: the path matched (RFC 9309 percent-encoding), the deciding rule and its line
    (None when robots.txt was not read: the stance's answer for '/')."""

    url: str
    path: str | None
    allowed: bool
    rule: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Json]:
        """{url, path, allowed, rule, line}."""
        return {"url": self.url, "path": self.path, "allowed": self.allowed, "rule": self.rule, "line": self.line}


@dataclass(frozen=True, slots=True)
class AgentStance:
    """One agent under one robots.txt: who it is (company, purpose), its stance, whether a group names it (and how
    leniently), which rules decide, and its verdict for each URL asked about."""

    agent: str
    company: str | None
    purpose: str | None
    stance: str
    named: bool
    source: str
    root_allowed: bool
    lenient_named: bool
    named_as: tuple[str, ...]
    deciding_rules: tuple[str, ...]
    urls: tuple[UrlVerdict, ...]

    def as_dict(self) -> dict[str, Json]:
        """The ``robots --format json`` agent object."""
        return {
            "agent": self.agent,
            "company": self.company,
            "purpose": self.purpose,
            "stance": self.stance,
            "named": self.named,
            "source": self.source,
            "root_allowed": self.root_allowed,
            "lenient_named": self.lenient_named,
            "named_as": list(self.named_as),
            "deciding_rules": list(self.deciding_rules),
            "urls": [u.as_dict() for u in self.urls],
        }


@dataclass(frozen=True, slots=True)
class RobotsFetchFacts:
    """How robots.txt was fetched: its status class, HTTP status, redirects, size, hash and any error."""

    status: str
    http_status: int | None
    final_url: str | None
    redirects: tuple[str, ...]
    bytes: int
    truncated: bool
    sha256: str | None
    content_type: str | None
    error: str | None

    def as_dict(self) -> dict[str, Json]:
        """The ``fetch`` object."""
        return {
            "status": self.status,
            "http_status": self.http_status,
            "final_url": self.final_url,
            "redirects": list(self.redirects),
            "bytes": self.bytes,
            "truncated": self.truncated,
            "sha256": self.sha256,
            "content_type": self.content_type,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class RobotsLine:
    """One line robots.txt was read as: its key, value, line number and group (None: outside any group)."""

    key: str
    value: str
    line: int
    group: int | None

    def as_dict(self) -> dict[str, Json]:
        """{key, value, line, group}."""
        return {"key": self.key, "value": self.value, "line": self.line, "group": self.group}


@dataclass(frozen=True, slots=True)
class RobotsParseFacts:
    """What the parser made of robots.txt: groups, rules, what it ignored or cut, and its non-sitemap lines."""

    groups: int
    rules: int
    ignored_lines: int
    cut_line: int | None
    long_lines: int
    bom: bool
    cloudflare_managed: bool
    sitemaps: tuple[str, ...]
    records: tuple[RobotsLine, ...]

    def as_dict(self) -> dict[str, Json]:
        """The ``parse`` object."""
        return {
            "groups": self.groups,
            "rules": self.rules,
            "ignored_lines": self.ignored_lines,
            "cut_line": self.cut_line,
            "long_lines": self.long_lines,
            "bom": self.bom,
            "cloudflare_managed": self.cloudflare_managed,
            "sitemaps": list(self.sitemaps),
            "records": [r.as_dict() for r in self.records],
        }


@dataclass(frozen=True, slots=True)
class RobotsReport:
    """Everything the ``robots`` command shows about one robots.txt."""

    target: str
    fetch: RobotsFetchFacts
    parse: RobotsParseFacts
    agents: tuple[AgentStance, ...]

    def as_dict(self) -> dict[str, Json]:
        """The ``robots --format json`` object."""
        return {
            "target": self.target,
            "fetch": self.fetch.as_dict(),
            "parse": self.parse.as_dict(),
            "agents": [a.as_dict() for a in self.agents],
        }
