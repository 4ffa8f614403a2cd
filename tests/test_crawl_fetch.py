"""robots.txt fetching: RFC 9309 status rules, redirects, caps and the private-address guard (units, MockTransport)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable

import httpx
import pytest

from tracker.fetch.http import check_public, fetch_robots, make_client, robots_url
from tracker.fetch.outcome import RobotsFetch

Handler = Callable[[httpx.Request], httpx.Response]


async def _public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]  # a public address: the guard lets it through


def fetch(handler: Handler, target: str = "example.com", **kw: object) -> RobotsFetch:
    async def run() -> RobotsFetch:
        async with make_client(transport=httpx.MockTransport(handler)) as client:
            return await fetch_robots(client, target, resolve=kw.pop("resolve", _public), **kw)  # type: ignore[arg-type]

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, "ok"),
        (404, "no_robots"),
        (410, "no_robots"),
        (401, "blocked_4xx"),
        (403, "blocked_4xx"),
        (429, "unreachable"),
        (500, "unreachable"),
        (503, "unreachable"),
    ],
)
def test_status_classes(status: int, expected: str) -> None:
    r = fetch(lambda req: httpx.Response(status, text="User-agent: *\nDisallow: /\n"))
    assert (r.status, r.http_status) == (expected, status)


def test_stance_follows_status() -> None:
    blocked = fetch(lambda req: httpx.Response(200, text="User-agent: GPTBot\nDisallow: /\n"))
    assert blocked.stance("GPTBot").stance == "full_block"
    gone = fetch(lambda req: httpx.Response(404, text="User-agent: *\nDisallow: /\n"))
    assert gone.stance("GPTBot").stance == "no_robots" and gone.stance("GPTBot").root_allowed
    down = fetch(lambda req: httpx.Response(503))
    st = down.stance("GPTBot")
    assert st.stance == "unreachable" and not st.root_allowed  # RFC: complete disallow, never "allowed"


def test_soft_404_and_empty_are_flagged() -> None:
    html = fetch(lambda req: httpx.Response(200, html="<!DOCTYPE html><html><body>Not found</body></html>"))
    assert html.status == "soft404_html" and html.stance("GPTBot").stance == "no_robots"
    empty = fetch(lambda req: httpx.Response(200, text="\n  \n"))
    assert empty.status == "empty"


def test_redirects_are_followed_and_recorded() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.host == "example.com":
            return httpx.Response(301, headers={"Location": "https://www.example.com/robots.txt"})
        if req.url.path == "/robots.txt":
            return httpx.Response(302, headers={"Location": "/r/robots.txt"})
        return httpx.Response(200, text="User-agent: *\nDisallow: /x\n")

    r = fetch(handler)
    assert r.status == "ok"
    assert r.redirects == ["https://www.example.com/robots.txt", "https://www.example.com/r/robots.txt"]
    assert r.final_url == "https://www.example.com/r/robots.txt"
    assert r.url == "https://example.com/robots.txt"  # rules apply to the original host


def test_more_than_five_redirects_is_a_redirect_loop() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        n = int(req.url.params.get("n", "0"))
        return httpx.Response(301, headers={"Location": f"/robots.txt?n={n + 1}"})

    r = fetch(handler)
    assert r.status == "redirect_loop" and len(r.redirects) == 6
    assert r.stance("GPTBot").stance == "no_robots"


def test_redirect_cycle_detected() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        other = "/b" if req.url.path == "/robots.txt" else "/robots.txt"
        return httpx.Response(302, headers={"Location": other})

    r = fetch(handler)
    assert r.status == "redirect_loop" and r.error == "redirect cycle"


@pytest.mark.slow
def test_huge_body_is_capped() -> None:
    body = b"User-agent: *\nDisallow: /a\n" + b"Disallow: /b\n" * 800_000  # ~10 MB
    r = fetch(lambda req: httpx.Response(200, content=body))
    assert r.status == "ok" and r.truncated and len(r.body) == 512_000
    assert not r.rules.verdict("x", "/a").allowed


@pytest.mark.slow
def test_gzip_bomb_is_capped_after_decompression() -> None:
    bomb = gzip.compress(b"User-agent: *\nDisallow: /\n" + b"#" * 50_000_000, compresslevel=9)
    assert len(bomb) < 1_000_000
    r = fetch(lambda req: httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"}))
    assert r.truncated and len(r.body) == 512_000
    assert r.status == "ok" and not r.rules.verdict("x", "/").allowed


def test_network_error_falls_back_to_http() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.scheme == "https":
            raise httpx.ConnectError("connection refused", request=req)
        return httpx.Response(200, text="User-agent: *\nDisallow: /\n")

    r = fetch(handler)
    assert r.status == "ok" and r.url == "http://example.com/robots.txt"
    assert r.error is not None and "used http" in r.error


def test_timeouts_and_dns_errors_are_recorded() -> None:
    def timeout(req: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=req)

    r = fetch(timeout, http_fallback=False)
    assert r.status == "network_error" and r.error is not None and r.error.startswith("timeout")
    assert r.stance("GPTBot").stance == "unreachable"


def test_private_addresses_refused_unless_allowed() -> None:
    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    calls: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(str(req.url))
        return httpx.Response(200, text="User-agent: *\nDisallow: /\n")

    r = fetch(handler, resolve=loopback, allow_private=False)
    assert r.status == "network_error" and r.error is not None and r.error.startswith("private_address")
    assert calls == []  # nothing was sent
    ok = fetch(handler, resolve=loopback, allow_private=True)
    assert ok.status == "ok"


def test_redirect_to_metadata_address_refused() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    r = fetch(handler, allow_private=False)
    assert r.status == "network_error" and "169.254.169.254" in (r.error or "")


@pytest.mark.parametrize(
    "addr", ["10.0.0.1", "192.168.1.1", "172.16.0.1", "::1", "fe80::1", "0.0.0.0", "::ffff:127.0.0.1"]
)
def test_check_public_rejects(addr: str) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return [addr]

    with pytest.raises(Exception, match="non-public"):
        asyncio.run(check_public("https://x.example/robots.txt", resolve=resolve))


def test_user_agent_identifies_with_contact(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.config import settings

    seen: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req.headers["user-agent"])
        return httpx.Response(404)

    fetch(handler)  # the library's default: our name, version and the project's contact URL
    assert seen[0].startswith("consent-tracker/") and "+https://" in seen[0]
    # The setting is resolved at the edge and passed down as a value; the library never reads the environment.
    monkeypatch.setenv("CONSENT_TRACKER_CONTACT_URL", "https://example.org/about-our-crawler")
    ua = settings.user_agent()
    assert ua.startswith("consent-tracker/") and "+https://example.org/about-our-crawler" in ua

    async def go() -> None:
        async with make_client(user_agent=ua, transport=httpx.MockTransport(handler)) as client:
            await fetch_robots(client, "example.org", resolve=_public)

    asyncio.run(go())
    assert seen[-1] == ua


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("example.com", "https://example.com/robots.txt"),
        ("https://Example.com/a/b?c", "https://example.com/robots.txt"),
        ("http://example.com:8080/x", "http://example.com:8080/robots.txt"),
        ("bücher.de", "https://xn--bcher-kva.de/robots.txt"),
    ],
)
def test_robots_url(target: str, url: str) -> None:
    assert robots_url(target) == url
