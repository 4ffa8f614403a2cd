"""Answers that are cheap to repeat. The store changes only when something writes to it (a crawl, an import), so an
answer is a function of the request and the data's version (:func:`tracker.service.data_version`, read at most once
a ``version_ttl``): its ``ETag`` is a hash of both — known before anything is computed, so a conditional request is
answered 304 at once — and its body is kept in a bounded cache until the version moves. Concurrent requests for an
answer being computed wait for that one computation; computations run in worker threads, at most ``workers`` at a
time, so the event loop keeps answering cached requests while one is computed."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from anyio import to_thread

from tracker import service

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tracker.rules.agents import AgentRegistry

__all__ = ["Answer", "Answers", "etag_matches"]


@dataclass(frozen=True, slots=True)
class Answer:
    """A computed body (JSON bytes) and whether another page follows it."""

    body: bytes
    more: bool = False


@dataclass
class Answers:
    """The data's version, and the bodies computed for it (least recently used dropped first)."""

    engine: Engine
    registry: AgentRegistry
    version_ttl: float = 1.0
    entries: int = 1024
    max_bytes: int = 64 * 2**20
    workers: int = 4
    _version: Any = None
    _version_at: float = 0.0
    _cache: OrderedDict[str, Answer] = field(default_factory=OrderedDict)
    _bytes: int = 0
    _pending: dict[str, asyncio.Task[Answer]] = field(default_factory=dict)
    _locks: dict[str, Any] = field(default_factory=dict)

    def _lock(self, name: str) -> Any:
        # asyncio primitives are made on the serving loop, on first use.
        if name not in self._locks:
            self._locks[name] = asyncio.Lock() if name == "version" else asyncio.Semaphore(self.workers)
        return self._locks[name]

    def _stale(self) -> bool:
        return self._version is None or time.monotonic() - self._version_at > self.version_ttl

    async def version(self) -> Any:
        """The data's version (:class:`tracker.service.DataVersion`), read again once it is ``version_ttl`` old;
        when it moved, every cached body is dropped."""
        if self._stale():
            async with self._lock("version"):
                if self._stale():
                    found = await to_thread.run_sync(service.data_version, self.engine, self.registry)
                    if self._version is not None and found.tag != self._version.tag:
                        self._cache.clear()
                        self._bytes = 0
                    self._version, self._version_at = found, time.monotonic()
        return self._version

    @staticmethod
    def etag(tag: str, key: str) -> str:
        """The strong ETag of the answer to ``key`` (a request's path and query) at data version ``tag``."""
        return '"' + hashlib.sha256(f"{tag}\n{key}".encode()).hexdigest()[:32] + '"'

    async def get(self, tag: str, key: str, compute: Callable[[], Answer]) -> Answer:
        """The cached answer to ``key`` at data version ``tag``, or the one being computed, or a new computation of
        it. (The tag is part of the cache's key: an answer computed while the version moved is never served under
        the new version's ETag.)"""
        key = f"{tag} {key}"
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        task = self._pending.get(key)
        if task is None:
            task = asyncio.ensure_future(self._compute(key, compute))
            # A failure is each waiter's to report; a task nobody waits for any more must not log it again.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._pending[key] = task
        # shield: a client that goes away does not cancel the computation others wait for
        return await asyncio.shield(task)

    async def _compute(self, key: str, compute: Callable[[], Answer]) -> Answer:
        try:
            async with self._lock("compute"):
                answer = await to_thread.run_sync(compute)
        finally:
            self._pending.pop(key, None)
        if len(answer.body) <= self.max_bytes // 4:
            self._cache[key] = answer
            self._bytes += len(answer.body)
            while len(self._cache) > self.entries or self._bytes > self.max_bytes:
                _, old = self._cache.popitem(last=False)
                self._bytes -= len(old.body)
        return answer


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names this ETag (weak comparison, as RFC 9110 says for it). ``*`` is not
    honoured: it would answer 304 to a question whose answer is an error."""
    if not header:
        return False
    return etag in (t.strip().removeprefix("W/") for t in header.split(","))
