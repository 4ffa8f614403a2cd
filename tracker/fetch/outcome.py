"""What fetching one robots.txt gave (:class:`RobotsFetch`), whether from the network (:mod:`tracker.fetch.http`), an
archive or a file (:func:`fetch_from_body`). Light on purpose: reading a robots.txt file needs no HTTP client."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from tracker.records.vocabulary import UNREACHABLE, FetchStatus
from tracker.rules.robots import ROBOTS_MAX_BYTES, RobotsRules, Stance, parse_robots

__all__ = ["RobotsFetch", "fetch_from_body", "looks_like_html"]


@dataclass(slots=True)
class RobotsFetch:
    """The outcome of fetching one robots.txt, whatever happened."""

    url: str
    status: FetchStatus
    http_status: int | None = None
    final_url: str | None = None
    redirects: list[str] = field(default_factory=list)
    body: bytes = b""
    truncated: bool = False
    content_type: str | None = None
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Whether a connection to the host was made (TCP and TLS, or a response came): then a failure is the host's
    #: answering, not its reachability, and plain http is no remedy.
    connected: bool = False

    @property
    def sha256(self) -> str:
        """Hash of the (capped) body."""
        return hashlib.sha256(self.body).hexdigest()

    @property
    def rules(self) -> RobotsRules:
        """The parsed rules; empty when the fetch gave no robots.txt."""
        return parse_robots(self.body, truncated=self.truncated) if self.status == "ok" else parse_robots(b"")

    def stance(self, agent: str, rules: RobotsRules | None = None) -> Stance:
        """The agent's stance, taking the fetch status into account (unreachable is never 'allowed')."""
        if self.status == "ok":
            return (rules or self.rules).stance(agent)
        return Stance.without_rules(agent, "unreachable" if self.status in UNREACHABLE else "no_robots")


def looks_like_html(body: bytes, content_type: str | None) -> bool:
    """Whether a body is an HTML page (a soft 404 or a bot wall), not a robots.txt."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<?xml")):
        return True
    return bool(content_type and "html" in content_type.lower() and b"<" in head[:64])


def fetch_from_body(source: str, body: bytes) -> RobotsFetch:
    """A RobotsFetch for a body read from a file: classified like a 200 response."""
    body, truncated = body[:ROBOTS_MAX_BYTES], len(body) > ROBOTS_MAX_BYTES
    if not body.strip():
        status: FetchStatus = "empty"
    elif looks_like_html(body, None):
        status = "soft404_html"
    else:
        status = "ok"
    return RobotsFetch(url=source, status=status, final_url=source, body=body, truncated=truncated)
