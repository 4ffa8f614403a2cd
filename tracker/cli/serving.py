"""``consent-tracker serve``: the read-only JSON API (tracker.api) on uvicorn. FastAPI and uvicorn are imported
only when the command runs, so every other command starts without them."""

from __future__ import annotations

import socket
import sys
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
    agents_file: AgentsFileOpt = None,
) -> None:
    """Serve a read-only JSON API over the database (/v1/trends, /v1/sites/DOMAIN, /v1/changes, /v1/agents,
    /v1/forecast; OpenAPI at /openapi.json, docs at /docs); Ctrl-C stops it."""
    import uvicorn

    from tracker.api import ApiOptions, create_app

    options = resolved(db=db, agents_file=agents_file)
    app = create_app(options, ApiOptions(max_age=max(max_age, 0)))  # a missing or damaged store fails here
    try:  # bound here, not by uvicorn: a port in use is one line too, and port 0 says which port it got
        sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as e:
        fail(f"cannot listen on {host}:{port}: {e.strerror or e}")
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    out.print(Text(f"API of {options.db} at http://{shown}:{port}/v1 (docs at /docs; Ctrl-C stops it)"), soft_wrap=True)
    sys.stdout.flush()
    config = uvicorn.Config(app, access_log=access_log, log_level="info", server_header=False)
    uvicorn.Server(config).run(sockets=[sock])
