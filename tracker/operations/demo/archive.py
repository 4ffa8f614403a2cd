"""A simulated Wayback Machine on loopback (the demo's archive, and the tests'): the CDX index and raw ("id_")
captures, over real sockets.

Built from dated robots.txt files (``../shared/corpus/history/<domain>/<date>.txt``): each file is captured on its
date and then weekly until the next file, as a busy site's robots.txt is in the real archive. It answers the CDX
parameters the backfill uses (url with SURT folding of scheme and ``www.``, output=json, fl, from, to, repeated
``filter=[!]field:regex``, ``collapse=field:N``), and the real archive's habits and faults:

- redirect captures (an http:// 301 captured the same days as the https:// file), duplicate rows;
- a raw capture asked at a timestamp off by a second: a 302 to the nearest capture, as the archive does;
- HTML pages captured where robots.txt should be, and the archive's own error page served for a capture;
- 429 for the first requests of a site (``rate_limited``), 403 "Blocked Site Error" for an excluded site.

    archive = FakeArchive.from_history(corpus / "history", ["nytimes.com", ...]).start()
    ... "--connect-to", f"archive.test:80:127.0.0.1:{archive.port}", "--allow-private" is not needed ...
    archive.stop()
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from aiohttp import web

from tracker.operations.demo.loopback import LoopbackServer

__all__ = ["ERROR_PAGE", "HOST", "HTML_404", "Capture", "FakeArchive", "main"]

HOST = "archive.test"
ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body><p>Hrm.</p><p>The Wayback "
    b"Machine has not archived that URL.</p></body></html>"
)
HTML_404 = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Page not found</h1></body></html>"


@dataclass
class Capture:
    """One capture of a URL in the archive: its CDX fields, its body, and how the archive serves it."""

    timestamp: str
    original: str
    statuscode: str = "200"
    mimetype: str = "text/plain"
    body: bytes = b""
    serve: str = "body"  # body / archive_error / off_by_one (CDX says ts, the archive holds ts+1s)

    @property
    def digest(self) -> str:
        return base64.b32encode(hashlib.sha1(self.body + self.statuscode.encode()).digest()).decode()


def _ts(d: date | datetime, hour: int = 12) -> str:
    if isinstance(d, datetime):
        return d.strftime("%Y%m%d%H%M%S")
    return f"{d:%Y%m%d}{hour:02d}0000"


def _surt_host(url_or_host: str) -> str:
    host = re.sub(r"^[a-z]+://", "", url_or_host.lower()).split("/", 1)[0].split(":", 1)[0]
    return re.sub(r"^www\d*\.", "", host)


@dataclass
class FakeArchive(LoopbackServer):
    """Captures per domain, served on 127.0.0.1 over HTTP (the demo's archive, and the tests')."""

    captures: dict[str, list[Capture]]
    excluded: set[str] = field(default_factory=set)
    rate_limited: dict[str, int] = field(default_factory=dict)  # domain → first N CDX requests answered 429
    hits: Counter[str] = field(default_factory=Counter)  # "cdx" / "raw" / "raw:<digest>" / "429"
    port: int = 0

    def __post_init__(self) -> None:
        LoopbackServer.__init__(self)
        self._by_ts: dict[tuple[str, str], Capture] = {}
        for domain, caps in list(self.captures.items()):
            self.add(domain, caps)

    def add(self, domain: str, caps: list[Capture]) -> None:
        """Serve these captures for a domain (call before start)."""
        caps.sort(key=lambda c: c.timestamp)
        self.captures[domain] = caps
        for c in caps:
            held = _shift(c.timestamp, 1) if c.serve == "off_by_one" else c.timestamp
            self._by_ts[(domain, held)] = c

    # -- building --------------------------------------------------------------------------------------------
    @classmethod
    def from_history(
        cls, root: Path, domains: list[str], *, until: date, redirects: bool = True, duplicates: bool = True
    ) -> FakeArchive:
        """Capture each file on its date and weekly until the next one (the last until ``until``); optionally an
        http:// 301 captured on the same days and duplicate CDX rows; every fifth capture asked off by a second."""
        out: dict[str, list[Capture]] = {}
        for domain in domains:
            files = sorted(p for p in (root / domain).iterdir() if p.suffix == ".txt")
            dated = [(date.fromisoformat(p.name[:10]), p) for p in files]
            caps: list[Capture] = []
            n = 0
            for i, (d, p) in enumerate(dated):
                if i + 1 < len(dated) and dated[i + 1][0] == d:
                    continue  # same-day versions: the archive would have captured the last one
                end = dated[i + 1][0] if i + 1 < len(dated) else until + timedelta(days=1)
                body = p.read_bytes()
                mime = "text/html" if body.lstrip()[:1] == b"<" else "text/plain"
                day = d
                while day < end:
                    n += 1
                    serve = "off_by_one" if n % 5 == 0 else "body"
                    caps.append(Capture(_ts(day), f"https://{domain}/robots.txt", "200", mime, body, serve))
                    if duplicates and n % 7 == 0:
                        caps.append(Capture(_ts(day), f"https://{domain}/robots.txt", "200", mime, body))
                    if redirects:
                        caps.append(
                            Capture(_ts(day, 11), f"http://{domain}/robots.txt", "301", "text/html", b"", "body")
                        )
                    day += timedelta(days=7)
            out[domain] = caps
        return cls(out)

    @property
    def url(self) -> str:
        return f"http://{HOST}"

    def connect_to(self) -> str:
        return f"{HOST}:80:127.0.0.1:{self.port}"

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/cdx/search/cdx", self._cdx)
        app.router.add_route("GET", "/web/{ts:[0-9]+}id_/{url:.*}", self._raw)
        site = web.TCPSite(await self._runner_for(app), "127.0.0.1", 0, backlog=512)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    # -- the CDX index ---------------------------------------------------------------------------------------
    async def _cdx(self, request: web.Request) -> web.Response:
        q = request.query
        domain = _surt_host(q.get("url", ""))
        self.hits["cdx"] += 1
        if self.rate_limited.get(domain, 0) > 0:
            self.rate_limited[domain] -= 1
            self.hits["429"] += 1
            return web.Response(status=429, text="Too Many Requests", headers={"Retry-After": "0"})
        if domain in self.excluded:
            return web.Response(
                status=403,
                text="org.archive.util.io.RuntimeIOException: org.archive.wayback."
                "exception.AdministrativeAccessControlException: Blocked Site Error\n",
            )
        lo, hi = q.get("from", "0"), q.get("to", "99999999999999")
        rows = [
            c for c in self.captures.get(domain, []) if lo <= c.timestamp[: len(lo)] and c.timestamp[: len(hi)] <= hi
        ]
        for f in q.getall("filter", []):
            neg = f.startswith("!")
            name, _, rx = f.lstrip("!").partition(":")
            rows = [c for c in rows if bool(re.fullmatch(rx, str(getattr(c, name)))) != neg]
        if "collapse" in q:
            name, _, n = q["collapse"].partition(":")
            seen: set[str] = set()
            kept = []
            for c in rows:
                key = str(getattr(c, name))[: int(n)] if n else str(getattr(c, name))
                if key not in seen:
                    seen.add(key)
                    kept.append(c)
            rows = kept
        fields = q.get("fl", "urlkey,timestamp,original,mimetype,statuscode,digest,length").split(",")

        def value(c: Capture, f: str) -> str:
            if f == "urlkey":
                return f"{'.'.join(reversed(domain.split('.')))})/robots.txt".replace(".", ",", domain.count("."))
            if f == "length":
                return str(len(c.body) + 300)
            return str(getattr(c, f))

        if q.get("output") == "json":
            return web.json_response([fields] + [[value(c, f) for f in fields] for c in rows] if rows else [])
        return web.Response(text="".join(" ".join(value(c, f) for f in fields) + "\n" for c in rows))

    # -- raw captures ------------------------------------------------------------------------------------------
    async def _raw(self, request: web.Request) -> web.Response:
        ts, url = request.match_info["ts"], request.match_info["url"]
        domain = _surt_host(url)
        self.hits["raw"] += 1
        c = self._by_ts.get((domain, ts))
        if c is None:  # not a capture time: the archive redirects to the nearest capture of that URL
            near = [k for k in self._by_ts if k[0] == domain]
            if not near:
                return web.Response(status=404, body=ERROR_PAGE, content_type="text/html")
            best = min(near, key=lambda k: abs(int(k[1]) - int(ts)))
            raise web.HTTPFound(f"/web/{best[1]}id_/{url}")
        self.hits[f"raw:{c.digest}"] += 1
        if c.serve == "archive_error":
            return web.Response(status=200, body=ERROR_PAGE, content_type="text/html")
        headers = {"Memento-Datetime": datetime.strptime(ts, "%Y%m%d%H%M%S").strftime("%a, %d %b %Y %H:%M:%S GMT")}
        if c.statuscode.startswith("3"):
            location = f"/web/{ts}id_/https://{domain}/robots.txt"
            return web.Response(status=int(c.statuscode), headers={**headers, "Location": location})
        if c.statuscode != "200":
            return web.Response(status=int(c.statuscode), body=HTML_404, content_type="text/html", headers=headers)
        return web.Response(status=200, body=c.body, headers={**headers, "Content-Type": c.mimetype})


def _shift(ts: str, seconds: int) -> str:
    return (datetime.strptime(ts, "%Y%m%d%H%M%S") + timedelta(seconds=seconds)).strftime("%Y%m%d%H%M%S")


def main() -> None:
    """Serve a fake archive of N history domains (for benchmarks); print its port as JSON, then wait."""
    import argparse
    import sys
    import time

    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--domains", type=int, default=100)
    args = ap.parse_args()
    root = args.corpus / "history"
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and "." in p.name[1:] and p.name[0] != ".")
    names = names[: args.domains]
    archive = FakeArchive.from_history(root, names, until=date(2024, 7, 14)).start()
    print(json.dumps({"port": archive.port, "domains": names}), flush=True)
    try:
        while sys.stdin.read(1):
            time.sleep(0.1)
    finally:
        archive.stop()


if __name__ == "__main__":
    main()
