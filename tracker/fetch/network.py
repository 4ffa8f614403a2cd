"""Is the network down? Said within seconds, and told apart from a server that refuses us.

Offline, every fetch fails — but slowly, and each in its own words: a backfill retried the archive for 30 s and
then blamed rate-limiting; a crawl spent minutes recording a DNS error for every site as if each site had failed.
Name lookups are the cheap test: the archive's host and the best-ranked tracked sites are names that exist, so
when lookups of all of them fail (at once, or within :data:`LOOKUP_TIMEOUT`) the network is down — not the sites.
An HTTP answer of any status, a 429 or a 503 included, means the network is up (that is rate-limiting, or an
outage of the server: :mod:`tracker.pipeline.backfill` says which).

The same words serve both places that notice: :func:`check_names` before the work starts, and a crawl whose first
:data:`FIRST_SITES` sites could not be reached (:mod:`tracker.pipeline.crawl`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from tracker.fetch.http import Guard

__all__ = ["FIRST_SITES", "LOOKUP_TIMEOUT", "NameCheck", "check_names", "down_message", "is_dns_error", "is_unreached"]

#: How many of the best-ranked sites are looked up (and, in a crawl, must all fail) before the network counts as down.
FIRST_SITES = 5
#: Seconds a lookup may take: a resolver that does not answer at all is as down as one that says so.
LOOKUP_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class NameCheck:
    """Which names were looked up and which of them failed."""

    archive: str | None  # the archive's host, when it was one of the names
    sites: tuple[str, ...]
    failed: tuple[str, ...]

    @property
    def down(self) -> bool:
        """Whether every name failed (and there was one to try)."""
        tried = len(self.sites) + (self.archive is not None)
        return tried > 0 and len(self.failed) == tried

    def message(self) -> str:
        """What to tell the user when the network is down."""
        return down_message(self.archive, len(self.sites))


def down_message(archive: str | None, sites: int, *, lookups: bool = True) -> str:
    """'the network looks down: DNS lookups for web.archive.org and the first 5 sites failed' (``lookups`` False:
    the sites could not be reached, by lookups or connections)."""
    what = (f"{archive} and " if archive else "") + ("the first site" if sites == 1 else f"the first {sites} sites")
    if lookups:
        return f"the network looks down: DNS lookups for {what} failed"
    return f"the network looks down: no connection to {what} could be made"


def is_dns_error(error: str | None) -> bool:
    """Whether a recorded fetch error (tracker.fetch.http's ``kind: message``) was a failed name lookup."""
    return (error or "").startswith("dns:")


def is_unreached(error: str | None) -> bool:
    """Whether a recorded fetch error means no connection was made: a failed lookup, a refused or timed-out
    connection (not a TLS error, a reset or a refused address: those met a server, or our own rules)."""
    return (error or "").startswith(("dns:", "connect:", "timeout:"))


async def _lookup(host: str, port: int) -> None:
    """Resolve a name in a thread of its own: a lookup that hangs is abandoned, and no executor waits for it."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if not done.done():
            done.set_exception(error) if error is not None else done.set_result(None)

    def work() -> None:
        error: BaseException | None = None
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as e:
            error = e
        with contextlib.suppress(RuntimeError):  # the loop closed after the timeout: nobody is waiting
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=work, name=f"lookup {host}", daemon=True).start()
    await done


async def check_names(
    sites: Sequence[str],
    *,
    archive_url: str | None = None,
    guard: Guard | None = None,
    timeout: float = LOOKUP_TIMEOUT,
) -> NameCheck:
    """Look up the archive's host and the first :data:`FIRST_SITES` sites at once; which failed. A name that
    ``guard``'s --connect-to mappings send to an address is not looked up (it counts as found)."""
    guard = guard or Guard()
    parts = urlsplit(archive_url or "")
    archive = parts.hostname
    first = tuple(sites[:FIRST_SITES])
    names = [(archive, parts.port or (80 if parts.scheme == "http" else 443))] if archive else []
    names += [(site, 443) for site in first]

    async def fails(host: str, port: int) -> bool:
        target, tport, _ = guard.map(host, port)
        try:
            ipaddress.ip_address(target.strip("[]"))
            return False
        except ValueError:
            pass
        try:
            async with asyncio.timeout(timeout):
                await _lookup(target, tport)
        except (OSError, TimeoutError):
            return True
        return False

    results = await asyncio.gather(*(fails(h, p) for h, p in names))
    return NameCheck(archive, first, tuple(h for (h, _), bad in zip(names, results, strict=True) if bad))
