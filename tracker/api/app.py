"""The app factory: settings in, a FastAPI app out. The store is opened read-only here, once — a missing, damaged or
out-of-date store is a :class:`tracker.errors.StoreError` before anything listens — and every failure after that
leaves as a JSON body: bad input a 4xx naming the parameter, an unknown site 404, a store that cannot be read 503,
anything else logged and answered 500 as JSON, never a traceback."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DatabaseError, OperationalError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from tracker import __version__, service
from tracker.api.answers import Answers
from tracker.config.settings import Settings
from tracker.errors import NotFoundError, StoreError, TrackerError

__all__ = ["OPTIONS_ENV", "ApiOptions", "app_from_environment", "create_app", "error_body"]

#: Where ``serve --workers N`` hands each worker process its :class:`ApiOptions` (JSON).
OPTIONS_ENV = "CONSENT_TRACKER_API_OPTIONS"

log = logging.getLogger("tracker.api")


@dataclass(frozen=True, slots=True)
class ApiOptions:
    """How the API answers: HTTP caching, page sizes, and how much it computes at once."""

    #: ``Cache-Control: public, max-age=…`` seconds (0: ``no-cache``: revalidate each time with the ETag)
    max_age: int = 60
    #: how often the data's version is read again (seconds): the longest a new crawl goes unseen
    version_ttl: float = 1.0
    #: change events per page unless ``limit`` says otherwise (the CLI's default), and the most a page may hold
    changes_limit: int = 200
    changes_max: int = 1000
    #: trend rows per page, default and most (a series longer than that is paged)
    rows_max: int = 5000
    #: the most values a repeatable parameter may take (agents, lists, signals)
    max_values: int = 50
    #: answers computed at once (each in a worker thread), and the response cache's bounds
    workers: int = 4
    cache_entries: int = 1024
    cache_bytes: int = 64 * 2**20
    #: Monte Carlo draws a forecast may ask for (the CLI allows more: it is the user's own machine)
    max_draws: int = 20_000


def error_body(status: int, message: str, parameter: str | None = None) -> JSONResponse:
    """The one shape of every error: ``{"error": {"status", "message", "parameter"}}``."""
    return JSONResponse(
        {"error": {"status": status, "message": message, "parameter": parameter}},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _tracker_error(_: Request, e: Exception) -> JSONResponse:
    assert isinstance(e, TrackerError)
    status = 404 if isinstance(e, NotFoundError) else 503 if isinstance(e, StoreError) else 400
    return error_body(status, str(e), e.parameter)


def _validation_error(_: Request, e: Exception) -> JSONResponse:
    assert isinstance(e, RequestValidationError)
    first = e.errors()[0] if e.errors() else {}
    where = [str(p) for p in first.get("loc", ()) if p not in ("query", "path")]
    parameter = where[0] if where else None
    message = str(first.get("msg", "invalid request"))
    return error_body(400, f"{parameter}: {message}" if parameter else message, parameter)


def _http_error(_: Request, e: Exception) -> JSONResponse:
    assert isinstance(e, HTTPException)
    response = error_body(e.status_code, str(e.detail))
    response.headers.update(e.headers or {})
    return response


def _store_unreadable(_: Request, e: Exception) -> JSONResponse:
    reason = str(getattr(e, "orig", None) or e).splitlines()[0]
    log.error("the store cannot be read: %s", reason)
    return error_body(503, f"the database cannot be read now ({reason})")


class _LastResort:
    """Anything no handler answered: logged with its traceback, answered as JSON (a 500 with no detail)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watch(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unexpected error answering %s", scope.get("path"))
            if started or scope["type"] != "http":
                raise
            await error_body(500, "internal error (logged on the server)")(scope, receive, send)


def create_app(settings: Settings, options: ApiOptions | None = None) -> FastAPI:
    """The API over the store and agent registry the settings name, opened read-only (nothing it does writes)."""
    from tracker.api import routes

    options = options or ApiOptions()
    engine = service.open_store(settings, create=False, readonly=True)
    registry = service.load_registry(settings)
    try:
        service.data_version(engine, registry)  # a damaged store fails here, not at the first request
    except (DatabaseError, sqlite3.DatabaseError) as e:
        reason = str(getattr(e, "orig", None) or e).splitlines()[0]
        raise StoreError(f"cannot read the database {settings.db}: {reason}") from None
    app = FastAPI(
        title="consent-tracker",
        version=__version__,
        summary="How the web's consent to AI crawling changes: robots.txt and licensing signals per AI user agent.",
        description="Read-only JSON over the tracker's store. Each endpoint answers the same document as the CLI's "
        "`--format json` for the same parameters (named as the library's: `agents` for `--agent`, `changes` for "
        "`--change`). Answers carry an `ETag` tied to the data's version and `Cache-Control`; pages of long lists "
        'link the next one (`Link: <…>; rel="next"`); errors are `{"error": {"status", "message", '
        '"parameter"}}`.',
    )
    app.state.engine, app.state.registry, app.state.options = engine, registry, options
    app.state.answers = Answers(
        engine,
        registry,
        version_ttl=options.version_ttl,
        entries=options.cache_entries,
        max_bytes=options.cache_bytes,
        workers=options.workers,
    )
    app.include_router(routes.router)
    app.add_exception_handler(TrackerError, _tracker_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for unreadable in (OperationalError, DatabaseError, sqlite3.DatabaseError):
        app.add_exception_handler(unreadable, _store_unreadable)
    app.add_middleware(_LastResort)  # inside CORS: its answers carry the CORS headers too
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET"],
        allow_headers=["If-None-Match"],
        expose_headers=["ETag", "Link", "Cache-Control"],
        max_age=86400,
    )
    return app


def app_from_environment() -> FastAPI:
    """The app of one worker process of ``serve --workers N``: the settings the command resolved, handed down in
    the environment (``CONSENT_TRACKER_DB`` …), and the options in ``CONSENT_TRACKER_API_OPTIONS``."""
    import json
    import os

    from tracker.config import settings as config

    return create_app(config.resolve(), ApiOptions(**json.loads(os.environ.get(OPTIONS_ENV) or "{}")))
