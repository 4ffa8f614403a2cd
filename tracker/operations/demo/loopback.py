"""An aiohttp server on its own event loop in a thread (real sockets on loopback): the demo's simulated web and
archive, and the tests' fake web."""

from __future__ import annotations

import asyncio
import threading
from typing import Self

from aiohttp import web

__all__ = ["LoopbackServer"]


class LoopbackServer:
    """Start with :meth:`start`, stop with :meth:`stop`; subclasses set up their sites in :meth:`_start`."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    async def _start(self) -> None:
        raise NotImplementedError

    async def _runner_for(self, app: web.Application) -> web.AppRunner:
        # A simulated server need not drain: its stalling handlers (a fault that sleeps longer than the crawler
        # waits) would otherwise hold ``stop`` for up to aiohttp's default 60 s.
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        return self._runner

    def start(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        # The handlers still stalling after the short shutdown: cancelled, not left pending on a closed loop.
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in rest:
            t.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
