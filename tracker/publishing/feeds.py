"""Telling people what changed: Atom feeds of change events, and a webhook that receives them as JSON.

After each scheduled run the feeds are rewritten — every event (``all.atom``), per category
(``category/<name>.atom``) and per site (``site/<domain>.atom``), newest first — so a feed reader, a newsroom's
Slack or a researcher's script can follow them. Entries are text, never HTML: a robots.txt diff is fetched content,
and characters XML 1.0 cannot carry (control bytes) are written as visible escapes (``\\x01``), so one hostile
file never makes a shared feed unparseable.

The webhook gets the events of *live* crawls (history brought in from archives is not news) in batches of
``{"events": [...]}``. An event is marked delivered only when the receiver answers 2xx, so each is delivered once
if the receiver answers, and again on the next run if it did not; every event carries a stable ``id`` (the same
in the feeds) for receivers that must never see one twice. Each attempt has a deadline as a whole (a receiver
that drips its answer is cut off; the 2xx status is the answer, its body is never read), failures are retried with
backoff a few times, a call has a total budget, and what is not accepted is left for the next run: a webhook never
stops or fails a crawl.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

import httpx
from sqlalchemy import Engine

from tracker.pipeline.changes import event_diff, event_of, list_events
from tracker.records.changes import Event, site_link
from tracker.store import changelog

__all__ = ["ATOM_NS", "FEED_LIMIT", "WebhookResult", "post_webhook", "write_feeds", "xml_text"]

ATOM_NS = "http://www.w3.org/2005/Atom"
#: Entries per feed (newest first).
FEED_LIMIT = 200


#: What XML 1.0 cannot carry (C0 controls but tab, LF and CR; lone surrogates; U+FFFE/U+FFFF). One such byte in
#: a fetched robots.txt would otherwise make every feed that shows its diff unparseable for every subscriber.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(s: str) -> str:
    """``s`` with every character XML 1.0 cannot carry written visibly as an escape (``\\x01``, ``\\ud800``)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", s)


def _feed(title: str, feed_id: str, events: Sequence[Event], base_url: str, *, simulated: bool) -> bytes:
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
        if text is not None:
            el.text = xml_text(text)
        return el

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "title", ("[SIMULATED] " if simulated else "") + title)
    sub(feed, "id", feed_id)
    updated = max((e.at for e in events), default=datetime(1970, 1, 1, tzinfo=UTC))
    sub(feed, "updated", updated.isoformat())
    sub(sub(feed, "author"), "name", "consent-tracker")
    sub(feed, "link", href=base_url, rel="alternate")
    sub(feed, "generator", "consent-tracker")
    for ev in events:
        entry = sub(feed, "entry")
        sub(entry, "title", ev.title)
        sub(entry, "id", ev.id)
        sub(entry, "updated", ev.at.isoformat())
        sub(entry, "link", href=ev.link or site_link(base_url, ev.site, ev), rel="alternate")
        if ev.category:
            sub(entry, "category", term=ev.category)
        text = [f"{ev.title}: {ev.when} (source: {ev.source})."]
        if simulated:
            text.insert(0, "SIMULATED DATA (consent-tracker up --demo): not a real site.")
        if ev.robots_diff:
            text += ["", ev.robots_diff]
        sub(entry, "content", "\n".join(text), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _safe_name(s: str) -> str:
    return quote(s, safe="") or "_"


def write_feeds(
    engine: Engine, directory: Path, base_url: str, *, sites: Iterable[str] | None = None, simulated: bool = False
) -> list[Path]:
    """Write the Atom feeds (all events, per category, per site — only these sites' if given); return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(rel: str, title: str, feed_id: str, **filters: Any) -> None:
        events = list_events(engine, limit=FEED_LIMIT, diffs=True, base_url=base_url, **filters)
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(_feed(title, feed_id, events, base_url, simulated=simulated))
        tmp.replace(path)  # a reader never sees half a feed
        written.append(path)

    put("all.atom", "consent-tracker: every change", "urn:consent-tracker:feed:all")
    for category in changelog.event_categories(engine):
        put(
            f"category/{_safe_name(category)}.atom",
            f"consent-tracker: changes of {category} sites",
            f"urn:consent-tracker:feed:category:{category}",
            category=category,
        )
    for domain in sorted(set(sites) if sites is not None else changelog.event_domains(engine)):
        put(
            f"site/{_safe_name(domain)}.atom",
            f"consent-tracker: changes of {domain}",
            f"urn:consent-tracker:feed:site:{domain}",
            site=domain,
        )
    return written


@dataclass(slots=True)
class WebhookResult:
    """What posting to the webhook did."""

    delivered: int = 0
    pending: int = 0  # left for the next run (the receiver did not accept them)
    error: str | None = None


def post_webhook(
    engine: Engine,
    url: str,
    *,
    base_url: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    retries: int = 2,
    timeout: float = 10.0,
    batch: int = 100,
    backoff: float = 1.0,
    budget: float = 60.0,
) -> WebhookResult:
    """Post the live events no receiver has accepted yet, in batches; never raises for the receiver's faults.

    ``timeout`` bounds each attempt as a whole (connect, send, the answer's status line and headers), not each
    read: a receiver that drips its answer a byte at a time is cut off. ``budget`` bounds the whole call; what is
    not accepted by then stays pending for the next run."""
    return asyncio.run(_post_webhook(engine, url, base_url, transport, retries, timeout, batch, backoff, budget))


async def _post_webhook(
    engine: Engine,
    url: str,
    base_url: str | None,
    transport: httpx.AsyncBaseTransport | None,
    retries: int,
    timeout: float,
    batch: int,
    backoff: float,
    budget: float,
) -> WebhookResult:
    result = WebhookResult()
    stop_at = time.monotonic() + budget
    cache: dict[tuple[int, int], str] = {}
    async with httpx.AsyncClient(
        transport=transport, timeout=timeout, headers={"User-Agent": "consent-tracker webhook"}
    ) as http:
        while True:
            events = changelog.pending_notifications(engine, limit=batch)
            if not events:
                return result
            payload = json.dumps(
                {
                    "events": [
                        event_of(
                            e, event_diff(engine, e, cache), site_link(base_url, e.domain, e) if base_url else None
                        ).as_dict()
                        for e in events
                    ]
                }
            )
            accepted = False
            for attempt in range(retries + 1):
                left = stop_at - time.monotonic()
                if left <= 0:
                    result.error = f"{result.error or 'not sent'}; the {budget:g} s budget for delivery is spent"
                    break
                try:
                    status = await _attempt(http, url, payload, min(timeout, left))
                    if 200 <= status < 300:
                        accepted = True
                        break
                    result.error = f"HTTP {status}"
                except TimeoutError:
                    result.error = f"no complete answer within {min(timeout, left):g} s"
                except httpx.HTTPError as ex:
                    result.error = f"{type(ex).__name__}: {ex}"
                if attempt < retries:
                    await asyncio.sleep(min(backoff * 2**attempt, max(0.0, stop_at - time.monotonic())))
            if not accepted:
                result.pending = len(changelog.pending_notifications(engine, limit=1_000_000))
                return result
            changelog.mark_notified(engine, [e.id for e in events])
            result.delivered += len(events)
            result.error = None


async def _attempt(http: httpx.AsyncClient, url: str, payload: str, deadline: float) -> int:
    """One post, as a whole within ``deadline`` seconds; the answer's status (its body is never read, so a
    receiver can neither make us wait for it nor fill our memory with it)."""
    async with asyncio.timeout(deadline):
        async with http.stream("POST", url, content=payload, headers={"Content-Type": "application/json"}) as r:
            return r.status_code
