"""Fetching robots.txt politely and by the rules of RFC 9309 §2.3.1.

Status handling: 2xx → parse (an HTML page or a blank body is flagged, not parsed as rules); 3xx → follow up to
``max_redirects`` hops, rules apply to the original host; 401/403 → ``blocked_4xx`` and other 4xx →
``no_robots`` (both mean "no rules" under the RFC, but a 401/403 is usually a bot wall, so it is kept apart);
429, 5xx, DNS/TCP/TLS errors and timeouts → ``unreachable``/``network_error`` (the RFC says assume complete
disallow; trend statistics must never count it as an opt-out, nor as "allowed").

Bodies are read as a stream and capped at 512,000 bytes after decompression, so a 10 MB file or a gzip bomb
costs no more than a normal one. The HTTP transport is injectable (``httpx.MockTransport`` in unit tests).
Before every hop the host is resolved and private, loopback, link-local and reserved addresses are refused
unless ``allow_private`` is set.
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import ipaddress
import random
import socket
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from tracker.config.defaults import CONTACT_URL, MAX_REDIRECTS, TIMEOUT, USER_AGENT, user_agent_header
from tracker.config.settings import Settings
from tracker.errors import DecodingError, DownloadError, LocalResourceError, ParameterError, PrivateAddressError
from tracker.fetch.outcome import RobotsFetch, looks_like_html
from tracker.records.vocabulary import FetchStatus
from tracker.rules.robots import ROBOTS_MAX_BYTES

__all__ = [
    "CONTACT_URL",
    "USER_AGENT",
    "ConnectTo",
    "Guard",
    "NetworkOptions",
    "check_public",
    "download",
    "error_kind",
    "fetch_robots",
    "fetch_url",
    "make_client",
    "make_crawl_client",
    "network_options",
    "read_capped",
    "robots_url",
    "user_agent_header",
]


Resolver = Callable[[str, int], Awaitable[list[str]]]

#: The fetch in progress in this task: the crawl client's connection trace marks it connected.
_FETCHING: contextvars.ContextVar[RobotsFetch | None] = contextvars.ContextVar("_FETCHING", default=None)


#: errnos that mean the crawler's machine, not the site, failed.
_LOCAL_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def _local_failure(exc: BaseException) -> str | None:
    """The message of a local resource failure anywhere in the exception's chain, else None."""
    e: BaseException | None = exc
    for _ in range(8):
        if e is None:
            return None
        if getattr(e, "errno", None) in _LOCAL_ERRNOS or "too many open files" in str(e).lower():
            return str(e) or type(e).__name__
        e = e.__cause__ or e.__context__
    return None


def robots_url(target: str) -> str:
    """``example.org`` or any URL on a host → that origin's ``/robots.txt`` URL (IDNs to punycode)."""
    t = target.strip()
    if "://" not in t:
        t = "https://" + t
    parts = urlsplit(t)
    host = parts.hostname or ""
    if not host:
        raise ParameterError(f"no host in {target!r}")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ParameterError(f"invalid host name in {target!r}") from None
    netloc = ascii_host if ":" not in ascii_host else f"[{ascii_host}]"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme.lower(), netloc, "/robots.txt", "", ""))


def _is_public(addr: str) -> bool:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


async def _system_resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(i[4][0]) for i in infos]


async def check_public(url: str, *, resolve: Resolver = _system_resolve) -> None:
    """Raise :class:`PrivateAddressError` if the URL's host is, or resolves to, a non-public address."""
    await Guard(allow_private=False, resolve=resolve).check(url)


@dataclass(frozen=True, slots=True)
class ConnectTo:
    """curl's --connect-to HOST:PORT:ADDR:PORT: dial ADDR:PORT for HOST:PORT (empty HOST or PORT = any),
    keeping the URL, the Host header and the TLS server name."""

    host: str
    port: int | None
    to_host: str
    to_port: int | None

    @classmethod
    def parse(cls, spec: str) -> ConnectTo:
        """Parse 'HOST:PORT:ADDR:PORT' (IPv6 addresses in brackets)."""
        parts = _split_connect_to(spec)
        if len(parts) != 4:
            raise ParameterError(f"connect_to wants HOST:PORT:ADDR:PORT, not {spec!r}", "connect_to")
        host, port, to_host, to_port = parts
        try:
            return cls(
                host.strip("[]").lower(),
                int(port) if port else None,
                to_host.strip("[]"),
                int(to_port) if to_port else None,
            )
        except ValueError:
            raise ParameterError(f"connect_to ports must be numbers: {spec!r}", "connect_to") from None

    def applies(self, host: str, port: int) -> bool:
        """Whether this mapping is for host:port. A mapping for any host (empty HOST) never applies to an IP
        address, so a redirect to 127.0.0.1 or 169.254.169.254 is not quietly routed to the mapped server."""
        if not self.host and _is_ip(host):
            return False
        return (not self.host or self.host == host.lower().rstrip(".")) and (self.port is None or self.port == port)


def _is_ip(host: str) -> bool:
    if not host or not (host[-1].isdigit() or ":" in host or host.endswith("]")):
        return False  # names end in a letter; only then is the (slow, exception-raising) parse needed
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _split_connect_to(spec: str) -> list[str]:
    parts: list[str] = []
    cur = ""
    depth = 0
    for ch in spec:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == ":" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


class Guard:
    """Where the crawler may connect: applies --connect-to mappings and refuses private, loopback, link-local
    and reserved addresses unless ``allow_private``. Checked before each request (redirects included) and again
    on the addresses actually dialled, so a DNS answer cannot change between the check and the connection.

    A destination given by --connect-to is the user's explicit choice and is not checked; everything else —
    IP literals in URLs, redirects, DNS answers — is.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        connect_to: list[ConnectTo] | None = None,
        resolve: Resolver | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.connect_to = list(connect_to or [])
        self.resolve = resolve or _system_resolve

    def map(self, host: str, port: int) -> tuple[str, int, bool]:
        """The address and port to dial for host:port, and whether a --connect-to mapping chose them."""
        for m in self.connect_to:
            if m.applies(host, port):
                return (m.to_host or host, m.to_port or port, True)
        return (host, port, False)

    def check_addresses(self, host: str, addrs: list[str]) -> None:
        """Raise PrivateAddressError if any address is not public (unless private addresses are allowed)."""
        if self.allow_private:
            return
        bad = [a for a in addrs if not _is_public(a)]
        if bad:
            raise PrivateAddressError(
                f"{host} resolves to non-public address {bad[0]} (the allow-private setting allows it)"
            )

    async def check(self, url: str) -> None:
        """Check a URL before requesting it."""
        if self.allow_private:
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target, tport, mapped = self.map(host, port)
        if mapped:
            return
        try:
            addrs = [str(ipaddress.ip_address(target))]
        except ValueError:
            addrs = await self.resolve(target, tport)
        self.check_addresses(host, addrs)


@dataclass(frozen=True, slots=True)
class NetworkOptions:
    """The options every fetching job shares: timeout, User-Agent (with the contact URL) and whether private
    addresses are allowed."""

    timeout: float
    user_agent: str
    allow_private: bool


def network_options(settings: Settings) -> NetworkOptions:
    """The options every fetching job shares, from resolved settings."""
    return NetworkOptions(settings.timeout, settings.header(), settings.allow_private)


def make_client(
    *,
    user_agent: str | None = None,
    timeout: float = TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
    verify: bool | str = True,
) -> httpx.AsyncClient:
    """An httpx client with our User-Agent and timeouts; redirects are followed by hand, not by httpx."""
    t = float(timeout)
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent or user_agent_header(), "Accept": "text/plain, */*;q=0.5"},
        timeout=httpx.Timeout(t, connect=t, pool=t),
        follow_redirects=False,
        transport=transport,
        verify=verify,
    )


def make_crawl_client(
    guard: Guard,
    *,
    concurrency: int = 100,
    user_agent: str | None = None,
    timeout: float = TIMEOUT,
    ca_bundle: str | None = None,
) -> httpx.AsyncClient:
    """The crawler's client: httpx's API over the aiohttp transport (measured ~16x the default pool across
    hundreds of hosts), with the guard's --connect-to mapping and address check in the connector.

    Call inside a running event loop; close with ``await client.aclose()``.
    """
    import ssl

    import aiohttp
    from httpx_aiohttp import AiohttpTransport

    ctx = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()

    class GuardedConnector(aiohttp.TCPConnector):
        async def _resolve_host(self, host, port, traces=None):  # type: ignore[no-untyped-def]
            target, tport, mapped = guard.map(host.rstrip("."), port)
            results = await super()._resolve_host(target, tport, traces)
            if not mapped:
                guard.check_addresses(host, [r["host"] for r in results])
            return results

    async def connected(*_: object) -> None:
        fetching = _FETCHING.get()
        if fetching is not None:
            fetching.connected = True

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(connected)  # TCP and TLS done
    trace.on_connection_reuseconn.append(connected)

    connector = GuardedConnector(
        limit=concurrency,
        limit_per_host=2,
        ssl=ctx,
        ttl_dns_cache=300,
        # A site's few requests come one after another, then the crawler moves on for good: keeping connections
        # longer only holds TLS buffers for hosts we will not see again (memory grew with the site count).
        keepalive_timeout=0.5,
    )
    session = aiohttp.ClientSession(connector=connector, trust_env=False, auto_decompress=False, trace_configs=[trace])
    t = float(timeout)
    return httpx.AsyncClient(
        transport=AiohttpTransport(client=session),
        headers={"User-Agent": user_agent or user_agent_header(), "Accept": "*/*"},
        timeout=httpx.Timeout(t, connect=t, pool=None),
        follow_redirects=False,
    )


def error_kind(exc: BaseException) -> str:
    """A short class for a failure — private_address, timeout, tls, dns, connect, reset — and its message.

    The aiohttp transport maps every connection error to httpx.ConnectTimeout, so the original exception in
    the cause chain is what tells a certificate error from a refused connection.
    """
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and len(chain) < 6:
        chain.append(e)
        e = e.__cause__ or e.__context__
    names = {c.__name__ for x in chain for c in type(x).__mro__}
    text = str(chain[-1]) or type(chain[-1]).__name__
    lowered = " ".join(str(x) for x in chain).lower()
    if isinstance(exc, DecodingError):
        return f"decoding: {exc}"[:500]
    if any(isinstance(x, PrivateAddressError) for x in chain):
        return f"private_address: {next(x for x in chain if isinstance(x, PrivateAddressError))}"
    if names & {"SSLError", "ClientSSLError", "SSLCertVerificationError", "ClientConnectorCertificateError"}:
        kind = "tls"
    elif "ClientConnectorDNSError" in names or "gaierror" in names or "name or service not known" in lowered:
        kind = "dns"
    elif names & {"TimeoutError", "ServerTimeoutError", "ConnectionTimeoutError", "SocketTimeoutError"} or (
        isinstance(exc, httpx.TimeoutException) and len(chain) == 1
    ):
        kind = "timeout"
    elif names & {"ServerDisconnectedError", "ConnectionResetError", "ClientPayloadError", "RemoteProtocolError"}:
        kind = "reset"
    elif names & {"ClientConnectorError", "ConnectionRefusedError", "ConnectError", "ClientOSError"}:
        kind = "connect"
    else:
        kind = type(exc).__name__
    return f"{kind}: {text}"[:500]


#: Content-Encoding layers decoded at most; a longer chain is refused (each layer holds a 32 KiB window and state).
MAX_ENCODINGS = 4
#: Output of one decompression call: memory stays at about this much per layer, however the body is built.
_STEP = 64 * 1024


class _Inflate:
    """gzip or deflate (zlib-wrapped, or raw as some servers send it), decoded at most ``max_length`` at a time."""

    def __init__(self, encoding: str) -> None:
        self.raw_fallback = encoding == "deflate"
        self.started = False
        self.obj = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS)

    def decode(self, data: bytes, max_length: int) -> tuple[bytes, bytes]:
        """(output of at most max_length bytes, input still to decode)."""
        try:
            out = self.obj.decompress(data, max_length)
        except zlib.error as e:
            if not (self.raw_fallback and not self.started):
                raise DecodingError(f"{e}") from None
            self.obj, self.raw_fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
            out = self.obj.decompress(data, max_length)
        self.started = True
        return out, self.obj.unconsumed_tail


def _decoders(content_encoding: str | None) -> list[_Inflate]:
    """The decoders for a Content-Encoding header, outermost (last applied) first; unknown codings pass through
    undecoded, as httpx does (br and zstd: no decoder is installed with the crawler)."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    known = [c for c in codings if c in ("gzip", "x-gzip", "deflate")]
    if len(known) > MAX_ENCODINGS:
        raise DecodingError(f"{len(known)} content encodings (more than {MAX_ENCODINGS})")
    return [_Inflate(c) for c in reversed(known)]


async def read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """Read at most ``cap`` bytes of a streamed body after decompression; (bytes, whether there was more).

    Every layer of a stacked Content-Encoding (``gzip, gzip``) is decoded incrementally, at most 64 KiB per call,
    and no layer may put out more than the cap and a little: a bomb costs the cap, not what it inflates to.
    """
    # A response built in memory (httpx.MockTransport) was read, and decoded, by httpx already.
    in_memory = response.is_stream_consumed
    layers = [] if in_memory else _decoders(response.headers.get("content-encoding"))
    # A legitimate inner layer is no bigger than what it decodes to; the slack covers incompressible data.
    limits = [cap + _STEP] * len(layers)
    out: list[bytes] = []
    size = 0

    def push(i: int, data: bytes) -> bool:
        """Feed data to layer i (its output on to layer i+1); False once something went over its limit."""
        nonlocal size
        if i == len(layers):
            out.append(data)
            size += len(data)
            return size <= cap
        while data:
            piece, data = layers[i].decode(data, _STEP)
            if not piece:
                break
            limits[i] -= len(piece)
            if limits[i] < 0 or not push(i + 1, piece):
                return False
        return True

    # Decoded here, not by httpx: its decoders inflate each chunk, and each inner layer, without an output limit.
    async for chunk in response.aiter_bytes() if in_memory else response.aiter_raw():
        if not push(0, chunk):
            break
    body = b"".join(out)
    return body[:cap], size > cap or any(n < 0 for n in limits)


async def fetch_robots(
    client: httpx.AsyncClient,
    target: str,
    *,
    max_redirects: int = MAX_REDIRECTS,
    allow_private: bool = False,
    resolve: Resolver = _system_resolve,
    max_bytes: int = ROBOTS_MAX_BYTES,
    http_fallback: bool = True,
    guard: Guard | None = None,
    retries: int = 0,
    total_timeout: float | None = None,
) -> RobotsFetch:
    """Fetch the robots.txt of a domain or URL; never raises for network or HTTP trouble.

    The https attempt, its retries and the http fallback share one deadline of ``total_timeout`` seconds, and
    plain http is tried only when the https connection failed: a host that connected and then stalled is not
    asked again over http.
    """
    guard = guard or Guard(allow_private=allow_private, resolve=resolve)
    url = robots_url(target)
    deadline = asyncio.get_running_loop().time() + total_timeout if total_timeout is not None else None
    kw = {
        "guard": guard,
        "max_redirects": max_redirects,
        "max_bytes": max_bytes,
        "retries": retries,
        "total_timeout": total_timeout,
        "deadline": deadline,
    }
    result = await fetch_url(client, url, "robots", **kw)  # type: ignore[arg-type]
    if (
        http_fallback
        and result.status == "network_error"
        and url.startswith("https://")
        and not (result.error or "").startswith(("private_address", "tls"))  # a TLS error is no reason to downgrade
        and not (result.connected and (result.error or "").startswith("timeout"))  # connected, then stalled
        and not result.redirects
        and (deadline is None or asyncio.get_running_loop().time() < deadline)
    ):
        fallback = await fetch_url(client, "http://" + url[len("https://") :], "robots", **kw)  # type: ignore[arg-type]
        if fallback.status != "network_error":
            fallback.error = f"https failed ({result.error}); used http"
            return fallback
    return result


#: Transient outcomes worth one more try (RFC 9309 allows treating a lasting 5xx as unreachable).
_TRANSIENT = frozenset({"unreachable", "network_error"})


async def fetch_url(
    client: httpx.AsyncClient,
    url: str,
    kind: str = "robots",
    *,
    guard: Guard | None = None,
    max_redirects: int = MAX_REDIRECTS,
    max_bytes: int = ROBOTS_MAX_BYTES,
    retries: int = 0,
    backoff: float = 0.5,
    total_timeout: float | None = None,
    deadline: float | None = None,
) -> RobotsFetch:
    """Fetch one resource with our status rules; retry transient failures with backoff and jitter.

    ``total_timeout`` seconds is the whole fetch's, retries included (or the loop time ``deadline`` a caller
    shares between fetches). A timeout after the host connected is not retried: it would only stall again.
    """
    guard = guard or Guard()
    loop = asyncio.get_running_loop()
    if deadline is None and total_timeout is not None:
        deadline = loop.time() + total_timeout
    attempt = 0
    while True:
        result = RobotsFetch(url=url, status="network_error")
        token = _FETCHING.set(result)
        try:
            # asyncio.timeout_at, not wait_for: no extra task per request (this runs a million times a crawl).
            async with asyncio.timeout_at(deadline):
                await _fetch_once(result, client, kind, guard, max_redirects, max_bytes)
        except TimeoutError:
            result.status, result.error = "network_error", f"timeout: over {total_timeout or 0:g} s in all"
        finally:
            _FETCHING.reset(token)
        error = result.error or ""
        if (
            attempt >= retries
            or result.status not in _TRANSIENT
            or error.startswith("private_address")
            or result.http_status in (501,)
            or (result.connected and error.startswith("timeout"))
        ):
            return result
        attempt += 1
        pause = backoff * (2 ** (attempt - 1)) * (0.5 + random.random())
        if deadline is not None and loop.time() + pause >= deadline:
            return result  # no time left for another try
        await asyncio.sleep(pause)


def _record_response(result: RobotsFetch, response: httpx.Response, url: str) -> None:
    """Keep a response's status, URL and headers. Repeated headers are joined with ", " — except X-Robots-Tag,
    whose values may each carry their own "agent:" scope, so they are kept apart, one per line."""
    result.http_status = response.status_code
    result.final_url = url
    result.content_type = response.headers.get("content-type")
    result.headers = {k.lower(): v for k, v in response.headers.items()}
    if "x-robots-tag" in result.headers:
        result.headers["x-robots-tag"] = "\n".join(response.headers.get_list("x-robots-tag"))


def _redirect(
    result: RobotsFetch, response: httpx.Response, current: str, seen: set[str], absent: FetchStatus
) -> str | None:
    """The next URL of a redirect, or None when the redirect ends the fetch (its status is then set)."""
    location = response.headers.get("location")
    if not location:
        result.status = absent
        return None
    nxt = urljoin(current, location.strip())
    if urlsplit(nxt).scheme not in ("http", "https"):
        result.status, result.error = absent, f"redirect to unsupported URL {nxt[:200]!r}"
        return None
    result.redirects.append(nxt)
    if nxt in seen or nxt == current:
        result.status, result.error = "redirect_loop", "redirect cycle"
        return None
    seen.add(current)
    return nxt


def _status_of(code: int, absent: FetchStatus) -> FetchStatus:
    """RFC 9309 §2.3.1 for a final (non-redirect, non-2xx) response."""
    if code in (401, 403):
        return "blocked_4xx"  # "unavailable" to the RFC, but usually a bot wall: kept apart
    if 400 <= code < 500 and code != 429:
        return absent
    return "unreachable"  # 429, 5xx and anything odd: the RFC's "unreachable"


async def _read_body(result: RobotsFetch, response: httpx.Response, kind: str, max_bytes: int) -> None:
    """Read a 2xx body (capped) and classify it: empty, an HTML page where a text file was due, or ok."""
    result.body, result.truncated = await read_capped(response, max_bytes)
    if not result.body.strip():
        result.status = "empty"
    elif kind not in ("homepage", "terms") and looks_like_html(result.body, result.content_type):
        result.status = "soft404_html"
    else:
        result.status = "ok"


async def _fetch_once(
    result: RobotsFetch,
    client: httpx.AsyncClient,
    kind: str,
    guard: Guard,
    hops: int,
    max_bytes: int,
) -> RobotsFetch:
    """One fetch of ``result.url`` with its redirects (each hop checked by the guard), filling in ``result`` as
    it goes (so a deadline that cuts it short keeps what was learnt); never raises."""
    absent: FetchStatus = "no_robots" if kind == "robots" else "absent"
    current: str | None = result.url
    seen: set[str] = set()
    for _ in range(hops + 1):
        assert current is not None
        try:
            await guard.check(current)
            async with client.stream("GET", current) as response:
                result.connected = True
                _record_response(result, response, current)
                code = response.status_code
                if 300 <= code < 400:
                    current = _redirect(result, response, current, seen, absent)
                    if current is None:
                        return result
                    continue
                if 200 <= code < 300:
                    await _read_body(result, response, kind, max_bytes)
                else:
                    result.status = _status_of(code, absent)
                return result
        except Exception as exc:  # every network failure becomes a recorded outcome
            local = _local_failure(exc)
            if local is not None:  # except our own: out of file handles is not the site's fault
                raise LocalResourceError(local) from exc
            result.status = "network_error"
            result.error = error_kind(exc)
            result.final_url = current
            return result
    result.status = "redirect_loop"
    result.error = f"more than {hops} redirects"
    return result


def download(source: str, *, user_agent: str | None = None, timeout: float = TIMEOUT, hint: str = "its path") -> bytes:
    """Read a local file, or download a URL (redirects followed); :class:`DownloadError` says why not."""
    if "://" not in source:
        try:
            with open(source, "rb") as fh:
                return fh.read()
        except OSError as e:
            raise DownloadError(f"cannot read {source}: {e.strerror or e}") from None
    try:
        with httpx.Client(
            headers={"User-Agent": user_agent or user_agent_header()}, timeout=timeout, follow_redirects=True
        ) as client:
            r = client.get(source)
            r.raise_for_status()
            return r.content
    except httpx.HTTPError as e:
        raise DownloadError(
            f"cannot fetch {source} ({type(e).__name__}: {e}). Offline? Download it elsewhere and pass {hint}."
        ) from None
