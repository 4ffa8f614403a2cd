"""The Wayback Machine as a source of robots.txt history: its CDX index and its raw ("id_") captures.

Pure parts (query URLs, parsing CDX answers, choosing one capture per period, classifying a capture) are plain
functions; fetching goes through the caller's httpx client (the transport is injectable, and ``--connect-to`` points
it at a fake archive in tests). Formats: ``../shared/corpus/wayback/FORMATS.md``.

The CDX index folds schemes and ``www.`` into one key (SURT), so one query per site covers http, https, with and
without ``www.``; the ``original`` field says which was captured.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from tracker.config.defaults import ARCHIVE_URL

__all__ = [
    "ARCHIVE_URL",
    "CDX_FIELDS",
    "CdxRow",
    "capture_status",
    "cdx_urls",
    "choose_per_period",
    "parse_cdx",
    "raw_capture_url",
    "timestamp_of",
]

CDX_FIELDS = ("timestamp", "original", "statuscode", "mimetype", "digest", "length")
#: Words of the archive's own pages (not the site's) that it serves in place of a capture.
_ARCHIVE_PAGES = (b"wayback machine", b"internet archive", b"got an http 30", b"hrm.", b"this url has been excluded")


@dataclass(frozen=True, slots=True)
class CdxRow:
    """One capture in the CDX index."""

    timestamp: str  # yyyyMMddhhmmss
    original: str
    statuscode: str  # "200", "301", "404", "-" (revisit or unknown) …
    mimetype: str
    digest: str

    @property
    def when(self) -> datetime:
        """The capture time (UTC)."""
        return timestamp_of(self.timestamp)


def timestamp_of(ts: str) -> datetime:
    """A 14-digit (or shorter, zero-padded) Wayback timestamp as an aware datetime."""
    t = (ts + "00000101000000"[len(ts) :])[:14] if len(ts) < 14 else ts[:14]
    return datetime(
        int(t[:4]), int(t[4:6]) or 1, int(t[6:8]) or 1, int(t[8:10]), int(t[10:12]), int(t[12:14]), tzinfo=UTC
    )


def cdx_urls(base: str, domain: str, *, since: date, until: date) -> tuple[str, str]:
    """The two CDX queries for a site's robots.txt captures between two dates (JSON, our fields):

    - the file: ``statuscode:200``, one row a day (``collapse=timestamp:8``), so every day on which it could have
      changed is there while the answer stays small (a busy site's robots.txt is captured thousands of times);
    - everything else but 5xx, one row a month: 404s say the file was gone, redirects are counted, never parsed.

    Two queries, because a redirect captured first on a day (http → https) would otherwise hide the day's file."""
    common = {
        "url": f"{domain}/robots.txt",
        "output": "json",
        "fl": ",".join(CDX_FIELDS),
        "from": since.strftime("%Y%m%d"),
        "to": until.strftime("%Y%m%d") + "235959",
    }
    root = f"{base.rstrip('/')}/cdx/search/cdx?"
    files = urlencode({**common, "filter": "statuscode:200", "collapse": "timestamp:8"})
    others = urlencode(
        [*common.items(), ("filter", "!statuscode:200"), ("filter", "!statuscode:5.."), ("collapse", "timestamp:6")]
    )
    return root + files, root + others


def raw_capture_url(base: str, row: CdxRow) -> str:
    """The raw ("id_") URL of a capture: the archived bytes as served then, without the archive's rewriting."""
    return f"{base.rstrip('/')}/web/{row.timestamp}id_/{row.original}"


def parse_cdx(body: bytes | str) -> list[CdxRow]:
    """Parse a CDX answer: JSON (a header row, then rows; a resume key may follow an empty row) or the plain
    space-separated form. Rows that do not parse are skipped; never raises."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    if not text:
        return []
    rows: list[list[str]]
    if text.startswith("["):
        try:
            data = json.loads(text)
        except ValueError:
            return []
        if not isinstance(data, list) or not data or not isinstance(data[0], list):
            return []
        header = [str(h) for h in data[0]]
        rows = [[str(v) for v in r] for r in data[1:] if isinstance(r, list) and len(r) == len(header)]
    else:
        header = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
        rows = [line.split(" ") for line in text.splitlines() if line.count(" ") == 6]
    index = {h: i for i, h in enumerate(header)}
    if not {"timestamp", "original", "statuscode"} <= index.keys():
        return []
    out = []
    for r in rows:
        ts = r[index["timestamp"]]
        if not (ts.isdigit() and 4 <= len(ts) <= 14):
            continue
        out.append(
            CdxRow(
                ts,
                r[index["original"]],
                r[index["statuscode"]],
                r[index["mimetype"]] if "mimetype" in index else "",
                r[index["digest"]] if "digest" in index else "",
            )
        )
    return sorted(out, key=lambda c: c.timestamp)


#: How telling a capture is about the file at that time, by CDX status: the file itself, its absence, a redirect.
_RANK = {"200": 3, "404": 2, "410": 2}


def choose_per_period(rows: Iterable[CdxRow], period_of: Callable[[datetime], str]) -> list[CdxRow]:
    """One capture per period: the last one that shows the file (200), else the last that shows its absence
    (404/410); periods with only redirects or errors are left out (they inherit the previous period, as the
    reference study does). The last capture is what the period ended with."""
    best: dict[str, CdxRow] = {}
    for row in rows:
        rank = _RANK.get(row.statuscode, 0)
        if not rank:
            continue
        key = period_of(row.when)
        old = best.get(key)
        if old is None or (rank, row.timestamp) >= (_RANK[old.statuscode], old.timestamp):
            best[key] = row
    return sorted(best.values(), key=lambda r: r.timestamp)


def capture_status(statuscode: str, body: bytes | None, content_type: str | None) -> str:
    """What a fetched capture says: ``ok`` (a robots.txt), ``no_robots`` (the site answered 4xx then),
    ``soft404_html`` (an HTML page was archived where the file should be), ``empty``, or ``archive_error`` (the
    archive's own page, not the site's)."""
    if statuscode in ("404", "410"):
        return "no_robots"
    if body is None:
        return "archive_error"
    head = body[:2048].lower()
    if any(w in head for w in _ARCHIVE_PAGES) and (b"<html" in head or b"<!doctype" in head):
        return "archive_error"
    if not body.strip():
        return "empty"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<?xml")) or (
        content_type and "html" in content_type.lower() and b"<" in stripped[:64]
    ):
        return "soft404_html"
    return "ok"
