"""A fake web on loopback: one aiohttp server, HTTP and HTTPS (a trustme CA), thousands of virtual hosts by Host
header, each with its own bodies and faults. Real sockets, real TLS; the crawler reaches it with
``--connect-to :80:127.0.0.1:<http> --connect-to :443:127.0.0.1:<https> --ca-bundle <ca>``.

    web = FakeWeb({"a.test": Host(robots="User-agent: *\\nDisallow: /\\n")}).start()
    ... web.connect_to_args() ...
    web.stop()

Faults (Host.fault): slow, reset, status, redirect_chain, redirect_loop, cross_host, redirect_private, huge,
gzip_bomb, encoded (arg: a Content-Encoding and the body, sent as is), binary, soft404, slowloris, drip (one byte a
second, for arg seconds), no_https. A host under .invalid gets a certificate that does not
name it.
"""

from __future__ import annotations

import asyncio
import gzip
import ssl
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import trustme
from aiohttp import web

from tracker.operations.demo.loopback import LoopbackServer


@dataclass
class Host:
    """What one virtual host serves."""

    robots: str | bytes | None = "User-agent: *\nDisallow:\n"
    robots_status: int = 200
    homepage: str = "<!doctype html><html><head><title>home</title></head><body>hi</body></html>"
    homepage_headers: list[tuple[str, str]] = field(default_factory=list)  # repeatable (e.g. X-Robots-Tag)
    files: dict[str, tuple[int, str | bytes, dict[str, str]]] = field(default_factory=dict)
    fault: str | None = None
    arg: object = None
    latency: float = 0.0


class FakeWeb(LoopbackServer):
    """Serve a dict of host name → Host on 127.0.0.1, over HTTP and HTTPS."""

    def __init__(self, hosts: dict[str, Host], tmp: Path):
        super().__init__()
        self.hosts = hosts
        self.hits: Counter[tuple[str, str]] = Counter()
        self.user_agents: set[str] = set()
        self.ca = trustme.CA(key_type=trustme.KeyType.ECDSA)  # ECDSA, as most real sites: cheaper handshakes
        self.ca_path = tmp / "fakeweb-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_path))
        # OpenSSL will not match "*.test" (a wildcard right above a top-level label), so the certificate names each
        # host, plus "*.fake.test" for large webs (s1.fake.test …). Hosts under .invalid are left out: their TLS
        # must fail verification.
        names = [h for h in hosts if not h.endswith(".invalid") and not h.endswith(".fake.test")]
        self._cert = self.ca.issue_cert(*names, "*.fake.test", "localhost")
        self.http_port = 0
        self.https_port = 0

    def connect_to_args(self) -> list[str]:
        """CLI arguments that route every name to this server."""
        return [
            "--connect-to",
            f":80:127.0.0.1:{self.http_port}",
            "--connect-to",
            f":443:127.0.0.1:{self.https_port}",
            "--ca-bundle",
            str(self.ca_path),
        ]

    async def _runner_for(self, app: web.Application) -> web.AppRunner:
        # Stopping cancels the fault handlers still running (slow: a 30 s sleep; slowloris, drip) after a second,
        # instead of waiting up to aiohttp's default 60 s for them: the crawl they stalled has long given up.
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        return self._runner

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        runner = await self._runner_for(app)
        http = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
        await http.start()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(ctx)
        https = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx, backlog=2048)
        await https.start()
        self.http_port = http._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.https_port = https._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    # -- serving ------------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        host_name = (request.host or "").split(":")[0].lower()
        path = request.path_qs
        self.hits[(host_name, request.path)] += 1
        self.user_agents.add(request.headers.get("User-Agent", ""))
        host = self.hosts.get(host_name)
        if host is None:
            return web.Response(status=404, text="no such host")
        https = request.secure
        if host.latency:
            await asyncio.sleep(host.latency)
        fault = host.fault
        if fault == "no_https" and https:
            request.transport.abort()  # type: ignore[union-attr]
            return web.Response(status=500)
        if request.path == "/robots.txt":
            return await self._robots(request, host, host_name, path)
        if path in host.files:
            status, body, headers = host.files[path]
            return web.Response(status=status, body=body.encode() if isinstance(body, str) else body, headers=headers)
        if request.path == "/":
            from multidict import CIMultiDict

            return web.Response(
                text=host.homepage, content_type="text/html", headers=CIMultiDict(host.homepage_headers)
            )
        return web.Response(status=404, text="not found")

    async def _robots(self, request: web.Request, host: Host, name: str, path: str) -> web.StreamResponse:
        fault = host.fault
        if fault == "slow":
            await asyncio.sleep(float(host.arg or 30))
        if fault == "reset":
            request.transport.abort()  # type: ignore[union-attr]
            return web.Response(status=500)
        if fault == "status":
            return web.Response(status=int(host.arg or 503), text="error")
        if fault == "redirect_chain":
            n = int(request.query.get("n", "0"))
            if n < int(host.arg or 3):
                raise web.HTTPFound(f"/robots.txt?n={n + 1}")
        if fault == "redirect_loop":
            raise web.HTTPFound("/robots.txt" if request.query else "/robots.txt?again=1")
        if fault == "cross_host" and request.path_qs == "/robots.txt":
            raise web.HTTPMovedPermanently(f"https://{host.arg}/robots.txt")
        if fault == "redirect_private":
            raise web.HTTPFound(str(host.arg))
        if fault == "huge":
            resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
            await resp.prepare(request)
            await resp.write(b"User-agent: *\nDisallow: /private/\n")
            chunk = b"# " + b"x" * 65_533 + b"\n"
            try:
                for _ in range(160):  # ~10 MB
                    await resp.write(chunk)
            except (ConnectionResetError, RuntimeError):
                return resp
            return resp
        if fault == "gzip_bomb":
            body = gzip.compress(b"User-agent: *\nDisallow: /\n" + b"#" * 100_000_000, compresslevel=9)
            return web.Response(body=body, headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"})
        if fault == "encoded":
            coding, data = host.arg  # type: ignore[misc]
            return web.Response(body=data, headers={"Content-Encoding": coding, "Content-Type": "text/plain"})
        if fault == "drip":
            resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
            await resp.prepare(request)
            try:
                for _ in range(int(host.arg or 60)):
                    await resp.write(b"#")
                    await asyncio.sleep(1.0)
            except (ConnectionResetError, RuntimeError):
                pass
            return resp
        if fault == "slowloris":
            resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
            await resp.prepare(request)
            try:
                for _ in range(600):
                    await resp.write(b"#")
                    await asyncio.sleep(0.5)
            except (ConnectionResetError, RuntimeError):
                pass
            return resp
        body = host.robots
        if body is None:
            return web.Response(status=404, text="not found")
        data = body.encode() if isinstance(body, str) else body
        ctype = "text/html" if fault == "soft404" else "text/plain"
        return web.Response(status=host.robots_status, body=data, content_type=ctype)


def main() -> None:
    """Serve N synthetic hosts s<i>.fake.test (for benchmarks); print the ports and CA path as JSON, then wait."""
    import argparse
    import json
    import random
    import sys
    import tempfile

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--hosts", type=int, default=10_000)
    ap.add_argument("--latency", default="0.02-0.08", help="seconds per response, uniform in MIN-MAX")
    ap.add_argument(
        "--suffix", default=".fake.test", help="host names are s<i><suffix> (-fake.test: each its own site)"
    )
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    args = ap.parse_args()
    lo, hi = (float(x) for x in args.latency.split("-"))
    pool: list[bytes] = []
    root = args.corpus / "real_robots"
    if root.is_dir():
        for p in sorted(root.rglob("*"))[:3000]:
            if p.is_file() and p.stat().st_size < 65536:
                pool.append(p.read_bytes())
    pool = pool or [b"User-agent: *\nDisallow: /private/\n"]
    rng = random.Random(7)
    hosts = {
        f"s{i}{args.suffix}": Host(
            robots=pool[rng.randrange(len(pool))],
            latency=rng.uniform(lo, hi),
            files={"/llms.txt": (200, f"# Site {i}\n", {"Content-Type": "text/plain"})} if i % 10 == 0 else {},
        )
        for i in range(args.hosts)
    }
    web = FakeWeb(hosts, Path(tempfile.mkdtemp())).start()
    print(json.dumps({"http": web.http_port, "https": web.https_port, "ca": str(web.ca_path)}), flush=True)
    try:
        sys.stdin.read()  # serve until stdin closes
    finally:
        web.stop()


if __name__ == "__main__":
    main()
