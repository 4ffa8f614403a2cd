"""The demo's simulated web, archive and Tranco list, served on loopback over real sockets.

One aiohttp server answers every simulated site by its Host header (HTTP; HTTPS is refused, so the crawler falls
back to http:// as it does for a real site without TLS), and the Tranco API under ``/tranco``; a second serves
the Wayback Machine's CDX index and raw captures (tracker.operations.demo.archive). The crawler reaches both through
``--connect-to`` mappings — it never resolves a name — with private addresses allowed for this run only.
"""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import timedelta

from aiohttp import web

from tracker.operations.demo.archive import HOST as ARCHIVE_HOST
from tracker.operations.demo.archive import Capture, FakeArchive
from tracker.operations.demo.loopback import LoopbackServer
from tracker.operations.demo.world import DemoSite, World

__all__ = ["DemoWeb", "archive_of"]

TRANCO_LIST_ID = "DEMO"
_BINARY = bytes(range(256)) * 64


def archive_of(world: World) -> FakeArchive:
    """The archive's captures of every site's robots.txt: each version on its first day, then monthly."""
    caps: dict[str, list[Capture]] = {}
    for site in world.ranked():
        history = site.robots_history(world.today)
        rows: list[Capture] = []
        for i, (start, body) in enumerate(history):
            end = history[i + 1][0] if i + 1 < len(history) else world.today
            day = start
            while day < end or day == start:
                rows.append(
                    Capture(
                        f"{day:%Y%m%d}120000", f"https://{site.domain}/robots.txt", "200", "text/plain", body.encode()
                    )
                )
                day += timedelta(days=30)
        caps[site.domain] = rows
    return FakeArchive(caps)


class DemoWeb(LoopbackServer):
    """Every simulated site (and the Tranco API) on one HTTP port; HTTPS refused on another."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.port = 0
        self.started = time.monotonic()
        # A bound socket that never listens: connections to it are refused at once (no TLS on the simulated web).
        self._refuser = socket.socket()
        self._refuser.bind(("127.0.0.1", 0))
        self.refused_port = self._refuser.getsockname()[1]

    def connect_to(self, archive: FakeArchive) -> list[str]:
        """The ``--connect-to`` mappings: the archive's host first, then every other name to this server."""
        return [
            f"{ARCHIVE_HOST}:80:127.0.0.1:{archive.port}",
            f":80:127.0.0.1:{self.port}",
            f":443:127.0.0.1:{self.refused_port}",
        ]

    @property
    def tranco_url(self) -> str:
        """Where ``sites add --tranco`` finds the simulated ranking."""
        return f"http://127.0.0.1:{self.port}/tranco"

    def stop(self) -> None:
        super().stop()
        self._refuser.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        site = web.TCPSite(await self._runner_for(app), "127.0.0.1", 0, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def _drifted(self, site: DemoSite) -> bool:
        return site.drift_minutes is not None and time.monotonic() - self.started >= site.drift_minutes * 60

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/tranco/"):
            return self._tranco(request)
        name = (request.host or "").split(":")[0].lower()
        site = self.world.sites.get(name.removeprefix("www."))
        if site is None:
            return web.Response(status=404, text="no such simulated site")
        fault = site.fault
        if fault == "slow":
            await asyncio.sleep(20)  # longer than the crawler waits
        if fault == "www_redirect" and not name.startswith("www."):
            raise web.HTTPMovedPermanently(f"http://www.{site.domain}{request.path_qs}")
        if request.path == "/robots.txt":
            return self._robots(site, fault)
        return self._page(site, request.path)

    def _tranco(self, request: web.Request) -> web.Response:
        if request.path.startswith("/tranco/api/lists/date/"):
            return web.json_response(
                {"list_id": TRANCO_LIST_ID, "available": True, "created_on": self.world.today.isoformat()}
            )
        if request.path.startswith(f"/tranco/download/{TRANCO_LIST_ID}/"):
            top = int(request.path.rsplit("/", 1)[-1] or 0)
            rows = [f"{s.rank},{s.domain}" for s in self.world.ranked()[:top]]
            return web.Response(text="\n".join(rows) + "\n", content_type="text/csv")
        return web.Response(status=404)

    def _robots(self, site: DemoSite, fault: str | None) -> web.Response:
        if fault == "status_503":
            return web.Response(status=503, text="Service Unavailable")
        if fault == "bot_wall":
            return web.Response(
                status=403, text="<html><body>Checking your browser…</body></html>", content_type="text/html"
            )
        if fault == "soft404":
            return web.Response(
                text="<!doctype html><html><body><h1>Page not found</h1></body></html>", content_type="text/html"
            )
        if fault == "redirect_loop":
            raise web.HTTPFound("/robots.txt?again")
        if fault == "binary":
            return web.Response(body=_BINARY, content_type="application/octet-stream")
        body = site.robots(self.world.today, drifted=self._drifted(site))
        if fault == "huge":
            body += "".join(f"Disallow: /archive/{i:07d}/\n" for i in range(30_000))  # ~780 KB: over the 500 KiB
        return web.Response(text=body, content_type="text/plain")

    def _page(self, site: DemoSite, path: str) -> web.Response:
        if path == "/":
            meta = '<meta name="robots" content="noai, noimageai">' if site.noai else ""
            tdm = '<meta name="tdm-reservation" content="1">' if site.tdmrep else ""
            html = (
                f"<!doctype html><html><head><title>{site.domain} (simulated)</title>{meta}{tdm}"
                f'<meta property="og:type" content="{"article" if site.category == "news" else "website"}">'
                f"</head><body><h1>{site.domain}</h1><p>A simulated {site.category} site.</p>"
                '<footer><a href="/terms">Terms of Service</a></footer></body></html>'
            )
            return web.Response(text=html, content_type="text/html")
        if path == "/terms":
            ai = (
                "You may not use the content of this site to train artificial intelligence or machine learning models."
                if site.terms_prohibit_ai
                else "Personal, non-commercial use is permitted."
            )
            return web.Response(
                text=f"<html><body><h1>Terms of Service</h1><p>{ai}</p><p>Automated scraping is "
                "prohibited.</p></body></html>",
                content_type="text/html",
            )
        if path == "/llms.txt" and site.llms_txt:
            return web.Response(text=f"# {site.domain}\n> A simulated site.\n\n## Docs\n- [About](/about)\n")
        if path == "/ai.txt" and site.ai_txt:
            return web.Response(text="User-Agent: *\nDisallow: /\n")
        if path == "/.well-known/tdmrep.json" and site.tdmrep:
            return web.json_response([{"location": "/", "tdm-reservation": 1}])
        return web.Response(status=404, text="not found")
