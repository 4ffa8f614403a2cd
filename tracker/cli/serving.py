"""``consent-tracker serve``: the read-only JSON API (tracker.api) on uvicorn. FastAPI and uvicorn are imported
only when the command runs, so every other command starts without them."""

from __future__ import annotations

import json
import os
import socket
import sys
from dataclasses import asdict
from typing import Annotated

import typer

from tracker.cli.common import AgentsFileOpt, DbOpt, Text, fail, out, resolved

__all__ = ["serve_cmd"]


def serve_cmd(
    db: DbOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (127.0.0.1: this machine only; 0.0.0.0: everyone).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to serve on (0: any free one, said at start).")] = 8000,
    max_age: Annotated[
        int, typer.Option("--max-age", help="Seconds a cache (a browser, a CDN) may keep an answer.")
    ] = 60,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log each request on standard error.")
    ] = True,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Processes answering (each with its own answer cache).")
    ] = 1,
    agents_file: AgentsFileOpt = None,
) -> None:
    """Serve a read-only JSON API over the database (/v1/trends, /v1/sites/DOMAIN, /v1/changes, /v1/agents,
    /v1/forecast; OpenAPI at /openapi.json, docs at /docs); Ctrl-C stops it."""
    import uvicorn

    from tracker.api import ApiOptions, create_app
    from tracker.api.app import OPTIONS_ENV

    options = resolved(db=db, agents_file=agents_file)
    api_options = ApiOptions(max_age=max(max_age, 0))
    app = create_app(options, api_options)  # a missing or damaged store fails here
    try:  # bound here, not by uvicorn: a port in use is one line too, and port 0 says which port it got
        sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as e:
        fail(f"cannot listen on {host}:{port}: {e.strerror or e}")
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    out.print(Text(f"API of {options.db} at http://{shown}:{port}/v1 (docs at /docs; Ctrl-C stops it)"), soft_wrap=True)
    sys.stdout.flush()
    if workers == 1:
        config = uvicorn.Config(app, access_log=access_log, log_level="info", server_header=False)
        uvicorn.Server(config).run(sockets=[sock])
        return
    # Several processes share the socket; each builds its app from what was resolved here, through the environment.
    os.environ.update({"CONSENT_TRACKER_DB": options.db, OPTIONS_ENV: json.dumps(asdict(api_options))})
    if options.agents_file:
        os.environ["CONSENT_TRACKER_AGENTS_FILE"] = options.agents_file
    uvicorn.run(
        "tracker.api.app:app_from_environment",
        factory=True,
        fd=sock.fileno(),
        workers=workers,
        access_log=access_log,
        log_level="info",
        server_header=False,
    )
